"""`python -m projector`: the projector process (one active per channel; others wait as standbys)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from fabric_client import connect_from_settings
from outbox.probes import Probes
from projector import lag
from projector.lock import lock_key
from projector.metrics import ProjectorMetrics
from projector.runner import ProjectionHalted, Projector
from projector.settings import ProjectorSettings
from projector.store import Checkpoint
from services.common import db
from services.common.logging import configure_logging

_LOG = logging.getLogger("projector")

# Exit code after a poison event: distinct, so supervisors and operators see it was not a crash.
EXIT_POISON = 3


async def main() -> int:
    """Project until SIGTERM/SIGINT, or stop loudly on a poison event."""
    settings = ProjectorSettings()
    configure_logging(settings.log_level, settings.service_name)
    # A small pool: the lock-holding connection, the lag and rebuild watchers, the health check.
    database = settings.database
    # The shared factory (it publishes the pool metrics); a ping at every checkout, as before.
    engine = db.create_engine(
        database.model_copy(update={"pool_size": 3, "max_overflow": 2, "pool_ping_after_idle_seconds": 0})
    )
    metrics = ProjectorMetrics()
    gateway = connect_from_settings(settings.fabric.fabric_settings(settings.projector.reader))
    network = gateway.network(settings.fabric.channel)

    def open_stream(checkpoint: Checkpoint) -> object:
        if checkpoint.block_number is None:
            return network.chaincode_events(settings.fabric.chaincode, start_block=0)
        return network.chaincode_events(
            settings.fabric.chaincode, after=(checkpoint.block_number, checkpoint.tx_id)
        )

    projector = Projector(
        engine,
        settings.projection_name,
        lock_key(settings.fabric.channel, settings.fabric.chaincode),
        open_stream,
        metrics,
        standby_retry=settings.projector.standby_retry_seconds,
        control_interval=settings.projector.control_interval_seconds,
    )

    async def not_halted() -> bool:
        return not projector.halted

    # Ready does not depend on events arriving: a quiet chain is healthy. It depends on the
    # database and on not being halted by a poison event.
    probes = Probes(settings, {"postgres": lambda: db.check_database(engine), "projection": not_halted})

    async def refresh_lag() -> None:
        while True:
            with contextlib.suppress(Exception):
                blocks, seconds = await lag.measure(engine)
                metrics.lag_blocks.set(blocks)
                metrics.lag_seconds.set(seconds)
            await asyncio.sleep(settings.projector.control_interval_seconds)

    lag_task = asyncio.create_task(refresh_lag())
    try:
        await probes.start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(projector.shutdown()))
        await projector.run()
        return 0
    except ProjectionHalted:
        return EXIT_POISON
    finally:
        lag_task.cancel()
        await probes.stop()
        await gateway.close()
        await engine.dispose()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(asyncio.run(main()))
