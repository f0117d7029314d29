"""Hot single-statement reads that queue up go to PostgreSQL together, in one pipeline.

Under load a service's hottest reads (a wallet's balance, its history page) arrive faster than
one round trip each can serve them. Each round trip costs PostgreSQL a wake-up, a read and a
flush, and the service a wait on its socket, whatever the statement. Measured on the dev machine:
a 20-row history page alone costs the backend about 75 us and the client about 65 us; eight of
them in one pipeline about 47 and 37 us each.

`StatementBatch` sends a read at once when a slot is free, so an idle service adds no latency.
While every slot is busy, reads wait, and the next free slot sends all those waiting (up to
`max_batch`) in one pipeline with one sync. Each read is still its own statement, with its own
parameters, plan and snapshot: the statements up to a sync share one implicit transaction, but
READ COMMITTED takes a snapshot per statement, so each read sees everything committed before it
ran, never less than it would alone. Batching changes how the statements travel, not what any
of them reads. Only reads belong here: a write would commit or roll back with its batch.

A read's error is its own. If anything fails in a pipeline, which aborts the statements after it
(they share the transaction), each statement of that batch runs again alone, so one read's failure never fails another.

Metrics, by batch name: `gx_db_batch_reads` (a histogram of reads per batch: its count is the
round trips, its sum the reads) and `gx_db_batch_failures_total` (pipelines that failed and whose
reads ran again alone).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool

from services.common.db import fetch_tuples
from services.common.metrics import PerRegistry

# Slots, by default: reads in flight to PostgreSQL at once. Two keeps both cores of the dev
# machine's PostgreSQL busy; more slots mean smaller batches and more round trips.
DEFAULT_SLOTS = 2
# At most this many reads per pipeline. Larger batches cost less CPU per read but move the calls
# through the service, the edge and the client in groups, which leaves cores idle between them
# (a convoy): history reads at 16 in flight, machine idle per read 0.22 ms at 32, 0.15 at 4, and
# about 4% more reads/s at 4 (back to back, `bench/read_machine.py`).
DEFAULT_MAX_BATCH = 4


class BatchMetrics(PerRegistry):
    """The batch families of one registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.reads = Histogram(
            "gx_db_batch_reads",
            "Reads sent to PostgreSQL together in one round trip (a pipeline), per batch.",
            ["batch"],
            buckets=(1, 2, 4, 8, 16, 32),
            registry=registry,
        )
        self.failures = Counter(
            "gx_db_batch_failures",
            "Pipelines that failed, whose reads then ran again one by one.",
            ["batch"],
            registry=registry,
        )


@dataclasses.dataclass(slots=True)
class _Read:
    sql: str
    params: Mapping[str, Any]
    done: asyncio.Future[list[tuple[Any, ...]]]


class StatementBatch:
    """Reads on `pool`, sent together when they queue up (see the module docstring)."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        name: str,
        *,
        slots: int = DEFAULT_SLOTS,
        max_batch: int = DEFAULT_MAX_BATCH,
        registry: CollectorRegistry | None = None,
    ) -> None:
        """Reads through connections of `pool` (autocommit: `db.open_autocommit_pool`).

        Args:
            pool: Where each batch borrows its connection.
            name: The batch's label in the metrics (`wallet-own-reads`).
            slots: Batches in flight at once.
            max_batch: Reads per batch at most.
            registry: Where the metrics go (the process's default registry when None).
        """
        if slots < 1 or max_batch < 1:
            raise ValueError("slots and max_batch must be at least 1")
        self._pool = pool
        self._slots = slots
        self._max_batch = max_batch
        self._waiting: collections.deque[_Read] = collections.deque()
        self._busy = 0
        self._tasks: set[asyncio.Task[None]] = set()
        metrics = BatchMetrics.for_registry(registry)
        self._sizes = metrics.reads.labels(name)
        self._failures = metrics.failures.labels(name)
        # What this batch has sent: round trips and the reads in them.
        self.batches = 0
        self.reads = 0

    async def fetch_all(self, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of one statement (psycopg syntax, binary results, plain tuples).

        Raises what the statement raised when run alone. A caller cancelled while its read
        waits or runs leaves the batch alone: the others still get their rows.
        """
        read = _Read(sql, params, asyncio.get_running_loop().create_future())
        self._waiting.append(read)
        if self._busy < self._slots:
            self._busy += 1
            task = asyncio.get_running_loop().create_task(self._drain(), name="statement-batch")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await read.done

    async def _drain(self) -> None:
        """One slot: send what is waiting, batch after batch, until nothing is."""
        try:
            while self._waiting:
                batch = [self._waiting.popleft() for _ in range(min(len(self._waiting), self._max_batch))]
                batch = [read for read in batch if not read.done.done()]  # cancelled while waiting
                if batch:
                    await self._send(batch)
        finally:
            self._busy -= 1

    async def _send(self, batch: list[_Read]) -> None:
        self.batches += 1
        self.reads += len(batch)
        self._sizes.observe(len(batch))
        try:
            if len(batch) == 1:
                await self._alone(batch[0])
                return
            async with self._pool.connection() as conn:
                try:
                    cursors = []
                    async with conn.pipeline():
                        for read in batch:
                            cursor = conn.cursor(row_factory=tuple_row)
                            await cursor.execute(read.sql, read.params, binary=True)
                            cursors.append(cursor)
                    for read, cursor in zip(batch, cursors, strict=True):
                        _settle(read, await cursor.fetchall())
                except Exception:
                    # psycopg counts a statement it prepared in an aborted pipeline as prepared,
                    # though the server never ran the PREPARE: the connection's next use of that
                    # statement would fail. Closed, it leaves the pool and a fresh one replaces it.
                    await conn.close()
                    raise
        except Exception:  # each read learns its own outcome, alone
            self._failures.inc()
            for read in batch:
                if not read.done.done():
                    await self._alone(read)

    async def _alone(self, read: _Read) -> None:
        """Run one read on its own connection and settle it with its rows or its error."""
        try:
            async with self._pool.connection() as conn:
                rows = await fetch_tuples(conn, read.sql, read.params)
        except Exception as exc:  # handed to the caller, who raises it
            if not read.done.done():
                read.done.set_exception(exc)
            return
        _settle(read, rows)


def _settle(read: _Read, rows: list[tuple[Any, ...]]) -> None:
    if not read.done.done():
        read.done.set_result(rows)
