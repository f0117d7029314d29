"""The load generators' lean gRPC client against a real grpc.aio server: answers, statuses, many at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.lean_grpc import CallFailed, LeanUnary, lean_channel

_CHECK = "/grpc.health.v1.Health/Check"


class _Health(health_pb2_grpc.HealthServicer):
    async def Check(self, request, context):  # type: ignore[no-untyped-def]
        if request.service == "missing":
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such service")
        if request.service.startswith("slow"):
            await asyncio.sleep(0.01 * int(request.service.removeprefix("slow")))
        status = health_pb2.HealthCheckResponse.SERVING
        return health_pb2.HealthCheckResponse(status=status if request.service != "down" else 2)


_ECHO = "/test.Echo/Echo"


def _echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request


@pytest.fixture
async def port() -> AsyncIterator[int]:
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(_Health(), server)
    # Bytes in, the same bytes out: answers as large as the test wants.
    echo = grpc.unary_unary_rpc_method_handler(_echo)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Echo", {"Echo": echo}),))
    bound = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield bound
    finally:
        await server.stop(0)


def _ask(service: str) -> bytes:
    return health_pb2.HealthCheckRequest(service=service).SerializeToString()


async def test_a_call_gets_the_servers_message_and_status(port: int) -> None:
    async with lean_channel("127.0.0.1", port) as client:
        status, message = await client.call(_CHECK, _ask(""))
        assert status == 0
        assert (
            health_pb2.HealthCheckResponse.FromString(message).status
            == health_pb2.HealthCheckResponse.SERVING
        )
        status, message = await client.call(_CHECK, _ask("down"))
        assert (status, health_pb2.HealthCheckResponse.FromString(message).status) == (0, 2)


async def test_an_error_status_comes_back_without_a_message(port: int) -> None:
    async with lean_channel("127.0.0.1", port) as client:
        assert await client.call(_CHECK, _ask("missing")) == (grpc.StatusCode.NOT_FOUND.value[0], b"")
        unknown = await client.call("/grpc.health.v1.Health/Nope", b"")
        assert unknown[0] == grpc.StatusCode.UNIMPLEMENTED.value[0]


async def test_calls_in_flight_at_once_each_get_their_own_answer(port: int) -> None:
    # Answers come back out of order (later calls sleep less); each must reach its own caller.
    async with lean_channel("127.0.0.1", port) as client:
        services = [f"slow{n % 4}" if n % 5 else "down" for n in range(200)]
        answers = await asyncio.gather(*(client.call(_CHECK, _ask(s)) for s in services))
    for service, (status, message) in zip(services, answers, strict=True):
        assert status == 0
        expected = 2 if service == "down" else health_pb2.HealthCheckResponse.SERVING
        assert health_pb2.HealthCheckResponse.FromString(message).status == expected


async def test_more_data_than_the_default_windows_flows_both_ways(port: int) -> None:
    # 6 MiB each way, more than the windows the server opens (4 MiB for grpc's C core): the client
    # must wait for the server's WINDOW_UPDATEs before sending, and give back what it receives.
    async with lean_channel("127.0.0.1", port) as client:
        bodies = [bytes([n]) * 200_000 for n in range(30)]
        answers = await asyncio.gather(*(client.call(_ECHO, body) for body in bodies))
    assert answers == [(0, body) for body in bodies]


async def test_calls_fail_when_the_connection_goes(port: int) -> None:
    client = await LeanUnary.connect("127.0.0.1", port)
    waiting = asyncio.ensure_future(client.call(_CHECK, _ask("slow100")))
    await asyncio.sleep(0.05)
    await client.close()
    with pytest.raises(CallFailed):
        await waiting
    with pytest.raises(CallFailed):
        await client.call(_CHECK, _ask(""))


def test_it_runs_on_uvloop_as_the_generators_do() -> None:
    # uvloop's transports are not asyncio.Transport instances: nothing may depend on that.
    import uvloop

    async def one_call() -> tuple[int, bytes]:
        server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(_Health(), server)
        bound = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            async with lean_channel("127.0.0.1", bound) as client:
                return await client.call(_CHECK, _ask(""))
        finally:
            await server.stop(0)

    status, message = uvloop.run(one_call())
    assert status == 0
    assert health_pb2.HealthCheckResponse.FromString(message).status == health_pb2.HealthCheckResponse.SERVING


async def test_a_call_made_before_the_servers_settings_waits_for_them(port: int) -> None:
    # Until the server's SETTINGS arrive its frame size is HTTP/2's default 16 KiB and its stream
    # window 64 KiB: a 100 kB call started at once must wait for them, then go out in frames.
    client = await LeanUnary.connect("127.0.0.1", port)
    try:
        body = b"x" * 100_000
        answer = client.start(_ECHO, body)  # no loop turn since connect: no SETTINGS read yet
        assert await answer == (0, body)
    finally:
        await client.close()
