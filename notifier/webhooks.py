"""The `webhook` channel: a signed POST of a partner's event to its endpoint, safe against SSRF.

A message (recorded by migration 0015's trigger or by a re-send, payload `{event_id,
endpoint_id}`, destination = the endpoint id) is sent as the event body of
services.common.webhook_events, signed `GX-Signature: t=…,v1=…` with the endpoint's secret
(services.common.webhook_signature). Before every attempt the endpoint is read again (a
disabled or deleted one gets nothing more) and its host resolved and checked again
(services.common.webhook_targets); the request then goes to the very address that was checked,
with the original Host header and TLS server name, so a DNS answer that changes between the
check and the connection (DNS rebinding) cannot reach an internal address. Redirects are not
followed, proxies from the environment are not used (either would connect somewhere unchecked).

Outcomes: 2xx is sent; any other answer, a timeout or a connection error is retried (the
worker's exponential backoff) until the message is 24 hours old, Stripe's rule of "retry
anything but success" on a shorter horizon; an endpoint gone, disabled or now resolving to a
refused address fails at once. At least once: a crash after the receiver's 2xx and before the
worker records it sends the event again, with the same `id`, which is what receivers
de-duplicate by.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

import httpx
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier.transports import Message, Outcome
from services.common.webhook_events import event_body, response_record
from services.common.webhook_signature import HEADER, header_value
from services.common.webhook_targets import URL_UNRESOLVABLE, TargetPolicy, TargetRefused
from services.licensing.tables import webhook_endpoints, webhook_events

CHANNEL: Final = "webhook"
MAX_AGE_SECONDS: Final = 24 * 3600.0
USER_AGENT: Final = "GX-Webhooks/1.0"
# Enough of an answer for the delivery log; a receiver cannot make us read more than this.
_READ_AT_MOST: Final = 4096


@dataclass(frozen=True)
class Endpoint:
    """What a delivery needs of an endpoint, read at each attempt."""

    url: str
    enabled: bool
    secret: str
    # A rolled secret still in its grace period: it signs too.
    previous_secret: str | None = None


@dataclass(frozen=True)
class Event:
    """A recorded event."""

    id: uuid.UUID
    event_type: str
    created_at: datetime
    operation: dict[str, Any]


class WebhookStore(Protocol):
    """Reads endpoints and events (licensing's tables)."""

    async def endpoint(self, endpoint_id: uuid.UUID) -> Endpoint | None:
        """The endpoint, or None when it was deleted."""
        ...

    async def event(self, event_id: uuid.UUID) -> Event | None:
        """The event, or None."""
        ...


class SqlWebhookStore:
    """WebhookStore over PostgreSQL (the notifier's role may read just these columns, migration 0015)."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Reads through `engine`."""
        self._engine = engine

    async def endpoint(self, endpoint_id: uuid.UUID) -> Endpoint | None:
        """The endpoint's URL, state and secret now."""
        t = webhook_endpoints
        previous = case((t.c.previous_secret_expire_at > func.now(), t.c.previous_secret), else_=None)
        statement = select(t.c.url, t.c.state, t.c.secret, previous.label("previous")).where(
            t.c.id == endpoint_id
        )
        async with self._engine.connect() as db:
            row = (await db.execute(statement)).one_or_none()
        return None if row is None else Endpoint(row.url, row.state == "ENABLED", row.secret, row.previous)

    async def event(self, event_id: uuid.UUID) -> Event | None:
        """The event with its operation snapshot."""
        t = webhook_events
        statement = select(t.c.id, t.c.event_type, t.c.created_at, t.c.operation).where(t.c.id == event_id)
        async with self._engine.connect() as db:
            row = (await db.execute(statement)).one_or_none()
        return None if row is None else Event(row.id, row.event_type, row.created_at, dict(row.operation))


def pinned_request(url: str, address: str, body: bytes, headers: dict[str, str]) -> httpx.Request:
    """A POST to `url` that connects to `address` (already checked) but names the URL's host.

    The Host header carries the original host, and for https the TLS server name (SNI and the
    certificate check) is the original host too, through httpcore's `sni_hostname` extension.
    """
    original = httpx.URL(url)
    target = original.copy_with(host=address)
    extensions = {"sni_hostname": original.host} if original.scheme == "https" else {}
    return httpx.Request(
        "POST",
        target,
        content=body,
        headers={**headers, "Host": original.netloc.decode("ascii")},
        extensions=extensions,
    )


class WebhookTransport:
    """Delivers `webhook` messages (notifier.transports.Transport)."""

    channel: Final = CHANNEL

    def __init__(
        self,
        store: WebhookStore,
        policy: TargetPolicy,
        *,
        max_age_seconds: float = MAX_AGE_SECONDS,
        timeout_seconds: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Wires the transport.

        Args:
            store: Endpoints and events.
            policy: Which targets are allowed (loopback only in dev).
            max_age_seconds: Give up 24 hours after the delivery was recorded.
            timeout_seconds: Per attempt: connecting, sending and the answer.
            clock: Unix time for the signature.
        """
        self._store = store
        self._policy = policy
        self._timeout = timeout_seconds
        self._clock = clock
        self.max_age_seconds = max_age_seconds

    async def deliver(self, message: Message) -> Outcome:
        """One signed attempt; never raises for the message's fate."""
        try:
            endpoint_id = uuid.UUID(str(message.destination))
            event_id = uuid.UUID(str(message.payload["event_id"]))
        except (KeyError, ValueError):
            return Outcome("failed", "MALFORMED_MESSAGE: destination or event_id is not a UUID")
        endpoint = await self._store.endpoint(endpoint_id)
        if endpoint is None:
            return Outcome("failed", "ENDPOINT_DELETED: the endpoint no longer exists")
        if not endpoint.enabled:
            return Outcome("failed", "ENDPOINT_DISABLED: the endpoint was disabled")
        event = await self._store.event(event_id)
        if event is None:
            return Outcome("failed", "EVENT_NOT_FOUND: the event no longer exists")
        try:
            target = self._policy.check_url(endpoint.url)
            addresses = await self._policy.resolve(target)
        except TargetRefused as refused:
            # A name that does not resolve now may tomorrow; an address we refuse stays refused.
            detail = f"{refused.reason}: {refused.message}"
            if refused.reason == URL_UNRESOLVABLE:
                return Outcome("retry", detail, response_record(0, ""))
            return Outcome("failed", detail, response_record(0, ""))
        body = event_body(str(event.id), event.event_type, event.created_at, event.operation)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            HEADER: header_value(
                endpoint.secret,
                int(self._clock()),
                body,
                *([endpoint.previous_secret] if endpoint.previous_secret else []),
            ),
            "GX-Event-Id": str(event.id),
            "GX-Delivery-Id": str(message.id),
            "GX-Delivery-Attempt": str(message.attempts),
        }
        request = pinned_request(endpoint.url, str(addresses[0]), body, headers)
        return await self._send(request)

    async def _send(self, request: httpx.Request) -> Outcome:
        # A client per attempt: no pooled connection is ever reused for another host that shares
        # an address (its TLS name was checked for the first), and no environment proxy applies.
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout, follow_redirects=False, trust_env=False
            ) as client:
                response = await client.send(request, stream=True)
                try:
                    excerpt = await _read_some(response)
                finally:
                    await response.aclose()
        except httpx.HTTPError as error:
            detail = f"NO_RESPONSE: {type(error).__name__}: {error}"
            return Outcome("retry", detail, response_record(0, ""))
        record = response_record(response.status_code, excerpt)
        if response.is_success:
            return Outcome("sent", response=record)
        if response.is_redirect:
            return Outcome(
                "retry", f"HTTP_REDIRECT: answered {response.status_code}; redirects are not followed", record
            )
        # The reason (before the colon) is a metric label: one per kind, not one per status code.
        return Outcome("retry", f"HTTP_ERROR: answered {response.status_code}", record)


async def _read_some(response: httpx.Response) -> str:
    """At most the first few KiB of the answer, as text."""
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= _READ_AT_MOST:
            break
    return data[:_READ_AT_MOST].decode("utf-8", "replace")
