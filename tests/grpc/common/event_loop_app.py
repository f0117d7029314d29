"""A process started like every GX process (`runtime.run(main)`, settings, JSON logs, run_server)
for the event loop test: it serves the runtime test service until SIGTERM."""

from __future__ import annotations

import contextlib

from services.common.logging import configure_logging
from services.common.runtime import run
from services.common.server import GxServer, create_server, run_server
from services.common.settings import ServiceSettings
from tests.grpc.common.runtime_harness import Behaviour, binding


async def main() -> None:
    settings = ServiceSettings(service_name="looptest")
    configure_logging(settings.log_level, settings.service_name)

    async def build(stack: contextlib.AsyncExitStack) -> GxServer:
        return create_server(settings, [binding(Behaviour())])

    await run_server(settings, build)


if __name__ == "__main__":
    run(main)
