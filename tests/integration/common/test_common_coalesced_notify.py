"""CoalescedNotify over real PostgreSQL: every poked commit is followed by a NOTIFY that sees it, in fewer NOTIFYs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from services.common.coalesced_notify import CoalescedNotify
from services.common.db import libpq_dsn

_CHANNEL = "coalesced_test"


@pytest.fixture
async def dsn(database_url: str) -> AsyncIterator[str]:
    """The module's database with an empty table of committed items."""
    url = libpq_dsn(database_url)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("DROP TABLE IF EXISTS coalesced_items")
        await conn.execute("CREATE TABLE coalesced_items (n int PRIMARY KEY)")
    yield url


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[AsyncConnectionPool]:
    """Autocommit connections, like the wallet's read pool."""
    async with AsyncConnectionPool(dsn, min_size=1, max_size=4, kwargs={"autocommit": True}) as opened:
        yield opened


async def _listen(dsn: str) -> psycopg.AsyncConnection[Any]:
    listener = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    await listener.execute(f"LISTEN {_CHANNEL}")
    return listener


async def test_every_commit_is_followed_by_a_notify_that_sees_it_and_bursts_share_one(
    dsn: str, pool: AsyncConnectionPool
) -> None:
    notify = CoalescedNotify(pool, _CHANNEL)
    total = 120
    listener = await _listen(dsn)
    seen_at_notify: list[int] = []
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as counter:

        async def watch() -> None:
            # What a woken worker's claim would see: every row committed before the NOTIFY.
            async for _ in listener.notifies():
                cursor = await counter.execute("SELECT count(*) FROM coalesced_items")
                row = await cursor.fetchone()
                assert row is not None
                seen_at_notify.append(int(row[0]))

        watcher = asyncio.create_task(watch())

        async def commit_and_poke(n: int) -> None:
            async with pool.connection() as conn:
                await conn.execute("INSERT INTO coalesced_items VALUES (%s)", (n,))
            notify.poke()

        # Concurrent commits, as concurrent accepts make them, in waves so that NOTIFYs go out
        # while later commits are still coming.
        waves = 6
        for wave in range(waves):
            await asyncio.gather(*(commit_and_poke(wave * total // waves + n) for n in range(total // waves)))
            await asyncio.sleep(0.005)
        await notify.flush()
        async with asyncio.timeout(10):
            while len(seen_at_notify) < notify.sent:  # noqa: ASYNC110 (the watcher appends)
                await asyncio.sleep(0.01)
        watcher.cancel()
        await listener.close()
    assert seen_at_notify[-1] == total
    assert notify.pokes == total
    # Coalesced: fewer NOTIFYs than commits, and every one sent was delivered.
    assert 1 <= notify.sent < total
    assert len(seen_at_notify) == notify.sent


async def test_a_poke_after_a_quiet_spell_sends_its_own_notify(dsn: str, pool: AsyncConnectionPool) -> None:
    notify = CoalescedNotify(pool, _CHANNEL)
    listener = await _listen(dsn)
    try:
        for expected in (1, 2, 3):
            notify.poke()
            await notify.flush()
            assert notify.sent == expected
            async for note in listener.notifies(timeout=5, stop_after=1):
                assert (note.channel, note.payload) == (_CHANNEL, "")
    finally:
        await listener.close()


async def test_a_failed_notify_is_logged_not_raised_and_the_next_poke_sends_again(
    dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    broken = AsyncConnectionPool(dsn, min_size=0, max_size=1, timeout=0.5, open=False)
    await broken.open()
    await broken.close()  # a closed pool refuses every checkout
    notify = CoalescedNotify(broken, _CHANNEL)
    with caplog.at_level(logging.WARNING, logger="services.common.coalesced_notify"):
        notify.poke()
        await notify.flush()
    assert notify.sent == 0 and "polling" in caplog.text
    async with AsyncConnectionPool(dsn, min_size=1, max_size=1, kwargs={"autocommit": True}) as working:
        notify._pool = working
        notify.poke()
        await notify.flush()
    assert notify.sent == 1
