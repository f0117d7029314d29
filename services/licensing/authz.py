"""The edge's API-key check (Envoy ext_authz over gRPC, `envoy.service.auth.v3.Authorization`).

Envoy asks licensing about every request that carries `X-API-Key` (edge/filters/ext_authz.py: ext_authz
runs only for requests edge.lua marked as keyed, and fails closed with 503). The answer, in
order of cost:
1. a malformed key or a bad checksum → 401 `API_KEY_INVALID`, before any database or Redis work;
2. the key's record by its SHA-256 (kept in process for `key_cache_seconds`, so a hot key costs
   no database read; a change made through the API reaches every replica within that time);
   unknown → 401 `API_KEY_INVALID`, revoked or past its grace → 401 `API_KEY_REVOKED`, partner
   or licence suspended → 403 `PARTNER_SUSPENDED`/`LICENSE_SUSPENDED`, licence expired → 403
   `LICENSE_EXPIRED`;
3. the licence's quota, one Redis round trip (limiter.py) that also counts the decision:
   over quota → 429 with `Retry-After`; every keyed answer carries `RateLimit-Limit`,
   `RateLimit-Remaining` and `RateLimit-Reset`.
Licensing's own failure (database or Redis down) answers 503: keyed calls fail closed, no free
quota. A key without a bearer token makes the key's partner the caller: the OK answer sets
`authorization` to the partner principal's token, minted by identity (partner_tokens.py), which
jwt_authn and the services verify like any user token. With a bearer token the user stays the
caller and the licence is still charged, and the same partner token goes upstream in
`x-gx-partner-token` (services.common.auth.PARTNER_TOKEN_HEADER): the services verify it and record
the partner on the user's commands, so the partner's webhooks report them. A client cannot forge
it: edge.lua drops client-sent `x-gx-*` headers before this check, the answer removes the header
whenever it does not set it, and it is a JWT identity signed. The key is removed from the request
before it goes upstream; the decision's licence and partner go to Envoy as dynamic metadata for
the access log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import grpc
from envoy.config.core.v3 import base_pb2
from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc
from envoy.type.v3 import http_status_pb2
from google.protobuf import struct_pb2
from google.rpc import code_pb2, status_pb2
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.auth import PARTNER_TOKEN_HEADER, bearer_token
from services.common.lru import BoundedLru
from services.licensing import keys
from services.licensing.lastused import LastUsed
from services.licensing.limiter import Decision, QuotaLimiter
from services.licensing.metrics import LicensingMetrics
from services.licensing.partner_tokens import PartnerTokens, PartnerTokenUnavailable

_log = logging.getLogger("gx.licensing.authz")

API_KEY_HEADER: Final = "x-api-key"
_AUTHORIZATION: Final = "authorization"
_DOMAIN: Final = "licensing.gx"
_LOOKUP: Final = text(
    "SELECT k.id AS key_id, k.state AS key_state, k.expire_at AS key_expire_at, l.id AS license_id,"
    " l.state AS license_state, l.expire_at AS license_expire_at, l.tier, p.id AS partner_id,"
    " p.state AS partner_state FROM licensing.api_keys k JOIN licensing.licenses l ON l.id = k.license_id"
    " JOIN licensing.partners p ON p.id = k.partner_id WHERE k.secret_hash = :h"
)


@dataclass(frozen=True)
class KeyRecord:
    """What the check needs to know about a key, its licence and its partner."""

    key_id: str
    key_state: str
    key_expire_at: datetime | None
    license_id: str
    license_state: str
    license_expire_at: datetime
    tier: str
    partner_id: str
    partner_state: str


class KeyDirectory:
    """Key records by hash, from PostgreSQL, remembered briefly (also "no such key").

    A record is served only while younger than `ttl_seconds`, counted from the start of the read
    that fetched it, so a revocation, suspension or tier change reaches every replica within that
    time. Two things keep the refresh off the checks' path (at 1,000 checks/s on one key, every
    check arriving during the read used to wait for a read of its own):
    - one read per key at a time: checks that miss while a read is under way wait for that one;
    - a record past half its life is still served, and the first check to see it starts a read in
      the background, so a steadily used key is refreshed before it expires and no check waits.
    A failed background read is logged and leaves the record to expire: the next foreground read
    then fails the check closed.
    """

    def __init__(
        self,
        reads: AsyncEngine,
        *,
        ttl_seconds: float = 1.0,
        size: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reads = reads
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: BoundedLru[bytes, tuple[float, KeyRecord | None]] = BoundedLru(size)
        self._reading: dict[bytes, asyncio.Task[KeyRecord | None]] = {}

    async def find(self, secret_hash: bytes) -> KeyRecord | None:
        """The record of the key with this hash, or None."""
        hit = self._cache.get(secret_hash)
        if hit is not None:
            age = self._clock() - hit[0]
            if age < self._ttl:
                if age >= self._ttl / 2 and secret_hash not in self._reading:
                    self._read(secret_hash).add_done_callback(_note_failed_refresh)
                return hit[1]
        reading = self._reading.get(secret_hash) or self._read(secret_hash)
        # Shielded: a caller cancelled (client reset, deadline) must not cancel the others' read.
        return await asyncio.shield(reading)

    async def settled(self) -> None:
        """Wait for the reads under way (tests, and anyone who wants the refreshed state)."""
        while self._reading:
            await asyncio.wait(list(self._reading.values()))

    def _read(self, secret_hash: bytes) -> asyncio.Task[KeyRecord | None]:
        task = asyncio.ensure_future(self._fetch(secret_hash))
        self._reading[secret_hash] = task
        task.add_done_callback(lambda _: self._reading.pop(secret_hash, None))
        # Its callers see a failure; retrieved here as well in case every caller was cancelled.
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return task

    async def _fetch(self, secret_hash: bytes) -> KeyRecord | None:
        started = self._clock()
        async with self._reads.connect() as db:
            row = (await db.execute(_LOOKUP, {"h": secret_hash})).first()
        record = (
            None
            if row is None
            else KeyRecord(
                str(row.key_id),
                row.key_state,
                row.key_expire_at,
                str(row.license_id),
                row.license_state,
                row.license_expire_at,
                row.tier,
                str(row.partner_id),
                row.partner_state,
            )
        )
        self._cache.put(secret_hash, (started, record))
        return record


def _note_failed_refresh(task: asyncio.Task[KeyRecord | None]) -> None:
    # Retrieves the exception too, so asyncio does not report it as never retrieved.
    if not task.cancelled() and (exc := task.exception()) is not None:
        _log.warning("API key refresh failed, the cached record expires as usual: %s", exc)


@dataclass(frozen=True)
class Verdict:
    """The answer for one request.

    Attributes:
        http_status: 200 to let it through, else the status to answer.
        reason: The ErrorInfo reason of a refusal.
        message: A sentence for the refusal's body.
        decision: The quota decision, when one was taken.
        record: The key's record, when the key was found.
        token: The partner principal's access token, when the request carries no bearer token
            (it becomes the request's `authorization`).
        partner_token: The same token when the request carries a user's bearer token (it goes
            upstream as `x-gx-partner-token`, the proof of the partner the user acts through).
    """

    http_status: int
    reason: str = ""
    message: str = ""
    decision: Decision | None = None
    record: KeyRecord | None = None
    token: str | None = None
    partner_token: str | None = None


_REFUSALS: Final = {
    "API_KEY_INVALID": (401, "the API key is not valid"),
    "API_KEY_REVOKED": (401, "the API key has been revoked or its grace period has ended"),
    "PARTNER_SUSPENDED": (403, "the partner is suspended"),
    "PARTNER_NOT_ACTIVE": (403, "the partner is not active"),
    "LICENSE_SUSPENDED": (403, "the licence is suspended"),
    "LICENSE_EXPIRED": (403, "the licence has expired"),
    "QUOTA_EXCEEDED": (429, "the licence's quota for this minute is used up"),
    "LICENSING_UNAVAILABLE": (503, "API keys cannot be checked right now; retry shortly"),
    "IDENTITY_UNAVAILABLE": (503, "the partner's credentials cannot be issued right now; retry shortly"),
}


def _refuse(reason: str, **extra: Any) -> Verdict:
    status, message = _REFUSALS[reason]
    return Verdict(status, reason, message, **extra)


class KeyAuthorizer:
    """The decision for one API key: validity, partner and licence state, quota."""

    def __init__(
        self,
        directory: KeyDirectory,
        limiter: QuotaLimiter,
        last_used: LastUsed,
        quotas: dict[str, int],
        partner_tokens: PartnerTokens | None = None,
    ) -> None:
        self._directory = directory
        self._limiter = limiter
        self._last_used = last_used
        self._quotas = quotas
        self._partner_tokens = partner_tokens

    async def authorize(self, secret: str, *, as_partner: bool = False) -> Verdict:
        """Decide a request that carries `secret` as its API key.

        Args:
            secret: The presented key.
            as_partner: The request has no bearer token, so the key's partner is the caller:
                a served verdict then carries the partner principal's token as `token`;
                otherwise as `partner_token`, for the services to attribute the user's request.
        """
        if keys.parse(secret) is None:
            return _refuse("API_KEY_INVALID")
        try:
            record = await self._directory.find(keys.hash_secret(secret))
        except SQLAlchemyError as exc:
            _log.error("API key lookup failed: %s", exc)
            return _refuse("LICENSING_UNAVAILABLE")
        if record is None:
            return _refuse("API_KEY_INVALID")
        now = datetime.now(UTC)
        if record.key_state == "REVOKED" or (
            record.key_state == "ROTATING"
            and record.key_expire_at is not None
            and record.key_expire_at <= now
        ):
            return _refuse("API_KEY_REVOKED", record=record)
        if record.partner_state == "SUSPENDED":
            return _refuse("PARTNER_SUSPENDED", record=record)
        if record.partner_state != "ACTIVE":
            return _refuse("PARTNER_NOT_ACTIVE", record=record)
        if record.license_state == "SUSPENDED":
            return _refuse("LICENSE_SUSPENDED", record=record)
        if record.license_expire_at <= now:
            return _refuse("LICENSE_EXPIRED", record=record)
        token = None
        if self._partner_tokens is not None:
            # Before the quota is taken: a request that cannot get its credential is not served,
            # so it must not be counted as served either. With a user's token as well it fails
            # closed too: served without the proof, the user's operations would be recorded
            # without the partner and its webhooks would silently miss them.
            try:
                token = await self._partner_tokens.token_for(record.partner_id)
            except PartnerTokenUnavailable:
                return _refuse("IDENTITY_UNAVAILABLE", record=record)
        try:
            decision = await self._limiter.take(record.license_id, self._quotas[record.tier])
        except RedisError as exc:
            _log.error("quota check failed: %s", exc)
            return _refuse("LICENSING_UNAVAILABLE", record=record)
        if not decision.allowed:
            return _refuse("QUOTA_EXCEEDED", decision=decision, record=record)
        try:
            await self._last_used.touch(record.key_id, now)
        except RedisError as exc:
            # A hint, not a control: the request goes through without it.
            _log.warning("last-used time not noted: %s", exc)
        if as_partner:
            return Verdict(200, decision=decision, record=record, token=token)
        return Verdict(200, decision=decision, record=record, partner_token=token)


def _header(name: str, value: str) -> base_pb2.HeaderValueOption:
    return base_pb2.HeaderValueOption(
        header=base_pb2.HeaderValue(key=name, value=value),
        append_action=base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD,
    )


def _rate_headers(decision: Decision | None) -> list[base_pb2.HeaderValueOption]:
    if decision is None:
        return []
    headers = [
        _header("ratelimit-limit", str(decision.limit)),
        _header("ratelimit-remaining", str(decision.remaining)),
        _header("ratelimit-reset", str(decision.reset_seconds)),
    ]
    if not decision.allowed:
        headers.append(_header("retry-after", str(decision.retry_after_seconds)))
    return headers


_GRPC_CODE: Final = {
    401: code_pb2.UNAUTHENTICATED,
    403: code_pb2.PERMISSION_DENIED,
    429: code_pb2.RESOURCE_EXHAUSTED,
    503: code_pb2.UNAVAILABLE,
}


def check_response(verdict: Verdict) -> external_auth_pb2.CheckResponse:
    """The ext_authz answer for a verdict: OK with rate headers, or a JSON error the edge returns as is."""
    if verdict.http_status == 200:
        metadata = struct_pb2.Struct()
        if verdict.record is not None:
            metadata.update(
                {"license_id": verdict.record.license_id, "partner_id": verdict.record.partner_id}
            )
        headers = []
        # The key never travels past the edge.
        removed = [API_KEY_HEADER]
        if verdict.token:
            # The partner principal's token replaces nothing the client sent: it is only set
            # when the request had no bearer token.
            headers.append(_header(_AUTHORIZATION, "Bearer " + verdict.token))
        if verdict.partner_token:
            headers.append(_header(PARTNER_TOKEN_HEADER, verdict.partner_token))
        else:
            # edge.lua already dropped any client copy; removing it again keeps this answer safe
            # on its own (another edge config, a Lua change).
            removed.append(PARTNER_TOKEN_HEADER)
        return external_auth_pb2.CheckResponse(
            status=status_pb2.Status(code=code_pb2.OK),
            ok_response=external_auth_pb2.OkHttpResponse(
                headers=headers,
                headers_to_remove=removed,
                response_headers_to_add=_rate_headers(verdict.decision),
            ),
            dynamic_metadata=metadata,
        )
    code = _GRPC_CODE[verdict.http_status]
    body = {
        "code": code,
        "message": verdict.message,
        "details": [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": verdict.reason, "domain": _DOMAIN}
        ],
    }
    return external_auth_pb2.CheckResponse(
        status=status_pb2.Status(code=code, message=verdict.message),
        denied_response=external_auth_pb2.DeniedHttpResponse(
            status=http_status_pb2.HttpStatus(code=verdict.http_status),
            headers=[_header("content-type", "application/json"), *_rate_headers(verdict.decision)],
            body=json.dumps(body, separators=(",", ":")),
        ),
    )


class AuthorizationServicer(external_auth_pb2_grpc.AuthorizationServicer):  # type: ignore[misc]
    """Envoy's ext_authz Check, answered by the key authorizer."""

    def __init__(self, authorizer: KeyAuthorizer, metrics: LicensingMetrics | None = None) -> None:
        self._authorizer = authorizer
        self._metrics = metrics or LicensingMetrics.for_registry()

    async def Check(
        self, request: external_auth_pb2.CheckRequest, context: grpc.aio.ServicerContext
    ) -> external_auth_pb2.CheckResponse:
        secret = request.attributes.request.http.headers.get(API_KEY_HEADER)
        if secret is None:
            # Not a keyed request: the edge's other rules (JWT, per-address limits) apply.
            return external_auth_pb2.CheckResponse(status=status_pb2.Status(code=code_pb2.OK))
        started = time.perf_counter()
        bearer = bearer_token(request.attributes.request.http.headers.get(_AUTHORIZATION))
        verdict = await self._authorizer.authorize(secret.strip(), as_partner=bearer is None)
        self._metrics.decision_seconds.observe(time.perf_counter() - started)
        self._metrics.decisions.labels(verdict.reason or "OK").inc()
        return check_response(verdict)
