"""The test service the runtime's gRPC tests serve, and the settings they run it with."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import grpc
from prometheus_client import CollectorRegistry

from services.common import auth
from services.common.errors import NotFound
from services.common.logging import request_id_var
from services.common.server import GxServer, ServiceBinding
from services.common.settings import ServiceSettings
from tests.grpc.common.jwt_helpers import Signer
from tests.grpc.common.runtime_test_proto import SERVICE, EchoRequest, EchoResponse


@dataclass
class Behaviour:
    """Lets a test steer the service: which checks fail, how long Echo takes, how many calls ran."""

    healthy: bool = True
    calls: int = 0
    started: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


async def _echo(behaviour: Behaviour, request: Any, context: grpc.aio.ServicerContext) -> Any:
    behaviour.calls += 1
    principal = auth.current_principal()
    if request.mode == "not_found":
        raise NotFound("no such thing", reason="THING_NOT_FOUND", metadata={"thing": request.name})
    if request.mode == "boom":
        raise RuntimeError("password=hunter2 in SELECT * FROM secrets")
    if request.mode == "slow":
        behaviour.started.set()
        await behaviour.release.wait()
    return EchoResponse(
        message=request_id_var.get() or "",
        user_id=principal.user_id if principal else "",
        request_id=request.request_id,
        roles=sorted(auth.role_claim_name(r) for r in principal.roles) if principal else [],
    )


async def _stream(behaviour: Behaviour, request: Any, context: grpc.aio.ServicerContext) -> Any:
    for i in range(3):
        if request.mode == "boom" and i == 2:
            raise NotFound("gone mid-stream", reason="STREAM_GONE")
        yield EchoResponse(message=str(i))


def binding(behaviour: Behaviour) -> ServiceBinding:
    def unary(fn: Any) -> grpc.RpcMethodHandler:
        async def handler(request: Any, context: grpc.aio.ServicerContext) -> Any:
            return await fn(behaviour, request, context)

        return grpc.unary_unary_rpc_method_handler(
            handler,
            request_deserializer=EchoRequest.FromString,
            response_serializer=EchoResponse.SerializeToString,
        )

    def stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
        return _stream(behaviour, request, context)

    handlers = {
        "Echo": unary(_echo),
        "PublicEcho": unary(_echo),
        "AdminEcho": unary(_echo),
        "StreamEcho": grpc.unary_stream_rpc_method_handler(
            stream,
            request_deserializer=EchoRequest.FromString,
            response_serializer=EchoResponse.SerializeToString,
        ),
    }
    return ServiceBinding(
        name=SERVICE,
        add=lambda server: server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(SERVICE, handlers),)
        ),
    )


@dataclass
class Running:
    """The running server and what tests need to talk to it."""

    gx: GxServer
    channel: grpc.aio.Channel
    signer: Signer
    behaviour: Behaviour
    registry: CollectorRegistry

    def call(self, method: str) -> Any:
        return self.channel.unary_unary(
            f"/{SERVICE}/{method}",
            request_serializer=EchoRequest.SerializeToString,
            response_deserializer=EchoResponse.FromString,
        )

    def stream(self, method: str) -> Any:
        return self.channel.unary_stream(
            f"/{SERVICE}/{method}",
            request_serializer=EchoRequest.SerializeToString,
            response_deserializer=EchoResponse.FromString,
        )


def settings(**kw: Any) -> ServiceSettings:
    values: dict[str, Any] = {
        "service_name": "runtimetest",
        "listen": "127.0.0.1:0",
        "metrics_listen": "127.0.0.1:0",
        "health_check_interval_seconds": 0.05,
    }
    return ServiceSettings(**{**values, **kw})
