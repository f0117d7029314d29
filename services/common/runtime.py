"""The process runtime: how every GX process (services and workers) starts, probes, drains and stops.

`run_process(settings, build)` is the one shape of a process's life:

1. SIGTERM/SIGINT set a stop event (a test passes its own event instead);
2. `build(runtime)` opens the process's resources on one exit stack (`runtime.database()`,
   `runtime.redis()`, `runtime.probes(checks)`, `runtime.background(...)`, anything else with
   `runtime.stack`) and returns the process's main part, a `Runnable`;
3. `run()` works until it is done or the stop event asks `shutdown()` to drain it (the probes
   report not ready from then on, as a service's gRPC health goes NOT_SERVING);
4. the exit stack closes everything in reverse order, and the exit code is `run()`'s.

A service's main part is its gRPC server (`services.common.server.run_server`); a worker's is its
loop (the outbox's `OutboxWorker`, the projector's `Projector`). It knows no domain.

Every process's `__main__` starts its `main()` with `run(main)`: on uvloop, the libuv event loop
(about a quarter less CPU per gRPC call than asyncio's own loop here, the same asyncio API), or
on asyncio's own loop when `GX_EVENT_LOOP=asyncio` (a fallback if uvloop ever misbehaves).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol, TypeVar

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.common.db import open_database
from services.common.health import Check
from services.common.logging import LogKey
from services.common.probes import Probes
from services.common.redis import open_redis
from services.common.settings import DatabaseSettings, ServiceSettings

_log = logging.getLogger("gx.runtime")

# A port already taken (gRPC or metrics) is an operator's mistake, not a crash: the process
# exits with this code and one log line, no traceback.
EXIT_CANNOT_START = 2

# Read before the loop exists, so before the settings: the one setting that is not in them.
EVENT_LOOP_ENV: Final = "GX_EVENT_LOOP"
EventLoopKind = Literal["uvloop", "asyncio"]
_T = TypeVar("_T")


def event_loop_kind(environ: Mapping[str, str] | None = None) -> EventLoopKind:
    """Which event loop `run` starts: `GX_EVENT_LOOP` (`uvloop`, the default, or `asyncio`).

    Raises:
        SystemExit: another value (one line naming the variable, as for any bad setting).
    """
    value = (os.environ if environ is None else environ).get(EVENT_LOOP_ENV, "uvloop").strip().lower()
    if value in ("", "uvloop"):
        return "uvloop"
    if value == "asyncio":
        return "asyncio"
    raise SystemExit(f"{EVENT_LOOP_ENV} must be 'uvloop' or 'asyncio', not {value!r}")


def new_event_loop(kind: EventLoopKind | None = None) -> asyncio.AbstractEventLoop:
    """A new event loop of `kind` (default: `event_loop_kind()`)."""
    if (kind or event_loop_kind()) == "uvloop":
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        return loop
    return asyncio.new_event_loop()


def running_loop_kind() -> EventLoopKind:
    """Which kind of loop the current code runs on (the start line names it)."""
    return "uvloop" if type(asyncio.get_running_loop()).__module__.startswith("uvloop") else "asyncio"


def run(main: Callable[[], Coroutine[Any, Any, _T]], *, kind: EventLoopKind | None = None) -> _T:
    """Run a process's `main()` to the end on its event loop, as `asyncio.run` does.

    Every process's `__main__` calls this instead of `asyncio.run`, so they all run on the loop
    `GX_EVENT_LOOP` chooses (uvloop unless it says `asyncio`).
    """
    chosen = kind or event_loop_kind()
    with asyncio.Runner(loop_factory=lambda: new_event_loop(chosen)) as runner:
        return runner.run(main())


class Runnable(Protocol):
    """A process's main part: the `run()`/`shutdown()` pair of the temporal SDK's workers."""

    async def run(self) -> int | None:
        """Work until done or shut down; the process's exit code (None is 0)."""
        ...

    async def shutdown(self) -> None:
        """Drain (let in-flight work finish) and make `run()` return; idempotent."""
        ...


