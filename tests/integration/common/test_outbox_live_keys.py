"""The live keys of the outbox's commands without a foreign key (migration 0018), on real PostgreSQL.

`live_keys` lost its foreign key to `commands` (its check cost a query per key of every accept).
These tests hold what the key gave and what the triggers promise: a recorded command's keys are
exactly its ordering keys (exclusive ones marked), a finished one has none, and a deleted live
command takes its keys with it (the cascade, now a trigger), also when the deleting role may not
touch `live_keys` itself.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_KEY = st.text(alphabet="abc:-1", min_size=1, max_size=6)


@pytest.fixture
async def clean(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE outbox.live_keys, outbox.commands CASCADE"))


async def _insert(
    engine: AsyncEngine, order_keys: list[str], exclusive_keys: list[str]
) -> tuple[uuid.UUID, int]:
    command_id = uuid.uuid4()
    async with engine.begin() as conn:
        seq = (
            await conn.execute(
                text(
                    "INSERT INTO outbox.commands (id, command_type, payload, request_id, order_keys, exclusive_keys)"
                    " VALUES (:id, 'TRANSFER_TOKENS', '{}', :rid, :keys, :exclusive) RETURNING seq"
                ),
                {"id": command_id, "rid": str(command_id), "keys": order_keys, "exclusive": exclusive_keys},
            )
        ).scalar_one()
    return command_id, int(seq)


async def _keys(engine: AsyncEngine, command_id: uuid.UUID) -> set[tuple[Any, ...]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT key, seq, exclusive FROM outbox.live_keys WHERE command_id = :id"),
            {"id": command_id},
        )
        return {tuple(r) for r in rows}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=st.lists(_KEY, max_size=5), data=st.data())
async def test_a_recorded_command_has_exactly_its_keys_until_it_finishes(
    engine: AsyncEngine, keys: list[str], data: st.DataObject
) -> None:
    exclusive = data.draw(st.lists(st.sampled_from(keys), unique=True) if keys else st.just([]))
    command_id, seq = await _insert(engine, keys, exclusive)
    assert await _keys(engine, command_id) == {(k, seq, k in exclusive) for k in set(keys)}
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE outbox.commands SET status = 'COMMITTED' WHERE id = :id"), {"id": command_id}
        )
    assert await _keys(engine, command_id) == set()


@pytest.mark.usefixtures("clean")
@pytest.mark.parametrize("status", ["PENDING", "SUBMITTED"])
async def test_deleting_a_live_command_drops_its_keys_and_no_one_elses(
    engine: AsyncEngine, status: str
) -> None:
    doomed, _ = await _insert(engine, ["acct:a", "acct:b"], ["acct:a"])
    other, other_seq = await _insert(engine, ["acct:a"], ["acct:a"])
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE outbox.commands SET status = :s WHERE id = :id"), {"s": status, "id": doomed}
        )
        await conn.execute(text("DELETE FROM outbox.commands WHERE id = :id"), {"id": doomed})
    assert await _keys(engine, doomed) == set()
    assert await _keys(engine, other) == {("acct:a", other_seq, True)}


@pytest.mark.usefixtures("clean")
async def test_a_role_without_rights_on_live_keys_can_still_delete_a_live_command(
    engine: AsyncEngine,
) -> None:
    doomed, _ = await _insert(engine, ["acct:z"], ["acct:z"])
    async with engine.begin() as conn:
        await conn.execute(text("CREATE ROLE gx_test_deleter NOLOGIN"))
        try:
            await conn.execute(text("GRANT USAGE ON SCHEMA outbox TO gx_test_deleter"))
            await conn.execute(text("GRANT SELECT, DELETE ON outbox.commands TO gx_test_deleter"))
            await conn.execute(text("SET LOCAL ROLE gx_test_deleter"))
            await conn.execute(text("DELETE FROM outbox.commands WHERE id = :id"), {"id": doomed})
            await conn.execute(text("RESET ROLE"))
        finally:
            await conn.execute(text("RESET ROLE"))
            await conn.execute(text("DROP OWNED BY gx_test_deleter"))
            await conn.execute(text("DROP ROLE gx_test_deleter"))
    assert await _keys(engine, doomed) == set()


async def test_live_keys_carry_no_foreign_key_check(engine: AsyncEngine) -> None:
    # The point of migration 0018: no referential-integrity query per key of an accept.
    async with engine.connect() as conn:
        fks = await conn.execute(
            text(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'outbox.live_keys'::regclass AND contype = 'f'"
            )
        )
        assert fks.all() == []
