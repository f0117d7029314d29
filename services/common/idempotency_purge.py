"""The worker that purges expired idempotency records in bounded batches, one process at a time.

Every service that writes records runs one (they share `platform.idempotency_records`); a
PostgreSQL advisory lock makes all but one skip a round, so replicas never fight over the same
rows. Each batch is its own short transaction, so a purge of millions of rows never holds locks or
a snapshot for long, and a shutdown waits at most for one batch.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.logging import LogKey
from services.common.metrics import PerRegistry
from services.common.names import IDEMPOTENCY_PURGE_LOCK
from services.common.settings import IdempotencySettings

_log = logging.getLogger("gx.idempotency.purge")

# Oldest first, through the created_at index; SKIP LOCKED lets a request that is replacing an
# expired record (Idempotency's insert) finish without waiting for the purge, and vice versa.
_DELETE_BATCH: Final = text(
    "DELETE FROM platform.idempotency_records r USING ("
    " SELECT scope, principal, request_id FROM platform.idempotency_records"
    " WHERE created_at < now() - make_interval(secs => :ttl)"
    " ORDER BY created_at LIMIT :batch FOR UPDATE SKIP LOCKED"
    ") old"
    " WHERE (r.scope, r.principal, r.request_id) = (old.scope, old.principal, old.request_id)"
)


class PurgeMetrics(PerRegistry):
    """The purge's counter (`PurgeMetrics.for_registry(registry)`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.purged = Counter(
            "gx_idempotency_purged_records_total",
            "Expired idempotency records deleted by the purge worker.",
            registry=registry,
        )


class IdempotencyPurger:
    """Deletes records older than the TTL every `purge_interval_seconds`, in batches.

    Usage:
        async with IdempotencyPurger(engine, settings.idempotency):
            ...  # serve; the purge runs in the background and stops with the block
    """

    def __init__(
        self, engine: AsyncEngine, settings: IdempotencySettings, *, registry: CollectorRegistry | None = None
    ) -> None:
        """Wraps the engine (a connection of its own holds the advisory lock) and the settings."""
        self._engine = engine
        self._settings = settings
        self._purged = PurgeMetrics.for_registry(registry).purged
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def purge_once(self) -> int | None:
        """Run one purge round now.

        Returns:
            The records deleted, or None when another process holds the lock (it purges).
        """
        total = 0
        async with self._engine.connect() as conn:
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": IDEMPOTENCY_PURGE_LOCK})).scalar()
            await conn.commit()
            if not got:
                return None
            try:
                while not self._stopping.is_set():
                    result = await conn.execute(
                        _DELETE_BATCH,
                        {"ttl": self._settings.ttl_seconds, "batch": self._settings.purge_batch_size},
                    )
                    await conn.commit()
                    deleted = int(getattr(result, "rowcount", 0) or 0)
                    total += deleted
                    self._purged.inc(deleted)
                    if deleted < self._settings.purge_batch_size:
                        break
            finally:
                # Session-level lock: release it before the connection goes back to the pool.
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": IDEMPOTENCY_PURGE_LOCK})
                await conn.commit()
        return total

    async def run(self) -> None:
        """Purge every interval until `shutdown`; a failed round is logged and retried next time."""
        interval = self._settings.purge_interval_seconds
        while not self._stopping.is_set():
            try:
                purged = await self.purge_once()
                if purged:
                    _log.info(
                        "purged %d expired idempotency records",
                        purged,
                        extra={LogKey.IDEMPOTENCY_PURGED: purged},
                    )
            except Exception as exc:  # never let the worker die: the next round retries
                _log.warning("idempotency purge failed: %s", exc)
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=interval)
            except TimeoutError:
                pass

    async def shutdown(self) -> None:
        """Stop after the batch in progress (idempotent)."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def __aenter__(self) -> IdempotencyPurger:
        if self._settings.purge_interval_seconds > 0:
            self._task = asyncio.create_task(self.run(), name="idempotency-purge")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()
