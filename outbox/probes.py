"""The workers' probe endpoint: `/metrics`, `/healthz` and `/readyz` from the runtime's pieces."""

from __future__ import annotations

from collections.abc import Mapping

from grpc_health.v1.health import aio as health_aio

from services.common.health import Check, HealthMonitor
from services.common.metrics import MetricsHttpServer
from services.common.settings import ServiceSettings


class Probes:
    """The runtime's health monitor and metrics HTTP server, for a process without a gRPC server.

    The checks run every `health_check_interval_seconds`; `/readyz` answers 503 while one fails
    (the monitor logs which). Nothing is served when `GX_METRICS_LISTEN` is empty.
    """

    def __init__(self, settings: ServiceSettings, checks: Mapping[str, Check]) -> None:
        self.monitor = HealthMonitor(
            health_aio.HealthServicer(),
            [],
            checks,
            interval=settings.health_check_interval_seconds,
            timeout=settings.health_check_timeout_seconds,
        )
        self.http = (
            MetricsHttpServer(settings.metrics_listen, lambda: self.monitor.ready) if settings.metrics_listen else None
        )

    async def start(self) -> None:
        """Run the first checks, then serve."""
        await self.monitor.start()
        if self.http is not None:
            await self.http.start()

    async def stop(self) -> None:
        """Stop serving and checking (idempotent enough to call from `finally`)."""
        if self.http is not None:
            await self.http.stop()
        await self.monitor.stop()
