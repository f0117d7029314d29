"""A process built like a real service (settings, JSON logs, run_server) for the SIGTERM test."""

from __future__ import annotations

import asyncio
import contextlib

from services.common.logging import configure_logging
from services.common.server import GxServer, create_server, run_server
from services.common.settings import ServiceSettings
from tests.grpc.common.runtime_harness import Behaviour, binding


async def main() -> None:
    settings = ServiceSettings(service_name="sigterm")
    configure_logging(settings.log_level, settings.service_name)
    behaviour = Behaviour()

    async def build(stack: contextlib.AsyncExitStack) -> GxServer:
        async def closing() -> None:
            # Proves resources close after the drain: the log line comes after "shutting down".
            import logging

            logging.getLogger("sigterm").info("resource closed")

        stack.push_async_callback(closing)

        async def release_later() -> None:
            await behaviour.started.wait()
            await asyncio.sleep(1.0)
            behaviour.release.set()

        task = asyncio.create_task(release_later())
        stack.callback(task.cancel)
        return create_server(settings, [binding(behaviour)])

    await run_server(settings, build)


if __name__ == "__main__":
    asyncio.run(main())
