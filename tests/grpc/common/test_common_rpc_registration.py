"""Handlers of generated services are served through one by-name generic handler, not as grpc.aio
registered methods (whose server loop waits on one pending future per method for every call)."""

from __future__ import annotations

from typing import Any

import grpc
from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc
from google.rpc import status_pb2
from gx.identity.v1 import identity_pb2, identity_service_pb2, identity_service_pb2_grpc

from services.common.rpc import WrappingServer


class _Identity(identity_service_pb2_grpc.IdentityServiceServicer):
    async def GetUser(
        self, request: identity_service_pb2.GetUserRequest, context: grpc.aio.ServicerContext
    ) -> identity_service_pb2.GetUserResponse:
        return identity_service_pb2.GetUserResponse(user=identity_pb2.User(user_id=request.user_id))


class _Recording:
    """The real server, with what reaches its registration methods written down."""

    def __init__(self, server: grpc.aio.Server) -> None:
        self.server = server
        self.registered: list[str] = []
        self.generic = 0

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Any]) -> None:
        self.registered.append(service)
        self.server.add_registered_method_handlers(service, handlers)

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        self.generic += 1
        self.server.add_generic_rpc_handlers(handlers)


async def test_generated_methods_are_served_by_name_and_wrapped_without_registered_methods() -> None:
    wrapped: list[str] = []

    def wrap(full_method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        inner = handler.unary_unary

        async def behavior(request: Any, context: grpc.aio.ServicerContext) -> Any:
            wrapped.append(full_method)
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            behavior,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    server = grpc.aio.server()
    recording = _Recording(server)
    identity_service_pb2_grpc.add_IdentityServiceServicer_to_server(
        _Identity(), WrappingServer(recording, wrap)
    )  # type: ignore[arg-type]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        # Only the by-name handler: the generated generic handler's methods joined it (found through
        # the service's descriptor); none is a grpc.aio registered method.
        assert recording.registered == [] and recording.generic == 1
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = identity_service_pb2_grpc.IdentityServiceStub(channel)
            for user in ("u-1", "u-2"):
                reply = await stub.GetUser(identity_service_pb2.GetUserRequest(user_id=user), timeout=5)
                assert reply.user.user_id == user
            unknown = channel.unary_unary("/gx.identity.v1.IdentityService/NoSuchMethod")
            try:
                await unknown(b"", timeout=5)
                raise AssertionError("an unknown method was answered")
            except grpc.aio.AioRpcError as err:
                assert err.code() == grpc.StatusCode.UNIMPLEMENTED
        assert wrapped == ["/gx.identity.v1.IdentityService/GetUser"] * 2
    finally:
        await server.stop(0)


class _Authorization(external_auth_pb2_grpc.AuthorizationServicer):
    async def Check(
        self, request: external_auth_pb2.CheckRequest, context: grpc.aio.ServicerContext
    ) -> external_auth_pb2.CheckResponse:
        return external_auth_pb2.CheckResponse(status=status_pb2.Status(code=7))


async def test_an_old_style_stub_is_found_by_name_so_the_edge_lane_serves_it() -> None:
    # Envoy's data-plane stubs (ext_authz) were generated before add_registered_method_handlers:
    # they register a generic handler only, which the lane could not see (ext_authz answered
    # UNIMPLEMENTED there, and keyed requests failed closed with 503).
    wrapped: list[str] = []

    def wrap(full_method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        wrapped.append(full_method)
        return handler

    server = grpc.aio.server()
    wrapping = WrappingServer(server, wrap)
    external_auth_pb2_grpc.add_AuthorizationServicer_to_server(_Authorization(), wrapping)  # type: ignore[arg-type]
    assert set(wrapping.unary_methods) == {"/envoy.service.auth.v3.Authorization/Check"}
    assert wrapped == ["/envoy.service.auth.v3.Authorization/Check"]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = await external_auth_pb2_grpc.AuthorizationStub(channel).Check(
                external_auth_pb2.CheckRequest(), timeout=5
            )
        assert reply.status.code == 7
    finally:
        await server.stop(0)
