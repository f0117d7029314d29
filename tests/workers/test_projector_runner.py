"""The projector loop in-process on a real PostgreSQL: poison stops it loudly, standby takes over, rebuild restarts.

The event source is a scripted stream (a list of events, then a quiet chain); the real
devnet stream is exercised by the end-to-end and fault tests.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from projector import rebuild, store
from projector.metrics import ProjectorMetrics
from projector.runner import ProjectionHalted, Projector
from tests.workers.conftest import wait_until
from tests.workers.test_projector_apply import NAME, _chain


@dataclass(frozen=True)
class Event:
    block_number: int
    tx_id: str
    event_name: str
    payload: bytes


class ScriptedStream:
    """Yields events after the checkpoint, then waits like a quiet chain until closed."""

    def __init__(self, events: list[Event], checkpoint: store.Checkpoint) -> None:
        start = 0
        if checkpoint.tx_id is not None:
            start = next(i for i, e in enumerate(events) if e.tx_id == checkpoint.tx_id) + 1
        self._events = events[start:]
        self._closed = asyncio.Event()

    def __aiter__(self) -> ScriptedStream:
        return self

    async def __anext__(self) -> Event:
        if self._events:
            return self._events.pop(0)
        await self._closed.wait()
        raise StopAsyncIteration

    async def close(self) -> None:
        self._closed.set()


def _events() -> list[Event]:
    return [Event(b, tx, "LedgerEvents", p) for b, tx, p in _chain()]


def _projector(engine: AsyncEngine, events: list[Event], key: int = 4242) -> Projector:
    return Projector(
        engine,
        NAME,
        key,
        lambda cp: ScriptedStream(list(events), cp),
        ProjectorMetrics(CollectorRegistry()),
        standby_retry=0.05,
        control_interval=0.05,
    )


async def _checkpoint(engine: AsyncEngine) -> store.Checkpoint:
    async with engine.begin() as conn:
        return await store.load_checkpoint(conn, NAME)


async def _reset(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await rebuild.reset(conn, NAME)
        await conn.execute(text("DELETE FROM ledger.poison_events"))


async def test_poison_event_stops_the_projection_and_is_recorded_with_its_position(
    engine: AsyncEngine,
) -> None:
    await _reset(engine)
    events = _events()
    events.insert(3, Event(3, "tx-poison", "LedgerEvents", b'{"events": [{"somethingNew": {}}]}'))
    projector = _projector(engine, events)
    with pytest.raises(ProjectionHalted):
        await asyncio.wait_for(projector.run(), 30)
    assert projector.halted
    checkpoint = await _checkpoint(engine)
    assert checkpoint.tx_id == events[2].tx_id  # everything before the poison, nothing after
    async with engine.connect() as conn:
        poison = (
            await conn.execute(text("SELECT block_number, tx_id, error FROM ledger.poison_events"))
        ).one()
        after = (
            await conn.execute(text("SELECT count(*) FROM ledger.projected_txs WHERE tx_id = 'tx-transfer'"))
        ).scalar_one()
    assert (poison.block_number, poison.tx_id) == (3, "tx-poison")
    assert "somethingNew" in poison.error or "no handler" in poison.error
    assert after == 0


async def test_standby_takes_over_when_the_active_projector_stops(engine: AsyncEngine) -> None:
    await _reset(engine)
    events = _events()
    first, second = _projector(engine, events[:3]), _projector(engine, events)
    first_task = asyncio.create_task(first.run())
    await wait_until(lambda: asyncio.sleep(0, first.active), 10)
    second_task = asyncio.create_task(second.run())
    await asyncio.sleep(0.3)
    assert first.active and not second.active  # one active per channel
    await first.shutdown()
    await asyncio.wait_for(first_task, 10)
    await wait_until(lambda: asyncio.sleep(0, second.active), 10)

    async def caught_up() -> bool:
        return (await _checkpoint(engine)).tx_id == events[-1].tx_id

    await wait_until(caught_up, 10)
    await second.shutdown()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(second_task, 10)
    assert (await _checkpoint(engine)).events_applied == len(events)


async def test_rebuild_while_running_replays_from_block_zero_to_equal_read_models(
    engine: AsyncEngine,
) -> None:
    await _reset(engine)
    events = _events()
    projector = _projector(engine, events)
    task = asyncio.create_task(projector.run())

    async def caught_up() -> bool:
        cp = await _checkpoint(engine)
        return cp.tx_id == events[-1].tx_id

    await wait_until(caught_up, 10)
    async with engine.connect() as conn:
        before = [
            tuple(r)
            for r in (await conn.execute(text("SELECT * FROM ledger.wallets ORDER BY wallet_id"))).all()
        ]
    async with engine.begin() as conn:
        generation = await rebuild.reset(conn, NAME)
    # The projector is idle on a quiet chain; it must notice the reset by itself and replay.
    await wait_until(caught_up, 10)
    checkpoint = await _checkpoint(engine)
    assert checkpoint.generation == generation and checkpoint.events_applied == len(events)
    async with engine.connect() as conn:
        after = [
            tuple(r)
            for r in (await conn.execute(text("SELECT * FROM ledger.wallets ORDER BY wallet_id"))).all()
        ]
    assert after == before
    await projector.shutdown()
    await asyncio.wait_for(task, 10)
