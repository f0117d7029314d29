"""Partners' webhook endpoints, their delivery log and re-sends: the use cases behind the licensing API.

Events themselves are recorded by a trigger on outbox.commands (migration 0015), in the outbox's
own transaction, for operations whose principal is a partner (an API key alone); the notifier
sends them (notifier/webhooks.py). Here: registering endpoints (with the SSRF policy of
services.common.webhook_targets), reading and changing them, the delivery log (the endpoint's
`webhook` messages in notify.messages) and re-sending an event as a new message.

The signing secret is generated here (Stripe's practice: the platform makes it, so it is
always strong), shown once in CreateWebhookEndpoint's answer and never returned again; the
idempotency record keeps the answer without it. It is stored as is, because the notifier needs
the key itself to compute the HMAC; only licensing's and the notifier's roles can read it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from google.protobuf.timestamp_pb2 import Timestamp
from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.common import notify, paging
from services.common.auth import Principal
from services.common.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from services.common.webhook_events import OPERATION_COMMITTED, OPERATION_FAILED, parse_response_record
from services.common.webhook_signature import new_secret
from services.common.webhook_targets import TargetPolicy, TargetRefused
from services.licensing import convert, repository
from services.licensing import webhooks_repository as repo
from services.licensing.usecases import LicensingUseCases

MAX_ENDPOINTS: Final = 16
MAX_SECRET_GRACE: Final = timedelta(days=7)
DEFAULT_SECRET_GRACE: Final = timedelta(hours=24)
WEBHOOK_ENDPOINT_NOT_FOUND: Final = "WEBHOOK_ENDPOINT_NOT_FOUND"
WEBHOOK_EVENT_NOT_FOUND: Final = "WEBHOOK_EVENT_NOT_FOUND"
WEBHOOK_ENDPOINT_DISABLED: Final = "WEBHOOK_ENDPOINT_DISABLED"
WEBHOOK_ENDPOINT_LIMIT: Final = "WEBHOOK_ENDPOINT_LIMIT"
PARTNER_NOT_ACTIVE: Final = "PARTNER_NOT_ACTIVE"

# Wire names (what receivers see in `type`, and what endpoints and events store) ↔ enum values.
EVENT_TYPES: Final = {
    pb.WEBHOOK_EVENT_TYPE_OPERATION_COMMITTED: OPERATION_COMMITTED,
    pb.WEBHOOK_EVENT_TYPE_OPERATION_FAILED: OPERATION_FAILED,
}
EVENT_TYPE_VALUES: Final = {name: value for value, name in EVENT_TYPES.items()}
_STATES: Final = {
    pb.WEBHOOK_ENDPOINT_STATE_ENABLED: "ENABLED",
    pb.WEBHOOK_ENDPOINT_STATE_DISABLED: "DISABLED",
}
_STATE_VALUES: Final = {name: value for value, name in _STATES.items()}
# notify.messages' status → the delivery's. SKIPPED is not written for webhooks; were it, it
# would mean "not delivered", which is FAILED to the partner.
_DELIVERY_STATUS: Final = {
    "PENDING": pb.WEBHOOK_DELIVERY_STATUS_PENDING,
    "SENT": pb.WEBHOOK_DELIVERY_STATUS_SUCCEEDED,
    "FAILED": pb.WEBHOOK_DELIVERY_STATUS_FAILED,
    "SKIPPED": pb.WEBHOOK_DELIVERY_STATUS_FAILED,
}
_MASKABLE: Final = frozenset({"url", "event_types", "description", "state"})
_SECRET_PREFIX_CHARS: Final = 10


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument(violations=[FieldViolation(field, "must be a UUID")]) from None


def endpoint_not_found() -> NotFound:
    """An endpoint that does not exist under the named partner."""
    return NotFound("webhook endpoint not found", reason=WEBHOOK_ENDPOINT_NOT_FOUND)


def endpoint_message(row: Any) -> pb.WebhookEndpoint:
    """An endpoint row as the API shows it (never with its secret)."""
    return pb.WebhookEndpoint(
        endpoint_id=str(row.id),
        partner_id=str(row.partner_id),
        url=row.url,
        event_types=[EVENT_TYPE_VALUES[t] for t in row.event_types if t in EVENT_TYPE_VALUES],
        description=row.description,
        state=_STATE_VALUES[row.state],
        secret_prefix=row.secret_prefix,
        create_time=convert.timestamp(row.created_at),
        update_time=convert.timestamp(row.updated_at),
        previous_secret_expire_time=_still_future(row.previous_secret_expire_at),
    )


def _still_future(when: datetime | None) -> Timestamp | None:
    """The previous secret's end while it still signs; None once it no longer does."""
    return convert.timestamp(when) if when is not None and when > _utcnow() else None


