"""The notifier's reads and writes of notify.messages (claim under a lease, finish) and of the recipients."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier.transports import Message, Outcome
from notifier.transports.email import Recipient
from services.common.notify_tables import messages as m
from services.identity.tables import users

_FINAL_STATUS = {"sent": "SENT", "failed": "FAILED", "skipped": "SKIPPED"}


class NotifierRepository:
    """Claims due messages with FOR UPDATE SKIP LOCKED, so several notifiers share one queue.

    A claim is a lease written into the row itself: `attempts + 1` and `next_attempt_at` pushed
    `lease_seconds` ahead. A notifier that dies mid-send leaves the row PENDING, and it becomes
    due again when the lease runs out. `attempts` is the fencing token: only the claim that
    set it may finish the row, so a notifier whose lease ran out cannot overwrite the outcome of
    the one that took the row over.
    """

    def __init__(self, engine: AsyncEngine, lease_seconds: float) -> None:
        self._engine = engine
        self._lease = timedelta(seconds=lease_seconds)

    async def claim(self, channels: Sequence[str], limit: int) -> list[Message]:
        """Lease up to `limit` due PENDING messages of `channels`, oldest due first."""
        due = (
            select(m.c.id)
            .where(
                m.c.status == "PENDING", m.c.next_attempt_at <= func.now(), m.c.channel.in_(list(channels))
            )
            .order_by(m.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("due")
        )
        statement = (
            update(m)
            .where(m.c.id == due.c.id)
            .values(
                attempts=m.c.attempts + 1, next_attempt_at=func.now() + self._lease, updated_at=func.now()
            )
            .returning(
                m.c.id,
                m.c.channel,
                m.c.destination,
                m.c.to_user_id,
                m.c.template,
                m.c.payload,
                m.c.attempts,
                m.c.created_at,
            )
        )
        async with self._engine.begin() as conn:
            rows = (await conn.execute(statement)).all()
        return [
            Message(
                id=row.id,
                channel=row.channel,
                destination=row.destination,
                to_user_id=row.to_user_id,
                template=row.template,
                payload=dict(row.payload or {}),
                attempts=row.attempts,
                created_at=row.created_at,
            )
            for row in rows
        ]

    async def finish(
        self, message: Message, outcome: Outcome, next_attempt_at: datetime | None = None
    ) -> bool:
        """Record an attempt's outcome; a retry needs `next_attempt_at` (None with a retry gives up).

        Returns:
            False when this claim no longer holds the row (its lease ran out and another
            notifier claimed it): nothing was written.
        """
        values: dict[str, Any] = {
            "last_error": outcome.detail or None,
            "last_response": outcome.response,
            "updated_at": func.now(),
        }
        if outcome.kind == "retry" and next_attempt_at is not None:
            values.update(status="PENDING", next_attempt_at=next_attempt_at)
        elif outcome.kind == "retry":
            values.update(
                status="FAILED",
                last_error=f"EXPIRED: gave up after {message.attempts} attempts; {outcome.detail}",
            )
        else:
            values["status"] = _FINAL_STATUS[outcome.kind]
        if outcome.kind == "sent":
            values["sent_at"] = func.now()
        statement = (
            update(m)
            .where(m.c.id == message.id, m.c.attempts == message.attempts, m.c.status == "PENDING")
            .values(**values)
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(statement)
        return bool(result.rowcount)

    async def queue_stats(self) -> dict[str, tuple[int, float]]:
        """Per channel: PENDING messages, and the age in seconds of the oldest of them."""
        statement = (
            select(
                m.c.channel,
                func.count(),
                func.coalesce(func.extract("epoch", func.now() - func.min(m.c.created_at)), 0),
            )
            .where(m.c.status == "PENDING")
            .group_by(m.c.channel)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        return {row[0]: (int(row[1]), float(row[2])) for row in rows}

    async def purge_finished(self, older_than_seconds: float, batch_size: int) -> int:
        """Delete up to `batch_size` finished messages (SENT, FAILED, SKIPPED) last changed before
        `older_than_seconds` ago; PENDING ones are never touched. Returns how many went.

        SKIP LOCKED: several notifiers may purge at once without waiting on each other.
        """
        doomed = (
            select(m.c.id)
            .where(
                m.c.status.in_(["SENT", "FAILED", "SKIPPED"]),
                m.c.updated_at < func.now() - timedelta(seconds=older_than_seconds),
            )
            .limit(batch_size)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(m).where(m.c.id.in_(doomed)))
        return int(result.rowcount or 0)

    async def recipient(self, user_id: uuid.UUID) -> Recipient | None:
        """A user's current address and money-mail preference (identity.users), or None."""
        statement = select(users.c.email, users.c.money_emails).where(users.c.id == user_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(statement)).first()
        return None if row is None else Recipient(email=row.email, money_emails=bool(row.money_emails))
