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

import asyncio
import logging
from dataclasses import dataclass
from typing import Final

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import names
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


class CommandArchiver:
    """Moves finished commands older than the retention to the archive every interval, in batches.

    Usage:
        async with CommandArchiver(engine, settings):
            ...  # the worker runs; archiving runs in the background and stops with the block
    """

    def __init__(
        self, engine: AsyncEngine, settings: RetentionSettings, *, registry: CollectorRegistry | None = None
    ) -> None:
        """Wraps the engine (a connection of its own holds the advisory lock) and the settings."""
        self._engine = engine
        self._settings = settings
        self._archived = ArchiveMetrics.for_registry(registry).archived
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def archive_once(self) -> int | None:
        """Run one round now: batches until fewer than a batch is left.

        Returns:
            The commands archived, or None when another process holds the lock (it archives).
        """
        total = 0
        params = {"age": self._settings.days * _SECONDS_PER_DAY, "batch": self._settings.batch_size}
        async with self._engine.connect() as conn:
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY})).scalar()
            await conn.commit()
            if not got:
                return None
            try:
                while not self._stopping.is_set():
                    result = await conn.execute(_ARCHIVE_BATCH, params)
                    await conn.commit()
                    moved = int(getattr(result, "rowcount", 0) or 0)
                    total += moved
                    self._archived.inc(moved)
                    if moved < self._settings.batch_size:
                        break
            finally:
                # Session-level lock: release it before the connection goes back to the pool.
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                await conn.commit()
        return total

    async def run(self) -> None:
        """Archive every interval until `shutdown`; a failed round is logged and retried next time."""
        while not self._stopping.is_set():
            try:
                archived = await self.archive_once()
                if archived:
                    _log.info(
                        "archived %d finished commands", archived, extra={LogKey.OUTBOX_ARCHIVED: archived}
                    )
            except Exception as exc:  # never let the worker die: the next round retries
                _log.warning("outbox archive round failed: %s", exc)
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self._settings.interval_seconds)
            except TimeoutError:
                pass

    async def shutdown(self) -> None:
        """Stop after the batch in progress (idempotent)."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def __aenter__(self) -> CommandArchiver:
        if self._settings.interval_seconds > 0:
            self._task = asyncio.create_task(self.run(), name="outbox-archive")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()
