"""Block cutting by size and by timeout."""

from __future__ import annotations

import asyncio

import pytest

from devnet.orderer import Orderer


async def test_blocks_are_cut_at_batch_size_then_by_timeout() -> None:
    blocks: list[list[bytes]] = []

    async def deliver(batch: list[bytes]) -> None:
        blocks.append(batch)

    orderer = Orderer(batch_size=3, batch_timeout=0.2, deliver=deliver)
    task = asyncio.create_task(orderer.run())
    try:
        for i in range(7):
            orderer.enqueue(b"%d" % i)
        for _ in range(100):
            if sum(map(len, blocks)) == 7:
                break
            await asyncio.sleep(0.02)
        assert [len(b) for b in blocks] == [3, 3, 1]
        assert [x for b in blocks for x in b] == [b"%d" % i for i in range(7)]
    finally:
        task.cancel()


async def test_partial_block_waits_for_timeout_not_forever() -> None:
    got = asyncio.Event()

    async def deliver(batch: list[bytes]) -> None:
        assert batch == [b"only"]
        got.set()

    orderer = Orderer(batch_size=10, batch_timeout=0.05, deliver=deliver)
    task = asyncio.create_task(orderer.run())
    try:
        orderer.enqueue(b"only")
        await asyncio.wait_for(got.wait(), 5)
        assert orderer.pending == 0
    finally:
        task.cancel()


async def test_drain_delivers_pending_on_shutdown() -> None:
    delivered: list[bytes] = []

    async def deliver(batch: list[bytes]) -> None:
        delivered.extend(batch)

    orderer = Orderer(batch_size=2, batch_timeout=60, deliver=deliver)
    for i in range(5):
        orderer.enqueue(b"%d" % i)
    await orderer.drain()
    assert len(delivered) == 5


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        Orderer(batch_size=0, batch_timeout=1, deliver=None)  # type: ignore[arg-type]


async def test_failed_commit_stops_ordering_loudly() -> None:
    async def deliver(batch: list[bytes]) -> None:
        raise OSError("disk full")

    orderer = Orderer(batch_size=1, batch_timeout=0.01, deliver=deliver)
    task = asyncio.create_task(orderer.run())
    orderer.enqueue(b"x")
    with pytest.raises(OSError):
        await asyncio.wait_for(task, 5)
    with pytest.raises(RuntimeError, match="ordering stopped: disk full"):
        orderer.enqueue(b"y")
