"""A process's probes: readiness from its dependency checks, and the `/metrics` `/healthz` `/readyz` endpoint."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from grpc_health.v1.health import aio as health_aio
from prometheus_client import CollectorRegistry

from services.common.health import Check, HealthMonitor
from services.common.metrics import MetricsHttpServer
from services.common.settings import ServiceSettings


class Probes:
    """The health monitor over a process's checks, and its metrics HTTP endpoint.

    Every process has one, with or without a gRPC server: `create_server` builds it around the
    server's gRPC health servicer, a worker gets one from `Runtime.probes`. The checks run every
    `health_check_interval_seconds`; `/readyz` answers 503 while one fails (the monitor logs
    which). Nothing is served over HTTP when `GX_METRICS_LISTEN` is empty.
    """

    def __init__(
        self,
        settings: ServiceSettings,
        checks: Mapping[str, Check],
        *,
        servicer: health_aio.HealthServicer | None = None,
        services: Iterable[str] = (),
        registry: CollectorRegistry | None = None,
    ) -> None:
        """Build, not start.

        Args:
            settings: `metrics_listen` and the health check interval and timeout.
            checks: Named readiness checks (e.g. `{"postgres": ...}`).
            servicer: The gRPC health servicer to publish to (a server's); a private one if None.
            services: The gRPC services whose health the verdict sets (besides "").
            registry: What `/metrics` exports (the process registry if None).
        """
        self.monitor = HealthMonitor(
            servicer or health_aio.HealthServicer(),
            services,
            checks,
            interval=settings.health_check_interval_seconds,
            timeout=settings.health_check_timeout_seconds,
        )
        self.http = (
            MetricsHttpServer(settings.metrics_listen, lambda: self.monitor.ready, registry)
            if settings.metrics_listen
            else None
        )

    @property
    def port(self) -> int | None:
        """The bound metrics port, once started (None without an endpoint)."""
        return self.http.port if self.http is not None else None

    async def start(self) -> None:
        """Run the first checks, then serve.

        Raises:
            OSError: the metrics address is taken or unavailable.
        """
        await self.monitor.start()
        if self.http is not None:
            await self.http.start()

    async def shutdown(self) -> None:
        """Report not ready for good (a drain has begun) and stop checking; keep serving HTTP."""
        await self.monitor.shutdown()

    async def stop(self) -> None:
        """Stop serving and checking (safe to call twice, and after `shutdown`)."""
        if self.http is not None:
            await self.http.stop()
        await self.monitor.stop()
