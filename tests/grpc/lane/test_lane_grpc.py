"""The lane under real gRPC clients (grpc.aio and sync), serving a real GX server's wrapped handlers."""

from __future__ import annotations

import asyncio
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
import uvloop
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from prometheus_client import REGISTRY

from tests.grpc.common.runtime_test_proto import SERVICE, EchoRequest, EchoResponse
from tests.grpc.lane.conftest import MAX_MESSAGE, Lane, close_lane, request, start_lane


async def test_a_call_runs_the_chain_and_metadata_crosses_both_ways(running: Lane) -> None:
    call = running.echo()(
        request(name="ann", mode="headers"),
        metadata=(*running.token(), ("x-request-id", "req-lane-1"), ("x-custom-bin", b"\x01\x02\xff")),
        timeout=10,
    )
    reply = await call
    assert reply.message == "echo ann"
    assert reply.user_id == "user-7"  # the chain's auth layer ran and set the principal
    initial = tuple(await call.initial_metadata())
    assert ("x-http-status", "202") in initial
    assert ("x-initial-bin", b"\x00\xfe") in initial
    trailing = tuple(await call.trailing_metadata())
    assert ("x-trailer", "t1") in trailing
    assert ("x-trailer-bin", b"\xff\x00\x01") in trailing
    assert await call.code() == grpc.StatusCode.OK
    metadata = dict(running.seen.metadata[-1])
    assert metadata["x-request-id"] == "req-lane-1"
    assert metadata["x-custom-bin"] == b"\x01\x02\xff"
    assert metadata["authorization"].startswith("Bearer ")
    assert "user-agent" in metadata
    for own in (":path", "content-type", "te", "grpc-timeout"):
        assert own not in metadata
    assert re.fullmatch(r"ipv4:127\.0\.0\.1:\d+", running.seen.peers[-1])
    remaining = running.seen.remaining[-1]
    # gRPC's client rounds a timeout up on the wire (10 s can travel as `10100m`), never down.
    assert remaining is not None and 9 < remaining <= 10.1


async def test_errors_come_back_as_rich_statuses(running: Lane) -> None:
    try:
        await running.echo()(request(name="bob", mode="not_found"), metadata=running.token(), timeout=10)
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.NOT_FOUND
        assert exc.details() == "no such thing"
        status = rpc_status.from_call(exc)
    else:
        raise AssertionError("NOT_FOUND expected")
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert (info.reason, info.domain, dict(info.metadata)) == (
        "THING_NOT_FOUND",
        "runtimetest.gx",
        {"thing": "bob"},
    )

    # No token: the chain's auth layer refuses, with its reason.
    try:
        await running.echo()(request(name="bob"), timeout=10)
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.UNAUTHENTICATED
        refused = rpc_status.from_call(exc)
    else:
        raise AssertionError("UNAUTHENTICATED expected")
    assert refused is not None and refused.details[0].Unpack(info) and info.reason == "TOKEN_MISSING"

    # Validation runs too (name is at most 5 characters): every violation, with a non-ASCII message intact.
    try:
        await running.echo()(request(name="é" * 9), metadata=running.token(), timeout=10)
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert rpc_status.from_call(exc) is not None
    else:
        raise AssertionError("INVALID_ARGUMENT expected")


async def test_unknown_and_streaming_methods_are_unimplemented(running: Lane) -> None:
    unknown = running.channel.unary_unary(f"/{SERVICE}/Nope")
    try:
        await unknown(b"", timeout=10)
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.UNIMPLEMENTED
    else:
        raise AssertionError("UNIMPLEMENTED expected")
    streaming = running.channel.unary_stream(
        f"/{SERVICE}/StreamEcho",
        request_serializer=EchoRequest.SerializeToString,
        response_deserializer=EchoResponse.FromString,
    )
    try:
        async for _ in streaming(request(name="x"), timeout=10):
            pass
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.UNIMPLEMENTED
        assert "gRPC port" in (exc.details() or "")
    else:
        raise AssertionError("UNIMPLEMENTED expected")


async def test_health_check_is_served(running: Lane) -> None:
    health = health_pb2_grpc.HealthStub(running.channel)
    reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=10)
    # The GX server was not started, so its monitor never reported: the servicer's own answer for "".
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND  # the servicer's own abort, through the lane


async def test_big_messages_cross_frame_sizes_and_flow_control_windows(running: Lane) -> None:
    mode = "size" + "x" * 300_000  # request: 19 frames of 16 KiB, 4.6 default windows
    reply = await running.echo()(request(name="big", mode=mode), metadata=running.token(), timeout=30)
    assert reply.message == str(len(mode))
    reply = await running.echo()(request(name="big", mode="big:900000"), metadata=running.token(), timeout=30)
    assert reply.message == "r" * 900_000


async def test_an_oversized_message_is_resource_exhausted(running: Lane) -> None:
    try:
        await running.echo()(
            request(name="big", mode="x" * (MAX_MESSAGE + 10)), metadata=running.token(), timeout=30
        )
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    else:
        raise AssertionError("RESOURCE_EXHAUSTED expected")
    # The connection is still good.
    assert (await running.echo("PublicEcho")(request(name="ok"), timeout=10)).message == "public ok"


