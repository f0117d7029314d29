"""A periodic background job that runs one statement in short batches, one process at a time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, Self

from sqlalchemy import Executable, text
from sqlalchemy.ext.asyncio import AsyncEngine


class LockedBatchJob:
    """Runs a round every interval: the batch statement again and again until a batch comes up short.

    Every replica of a process runs the job; a session-level PostgreSQL advisory lock, held on a
    connection of the job's own for the round, makes all but one skip it, so replicas never fight
    over the same rows. Each batch is its own short transaction, so a round over millions of rows
    never holds locks or a snapshot for long, and a shutdown waits at most for one batch.

    A subclass passes its statement and lock and reports a round in `_report`. Usage:
        async with Job(...):
            ...  # the job runs in the background and stops with the block
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        statement: Executable,
        params: Mapping[str, Any],
        batch_size: int,
        lock_key: int,
        interval_seconds: float,
        name: str,
        log: logging.Logger,
    ) -> None:
        """A job; nothing runs until `async with` (or `run()`).

        Args:
            engine: The pool the job borrows its one connection from.
            statement: One batch; it must touch at most `params["batch"]` rows (its rowcount).
            params: The statement's parameters.
            batch_size: A batch that touches fewer rows than this ends the round.
            lock_key: The advisory lock (from services.common.names) that makes the job run once.
            interval_seconds: Seconds between rounds; 0: `async with` starts nothing.
            name: The task's name, also the start of the failure log line.
            log: Where a failed round is logged.
        """
        self._engine = engine
        self._statement = statement
        self._params = dict(params)
        self._batch_size = batch_size
        self._lock_key = lock_key
        self._interval = interval_seconds
        self._name = name
        self._log = log
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _batch_done(self, rows: int) -> None:
        """Count one batch's rows (the subclass's metric)."""

    def _report(self, rows: int) -> None:
        """Log a round that touched rows (the subclass's message and log key)."""

    async def run_once(self) -> int | None:
        """Run one round now.

        Returns:
            The rows touched, or None when another process holds the lock (it runs the round).
        """
        total = 0
        async with self._engine.connect() as conn:
            got = (
                await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._lock_key})
            ).scalar()
            await conn.commit()
            if not got:
                return None
            try:
                while not self._stopping.is_set():
                    result = await conn.execute(self._statement, self._params)
                    await conn.commit()
                    rows = int(getattr(result, "rowcount", 0) or 0)
                    total += rows
                    self._batch_done(rows)
                    if rows < self._batch_size:
                        break
            finally:
                # Session-level lock: release it before the connection goes back to the pool.
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._lock_key})
                await conn.commit()
        return total

    async def run(self) -> None:
        """A round every interval until `shutdown`; a failed round is logged and retried next time."""
        while not self._stopping.is_set():
            try:
                rows = await self.run_once()
                if rows:
                    self._report(rows)
            except Exception as exc:  # never let the job die: the next round retries
                self._log.warning("%s failed: %s", self._name, exc)
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self._interval)
            except TimeoutError:
                pass

    async def shutdown(self) -> None:
        """Stop after the batch in progress (idempotent)."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def __aenter__(self) -> Self:
        if self._interval > 0:
            self._task = asyncio.create_task(self.run(), name=self._name)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()
