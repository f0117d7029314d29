"""The claim loops' wake-up (services/common/wakeup.py) over a real PostgreSQL LISTEN connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import psycopg

from services.common import db
from services.common.wakeup import WakeUp

# Long enough that a `wait` returning means something woke it, not the poll.
_NEVER = 3600.0
# A guard against a hang, not a measurement.
_GUARD = 30.0


async def _until_listening(wake: WakeUp) -> None:
    # `listening` is a flag the workers expose for probes, not an event to await.
    while not wake.listening:  # noqa: ASYNC110
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def _listening(database_url: str, channel: str) -> AsyncIterator[WakeUp]:
    """A wake-up whose LISTEN connection is up, its listen loop cancelled at the end."""
    wake = WakeUp(db.libpq_dsn(database_url), channel, asyncio.Event())
    listener = asyncio.create_task(wake.listen())
    try:
        await asyncio.wait_for(_until_listening(wake), _GUARD)
        yield wake
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)


async def test_a_notify_on_its_channel_wakes_a_cleared_wait(database_url: str) -> None:
    async with _listening(database_url, "gx_test_wakeup") as wake:
        wake.clear()
        waiting = asyncio.create_task(wake.wait(_NEVER))
        await asyncio.sleep(0)
        assert not waiting.done()
        async with await psycopg.AsyncConnection.connect(db.libpq_dsn(database_url), autocommit=True) as conn:
            await conn.execute("NOTIFY gx_test_wakeup")
        await asyncio.wait_for(waiting, _GUARD)


async def test_stopping_ends_a_wait_and_the_listen_loop_never_starts_without_a_dsn() -> None:
    stopping = asyncio.Event()
    wake = WakeUp(None, "gx_test_wakeup", stopping)
    await asyncio.wait_for(wake.listen(), _GUARD)
    assert wake.listening is False
    waiting = asyncio.create_task(wake.wait(_NEVER))
    await asyncio.sleep(0)
    assert not waiting.done()
    stopping.set()
    await asyncio.wait_for(waiting, _GUARD)


async def test_a_lost_listen_connection_reconnects_and_wakes_for_what_it_missed(database_url: str) -> None:
    async with _listening(database_url, "gx_test_wakeup_lost") as wake:
        # Cleared first: nothing else notifies this channel, so only the reconnect can set it.
        wake.clear()
        async with await psycopg.AsyncConnection.connect(
            db.libpq_dsn(database_url), autocommit=True
        ) as admin:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN gx_test_wakeup_lost'"
            )
        # Reconnected: the first thing after a (re)connect is a wake-up for what was missed.
        await asyncio.wait_for(wake.wait(_NEVER), _GUARD)
        await asyncio.wait_for(_until_listening(wake), _GUARD)
