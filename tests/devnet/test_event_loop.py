"""devnet's event loop choice: uvloop by default, asyncio's own loop on request, nothing else."""

from __future__ import annotations

import asyncio

import pytest

from devnet.cli import run_loop


def _loop_module(environ: dict[str, str]) -> str:
    seen: list[str] = []

    async def probe() -> None:
        seen.append(type(asyncio.get_running_loop()).__module__)

    run_loop(probe(), environ)
    return seen[0]


def test_devnet_runs_on_uvloop_unless_told_otherwise() -> None:
    assert _loop_module({}).startswith("uvloop")
    assert _loop_module({"GX_EVENT_LOOP": "uvloop"}).startswith("uvloop")
    assert _loop_module({"GX_EVENT_LOOP": "asyncio"}).startswith("asyncio")


def test_an_unknown_event_loop_is_refused() -> None:
    async def never() -> None:
        raise AssertionError("must not run")

    main = never()
    with pytest.raises(SystemExit, match="GX_EVENT_LOOP"):
        run_loop(main, {"GX_EVENT_LOOP": "trio"})
    main.close()
