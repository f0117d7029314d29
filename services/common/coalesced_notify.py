"""One NOTIFY after any number of commits: the hot accept's wake-up of the outbox workers.

A NOTIFY inside a transaction makes PostgreSQL take a database-wide lock at commit and hold it
until the commit is done (`PreCommit_Notify`: queue entries must appear in commit order), so
every notifying accept commits one after another, WAL flush included when commits are durable.
The accept statement therefore leaves its NOTIFY out and calls `CoalescedNotify.poke()` once it
has committed; the poked process sends one `pg_notify` on a connection of its own for every poke
that came before it was sent. While one is on its way, new pokes wait for the next: at most one
NOTIFY in flight per process, as many as the load needs and never more than one per round trip.

What the workers are promised is unchanged: every recorded command is followed by a
notification sent AFTER its commit (so the woken claim sees the row). The payload is empty: the
workers' `WakeUp` only needs to be woken. A notification lost to a crash between the commit and
the NOTIFY, or to a failed connection, is covered the way a lost LISTEN connection is: the
workers poll (`GX_OUTBOX__POLL_INTERVAL`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from psycopg_pool import AsyncConnectionPool

_LOG = logging.getLogger(__name__)
# A notification's payload: the workers' WakeUp reads none.
_NOTIFY: Final = "SELECT pg_notify(%s, '')"


class CoalescedNotify:
    """Sends NOTIFY on `channel` after commits that poke it, one for each batch of pokes."""

    def __init__(self, pool: AsyncConnectionPool, channel: str, *, gather_seconds: float = 0.0) -> None:
        """Wake-ups on `channel` through connections of `pool`.

        Args:
            pool: Autocommit connections (`db.open_autocommit_pool`); one is borrowed per NOTIFY.
            channel: The channel (from services.common.names).
            gather_seconds: How long the first poke of a batch waits for others before its
                NOTIFY goes (0: only the pokes that come while the previous one is on its way).
        """
        self._pool = pool
        self._channel = channel
        self._gather = gather_seconds
        self._pending = False
        self._task: asyncio.Task[None] | None = None
        self.pokes = 0
        self.sent = 0

    def poke(self) -> None:
        """A commit that needs the workers to wake has happened: a NOTIFY follows it."""
        self.pokes += 1
        self._pending = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._send(), name="coalesced-notify")

    async def _send(self) -> None:
        if self._gather > 0:
            await asyncio.sleep(self._gather)
        # A poke that lands while a NOTIFY is on its way sets `_pending` again: one more follows,
        # sent after that poke's commit.
        while self._pending:
            self._pending = False
            try:
                async with self._pool.connection() as conn:
                    await conn.execute(_NOTIFY, (self._channel,))
            except Exception as error:
                # The workers poll: a lost wake-up delays a command by one poll interval at most.
                _LOG.warning(
                    "NOTIFY %s failed (%s); the workers' polling picks the commands up", self._channel, error
                )
                return
            self.sent += 1

    async def flush(self) -> None:
        """Wait until every poke so far has had its NOTIFY sent (or given up)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
