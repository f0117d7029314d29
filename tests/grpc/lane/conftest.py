"""A real GX server (create_server's call chain) whose wrapped handlers are served by the lane."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from prometheus_client import CollectorRegistry

from services.common import auth
from services.common.errors import NotFound
from services.common.lane import UnaryLane
from services.common.server import GxServer, ServiceBinding, create_server
from tests.grpc.common.jwt_helpers import AUDIENCE, ISSUER, Signer
from tests.grpc.common.runtime_harness import settings
from tests.grpc.common.runtime_test_proto import COLOR_RED, SERVICE, EchoRequest, EchoResponse

MAX_MESSAGE = 1024 * 1024
EMAIL = "lane@gx.test"


@dataclass
class Seen:
    """What the handlers saw, for the tests to assert on."""

    metadata: list[tuple[tuple[str, Any], ...]] = field(default_factory=list)
    peers: list[str] = field(default_factory=list)
    remaining: list[float | None] = field(default_factory=list)
    cancelled: int = 0
    finished: int = 0
    started: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0
    all_waiting: asyncio.Event = field(default_factory=asyncio.Event)
    expect_waiting: int = 0


async def _echo(seen: Seen, request: Any, context: grpc.aio.ServicerContext) -> Any:
    mode = request.mode
    seen.metadata.append(tuple(context.invocation_metadata()))
    seen.peers.append(context.peer())
    seen.remaining.append(context.time_remaining())
    if mode == "not_found":
        raise NotFound("no such thing", reason="THING_NOT_FOUND", metadata={"thing": request.name})
    if mode == "headers":
        await context.send_initial_metadata((("x-http-status", "202"), ("x-initial-bin", b"\x00\xfe")))
        context.set_trailing_metadata((("x-trailer", "t1"), ("x-trailer-bin", b"\xff\x00\x01")))
    if mode.startswith("big:"):
        return EchoResponse(message="r" * int(mode[4:]))
    if mode.startswith("size"):
        return EchoResponse(message=str(len(mode)))
    if mode in ("slow", "barrier"):
        try:
            if mode == "barrier":
                seen.waiting += 1
                if seen.waiting >= seen.expect_waiting:
                    seen.all_waiting.set()
                await seen.all_waiting.wait()
            else:
                seen.started.set()
                await seen.release.wait()
        except asyncio.CancelledError:
            seen.cancelled += 1
            raise
        seen.finished += 1
    return EchoResponse(message=f"echo {request.name}", user_id=auth.current_principal().user_id)  # type: ignore[union-attr]


async def _public(seen: Seen, request: Any, context: grpc.aio.ServicerContext) -> Any:
    return EchoResponse(message=f"public {request.name}")


async def _stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
    yield EchoResponse(message="0")


def lane_binding(seen: Seen, captured: list[Any]) -> ServiceBinding:
    """The test service registered as generated code registers (add_registered_method_handlers)."""

    def unary(fn: Callable[..., Any]) -> grpc.RpcMethodHandler:
        async def handler(request: Any, context: grpc.aio.ServicerContext) -> Any:
            return await fn(seen, request, context)

        return grpc.unary_unary_rpc_method_handler(
            handler,
            request_deserializer=EchoRequest.FromString,
            response_serializer=EchoResponse.SerializeToString,
        )

    handlers = {
        "Echo": unary(_echo),
        "PublicEcho": unary(_public),
        "StreamEcho": grpc.unary_stream_rpc_method_handler(
            _stream,
            request_deserializer=EchoRequest.FromString,
            response_serializer=EchoResponse.SerializeToString,
        ),
    }

    def add(server: Any) -> None:
        captured.append(server)
        server.add_registered_method_handlers(SERVICE, handlers)

    return ServiceBinding(name=SERVICE, add=add)


@dataclass
class Lane:
    """The lane serving a GX server's wrapped handlers, a channel to it, and what to call with."""

    lane: UnaryLane
    port: int
    gx: GxServer
    methods: Any
    channel: grpc.aio.Channel
    signer: Signer
    seen: Seen
    registry: CollectorRegistry

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def token(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.signer.token(sub='user-7')}"),)

    def echo(self, method: str = "Echo") -> Any:
        return self.channel.unary_unary(
            f"/{SERVICE}/{method}",
            request_serializer=EchoRequest.SerializeToString,
            response_deserializer=EchoResponse.FromString,
        )


async def start_lane(max_message: int = MAX_MESSAGE) -> Lane:
    signer = Signer("lane")
    seen = Seen()
    captured: list[Any] = []
    registry = CollectorRegistry()
    verifier = auth.TokenVerifier(
        auth.StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE
    )
    gx = create_server(settings(), [lane_binding(seen, captured)], verifier=verifier, registry=registry)
    methods = captured[0].unary_methods
    lane = UnaryLane(methods, max_message_bytes=max_message)
    port = await lane.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    return Lane(lane, port, gx, methods, channel, signer, seen, registry)


async def close_lane(lane: Lane) -> None:
    lane.seen.release.set()
    await lane.channel.close()
    await lane.lane.stop(0)
    await lane.gx.stop(0)


@pytest.fixture
async def running() -> AsyncIterator[Lane]:
    lane = await start_lane()
    try:
        yield lane
    finally:
        await close_lane(lane)


def request(**kw: Any) -> Any:
    return EchoRequest(email=EMAIL, color=COLOR_RED, **kw)