@dataclass
class Runtime:
    """What a process's `build` opens its resources with; all of them close in reverse at exit.

    Attributes:
        settings: The process settings.
        stack: The process's exit stack, for resources the helpers below do not cover.
    """

    settings: ServiceSettings
    stack: contextlib.AsyncExitStack
    _probes: list[Probes] = field(default_factory=list)

    async def database(
        self, settings: DatabaseSettings | None = None
    ) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
        """The process's engine (the shared pool policy and pool metrics) and its session factory.

        Args:
            settings: Another database group than the process's `GX_DATABASE__*` (rarely needed).
        """
        return await self.stack.enter_async_context(open_database(settings or self.settings.database))

    async def redis(self) -> Redis:
        """The process's Redis client (`GX_REDIS__*`)."""
        return await self.stack.enter_async_context(open_redis(self.settings.redis))

    async def probes(self, checks: Mapping[str, Check]) -> Probes:
        """Start the readiness checks and `/metrics` `/healthz` `/readyz` of a process without a gRPC server.

        A process with one gets the same from `create_server`, over its gRPC health service.

        Raises:
            OSError: the metrics address (`GX_METRICS_LISTEN`) is taken.
        """
        probes = Probes(self.settings, checks)
        self.stack.push_async_callback(probes.stop)
        await probes.start()
        self._probes.append(probes)
        return probes

    async def draining(self) -> None:
        """A drain has begun: `/readyz` answers 503 from now on, as a service's health goes NOT_SERVING."""
        for probes in self._probes:
            await probes.shutdown()

    def background(
        self, work: Callable[[], Coroutine[object, object, None]], name: str
    ) -> asyncio.Task[None]:
        """Run `work()` beside the main part until the process stops (then it is cancelled).

        A background task that fails is logged at once: nothing else awaits it before exit.
        """
        task = asyncio.create_task(work(), name=name)
        task.add_done_callback(_log_failure)
        self.stack.push_async_callback(_cancel, task)
        return task


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        _log.error("background task %s failed", task.get_name(), exc_info=task.exception())


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    # A task that had already failed was logged when it did (`_log_failure`); raising it again
    # here would stop the exit stack from closing what is left.
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def install_stop_signals(stop: asyncio.Event) -> list[signal.Signals]:
    """Set `stop` on SIGTERM and SIGINT (where the loop allows handlers); returns what was installed."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    return installed


async def run_process(
    settings: ServiceSettings,
    build: Callable[[Runtime], Awaitable[Runnable]],
    *,
    stop: asyncio.Event | None = None,
) -> int:
    """Run one process: build it, run it until done or stopped, drain it, close its resources.

    Args:
        settings: The process settings (its name for the log lines, and what `Runtime` opens).
        build: Opens the resources on the runtime and returns the main part.
        stop: Set it to stop (tests); by default SIGTERM and SIGINT do.

    Returns:
        The main part's exit code (0 when it returns None).

    Raises:
        SystemExit: with `EXIT_CANNOT_START` when building failed with an OSError (a port taken).
    """
    stop = stop or asyncio.Event()
    installed = install_stop_signals(stop)
    loop_kind = running_loop_kind()
    _log.info("%s starting on %s", settings.service_name, loop_kind, extra={LogKey.EVENT_LOOP: loop_kind})
    try:
        async with contextlib.AsyncExitStack() as stack:
            runtime = Runtime(settings, stack)
            try:
                main = await build(runtime)
            except OSError as exc:
                _log.error("%s cannot start: %s", settings.service_name, exc)
                raise SystemExit(EXIT_CANNOT_START) from None
            code = await _run_until_stopped(runtime, main, stop)
        _log.info("%s stopped", settings.service_name)
        return code
    finally:
        loop = asyncio.get_running_loop()
        for sig in installed:
            loop.remove_signal_handler(sig)


async def _run_until_stopped(runtime: Runtime, main: Runnable, stop: asyncio.Event) -> int:
    async def drain_when_asked() -> None:
        await stop.wait()
        _log.info("%s shutting down", runtime.settings.service_name)
        await runtime.draining()
        await main.shutdown()

    drain = asyncio.create_task(drain_when_asked(), name="gx-drain")
    try:
        return await main.run() or 0
    finally:
        if stop.is_set():
            # A drain under way finishes before the resources close under it.
            await drain
        else:
            # The main part ended by itself (done, or failed): still tell it, so whatever it
            # started stops before the exit stack closes the resources it used.
            await _cancel(drain)
            await main.shutdown()