def delivery_message(row: Any) -> pb.WebhookDelivery:
    """A webhook message of notify.messages (joined with its event) as a delivery of the log."""
    status, body = parse_response_record(row.last_response)
    pending = row.status == "PENDING"
    return pb.WebhookDelivery(
        delivery_id=str(row.id),
        endpoint_id=row.destination,
        event_id=str(row.event_id),
        event_type=EVENT_TYPE_VALUES.get(row.event_type, pb.WEBHOOK_EVENT_TYPE_UNSPECIFIED),
        operation=f"operations/{row.operation_id}",
        status=_DELIVERY_STATUS.get(row.status, pb.WEBHOOK_DELIVERY_STATUS_UNSPECIFIED),
        attempt_count=int(row.attempts),
        last_response_status=status,
        # No answer at all (refused address, timeout, connection error): say why instead.
        last_response_body=body or (row.last_error or ""),
        next_attempt_time=convert.timestamp(row.next_attempt_at) if pending else None,
        create_time=convert.timestamp(row.created_at),
        update_time=convert.timestamp(row.updated_at),
    )


async def enqueue_delivery(
    session: AsyncSession, *, event_id: uuid.UUID, event_type: str, endpoint_id: uuid.UUID, dedupe_key: str
) -> uuid.UUID:
    """Records one delivery of an event to an endpoint in the caller's transaction (as the trigger does)."""
    return await notify.enqueue(
        session,
        channel=repo.CHANNEL,
        destination=str(endpoint_id),
        to_user_id=None,
        template=event_type,
        payload={"event_id": str(event_id), "endpoint_id": str(endpoint_id)},
        dedupe_key=dedupe_key,
    )


