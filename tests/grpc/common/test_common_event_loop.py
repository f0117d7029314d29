"""Every GX process runs on uvloop unless `GX_EVENT_LOOP=asyncio`: a real process serving gRPC,
and PostgreSQL (psycopg async, the read pool, LISTEN/NOTIFY) and Redis on the loop `run` starts."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from typing import Any

import grpc
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from services.common import runtime
from services.common.db import libpq_dsn, open_autocommit_pool, open_database
from services.common.settings import DatabaseSettings
from tests.grpc.common.runtime_test_proto import COLOR_RED, SERVICE, EchoRequest, EchoResponse

_EchoResponse: Any = EchoResponse
_EchoRequest: Any = EchoRequest


async def _serve_once(loop_setting: str | None) -> list[dict[str, object]]:
    """Start the app, make one call, SIGTERM it; its JSON lines."""
    env = {**os.environ, "GX_LISTEN": "127.0.0.1:0", "PYTHONPATH": ".:gen/python"}
    env.pop(runtime.EVENT_LOOP_ENV, None)
    if loop_setting is not None:
        env[runtime.EVENT_LOOP_ENV] = loop_setting
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.grpc.common.event_loop_app", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stderr is not None
    lines: list[dict[str, object]] = []
    try:
        while not any(str(e.get("message", "")).startswith("looptest serving gRPC on") for e in lines):
            raw = await asyncio.wait_for(proc.stderr.readline(), 30)
            assert raw, lines
            if raw.startswith(b"{"):
                lines.append(json.loads(raw))
        address = next(e["address"] for e in lines if "address" in e)
        async with grpc.aio.insecure_channel(str(address)) as channel:
            call = channel.unary_unary(
                f"/{SERVICE}/PublicEcho",
                request_serializer=_EchoRequest.SerializeToString,
                response_deserializer=_EchoResponse.FromString,
            )
            reply: Any = await call(EchoRequest(email="a@example.com", color=COLOR_RED), timeout=10)
            assert reply.message  # the request id came back
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return lines


@pytest.mark.parametrize(("setting", "expected"), [(None, "uvloop"), ("asyncio", "asyncio")])
async def test_a_started_process_runs_on_the_loop_the_setting_names(
    setting: str | None, expected: str
) -> None:
    lines = await _serve_once(setting)
    (start,) = [e for e in lines if "event_loop" in e]
    assert start["event_loop"] == expected
    assert start["message"] == f"looptest starting on {expected}"


def test_a_bad_setting_stops_the_process_with_one_line() -> None:
    with pytest.raises(SystemExit, match="GX_EVENT_LOOP must be 'uvloop' or 'asyncio'"):
        runtime.event_loop_kind({runtime.EVENT_LOOP_ENV: "trio"})
    assert runtime.event_loop_kind({}) == "uvloop"
    assert runtime.event_loop_kind({runtime.EVENT_LOOP_ENV: " AsyncIO "}) == "asyncio"


def test_postgres_and_redis_work_on_uvloop(database_url: str, redis_url: str) -> None:
    """What every process does on its loop: the engine, the read pool, a LISTEN, Redis."""

    async def main() -> tuple[str, Any, Any, str, Any]:
        settings = DatabaseSettings(url=SecretStr(database_url))
        async with open_database(settings) as (engine, _), open_autocommit_pool(settings) as pool:
            async with engine.connect() as conn:
                one = (await conn.exec_driver_sql("SELECT 1")).scalar_one()
            async with pool.connection() as raw:
                two = (await (await raw.execute("SELECT 2")).fetchone())[0]  # type: ignore[index]
            import psycopg

            dsn = libpq_dsn(database_url)
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as listener:
                await listener.execute("LISTEN looptest")
                async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as sender:
                    await sender.execute("NOTIFY looptest, 'hello'")
                notify = await asyncio.wait_for(anext(listener.notifies()), 10)
        redis = Redis.from_url(redis_url)
        try:
            await redis.set("looptest", b"value")
            got = await redis.get("looptest")
        finally:
            await redis.aclose()
        return runtime.running_loop_kind(), one, two, notify.payload, got

    assert runtime.run(main) == ("uvloop", 1, 2, "hello", b"value")
