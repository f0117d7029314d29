"""`python -m projector`: the projector process (one active per channel; others wait as standbys)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging

from fabric_client import connect_from_settings
from projector import lag
from projector.metrics import ProjectorMetrics
from projector.runner import ProjectionHalted, Projector
from projector.settings import ProjectorSettings
from projector.store import Checkpoint
from services.common import db, names
from services.common.logging import configure_logging
from services.common.runtime import Runtime, run, run_process

_LOG = logging.getLogger("projector")

# Exit code after a poison event: distinct, so supervisors and operators see it was not a crash.
EXIT_POISON = 3


class Projection:
    """The projector as the runtime's main part: a poison event ends it with `EXIT_POISON`."""

    def __init__(self, projector: Projector) -> None:
        self.projector = projector

    async def run(self) -> int:
        """Project until shut down (0), or until a poison event halts the projection (3)."""
        try:
            await self.projector.run()
        except ProjectionHalted:
            return EXIT_POISON
        return 0

    async def shutdown(self) -> None:
        """Stop after the transaction in progress."""
        await self.projector.shutdown()


async def build(settings: ProjectorSettings, runtime: Runtime) -> Projection:
    """Open the projector's resources on the runtime and return it (not yet running)."""
    # The pool's size is the projector's own default (ProjectorDatabaseSettings).
    engine, _ = await runtime.database()
    metrics = ProjectorMetrics()
    gateway = connect_from_settings(settings.fabric.for_user(settings.projector.reader))
    runtime.stack.push_async_callback(gateway.close)
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
        names.projector_lock(settings.fabric.channel, settings.fabric.chaincode),
        open_stream,
        metrics,
        standby_retry=settings.projector.standby_retry_seconds,
        control_interval=settings.projector.control_interval_seconds,
        batch_max=settings.projector.batch_max_transactions,
    )

    async def not_halted() -> bool:
        return not projector.halted

    # Ready does not depend on events arriving: a quiet chain is healthy. It depends on the
    # database and on not being halted by a poison event.
    await runtime.probes({"postgres": lambda: db.check_database(engine), "projection": not_halted})

    async def refresh_lag() -> None:
        while True:
            with contextlib.suppress(Exception):
                blocks, seconds = await lag.measure(engine)
                metrics.lag_blocks.set(blocks)
                metrics.lag_seconds.set(seconds)
            await asyncio.sleep(settings.projector.control_interval_seconds)

    runtime.background(refresh_lag, "projector-lag")
    return Projection(projector)


async def main() -> int:
    """Project until SIGTERM/SIGINT, or stop loudly on a poison event."""
    settings = ProjectorSettings()
    configure_logging(settings.log_level, settings.service_name)
    return await run_process(settings, functools.partial(build, settings))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(run(main))  # on uvloop unless GX_EVENT_LOOP=asyncio
