"""The process runtime's life cycle: build, run, drain on a stop, close in reverse, exit code.

The main part here is a stand-in (pure life-cycle logic); the probes are the real HTTP endpoint
and the stop comes from a real SIGTERM too. Real services and workers run on the same code in
tests/grpc/common/test_common_sigterm.py and tests/workers/test_worker_runtime.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import urllib.error
import urllib.request

import pytest

from services.common.runtime import EXIT_CANNOT_START, Runtime, run_process
from services.common.settings import ServiceSettings


class Part:
    """A main part that works until shut down, or ends by itself with `code`."""

    def __init__(self, events: list[str], code: int | None = None, fail: Exception | None = None) -> None:
        self.events = events
        self.code = code
        self.fail = fail
        self.started = asyncio.Event()
        self._stop = asyncio.Event()

    async def run(self) -> int | None:
        self.events.append("run")
        self.started.set()
        if self.fail is not None:
            raise self.fail
        if self.code is None:
            await self._stop.wait()
            self.events.append("drained")
        return self.code

    async def shutdown(self) -> None:
        self.events.append("shutdown")
        self._stop.set()


def _settings(**values: object) -> ServiceSettings:
    return ServiceSettings(service_name="probe", **values)  # type: ignore[arg-type]


def _opener(events: list[str], part: Part, *, fail_with: Exception | None = None):  # type: ignore[no-untyped-def]
    async def build(runtime: Runtime) -> Part:
        for name in ("engine", "redis", "client"):
            events.append(f"open {name}")
            runtime.stack.callback(events.append, f"close {name}")
        if fail_with is not None:
            raise fail_with
        return part

    return build


async def test_a_stop_drains_the_main_part_then_closes_resources_in_reverse(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[str] = []
    part = Part(events)
    stop = asyncio.Event()
    caplog.set_level(logging.INFO, "gx.runtime")
    running = asyncio.ensure_future(run_process(_settings(), _opener(events, part), stop=stop))
    await asyncio.wait_for(part.started.wait(), 5)
    stop.set()
    assert await asyncio.wait_for(running, 5) == 0
    assert events == [
        "open engine", "open redis", "open client", "run", "shutdown", "drained",
        "close client", "close redis", "close engine",
    ]  # fmt: skip
    messages = [record.getMessage() for record in caplog.records]
    assert messages.index("probe shutting down") < messages.index("probe stopped")


async def test_a_main_part_that_ends_by_itself_gives_the_exit_code_and_is_still_shut_down() -> None:
    events: list[str] = []
    assert await run_process(_settings(), _opener(events, Part(events, code=3)), stop=asyncio.Event()) == 3
    assert events[3:] == ["run", "shutdown", "close client", "close redis", "close engine"]


async def test_a_failing_main_part_still_closes_everything() -> None:
    events: list[str] = []
    part = Part(events, fail=RuntimeError("boom"))
    with pytest.raises(RuntimeError, match="boom"):
        await run_process(_settings(), _opener(events, part), stop=asyncio.Event())
    assert events[3:] == ["run", "shutdown", "close client", "close redis", "close engine"]


async def test_a_port_taken_while_building_exits_2_after_closing_what_was_opened(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[str] = []
    build = _opener(events, Part(events), fail_with=OSError("cannot listen on 127.0.0.1:1"))
    with pytest.raises(SystemExit) as exited:
        await run_process(_settings(), build, stop=asyncio.Event())
    assert exited.value.code == EXIT_CANNOT_START == 2
    assert events == [
        "open engine",
        "open redis",
        "open client",
        "close client",
        "close redis",
        "close engine",
    ]
    assert "probe cannot start: cannot listen on 127.0.0.1:1" in caplog.text


async def test_sigterm_stops_the_process_and_the_handler_is_removed_after() -> None:
    events: list[str] = []
    part = Part(events)
    running = asyncio.ensure_future(run_process(_settings(), _opener(events, part)))
    await asyncio.wait_for(part.started.wait(), 5)
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(running, 5) == 0
    assert "drained" in events
    # Removed again: the loop no longer turns SIGTERM into a stop of a finished process.
    assert not asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)


def _get(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


async def test_probes_serve_readiness_from_the_checks_and_close_with_the_process() -> None:
    healthy = True

    async def dependency() -> bool:
        return healthy

    ready = asyncio.Event()
    stop = asyncio.Event()
    ports: list[int] = []

    async def build(runtime: Runtime) -> Part:
        probes = await runtime.probes({"dependency": dependency})
        assert probes.port is not None
        ports.append(probes.port)
        part = Part([])
        ready.set()
        return part

    settings = _settings(metrics_listen="127.0.0.1:0", health_check_interval_seconds=60)
    running = asyncio.ensure_future(run_process(settings, build, stop=stop))
    await asyncio.wait_for(ready.wait(), 5)
    port = ports[0]
    assert await asyncio.to_thread(_get, port, "/readyz") == 200
    assert await asyncio.to_thread(_get, port, "/healthz") == 200
    stop.set()
    await asyncio.wait_for(running, 5)
    with pytest.raises(OSError):
        await asyncio.to_thread(urllib.request.urlopen, f"http://127.0.0.1:{port}/healthz", None, 2)


async def test_a_draining_process_is_not_ready_while_its_main_part_drains() -> None:
    drained = asyncio.Event()
    seen: list[int] = []

    class SlowDrain(Part):
        async def shutdown(self) -> None:
            # Still draining: the probe must already say "not ready", as a service's health does.
            seen.append(await asyncio.to_thread(_get, ports[0], "/readyz"))
            seen.append(await asyncio.to_thread(_get, ports[0], "/healthz"))
            await super().shutdown()
            drained.set()

    part = SlowDrain([])
    ports: list[int] = []

    async def build(runtime: Runtime) -> Part:
        probes = await runtime.probes({})
        assert probes.port is not None
        ports.append(probes.port)
        return part

    stop = asyncio.Event()
    settings = _settings(metrics_listen="127.0.0.1:0", health_check_interval_seconds=60)
    running = asyncio.ensure_future(run_process(settings, build, stop=stop))
    await asyncio.wait_for(part.started.wait(), 5)
    assert await asyncio.to_thread(_get, ports[0], "/readyz") == 200
    stop.set()
    assert await asyncio.wait_for(running, 5) == 0
    assert drained.is_set()
    assert seen == [503, 200]  # not ready, still alive


async def test_probes_report_a_failing_check_as_not_ready() -> None:
    async def broken() -> None:
        raise ConnectionError("database down")

    async with contextlib.AsyncExitStack() as stack:
        runtime = Runtime(_settings(metrics_listen="127.0.0.1:0", health_check_interval_seconds=60), stack)
        probes = await runtime.probes({"postgres": broken})
        assert probes.port is not None
        assert await asyncio.to_thread(_get, probes.port, "/readyz") == 503
        assert probes.monitor.failing == {"postgres": "ConnectionError: database down"}


async def test_background_work_is_cancelled_at_exit_and_a_failure_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cancelled = asyncio.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def failing() -> None:
        raise ValueError("lost")

    async with contextlib.AsyncExitStack() as stack:
        runtime = Runtime(_settings(), stack)
        runtime.background(forever, "forever")
        crashed = runtime.background(failing, "failing")
        with contextlib.suppress(ValueError):
            await crashed
        await asyncio.sleep(0)  # done callbacks run on the next loop turn
    assert cancelled.is_set()
    assert "background task failing failed" in caplog.text
