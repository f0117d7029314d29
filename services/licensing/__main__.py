"""`python -m services.licensing`: the licensing gRPC service."""

from __future__ import annotations

import functools

from services.common.logging import configure_logging
from services.common.runtime import run
from services.common.server import run_server
from services.licensing.server import build
from services.licensing.settings import LicensingSettings


async def main() -> None:
    """Reads settings from the environment and serves until SIGTERM."""
    settings = LicensingSettings()
    configure_logging(settings.log_level, settings.service_name)
    await run_server(settings, functools.partial(build, settings))


if __name__ == "__main__":
    run(main)  # on uvloop unless GX_EVENT_LOOP=asyncio
