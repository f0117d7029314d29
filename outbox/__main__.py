"""`python -m outbox`: the outbox worker process (several may run at once)."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from fabric_client.retry import RetryPolicy
from outbox.commands import command_table
from outbox.ledger import Ledger
from outbox.metrics import OutboxMetrics
from outbox.processor import CommandProcessor, ProcessorSettings
from outbox.repository import OutboxRepository
from outbox.retention import CommandArchiver, RetentionSettings
from outbox.settings import OutboxSettings
from outbox.worker import OutboxWorker, WorkerSettings
from services.common import db
from services.common.logging import configure_logging
from services.common.runtime import Runtime, run, run_process
from services.common.server import GxServer

_LOG = logging.getLogger("outbox")


async def build(settings: OutboxSettings, runtime: Runtime) -> OutboxWorker:
    """Open the worker's resources on the runtime and return the worker (not yet running)."""
    table = command_table()  # fails fast on a contract error
    tuning = settings.outbox
    worker_id = tuning.worker_id or f"{socket.gethostname()}:{os.getpid()}"
    metrics = OutboxMetrics()
    engine, _ = await runtime.database()
    redis = await runtime.redis()
    ledger = Ledger(settings.fabric, {spec.submitter_role for spec in table.values()})
    runtime.stack.push_async_callback(ledger.close)
    # The hot one-statement path (claim, store envelope, record outcome) on autocommit driver
    # connections (outbox/statements.py): each statement is atomic and meant to commit on its own.
    # Two grouped statements of each kind at once, one look-up of the next commands in line, a claim,
    # and per-command failures/reschedules (a burst of those queues for a connection, within the pool
    # timeout, a few ms each).
    pool = await runtime.stack.enter_async_context(
        db.open_autocommit_pool(settings.database, max_size=9, name="outbox-hot-path")
    )
    repository = OutboxRepository(engine, worker_id, tuning.lease_seconds, pool=pool, metrics=metrics)
    processor = CommandProcessor(
        repository,
        ledger,
        metrics,
        ProcessorSettings(
            max_attempts=tuning.max_attempts,
            retry=RetryPolicy(
                max_attempts=1_000_000, initial_backoff=tuning.backoff_initial, max_backoff=tuning.backoff_max
            ),
            commit_timeout=tuning.commit_timeout,
            recover_status_timeout=tuning.recover_status_timeout,
            conflict_backoff=tuning.conflict_backoff,
            speculate=tuning.speculate,
        ),
        breaker_retry_after=lambda: ledger.breaker.retry_after,
    )
    worker = OutboxWorker(
        repository,
        processor,
        metrics,
        WorkerSettings(
            batch_size=tuning.batch_size,
            concurrency=tuning.concurrency,
            poll_interval=tuning.poll_interval,
            lease_seconds=tuning.lease_seconds,
        ),
        listen_dsn=db.libpq_dsn(settings.database.url.get_secret_value()),
        breaker_state=lambda: ledger.breaker_state,
    )
    # Ready = can reach its database. A peer that is down is NOT unreadiness: the worker is
    # doing its job (holding commands until the peer is back) and says so in its metrics.
    await runtime.probes({"postgres": lambda: db.check_database(engine)})
    # Finished commands leave the queue after the retention; every replica runs it, one at a time.
    await runtime.stack.enter_async_context(
        CommandArchiver(
            engine,
            RetentionSettings(
                days=tuning.retention_days,
                batch_size=tuning.retention_batch_size,
                interval_seconds=tuning.retention_interval_seconds,
            ),
        )
    )
    try:
        admin_server = await start_admin_server(settings, engine, redis)
    except Exception:
        # The operator surface is secondary to moving commands: a worker whose admin port
        # is taken still submits, and says loudly that `gx outbox` over gRPC is not here.
        _LOG.exception(
            "outbox admin gRPC server NOT started on %s; the worker runs without it", settings.listen
        )
        admin_server = None
    if admin_server is not None:
        # Closed first, after the worker has drained (the exit stack unwinds in reverse).
        runtime.stack.push_async_callback(admin_server.stop, settings.shutdown_grace_seconds)
    _LOG.info(
        "outbox worker %s: peer %s, channel %s",
        worker_id,
        settings.fabric.peer_endpoint,
        settings.fabric.channel,
    )
    return worker


async def start_admin_server(settings: OutboxSettings, engine: AsyncEngine, redis: Redis) -> GxServer | None:
    """Serve gx.ops.v1.OutboxAdminService (with health, reflection, auth) on `GX_LISTEN`.

    Built with the runtime's server factory, so access (admins only), validation, errors and
    metrics are the same as every other GX server. Returns None when `GX_LISTEN` is empty.
    """
    if not settings.listen:
        return None
    from outbox.admin_server import start

    return await start(settings, engine, redis)


async def main() -> int:
    """Run one worker until SIGTERM/SIGINT; in-flight commands finish first."""
    settings = OutboxSettings()
    configure_logging(settings.log_level, settings.service_name)
    return await run_process(settings, functools.partial(build, settings))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(run(main))  # on uvloop unless GX_EVENT_LOOP=asyncio
