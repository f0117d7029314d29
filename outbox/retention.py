"""Retention of finished commands: the worker that moves old ones out of the queue into the archive.

`outbox.commands` is the job queue; a finished command that stayed there for ever would grow the
table (and its indexes, payloads and signed envelopes) without bound. After
`GX_OUTBOX__RETENTION_DAYS` a finished command moves to `outbox.archived_commands`, in batches,
each batch one short transaction (one statement: select, delete, insert). The archive keeps what
the command's operation shows (state, tx id, block, error, result, times, owner) and its payload,
so GetOperation answers the same for ever through the view `outbox.operations`, a replayed request
id still finds its command, and an operator can still read what was asked; the signed envelope,
lease and ordering columns are dropped (the queue's working state). Why move rather than delete:
a deleted operation would answer NOT_FOUND to a client still holding its name, and the wallet's
history links each entry to its operation. Public ids of created resources never depended on the
queue (`outbox.resource_ids`).

Never archived: a command that is not finished (PENDING/SUBMITTED), a COMMITTED one whose
transaction the projector has not applied yet (the lag metric and a client's WaitOperation still
need it), and one that a command still in the queue names as its prerequisite (`depends_on`, a
foreign key; it is archived in a later round, after its dependents).

Outbox replicas all run the worker; a PostgreSQL advisory lock makes all but one skip a round.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import names
from services.common.batch_job import LockedBatchJob
from services.common.logging import LogKey
from services.common.metrics import PerRegistry
from services.common.operations import PROJECTED_SQL

_log = logging.getLogger("gx.outbox.retention")

# One advisory lock for the archive, the same in every outbox process.
LOCK_KEY: Final = names.OUTBOX_ARCHIVE_LOCK

_SECONDS_PER_DAY: Final = 86_400

_ARCHIVED_COLUMNS = (
    "id, tenant, command_type, payload, request_id, principal_id, status, attempts, tx_id, block_number,"
    " validation_code, error_code, error_message, result_json, traceparent, created_at, updated_at, partner_id"
)

# Oldest finish first, through the partial commands_finished_idx. SKIP LOCKED: a command an
# operator is reading FOR UPDATE (retry, cancel) is left for the next round.
_ARCHIVE_BATCH: Final = text(
    f"""
    WITH doomed AS (
        SELECT c.id FROM outbox.commands c
         WHERE c.status IN ('COMMITTED', 'FAILED')
           AND c.updated_at < now() - make_interval(secs => :age)
           AND (c.status = 'FAILED' OR {PROJECTED_SQL})
           AND NOT EXISTS (SELECT 1 FROM outbox.commands d WHERE d.depends_on = c.id)
         ORDER BY c.updated_at
         LIMIT :batch
         FOR UPDATE OF c SKIP LOCKED
    ), moved AS (
        DELETE FROM outbox.commands c USING doomed WHERE c.id = doomed.id
        RETURNING c.*
    )
    INSERT INTO outbox.archived_commands ({_ARCHIVED_COLUMNS})
    SELECT {_ARCHIVED_COLUMNS} FROM moved
    """
)


@dataclass(frozen=True)
class RetentionSettings:
    """How long finished commands stay in the queue, and how the worker moves them.

    Attributes:
        days: Age (since the command finished) after which it is archived; 0 archives every
            finished, projected command at the next round.
        batch_size: Commands moved per transaction.
        interval_seconds: Seconds between rounds; 0 disables the worker.
    """

    days: float = 30.0
    batch_size: int = 500
    interval_seconds: float = 300.0


class ArchiveMetrics(PerRegistry):
    """The archive's counter (`ArchiveMetrics.for_registry(registry)`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.archived = Counter(
            "gx_outbox_archived_commands_total",
            "Finished commands moved from outbox.commands to outbox.archived_commands.",
            registry=registry,
        )


class CommandArchiver(LockedBatchJob):
    """Moves finished commands older than the retention to the archive every interval, in batches.

    Usage:
        async with CommandArchiver(engine, settings):
            ...  # the worker runs; archiving runs in the background and stops with the block
    """

    def __init__(
        self, engine: AsyncEngine, settings: RetentionSettings, *, registry: CollectorRegistry | None = None
    ) -> None:
        """Wraps the engine (a connection of its own holds the advisory lock) and the settings."""
        super().__init__(
            engine,
            statement=_ARCHIVE_BATCH,
            params={"age": settings.days * _SECONDS_PER_DAY, "batch": settings.batch_size},
            batch_size=settings.batch_size,
            lock_key=LOCK_KEY,
            interval_seconds=settings.interval_seconds,
            name="outbox archive round",
            log=_log,
        )
        self._archived = ArchiveMetrics.for_registry(registry).archived

    async def archive_once(self) -> int | None:
        """Run one round now: batches until fewer than a batch is left.

        Returns:
            The commands archived, or None when another process holds the lock (it archives).
        """
        return await self.run_once()

    def _batch_done(self, rows: int) -> None:
        self._archived.inc(rows)

    def _report(self, rows: int) -> None:
        _log.info("archived %d finished commands", rows, extra={LogKey.OUTBOX_ARCHIVED: rows})
