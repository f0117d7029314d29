"""Integration tests of AIP-155 request-id semantics on real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis
from gx.type.v1 import operation_pb2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.errors import Aborted, InvalidArgument
from services.common.idempotency import Idempotency
from tests.grpc.common.runtime_test_proto import EchoRequest


async def _count(sessions: async_sessionmaker[AsyncSession], name: str) -> int:
    async with sessions() as s:
        return (
            await s.execute(text("SELECT count(*) FROM scratch.items WHERE name = :n"), {"n": name})
        ).scalar_one()


def _writer(name: str, calls: list[str]):
    async def handler(session: AsyncSession) -> operation_pb2.Operation:
        calls.append(name)
        await session.execute(text("INSERT INTO scratch.items (name) VALUES (:n)"), {"n": name})
        return operation_pb2.Operation(name=f"operations/{name}", result_json='{"n": 1}')

    return handler


@pytest.fixture
def idem(sessions: async_sessionmaker[AsyncSession], redis_client: aioredis.Redis) -> Idempotency:
    return Idempotency(sessions, redis_client, lock_ttl_seconds=30)


async def test_identical_replay_returns_the_stored_response_without_running_again(
    idem: Idempotency, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rid, name, calls = str(uuid.uuid4()), f"item-{uuid.uuid4()}", []
    request = EchoRequest(request_id=rid, email="a@example.com")
    first = await idem.run(
        scope="t.Create", principal="u1", request_id=rid, request=request, handler=_writer(name, calls)
    )
    second = await idem.run(
        scope="t.Create", principal="u1", request_id=rid, request=request, handler=_writer(name, calls)
    )
    assert (first.replayed, second.replayed) == (False, True)
    assert second.response == first.response
    assert isinstance(second.response, operation_pb2.Operation)
    assert calls == [name]
    assert await _count(sessions, name) == 1


async def test_same_id_with_a_different_request_is_refused(idem: Idempotency) -> None:
    rid, calls = str(uuid.uuid4()), []
    await idem.run(
        scope="t.Create",
        principal="u1",
        request_id=rid,
        request=EchoRequest(request_id=rid, email="a@example.com"),
        handler=_writer(f"i-{rid}", calls),
    )
    with pytest.raises(InvalidArgument) as err:
        await idem.run(
            scope="t.Create",
            principal="u1",
            request_id=rid,
            request=EchoRequest(request_id=rid, email="b@example.com"),
            handler=_writer(f"j-{rid}", calls),
        )
    assert err.value.reason == "REQUEST_ID_REUSED"
    assert len(calls) == 1


async def test_concurrent_duplicate_in_flight_is_aborted(
    idem: Idempotency, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rid = str(uuid.uuid4())
    request = EchoRequest(request_id=rid, email="a@example.com")
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(session: AsyncSession) -> operation_pb2.Operation:
        entered.set()
        await release.wait()
        await session.execute(text("INSERT INTO scratch.items (name) VALUES (:n)"), {"n": rid})
        return operation_pb2.Operation(name="operations/slow")

    first = asyncio.ensure_future(
        idem.run(scope="t.Slow", principal="u1", request_id=rid, request=request, handler=slow)
    )
    await asyncio.wait_for(entered.wait(), 10)
    with pytest.raises(Aborted) as err:
        await idem.run(scope="t.Slow", principal="u1", request_id=rid, request=request, handler=slow)
    assert err.value.reason == "REQUEST_IN_FLIGHT"
    release.set()
    assert (await first).replayed is False
    # Once the first finished, the duplicate replays its answer.
    again = await idem.run(scope="t.Slow", principal="u1", request_id=rid, request=request, handler=slow)
    assert again.replayed and again.response.name == "operations/slow"
    assert await _count(sessions, rid) == 1


async def test_failed_handler_stores_nothing_and_releases_the_lock(
    idem: Idempotency, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rid, name, calls = str(uuid.uuid4()), f"item-{uuid.uuid4()}", []
    request = EchoRequest(request_id=rid, email="a@example.com")

    async def failing(session: AsyncSession) -> operation_pb2.Operation:
        await session.execute(text("INSERT INTO scratch.items (name) VALUES (:n)"), {"n": name})
        raise RuntimeError("ledger rules say no")

    with pytest.raises(RuntimeError):
        await idem.run(scope="t.Create", principal="u1", request_id=rid, request=request, handler=failing)
    assert await _count(sessions, name) == 0  # the domain write rolled back with it
    result = await idem.run(
        scope="t.Create", principal="u1", request_id=rid, request=request, handler=_writer(name, calls)
    )
    assert result.replayed is False and calls == [name]


async def test_scope_and_principal_separate_request_ids(idem: Idempotency) -> None:
    rid, calls = str(uuid.uuid4()), []
    request = EchoRequest(request_id=rid, email="a@example.com")
    for scope, principal in (("t.A", "u1"), ("t.A", "u2"), ("t.B", "u1"), ("t.B", None)):
        result = await idem.run(
            scope=scope,
            principal=principal,
            request_id=rid,
            request=request,
            handler=_writer(f"{scope}-{principal}-{rid}", calls),
        )
        assert result.replayed is False
    assert len(calls) == 4


async def test_empty_request_id_runs_every_time(idem: Idempotency) -> None:
    calls: list[str] = []
    request = EchoRequest(email="a@example.com")
    for i in range(2):
        result = await idem.run(
            scope="t.A",
            principal="u1",
            request_id="",
            request=request,
            handler=_writer(f"n{i}-{uuid.uuid4()}", calls),
        )
        assert result.replayed is False
    assert len(calls) == 2
