"""StatementBatch over real PostgreSQL: queued reads share a pipeline, each gets its own rows and its own error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

from services.common.db import libpq_dsn
from services.common.statement_batch import StatementBatch

# Each read names its own number and gets it back with its square: a row handed to the wrong
# read, or rows of two reads swapped, shows.
_SQUARE = "SELECT %(n)s::int8 AS n, (%(n)s::int8 * %(n)s::int8) AS square, pg_backend_pid()"
# PostgreSQL itself refuses n = 0, in the middle of a pipeline (the client cannot see it coming).
_INVERSE = "SELECT %(n)s::int8 AS n, 1000 / %(n)s::int8 AS inverse"


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[AsyncConnectionPool]:
    """Autocommit connections, like a service's statement pool."""
    dsn = libpq_dsn(database_url)
    async with AsyncConnectionPool(dsn, min_size=1, max_size=4, kwargs={"autocommit": True}) as opened:
        yield opened


async def test_a_read_alone_goes_at_once_in_a_batch_of_its_own(pool: AsyncConnectionPool) -> None:
    batch = StatementBatch(pool, "test", registry=CollectorRegistry())
    rows = await batch.fetch_all(_SQUARE, {"n": 7})
    assert [row[:2] for row in rows] == [(7, 49)]
    assert (batch.batches, batch.reads) == (1, 1)