async def test_a_compressed_request_is_refused(running: Lane) -> None:
    try:
        await running.echo("PublicEcho")(request(name="gz"), timeout=10, compression=grpc.Compression.Gzip)
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.UNIMPLEMENTED
        assert "gzip" in (exc.details() or "")
    else:
        raise AssertionError("UNIMPLEMENTED expected")


async def test_two_hundred_concurrent_calls_on_one_connection(running: Lane) -> None:
    # Every call waits until all 200 are inside their handler: only one task per call gets there.
    running.seen.expect_waiting = 200
    calls = [
        running.echo()(request(name=f"c{i}", mode="barrier"), metadata=running.token(), timeout=60)
        for i in range(200)
    ]
    replies = await asyncio.gather(*calls)
    assert [reply.message for reply in replies] == [f"echo c{i}" for i in range(200)]
    assert running.seen.finished == 200
    assert len(set(running.seen.peers)) == 1  # one connection


async def _handler_cancelled(running: Lane) -> None:
    """The handler of the one slow call saw its cancellation (within 2 s) and never finished."""
    for _ in range(200):
        if running.seen.cancelled:
            break
        await asyncio.sleep(0.01)
    assert running.seen.cancelled == 1
    assert running.seen.finished == 0


async def test_a_deadline_that_passes_cancels_the_handler(running: Lane) -> None:
    try:
        await running.echo()(request(name="late", mode="slow"), metadata=running.token(), timeout=0.3)
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    else:
        raise AssertionError("DEADLINE_EXCEEDED expected")
    await _handler_cancelled(running)


async def test_a_client_cancel_cancels_the_handler(running: Lane) -> None:
    call = running.echo()(request(name="gone", mode="slow"), metadata=running.token(), timeout=30)
    await asyncio.wait_for(running.seen.started.wait(), 10)
    call.cancel()
    await _handler_cancelled(running)


async def test_a_sync_channel_gets_the_same_answers(running: Lane) -> None:
    def calls() -> tuple[str, grpc.StatusCode]:
        with grpc.insecure_channel(running.address) as channel:
            echo = channel.unary_unary(
                f"/{SERVICE}/Echo",
                request_serializer=EchoRequest.SerializeToString,
                response_deserializer=EchoResponse.FromString,
            )
            reply = echo(request(name="sync"), metadata=running.token(), timeout=10)
            try:
                echo(request(name="sync", mode="not_found"), metadata=running.token(), timeout=10)
            except grpc.RpcError as exc:
                code = exc.code()
            return reply.message, code

    assert await asyncio.to_thread(calls) == ("echo sync", grpc.StatusCode.NOT_FOUND)


def test_on_uvloop_the_lane_serves_a_sync_channel() -> None:
    # Services run the lane on uvloop (runtime.run): its transports are not asyncio's classes.
    ready = threading.Event()
    held: dict[str, Any] = {}

    async def serve() -> None:
        lane = await start_lane()
        held.update(lane=lane, stop=asyncio.Event(), loop=asyncio.get_running_loop())
        ready.set()
        await held["stop"].wait()
        await close_lane(lane)

    def run() -> None:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(serve())

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert ready.wait(20)
        lane: Lane = held["lane"]
        assert type(held["loop"]).__module__.startswith("uvloop")
        with grpc.insecure_channel(lane.address) as channel:
            echo = channel.unary_unary(
                f"/{SERVICE}/Echo",
                request_serializer=EchoRequest.SerializeToString,
                response_deserializer=EchoResponse.FromString,
            )
            assert echo(request(name="uv"), metadata=lane.token(), timeout=10).message == "echo uv"
            big = echo(request(name="uv", mode="big:200000"), metadata=lane.token(), timeout=10)
            assert big.message == "r" * 200_000
            with pytest.raises(grpc.RpcError) as refused:
                echo(request(name="uv", mode="not_found"), metadata=lane.token(), timeout=10)
            assert refused.value.code() == grpc.StatusCode.NOT_FOUND
            with ThreadPoolExecutor(16) as pool:
                names = [f"p{i}" for i in range(64)]
                replies = list(
                    pool.map(lambda n: echo(request(name=n), metadata=lane.token(), timeout=10), names)
                )
            assert [reply.message for reply in replies] == [f"echo {n}" for n in names]
    finally:
        if "loop" in held:
            held["loop"].call_soon_threadsafe(held["stop"].set)
        thread.join(20)


async def test_connections_are_counted() -> None:
    def sample(name: str) -> float:
        return REGISTRY.get_sample_value(name) or 0.0

    lane = await start_lane()
    try:
        opened, open_now = sample("gx_lane_connections_total"), sample("gx_lane_open_connections")
        assert (await lane.echo("PublicEcho")(request(name="m1"), timeout=10)).message == "public m1"
        assert sample("gx_lane_connections_total") == opened + 1
        assert sample("gx_lane_open_connections") == open_now + 1
        await lane.channel.close()
        for _ in range(200):
            if sample("gx_lane_open_connections") == open_now:
                break
            await asyncio.sleep(0.01)
        assert sample("gx_lane_open_connections") == open_now
    finally:
        await close_lane(lane)
