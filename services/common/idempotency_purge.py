"""The worker that purges expired idempotency records in bounded batches, one process at a time.

Every service that writes records runs one (they share `platform.idempotency_records`); the
advisory lock and the short batches are services.common.batch_job's.
"""

from __future__ import annotations

import logging
from typing import Final

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.batch_job import LockedBatchJob
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


class IdempotencyPurger(LockedBatchJob):
    """Deletes records older than the TTL every `purge_interval_seconds`, in batches.

    Usage:
        async with IdempotencyPurger(engine, settings.idempotency):
            ...  # serve; the purge runs in the background and stops with the block
    """

    def __init__(
        self, engine: AsyncEngine, settings: IdempotencySettings, *, registry: CollectorRegistry | None = None
    ) -> None:
        """Wraps the engine (a connection of its own holds the advisory lock) and the settings."""
        super().__init__(
            engine,
            statement=_DELETE_BATCH,
            params={"ttl": settings.ttl_seconds, "batch": settings.purge_batch_size},
            batch_size=settings.purge_batch_size,
            lock_key=IDEMPOTENCY_PURGE_LOCK,
            interval_seconds=settings.purge_interval_seconds,
            name="idempotency purge",
            log=_log,
        )
        self._purged = PurgeMetrics.for_registry(registry).purged

    async def purge_once(self) -> int | None:
        """Run one purge round now.

        Returns:
            The records deleted, or None when another process holds the lock (it purges).
        """
        return await self.run_once()

    def _batch_done(self, rows: int) -> None:
        self._purged.inc(rows)

    def _report(self, rows: int) -> None:
        _log.info("purged %d expired idempotency records", rows, extra={LogKey.IDEMPOTENCY_PURGED: rows})
