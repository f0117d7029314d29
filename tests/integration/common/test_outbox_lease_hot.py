"""Taking and giving up a lease writes no index of outbox.commands (a HOT update), on real PostgreSQL.

The claim, the hand-over and the release write only the lease columns and leave `updated_at` (the
last change of the command's state) alone. With `updated_at = now()` none of them was HOT:
`commands_finished_idx` keys on it, so every claim inserted a new entry into each of the table's
indexes (and 7.5 kB of WAL with the page images, against 2.9 kB HOT).
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from outbox.repository import _CLAIM, OutboxRepository
from services.common.db import libpq_dsn

_COUNTS = (
    "SELECT pg_stat_get_xact_tuples_updated('outbox.commands'::regclass),"
    " pg_stat_get_xact_tuples_hot_updated('outbox.commands'::regclass)"
)


@pytest.fixture
async def recorded(engine: AsyncEngine) -> uuid.UUID:
    """One PENDING command in an otherwise empty queue."""
    command_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE outbox.live_keys, outbox.commands CASCADE"))
        await conn.execute(
            text(
                "INSERT INTO outbox.commands (id, command_type, payload, request_id, order_keys, exclusive_keys)"
                " VALUES (:id, 'TRANSFER_TOKENS', '{}', :rid, ARRAY['account:a', 'system'], ARRAY['account:a'])"
            ),
            {"id": command_id, "rid": str(command_id)},
        )
    return command_id


async def _row(engine: AsyncEngine, command_id: uuid.UUID) -> Any:
    async with engine.connect() as conn:
        return (
            await conn.execute(
                text("SELECT lease_owner, created_at, updated_at FROM outbox.commands WHERE id = :id"),
                {"id": command_id},
            )
        ).one()


async def test_a_claim_is_a_hot_update_and_keeps_updated_at(
    engine: AsyncEngine, migrated_url: str, recorded: uuid.UUID
) -> None:
    # The claim's own statement in a transaction of ours: its transaction-local counts are exact.
    async with await psycopg.AsyncConnection.connect(libpq_dsn(migrated_url)) as conn:
        claimed = await (await conn.execute(_CLAIM, {"limit": 10, "owner": "w-1", "lease": 30.0})).fetchall()
        counts = await (await conn.execute(_COUNTS)).fetchone()
        await conn.commit()
    assert [row[0] for row in claimed] == [recorded]
    assert counts == (1, 1)  # one update, and it was HOT
    lease_owner, created_at, updated_at = await _row(engine, recorded)
    assert lease_owner == "w-1" and updated_at == created_at


async def test_a_release_gives_the_lease_back_and_keeps_updated_at(
    engine: AsyncEngine, recorded: uuid.UUID
) -> None:
    repository = OutboxRepository(engine, "w-2", 30.0)
    assert [c.id for c in await repository.claim(10)] == [recorded]
    await repository.release([recorded])
    lease_owner, created_at, updated_at = await _row(engine, recorded)
    assert lease_owner is None and updated_at == created_at
