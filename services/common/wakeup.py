"""The wake-up of a claim loop: a NOTIFY on its channel, a poll interval, or a stop, whichever comes first."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg

_LOG = logging.getLogger(__name__)

# The first pause after a lost LISTEN connection, doubled up to the most; polling covers the gap.
_BACKOFF_INITIAL = 0.2
_BACKOFF_MAX = 5.0


class WakeUp:
    """Wakes a worker's claim loop when a row it may claim is committed, or at the poll interval.

    NOTIFY is the fast path; polling stays the fallback for what NOTIFY cannot say (retries and
    leases coming due, notifications sent while the LISTEN connection was down). The worker runs
    `listen()` as a helper task, calls `clear()` BEFORE each claim (a NOTIFY landing while the
    claim query runs must still wake the next `wait()`) and `set()` when a slot frees up.
    """

    def __init__(self, dsn: str | None, channel: str, stopping: asyncio.Event) -> None:
        """Wake-up on `channel`.

        Args:
            dsn: a libpq DSN for the LISTEN connection (`db.libpq_dsn`): a connection of its own
                that never returns to a pool. None or empty: polling only.
            channel: the NOTIFY channel (from services.common.names).
            stopping: the worker's stop event; `listen()` ends and `wait()` returns once it is set.
        """
        self._dsn = dsn
        self._channel = channel
        self._stopping = stopping
        self._event = asyncio.Event()
        self.listening = False

    def set(self) -> None:
        """Wake the loop now (a slot is free, or the worker is stopping)."""
        self._event.set()

    def clear(self) -> None:
        """Forget earlier wake-ups; call before claiming."""
        self._event.clear()

    async def wait(self, poll_interval: float) -> None:
        """Return when woken, when stopping, or after `poll_interval` seconds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(poll_interval):
                waiter = asyncio.create_task(self._event.wait())
                stopper = asyncio.create_task(self._stopping.wait())
                try:
                    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiter.cancel()
                    stopper.cancel()

    async def listen(self) -> None:
        """LISTEN until stopping (or cancelled), reconnecting with backoff; each NOTIFY wakes the loop."""
        if not self._dsn:
            return
        backoff = _BACKOFF_INITIAL
        while not self._stopping.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(self._dsn, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {self._channel}")
                    self.listening = True
                    backoff = _BACKOFF_INITIAL
                    self._event.set()  # anything recorded while we were not listening
                    async for _ in conn.notifies():
                        self._event.set()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.listening = False
                _LOG.warning("LISTEN %s connection lost (%s); polling until it is back", self._channel, error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX)
