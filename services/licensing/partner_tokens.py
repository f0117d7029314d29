"""The partner principal's access token, minted by identity and kept until shortly before it expires.

A request with an API key and no bearer token makes the key's partner the caller. The edge
cannot forge a user token and services never trust a header, so licensing asks identity (as
the licensing service, over the service-token channel) for a short-lived token whose subject
is `partner:<id>` with ROLE_PARTNER, and the edge's check puts it on the upstream request. A
key with a user's bearer token gets the same token in `x-gx-partner-token` instead: there it makes
nobody the caller, it proves to the services which partner's key the user's request came with.

Tokens are cached per partner, not per key: the token names the partner, every key of that
partner would get the same one, and a revoked key is refused by the check before any token is
looked at. One mint at a time per partner (a burst of first requests waits for one call), and
a token is re-minted `refresh_margin_seconds` before it expires so none lapses in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Final

import grpc
from gx.identity.v1 import identity_service_pb2 as identity_svc
from gx.identity.v1 import identity_service_pb2_grpc

_log = logging.getLogger("gx.licensing.partner_tokens")
_DEFAULT_MARGIN: Final = 60.0


class PartnerTokenUnavailable(Exception):
    """Identity could not mint the partner's token (down, slow or refusing)."""


class PartnerTokens:
    """Identity-minted partner principal tokens, cached per partner."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        timeout_seconds: float = 2.0,
        refresh_margin_seconds: float = _DEFAULT_MARGIN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create the cache.

        Args:
            channel: From `services.common.service_auth.service_channel` (identity refuses
                calls without licensing's service token).
            timeout_seconds: Deadline of one mint; it sits on the first request's path.
            refresh_margin_seconds: Re-mint this long before expiry (capped at half the lifetime).
            clock: Monotonic seconds (tests pass a fake one).
        """
        self._stub = identity_service_pb2_grpc.IdentityServiceStub(channel)
        self._timeout = timeout_seconds
        self._margin = refresh_margin_seconds
        self._clock = clock
        self._tokens: dict[str, tuple[str, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def cached(self, partner_id: str) -> str | None:
        """The partner's token if one is fresh enough, without any call."""
        hit = self._tokens.get(partner_id)
        if hit is not None and self._clock() < hit[1]:
            return hit[0]
        return None

    async def token_for(self, partner_id: str) -> str:
        """A valid token for the partner principal.

        Raises:
            PartnerTokenUnavailable: identity did not answer with a token.
        """
        token = self.cached(partner_id)
        if token is not None:
            return token
        lock = self._locks.setdefault(partner_id, asyncio.Lock())
        async with lock:
            token = self.cached(partner_id)
            if token is not None:
                return token
            try:
                answer = await self._stub.IssuePartnerToken(
                    identity_svc.IssuePartnerTokenRequest(partner_id=partner_id), timeout=self._timeout
                )
            except grpc.aio.AioRpcError as exc:
                _log.error("identity did not mint a partner token: %s %s", exc.code().name, exc.details())
                raise PartnerTokenUnavailable(exc.code().name) from None
            margin = min(self._margin, answer.expires_in / 2)
            self._tokens[partner_id] = (answer.access_token, self._clock() + answer.expires_in - margin)
            return str(answer.access_token)
