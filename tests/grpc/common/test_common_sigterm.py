"""A real process receives SIGTERM mid-call: the call completes, health stops, resources close, exit 0."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import grpc

from tests.grpc.common.runtime_test_proto import COLOR_RED, SERVICE, EchoRequest, EchoResponse


async def _read_json_lines(stream: asyncio.StreamReader, into: list[dict]) -> None:
    while line := await stream.readline():
        with_text = line.decode().strip()
        if with_text.startswith("{"):
            into.append(json.loads(with_text))


async def test_sigterm_drains_in_flight_call_then_exits_cleanly() -> None:
    env = {
        **os.environ,
        "GX_LISTEN": "127.0.0.1:0",
        "GX_SHUTDOWN_GRACE_SECONDS": "10",
        "PYTHONPATH": ".:gen/python",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.grpc.common.sigterm_app", env=env, stderr=asyncio.subprocess.PIPE
    )
    lines: list[dict] = []
    reader = asyncio.ensure_future(_read_json_lines(proc.stderr, lines))
    try:
        for _ in range(300):
            started = [
                entry for entry in lines if entry.get("message", "").startswith("sigterm serving gRPC on")
            ]
            if started:
                break
            await asyncio.sleep(0.05)
        assert started, lines
        address = started[0]["address"]
        async with grpc.aio.insecure_channel(address) as channel:
            call = channel.unary_unary(
                f"/{SERVICE}/PublicEcho",
                request_serializer=EchoRequest.SerializeToString,
                response_deserializer=EchoResponse.FromString,
            )
            await call(EchoRequest(email="a@example.com", color=COLOR_RED), timeout=10)
            slow = asyncio.ensure_future(
                call(EchoRequest(email="a@example.com", color=COLOR_RED, mode="slow"), timeout=20)
            )
            await asyncio.sleep(0.3)
            proc.send_signal(signal.SIGTERM)
            reply = await slow  # the in-flight call still finishes
            assert isinstance(reply, EchoResponse)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
        await asyncio.wait_for(reader, 5)
        messages = [entry["message"] for entry in lines]
        assert (
            messages.index("sigterm shutting down")
            < messages.index("resource closed")
            < messages.index("sigterm stopped")
        )
        finished = [entry for entry in lines if entry.get("message") == "rpc finished"]
        assert {entry["grpc.code"] for entry in finished} == {"OK"}
        assert all(
            entry.get("request_id") and entry.get("grpc.method") == f"/{SERVICE}/PublicEcho"
            for entry in finished
        )
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        reader.cancel()