async def test_queued_reads_share_pipelines_and_each_gets_its_own_rows(pool: AsyncConnectionPool) -> None:
    registry = CollectorRegistry()
    batch = StatementBatch(pool, "test", slots=1, max_batch=8, registry=registry)
    numbers = list(range(1, 101))
    results = await asyncio.gather(*(batch.fetch_all(_SQUARE, {"n": n}) for n in numbers))
    assert [[row[:2] for row in rows] for rows in results] == [[(n, n * n)] for n in numbers]
    # One slot: the first read went alone, the 99 that queued behind it in far fewer pipelines.
    assert batch.reads == 100
    assert batch.batches <= 1 + -(-99 // 8) + 1
    # A pipeline runs on one connection: reads of one batch saw the same backend.
    assert len({rows[0][2] for rows in results}) < len(numbers)
    # The metrics say the same: round trips (the histogram's count) and the reads in them (its sum).
    labels = {"batch": "test"}
    assert registry.get_sample_value("gx_db_batch_reads_count", labels) == batch.batches
    assert registry.get_sample_value("gx_db_batch_reads_sum", labels) == 100
    # No batch above its bound: every one falls in the histogram's `le=8` bucket.
    assert registry.get_sample_value("gx_db_batch_reads_bucket", {**labels, "le": "8.0"}) == batch.batches


async def test_a_statement_that_fails_in_a_pipeline_fails_only_its_own_read(
    pool: AsyncConnectionPool,
) -> None:
    registry = CollectorRegistry()
    batch = StatementBatch(pool, "test", slots=1, max_batch=8, registry=registry)
    numbers = [5, 4, 0, 2, 1, 0, 8]
    outcomes = await asyncio.gather(
        batch.fetch_all(_SQUARE, {"n": 3}),  # goes alone; the rest queue behind it
        *(batch.fetch_all(_INVERSE, {"n": n}) for n in numbers),
        return_exceptions=True,
    )
    assert outcomes[0] == [(3, 9, outcomes[0][0][2])]
    for n, outcome in zip(numbers, outcomes[1:], strict=True):
        if n == 0:
            assert isinstance(outcome, psycopg.errors.DivisionByZero)
        else:
            assert outcome == [(n, 1000 // n)]
    assert batch.batches < len(outcomes)  # they did share a pipeline before one failed it
    assert registry.get_sample_value("gx_db_batch_failures_total", {"batch": "test"}) == 1
    # The failed pipeline's connection is not left to fail the same statements later.
    again = await asyncio.gather(*(batch.fetch_all(_INVERSE, {"n": n}) for n in range(1, 41)))
    assert again == [[(n, 1000 // n)] for n in range(1, 41)]


async def test_a_parameter_the_driver_refuses_fails_only_its_own_read(pool: AsyncConnectionPool) -> None:
    batch = StatementBatch(pool, "test", slots=1, registry=CollectorRegistry())
    words = ["alpha", "nul\x00byte", "gamma"]
    outcomes = await asyncio.gather(
        batch.fetch_all(_SQUARE, {"n": 1}),
        *(batch.fetch_all("SELECT %(w)s::text", {"w": w}) for w in words),
        return_exceptions=True,
    )
    assert outcomes[1] == [("alpha",)]
    assert isinstance(outcomes[2], psycopg.DataError)  # text may not hold NUL
    assert outcomes[3] == [("gamma",)]


async def test_a_cancelled_read_leaves_the_others_their_rows_and_the_slot_free(
    pool: AsyncConnectionPool,
) -> None:
    batch = StatementBatch(pool, "test", slots=1, registry=CollectorRegistry())
    slow = asyncio.ensure_future(batch.fetch_all("SELECT pg_sleep(0.2), 1", {}))
    await asyncio.sleep(0.05)  # the slow read holds the only slot; these queue behind it
    waiting = [asyncio.ensure_future(batch.fetch_all(_SQUARE, {"n": n})) for n in range(1, 6)]
    await asyncio.sleep(0)
    waiting[2].cancel()
    slow.cancel()
    done = await asyncio.gather(*waiting, return_exceptions=True)
    assert isinstance(done[2], asyncio.CancelledError)
    assert [rows[0][:2] for i, rows in enumerate(done) if i != 2] == [(1, 1), (2, 4), (4, 16), (5, 25)]
    # Nothing is stuck: the slot came back and a new read goes at once.
    assert [row[:2] for row in await asyncio.wait_for(batch.fetch_all(_SQUARE, {"n": 9}), 5)] == [(9, 81)]


def test_a_batch_needs_a_slot_and_room(pool: AsyncConnectionPool) -> None:
    with pytest.raises(ValueError):
        StatementBatch(pool, "test", slots=0)
    with pytest.raises(ValueError):
        StatementBatch(pool, "test", max_batch=0)


async def test_a_queued_read_sees_every_commit_made_before_it_was_asked(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    # Reads that wait for a slot travel later, in a pipeline whose statements share one implicit
    # transaction: each must still see what was committed before it was asked, never an older state.
    dsn = libpq_dsn(database_url)
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as writer:
        await writer.execute("DROP TABLE IF EXISTS batch_balance")
        await writer.execute("CREATE TABLE batch_balance (id int PRIMARY KEY, qirat int8 NOT NULL)")
        await writer.execute("INSERT INTO batch_balance VALUES (1, 100)")
        batch = StatementBatch(pool, "test", slots=1, max_batch=8, registry=CollectorRegistry())
        read = "SELECT qirat FROM batch_balance WHERE id = %(id)s"
        busy = asyncio.ensure_future(batch.fetch_all("SELECT pg_sleep(0.2)", {}))
        await asyncio.sleep(0.05)  # the slot is taken; what follows queues
        seen = []
        for qirat in (200, 300, 400):
            await writer.execute("UPDATE batch_balance SET qirat = %s WHERE id = 1", (qirat,))
            seen.append(asyncio.ensure_future(batch.fetch_all(read, {"id": 1})))
        await busy
        values = [(await s)[0][0] for s in seen]
        assert all(value >= committed for value, committed in zip(values, (200, 300, 400), strict=True)), (
            values
        )
        # And each read at least as new as the commit before it, asked one after another:
        for qirat in (500, 600):
            await writer.execute("UPDATE batch_balance SET qirat = %s WHERE id = 1", (qirat,))
            assert await batch.fetch_all(read, {"id": 1}) == [(qirat,)]
