"""gRPC health fed by real dependency checks on an interval; NOT_SERVING while any fails."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping

from grpc_health.v1 import health_pb2
from grpc_health.v1.health import aio as health_aio

from services.common.logging import LogKey

_log = logging.getLogger("gx.health")

# A check raises (or returns False) when its dependency is unusable.
Check = Callable[[], Awaitable[object]]
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class HealthMonitor:
    """Runs the checks, and publishes the result for "" and each service name.

    Every service of a process shares the dependencies, so one verdict covers them all.
    """

    def __init__(
        self,
        servicer: health_aio.HealthServicer,
        services: Iterable[str],
        checks: Mapping[str, Check],
        *,
        interval: float = 5.0,
        timeout: float = 2.0,
    ) -> None:
        self.servicer = servicer
        self._services = ["", *services]
        self._checks = dict(checks)
        self._interval = interval
        self._timeout = timeout
        self._task: asyncio.Task[None] | None = None
        self._failing: dict[str, str] = {}
        self._shutting_down = False
        self._published: int | None = None
        self.ready = False

    @property
    def failing(self) -> Mapping[str, str]:
        """The checks that failed in the last round, with why."""
        return dict(self._failing)

    async def _run_check(self, name: str, check: Check) -> str | None:
        try:
            result = await asyncio.wait_for(check(), self._timeout)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return "check returned False" if result is False else None

    async def check_once(self) -> bool:
        """Run every check once and publish the verdict; returns whether all passed."""
        names = list(self._checks)
        outcomes = await asyncio.gather(*(self._run_check(n, self._checks[n]) for n in names))
        failing = {name: why for name, why in zip(names, outcomes, strict=True) if why is not None}
        for name, why in failing.items():
            if name not in self._failing:
                _log.warning("dependency check failed", extra={LogKey.CHECK: name, LogKey.STATUS: why})
        for name in self._failing:
            if name not in failing:
                _log.info("dependency check recovered", extra={LogKey.CHECK: name})
        self._failing = failing
        if self._shutting_down:
            return False
        ok = not failing
        await self._publish(SERVING if ok else NOT_SERVING)
        self.ready = ok
        return ok

    async def _publish(self, status: int) -> None:
        # Only changes are published: every set() wakes each Watch stream.
        if status == self._published:
            return
        self._published = status
        for service in self._services:
            await self.servicer.set(service, status)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.check_once()
            except Exception:
                _log.exception("health round failed")

    async def start(self) -> None:
        """Publish an initial verdict, then keep checking in the background."""
        await self.check_once()
        self._task = asyncio.create_task(self._loop(), name="gx-health")

    async def shutdown(self) -> None:
        """Go NOT_SERVING for good (graceful shutdown) and stop checking."""
        self._shutting_down = True
        self.ready = False
        await self.stop()
        await self.servicer.enter_graceful_shutdown()

    async def stop(self) -> None:
        """Stop the background checks."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
