"""Handlers of generated services are served through one by-name generic handler, not as grpc.aio
registered methods (whose server loop waits on one pending future per method for every call)."""

from __future__ import annotations

from typing import Any

import grpc
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
        # The by-name handler first, then the generated one (reached only for unknown methods);
        # none of the service's methods is a grpc.aio registered method.
        assert recording.registered == [] and recording.generic == 2
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
