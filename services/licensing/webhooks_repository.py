"""Queries over the partner webhook tables and their messages in `notify.messages`. Callers own the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import cast, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.common.notify_tables import messages
from services.common.paging import PageRequest
from services.licensing.tables import webhook_endpoints as endpoints
from services.licensing.tables import webhook_events as events

Db = AsyncSession | AsyncConnection
CHANNEL: Final = "webhook"

# Every column but the secret: nothing that lists or returns an endpoint ever reads it.
_ENDPOINT = (
    endpoints.c.id,
    endpoints.c.partner_id,
    endpoints.c.url,
    endpoints.c.event_types,
    endpoints.c.description,
    endpoints.c.state,
    endpoints.c.secret_prefix,
    endpoints.c.previous_secret_expire_at,
    endpoints.c.created_at,
    endpoints.c.updated_at,
)


async def insert_endpoint(
    db: Db,
    *,
    partner_id: uuid.UUID,
    url: str,
    event_types: list[str],
    description: str,
    secret: str,
    secret_prefix: str,
    now: datetime,
) -> Any:
    """The new ENABLED endpoint's row (without the secret)."""
    statement = (
        insert(endpoints)
        .values(
            id=uuid.uuid4(),
            partner_id=partner_id,
            url=url,
            event_types=event_types,
            description=description,
            state="ENABLED",
            secret=secret,
            secret_prefix=secret_prefix,
            created_at=now,
            updated_at=now,
        )
        .returning(*_ENDPOINT)
    )
    return (await db.execute(statement)).one()


async def count_endpoints(db: Db, partner_id: uuid.UUID) -> int:
    """How many endpoints a partner has."""
    statement = select(func.count()).select_from(endpoints).where(endpoints.c.partner_id == partner_id)
    return int((await db.execute(statement)).scalar_one())


async def endpoint_by_id(
    db: Db, partner_id: uuid.UUID, endpoint_id: uuid.UUID, *, for_update: bool = False
) -> Any | None:
    """An endpoint of a partner, or None (also when it is another partner's)."""
    statement = select(*_ENDPOINT).where(endpoints.c.id == endpoint_id, endpoints.c.partner_id == partner_id)
    if for_update:
        statement = statement.with_for_update()
    return (await db.execute(statement)).one_or_none()


async def list_endpoints(db: Db, partner_id: uuid.UUID, page: PageRequest) -> Sequence[Any]:
    """A partner's endpoints newest first, one page (`page.limit` rows) after its cursor."""
    statement = select(*_ENDPOINT).where(endpoints.c.partner_id == partner_id)
    if (after := page.condition(endpoints.c.created_at, endpoints.c.id)) is not None:
        statement = statement.where(after)
    statement = statement.order_by(endpoints.c.created_at.desc(), endpoints.c.id.desc()).limit(page.limit)
    return (await db.execute(statement)).all()


async def update_endpoint(db: Db, endpoint_id: uuid.UUID, values: dict[str, Any], now: datetime) -> Any:
    """Writes the given columns; returns the row."""
    statement = (
        update(endpoints)
        .where(endpoints.c.id == endpoint_id)
        .values(**values, updated_at=now)
        .returning(*_ENDPOINT)
    )
    return (await db.execute(statement)).one()


async def roll_secret(
    db: Db, endpoint_id: uuid.UUID, secret: str, secret_prefix: str, previous_until: datetime, now: datetime
) -> Any:
    """Makes `secret` the endpoint's secret; the one it replaces signs too until `previous_until`."""
    statement = (
        update(endpoints)
        .where(endpoints.c.id == endpoint_id)
        .values(
            previous_secret=endpoints.c.secret,
            previous_secret_expire_at=previous_until,
            secret=secret,
            secret_prefix=secret_prefix,
            updated_at=now,
        )
        .returning(*_ENDPOINT)
    )
    return (await db.execute(statement)).one()


async def delete_endpoint(db: Db, endpoint_id: uuid.UUID) -> None:
    """Removes an endpoint (its messages stay in the queue's history)."""
    await db.execute(delete(endpoints).where(endpoints.c.id == endpoint_id))


async def give_up_waiting(db: Db, endpoint_id: uuid.UUID, why: str, now: datetime) -> int:
    """Marks an endpoint's messages that still wait FAILED; returns how many.

    A message a notifier has claimed at this moment may still be sent once: the notifier checks
    the endpoint again before each attempt, so nothing is sent after that.
    """
    statement = (
        update(messages)
        .where(
            messages.c.channel == CHANNEL,
            messages.c.destination == str(endpoint_id),
            messages.c.status == "PENDING",
        )
        .values(status="FAILED", last_error=why, updated_at=now)
    )
    result = await db.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


async def event_of_partner(db: Db, partner_id: uuid.UUID, event_id: uuid.UUID) -> Any | None:
    """A partner's event (id, event_type, operation_id), or None."""
    statement = select(events.c.id, events.c.event_type, events.c.operation_id).where(
        events.c.id == event_id, events.c.partner_id == partner_id
    )
    return (await db.execute(statement)).one_or_none()


def _delivery_columns() -> tuple[Any, ...]:
    return (
        messages.c.id,
        messages.c.destination,
        messages.c.status,
        messages.c.attempts,
        messages.c.last_error,
        messages.c.last_response,
        messages.c.next_attempt_at,
        messages.c.created_at,
        messages.c.updated_at,
        events.c.id.label("event_id"),
        events.c.event_type,
        events.c.operation_id,
    )


def _deliveries() -> Any:
    # A webhook message names its event in its payload (services.licensing.webhooks.enqueue_delivery
    # and the trigger of migration 0015 write it so).
    joined = messages.join(
        events, events.c.id == cast(messages.c.payload["event_id"].astext, events.c.id.type)
    )
    return select(*_delivery_columns()).select_from(joined).where(messages.c.channel == CHANNEL)


async def delivery_by_id(db: Db, delivery_id: uuid.UUID) -> Any:
    """One delivery with its event."""
    return (await db.execute(_deliveries().where(messages.c.id == delivery_id))).one()


async def list_deliveries(
    db: Db, endpoint_id: uuid.UUID, event_id: uuid.UUID | None, page: PageRequest
) -> Sequence[Any]:
    """An endpoint's deliveries newest first (optionally one event's), one page after its cursor."""
    statement = _deliveries().where(messages.c.destination == str(endpoint_id))
    if event_id is not None:
        statement = statement.where(events.c.id == event_id)
    if (after := page.condition(messages.c.created_at, messages.c.id)) is not None:
        statement = statement.where(after)
    statement = statement.order_by(messages.c.created_at.desc(), messages.c.id.desc()).limit(page.limit)
    return (await db.execute(statement)).all()
