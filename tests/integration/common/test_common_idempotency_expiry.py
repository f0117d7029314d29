"""Idempotency records expire: replays after the TTL are new requests, and a worker purges them in batches."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import redis.asyncio as aioredis
from gx.type.v1 import operation_pb2
from prometheus_client import CollectorRegistry
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.common.idempotency import Idempotency
from services.common.idempotency_purge import IdempotencyPurger
from services.common.names import IDEMPOTENCY_PURGE_LOCK as LOCK_KEY
from services.common.settings import IdempotencySettings
from tests.grpc.common.runtime_test_proto import EchoRequest

_TTL = 24 * 3600.0


def _handler(calls: list[str], name: str):
    async def handler(session: AsyncSession) -> operation_pb2.Operation:
        calls.append(name)
        return operation_pb2.Operation(name=f"operations/{name}")

    return handler


async def _age(engine: AsyncEngine, scope: str, hours: float) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE platform.idempotency_records SET created_at = now() - make_interval(secs => :h * 3600)"
                " WHERE scope = :s"
            ),
            {"h": hours, "s": scope},
        )


async def _count(engine: AsyncEngine, scope: str) -> int:
    async with engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    text("SELECT count(*) FROM platform.idempotency_records WHERE scope = :s"), {"s": scope}
                )
            ).scalar_one()
        )


async def _seed(engine: AsyncEngine, scope: str, count: int, age_hours: float) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO platform.idempotency_records"
                " (scope, principal, request_id, request_hash, response_type, response, created_at)"
                " SELECT :s, 'u', 'r' || i, '\\x00', 'gx.type.v1.Operation', '', now() - make_interval(secs => :h * 3600)"
                " FROM generate_series(1, :n) i"
            ),
            {"s": scope, "n": count, "h": age_hours},
        )


@pytest.fixture
def idem(sessions: async_sessionmaker[AsyncSession], redis_client: aioredis.Redis) -> Idempotency:
    return Idempotency(sessions, redis_client, ttl_seconds=_TTL)


async def test_a_replay_within_the_ttl_answers_the_stored_response(
    idem: Idempotency, engine: AsyncEngine
) -> None:
    scope, rid, calls = f"t.{uuid.uuid4().hex}", str(uuid.uuid4()), []
    request = EchoRequest(request_id=rid, email="a@example.com")
    await idem.run(scope=scope, principal="u", request_id=rid, request=request, handler=_handler(calls, "1"))
    await _age(engine, scope, 23.5)
    again = await idem.run(
        scope=scope, principal="u", request_id=rid, request=request, handler=_handler(calls, "2")
    )
    assert (again.replayed, again.response.name, calls) == (True, "operations/1", ["1"])


async def test_after_the_ttl_the_same_request_id_is_a_new_request(
    idem: Idempotency, engine: AsyncEngine
) -> None:
    scope, rid, calls = f"t.{uuid.uuid4().hex}", str(uuid.uuid4()), []
    first = EchoRequest(request_id=rid, email="a@example.com")
    await idem.run(scope=scope, principal="u", request_id=rid, request=first, handler=_handler(calls, "1"))
    await _age(engine, scope, 25)
    # Not purged yet, but expired: it neither replays nor counts as a reuse with another payload.
    other = EchoRequest(request_id=rid, email="b@example.com")
    again = await idem.run(
        scope=scope, principal="u", request_id=rid, request=other, handler=_handler(calls, "2")
    )
    assert (again.replayed, again.response.name, calls) == (False, "operations/2", ["1", "2"])
    # The expired record was replaced, so the new answer is what replays now.
    replay = await idem.run(
        scope=scope, principal="u", request_id=rid, request=other, handler=_handler(calls, "3")
    )
    assert (replay.replayed, replay.response.name, calls) == (True, "operations/2", ["1", "2"])
    assert await _count(engine, scope) == 1


def _deletes(engine: AsyncEngine) -> tuple[list[int], Any]:
    """Row counts of each purge DELETE run on `engine` (and the listener, to remove)."""
    counts: list[int] = []

    def after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if statement.lstrip().startswith("DELETE FROM platform.idempotency_records"):
            counts.append(cursor.rowcount)

    event.listen(engine.sync_engine, "after_cursor_execute", after)
    return counts, after


async def test_the_purge_deletes_only_expired_records_in_bounded_batches(engine: AsyncEngine) -> None:
    scope = f"t.{uuid.uuid4().hex}"
    await _seed(engine, scope + ".old", 25, age_hours=30)
    await _seed(engine, scope + ".new", 3, age_hours=1)
    registry = CollectorRegistry()
    purger = IdempotencyPurger(
        engine, IdempotencySettings(ttl_seconds=_TTL, purge_batch_size=10), registry=registry
    )
    counts, listener = _deletes(engine)
    try:
        purged = await purger.purge_once()
    finally:
        event.remove(engine.sync_engine, "after_cursor_execute", listener)
    # Other tests' expired rows may share the table, but never more than this module seeds.
    assert purged is not None and purged >= 25
    assert all(n <= 10 for n in counts) and len(counts) >= 3 and sum(counts) == purged
    assert (await _count(engine, scope + ".old"), await _count(engine, scope + ".new")) == (0, 3)
    assert registry.get_sample_value("gx_idempotency_purged_records_total") == purged


async def test_only_one_process_purges_at_a_time(engine: AsyncEngine) -> None:
    scope = f"t.{uuid.uuid4().hex}"
    await _seed(engine, scope, 5, age_hours=30)
    purger = IdempotencyPurger(engine, IdempotencySettings(), registry=CollectorRegistry())
    async with engine.connect() as other:
        # Another process's purge holds the lock: this one skips its round and deletes nothing.
        assert (await other.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY})).scalar()
        try:
            assert await purger.purge_once() is None
            assert await _count(engine, scope) == 5
        finally:
            await other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            await other.commit()
    assert await purger.purge_once() is not None
    assert await _count(engine, scope) == 0


async def test_the_worker_purges_in_the_background_and_stops_on_shutdown(engine: AsyncEngine) -> None:
    scope = f"t.{uuid.uuid4().hex}"
    await _seed(engine, scope, 7, age_hours=30)
    settings = IdempotencySettings(purge_batch_size=2, purge_interval_seconds=0.05)
    async with IdempotencyPurger(engine, settings, registry=CollectorRegistry()) as purger:
        for _ in range(200):
            if await _count(engine, scope) == 0:
                break
            await asyncio.sleep(0.05)
        assert await _count(engine, scope) == 0
    # Shut down: the task is gone and a second shutdown is a no-op.
    assert purger._task is None
    await purger.shutdown()
