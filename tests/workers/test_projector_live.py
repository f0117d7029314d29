"""Live projection batches too: what arrives while a batch is written goes in the next one, as one batch.

The projector runs in process on a real PostgreSQL, fed by a stream the test controls (events
arrive when the test delivers them, as a peer delivers blocks). The batch sizes are read from
`gx_projector_batch_transactions`; the read models must end equal to one-by-one projection.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools

from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from projector import rebuild, store
from projector.metrics import ProjectorMetrics
from projector.runner import Projector
from tests.workers.conftest import wait_until
from tests.workers.test_projector_batch import NAME, Event, _events, _one_by_one, _snapshot, _young_chain


class LiveStream:
    """Yields what the test delivers, when it delivers it; waits like a quiet chain otherwise."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()

    def deliver(self, events: list[Event]) -> None:
        for event in events:
            self._queue.put_nowait(event)

    def __aiter__(self) -> LiveStream:
        return self

    async def __anext__(self) -> Event:
        # Each message costs a turn of the event loop, as reading one from the network does.
        await asyncio.sleep(0)
        event = await self._queue.get()
        if event is None:
            raise StopAsyncIteration
        return event

    async def close(self) -> None:
        self._queue.put_nowait(None)


class Batches:
    """The projector's batch-size histogram: how many batches, how many transactions in all."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def __call__(self) -> tuple[int, int]:
        count = self._registry.get_sample_value("gx_projector_batch_transactions_count") or 0.0
        total = self._registry.get_sample_value("gx_projector_batch_transactions_sum") or 0.0
        return int(count), int(total)


async def _projected(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM ledger.projected_txs"))).scalar_one())


async def _waiting_on_the_checkpoint(engine: AsyncEngine) -> bool:
    """Whether some session waits for a row lock (the projector's batch, on the checkpoint row)."""
    async with engine.connect() as conn:
        waiting = await conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND state = 'active'")
        )
        return int(waiting.scalar_one()) > 0


async def test_live_blocks_go_as_batches_and_what_arrives_during_a_batch_goes_in_the_next(
    engine: AsyncEngine,
) -> None:
    events = _events(await _young_chain())
    await _one_by_one(engine, events)
    expected = await _snapshot(engine)
    async with engine.begin() as conn:
        await rebuild.reset(conn, NAME)
    stream = LiveStream()
    registry = CollectorRegistry()
    batches = Batches(registry)
    projector = Projector(
        engine, NAME, 4343, lambda _: stream, ProjectorMetrics(registry), control_interval=0.05
    )
    task = asyncio.create_task(projector.run())
    try:
        # 1. A block's transactions arrive together: one batch, applied without waiting for more.
        stream.deliver(events[:5])
        await wait_until(lambda: _count_is(engine, 5))
        assert batches() == (1, 5)

        # 2. One transaction arrives and its batch starts, but waits: another session holds the
        # checkpoint row. Seven more arrive meanwhile.
        async with engine.connect() as holder:
            await holder.execute(
                text("SELECT 1 FROM ledger.checkpoints WHERE name = :name FOR UPDATE"), {"name": NAME}
            )
            stream.deliver(events[5:6])
            await wait_until(lambda: _waiting_on_the_checkpoint(engine))
            stream.deliver(events[6:13])
            await asyncio.sleep(0.1)  # the reader moves them while the batch waits
            assert await _projected(engine) == 5
            await holder.rollback()
        # The waiting batch had only its one transaction; the seven went in the next batch, together.
        await wait_until(lambda: _count_is(engine, 13))
        assert batches() == (3, 13)

        # 3. The rest, block by block as a peer would deliver them, each applied as it comes.
        for start in range(13, len(events), 4):
            block = events[start : start + 4]
            stream.deliver(block)
            await wait_until(functools.partial(_count_is, engine, start + len(block)))
        count, total = batches()
        assert total == len(events) and count <= 3 + (len(events) - 13 + 3) // 4
        checkpoint = await _checkpoint(engine)
        assert checkpoint.tx_id == events[-1].tx_id
    finally:
        await projector.shutdown()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert await _snapshot(engine) == expected


async def _count_is(engine: AsyncEngine, n: int) -> bool:
    return await _projected(engine) == n


async def _checkpoint(engine: AsyncEngine) -> store.Checkpoint:
    async with engine.begin() as conn:
        return await store.load_checkpoint(conn, NAME)