class WebhookUseCases:
    """CreateWebhookEndpoint … ResendWebhookEvent over PostgreSQL."""

    def __init__(
        self,
        base: LicensingUseCases,
        reads: AsyncEngine,
        targets: TargetPolicy,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        """Wires the use cases.

        Args:
            base: Licensing's use cases, for the partner rule (`me`, who sees what) and writes.
            reads: An autocommit engine for reads.
            targets: Which URLs may receive webhooks (loopback only in dev).
            clock: The time source.
        """
        self._base = base
        self._reads = reads
        self._targets = targets
        self._now = clock

    async def _checked_url(self, url: str, field: str) -> str:
        """The URL when it may receive webhooks; INVALID_ARGUMENT with the policy's reason otherwise."""
        try:
            await self._targets.resolve(self._targets.check_url(url))
        except TargetRefused as refused:
            raise InvalidArgument(
                refused.message, violations=[FieldViolation(field, refused.message)], reason=refused.reason
            ) from None
        return url

    async def _endpoint(
        self, db: repo.Db, partner_id: uuid.UUID, value: str, *, for_update: bool = False
    ) -> Any:
        row = await repo.endpoint_by_id(db, partner_id, _uuid(value, "endpoint_id"), for_update=for_update)
        if row is None:
            raise endpoint_not_found()
        return row

    async def create_endpoint(
        self, principal: Principal, request: svc.CreateWebhookEndpointRequest
    ) -> svc.CreateWebhookEndpointResponse:
        """A new ENABLED endpoint and, in this answer only, its secret."""
        # Resolved before the transaction: DNS may take a while and holds no lock.
        url = await self._checked_url(request.url, "url")
        event_types = sorted({EVENT_TYPES[t] for t in request.event_types})
        secret: list[str] = []

        async def work(session: AsyncSession) -> svc.CreateWebhookEndpointResponse:
            partner_id = await self._base.resolve_partner(session, principal, request.partner_id)
            await self._active_partner(session, partner_id)
            if await repo.count_endpoints(session, partner_id) >= MAX_ENDPOINTS:
                raise FailedPrecondition(
                    f"a partner has at most {MAX_ENDPOINTS} webhook endpoints", reason=WEBHOOK_ENDPOINT_LIMIT
                )
            new = new_secret()
            row = await repo.insert_endpoint(
                session,
                partner_id=partner_id,
                url=url,
                event_types=event_types,
                description=request.description,
                secret=new,
                secret_prefix=new[:_SECRET_PREFIX_CHARS],
                now=self._now(),
            )
            secret.append(new)
            # The idempotency record stores this answer, without the secret.
            return svc.CreateWebhookEndpointResponse(webhook_endpoint=endpoint_message(row))

        response = await self._base.write("CreateWebhookEndpoint", principal, request, work)
        answer = svc.CreateWebhookEndpointResponse()
        answer.CopyFrom(response)
        if secret:
            answer.secret = secret[0]
        return answer

    async def _active_partner(self, session: AsyncSession, partner_id: uuid.UUID) -> None:
        # Locked, so two concurrent creations cannot both pass the endpoint limit.
        partner = await repository.partner_by_id(session, partner_id, for_update=True)
        if partner is None or partner.state != "ACTIVE":
            raise FailedPrecondition("webhooks are for active partners", reason=PARTNER_NOT_ACTIVE)

    async def list_endpoints(
        self, principal: Principal, request: svc.ListWebhookEndpointsRequest
    ) -> svc.ListWebhookEndpointsResponse:
        """A partner's endpoints newest first."""
        async with self._reads.connect() as db:
            partner_id = await self._base.resolve_partner(db, principal, request.partner_id)
            page = paging.request(request.page_size, request.page_token, f"webhook_endpoints|{partner_id}")
            rows, token = page.finish(await repo.list_endpoints(db, partner_id, page), _keyset)
        return svc.ListWebhookEndpointsResponse(
            webhook_endpoints=[endpoint_message(r) for r in rows], next_page_token=token
        )

    async def get_endpoint(
        self, principal: Principal, request: svc.GetWebhookEndpointRequest
    ) -> svc.GetWebhookEndpointResponse:
        """One endpoint."""
        async with self._reads.connect() as db:
            partner_id = await self._base.resolve_partner(db, principal, request.partner_id)
            row = await self._endpoint(db, partner_id, request.endpoint_id)
        return svc.GetWebhookEndpointResponse(webhook_endpoint=endpoint_message(row))

    async def update_endpoint(
        self, principal: Principal, request: svc.UpdateWebhookEndpointRequest
    ) -> svc.UpdateWebhookEndpointResponse:
        """Changes the masked fields (AIP-134; an empty mask replaces them all)."""
        given = request.webhook_endpoint
        paths = set(request.update_mask.paths) or set(_MASKABLE)
        unknown = sorted(paths - _MASKABLE)
        if unknown:
            raise InvalidArgument(
                violations=[FieldViolation("update_mask", f"only {', '.join(sorted(_MASKABLE))} can change")]
            )
        values: dict[str, Any] = {}
        if "url" in paths:
            values["url"] = await self._checked_url(given.url, "webhook_endpoint.url")
        if "event_types" in paths:
            if not given.event_types or any(t not in EVENT_TYPES for t in given.event_types):
                raise InvalidArgument(
                    violations=[
                        FieldViolation("webhook_endpoint.event_types", "must name at least one defined type")
                    ]
                )
            values["event_types"] = sorted({EVENT_TYPES[t] for t in given.event_types})
        if "description" in paths:
            if len(given.description) > 200:
                raise InvalidArgument(
                    violations=[
                        FieldViolation("webhook_endpoint.description", "may be at most 200 characters")
                    ]
                )
            values["description"] = given.description
        if "state" in paths and given.state != pb.WEBHOOK_ENDPOINT_STATE_UNSPECIFIED:
            if given.state not in _STATES:
                raise InvalidArgument(
                    violations=[FieldViolation("webhook_endpoint.state", "must be a defined state")]
                )
            values["state"] = _STATES[given.state]

        async def work(session: AsyncSession) -> svc.UpdateWebhookEndpointResponse:
            partner_id = await self._base.resolve_partner(
                session, principal, given.partner_id, "webhook_endpoint.partner_id"
            )
            row = await self._endpoint(session, partner_id, given.endpoint_id, for_update=True)
            now = self._now()
            if values.get("state") == "DISABLED" and row.state != "DISABLED":
                await repo.give_up_waiting(session, row.id, "the endpoint was disabled", now)
            updated = await repo.update_endpoint(session, row.id, values, now) if values else row
            return svc.UpdateWebhookEndpointResponse(webhook_endpoint=endpoint_message(updated))

        return await self._base.write("UpdateWebhookEndpoint", principal, request, work)

    async def delete_endpoint(
        self, principal: Principal, request: svc.DeleteWebhookEndpointRequest
    ) -> svc.DeleteWebhookEndpointResponse:
        """Deletes an endpoint and gives up its waiting deliveries."""

        async def work(session: AsyncSession) -> svc.DeleteWebhookEndpointResponse:
            partner_id = await self._base.resolve_partner(session, principal, request.partner_id)
            row = await self._endpoint(session, partner_id, request.endpoint_id, for_update=True)
            await repo.give_up_waiting(session, row.id, "the endpoint was deleted", self._now())
            await repo.delete_endpoint(session, row.id)
            return svc.DeleteWebhookEndpointResponse(endpoint_id=str(row.id))

        return await self._base.write("DeleteWebhookEndpoint", principal, request, work)

    async def list_deliveries(
        self, principal: Principal, request: svc.ListWebhookDeliveriesRequest
    ) -> svc.ListWebhookDeliveriesResponse:
        """An endpoint's delivery log, newest first."""
        event_id = _uuid(request.event_id, "event_id") if request.event_id else None
        async with self._reads.connect() as db:
            partner_id = await self._base.resolve_partner(db, principal, request.partner_id)
            endpoint = await self._endpoint(db, partner_id, request.endpoint_id)
            filter_key = f"webhook_deliveries|{endpoint.id}|{event_id or ''}"
            page = paging.request(request.page_size, request.page_token, filter_key)
            rows, token = page.finish(await repo.list_deliveries(db, endpoint.id, event_id, page), _keyset)
        return svc.ListWebhookDeliveriesResponse(
            webhook_deliveries=[delivery_message(r) for r in rows], next_page_token=token
        )

    async def resend_event(
        self, principal: Principal, request: svc.ResendWebhookEventRequest
    ) -> svc.ResendWebhookEventResponse:
        """The event again, to an enabled endpoint, as a new delivery with the same event id."""

        async def work(session: AsyncSession) -> svc.ResendWebhookEventResponse:
            partner_id = await self._base.resolve_partner(session, principal, request.partner_id)
            endpoint = await self._endpoint(session, partner_id, request.endpoint_id)
            if endpoint.state != "ENABLED":
                raise FailedPrecondition("the endpoint is disabled", reason=WEBHOOK_ENDPOINT_DISABLED)
            event = await repo.event_of_partner(session, partner_id, _uuid(request.event_id, "event_id"))
            if event is None:
                raise NotFound("webhook event not found", reason=WEBHOOK_EVENT_NOT_FOUND)
            # A fresh key per re-send (a replay of this request answers from its AIP-155 record).
            delivery_id = await enqueue_delivery(
                session,
                event_id=event.id,
                event_type=event.event_type,
                endpoint_id=endpoint.id,
                dedupe_key=f"webhook:{event.id}:{endpoint.id}:resend:{uuid.uuid4()}",
            )
            row = await repo.delivery_by_id(session, delivery_id)
            return svc.ResendWebhookEventResponse(webhook_delivery=delivery_message(row))

        return await self._base.write("ResendWebhookEvent", principal, request, work)

    async def roll_secret(
        self, principal: Principal, request: svc.RollWebhookEndpointSecretRequest
    ) -> svc.RollWebhookEndpointSecretResponse:
        """A new secret; the old one keeps signing too for the grace period (Stripe's roll)."""
        grace = DEFAULT_SECRET_GRACE
        if request.HasField("grace_period"):
            grace = request.grace_period.ToTimedelta()
            if grace < timedelta(0) or grace > MAX_SECRET_GRACE:
                raise InvalidArgument(
                    violations=[FieldViolation("grace_period", "must be between 0 seconds and 7 days")]
                )
        secret: list[str] = []

        async def work(session: AsyncSession) -> svc.RollWebhookEndpointSecretResponse:
            partner_id = await self._base.resolve_partner(session, principal, request.partner_id)
            row = await self._endpoint(session, partner_id, request.endpoint_id, for_update=True)
            now = self._now()
            new = new_secret()
            # Only the secret being replaced keeps signing: a roll during a roll ends the older one.
            updated = await repo.roll_secret(
                session, row.id, new, new[:_SECRET_PREFIX_CHARS], now + grace, now
            )
            secret.append(new)
            return svc.RollWebhookEndpointSecretResponse(webhook_endpoint=endpoint_message(updated))

        response = await self._base.write("RollWebhookEndpointSecret", principal, request, work)
        answer = svc.RollWebhookEndpointSecretResponse()
        answer.CopyFrom(response)
        if secret:
            answer.secret = secret[0]
        return answer


def _keyset(row: Any) -> tuple[datetime, uuid.UUID]:
    """Both lists' order: newest first by (created_at, id)."""
    return row.created_at, row.id
