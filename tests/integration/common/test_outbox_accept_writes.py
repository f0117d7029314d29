"""Migration 0019 on real PostgreSQL: fewer writes per recorded command, the same live keys.

It drops `commands_principal_idx` (no query reads commands by principal) and makes `live_keys_add`
insert its keys without ON CONFLICT (a speculative insertion and a HEAP_CONFIRM record per key).
A conflict cannot happen: the keys of one command are distinct, its `seq` is unique, and a
command with a `seq` taken already is refused before any key is written.
"""

from __future__ import annotations

import asyncio
import uuid

import psycopg
import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import migrate
from services.common.db import libpq_dsn

_INSERT = text(
    "INSERT INTO outbox.commands (id, command_type, payload, request_id, order_keys, exclusive_keys, seq)"
    " VALUES (:id, 'TRANSFER_TOKENS', '{}', :rid, :keys, :exclusive, COALESCE(:seq, nextval('outbox.commands_seq_seq')))"
    " RETURNING seq"
)


async def _record(
    engine: AsyncEngine, keys: list[str], exclusive: list[str], seq: int | None = None
) -> tuple[uuid.UUID, int]:
    command_id = uuid.uuid4()
    params = {"id": command_id, "rid": str(command_id), "keys": keys, "exclusive": exclusive, "seq": seq}
    async with engine.begin() as conn:
        recorded = (await conn.execute(_INSERT, params)).scalar_one()
    return command_id, int(recorded)


async def _keys_at(engine: AsyncEngine, seq: int) -> set[tuple[object, ...]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT key, command_id, exclusive FROM outbox.live_keys WHERE seq = :seq"), {"seq": seq}
        )
        return {tuple(r) for r in rows}


async def test_a_key_listed_twice_is_held_once(engine: AsyncEngine) -> None:
    command_id, seq = await _record(engine, ["acct:a", "acct:b", "acct:a"], ["acct:a"])
    assert await _keys_at(engine, seq) == {("acct:a", command_id, True), ("acct:b", command_id, False)}


async def test_a_command_with_a_taken_seq_is_refused_and_writes_no_keys(engine: AsyncEngine) -> None:
    first, seq = await _record(engine, ["acct:c"], ["acct:c"])
    with pytest.raises(IntegrityError, match="commands_seq_key"):
        await _record(engine, ["acct:c", "acct:d"], [], seq=seq)
    assert await _keys_at(engine, seq) == {("acct:c", first, True)}


def _shape(url: str) -> tuple[bool, bool]:
    """(commands_principal_idx exists, live_keys_add inserts with ON CONFLICT)."""
    with psycopg.connect(libpq_dsn(url)) as conn:
        index = conn.execute("SELECT to_regclass('outbox.commands_principal_idx') IS NOT NULL").fetchone()
        body = conn.execute(
            "SELECT prosrc FROM pg_proc WHERE oid = 'outbox.live_keys_add'::regproc"
        ).fetchone()
    assert index is not None and body is not None
    return bool(index[0]), "ON CONFLICT" in body[0]


async def test_the_migration_goes_down_and_up_again(fresh_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, fresh_url, "0019_outbox_accept_writes")
    assert _shape(fresh_url) == (False, False)
    await asyncio.to_thread(
        command.downgrade, migrate.alembic_config(fresh_url), "0018_outbox_live_keys_no_fk"
    )
    assert _shape(fresh_url) == (True, True)
    await asyncio.to_thread(migrate.upgrade, fresh_url, "0019_outbox_accept_writes")
    assert _shape(fresh_url) == (False, False)
