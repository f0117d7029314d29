"""services.common.reflection over a real gRPC server: the whole mesh listed, methods and fields found by name."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from services.common.reflection import enable_reflection, mesh_service_names


@pytest.fixture
async def stub() -> AsyncIterator[reflection_pb2_grpc.ServerReflectionStub]:
    server = grpc.aio.server()
    enable_reflection(mesh_service_names(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield reflection_pb2_grpc.ServerReflectionStub(channel)
    finally:
        await server.stop(None)


async def _ask(
    stub: reflection_pb2_grpc.ServerReflectionStub, request: reflection_pb2.ServerReflectionRequest
) -> reflection_pb2.ServerReflectionResponse:
    async def requests() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
        yield request

    async for reply in stub.ServerReflectionInfo(requests()):
        return reply
    raise AssertionError("no reflection answer")


def test_the_mesh_is_every_gx_service_in_the_generated_packages() -> None:
    names = mesh_service_names()
    assert names == sorted(names)
    assert {
        "gx.identity.v1.IdentityService",
        "gx.wallet.v1.WalletService",
        "gx.wallet.v1.TaxService",
        "gx.licensing.v1.LicensingService",
        "gx.ops.v1.OutboxAdminService",
    } <= set(names)
    assert all(n.startswith("gx.") for n in names)


async def test_it_lists_the_mesh(stub: reflection_pb2_grpc.ServerReflectionStub) -> None:
    reply = await _ask(stub, reflection_pb2.ServerReflectionRequest(list_services=""))
    assert [s.name for s in reply.list_services_response.service] == mesh_service_names()


@pytest.mark.parametrize(
    ("symbol", "file"),
    [
        ("gx.wallet.v1.WalletService", "gx/wallet/v1/wallet_service.proto"),
        # The stock servicer answered NOT_FOUND for a method (grpcurl describe Service.Method).
        ("gx.wallet.v1.WalletService.Transfer", "gx/wallet/v1/wallet_service.proto"),
        ("gx.identity.v1.LoginRequest.email", "gx/identity/v1/identity_service.proto"),
    ],
)
async def test_a_service_method_or_field_resolves_to_its_file(
    stub: reflection_pb2_grpc.ServerReflectionStub, symbol: str, file: str
) -> None:
    reply = await _ask(stub, reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol))
    assert reply.HasField("file_descriptor_response"), reply
    first = descriptor_pb2.FileDescriptorProto.FromString(
        reply.file_descriptor_response.file_descriptor_proto[0]
    )
    assert first.name == file


async def test_an_unknown_symbol_is_not_found(stub: reflection_pb2_grpc.ServerReflectionStub) -> None:
    for symbol in ("gx.wallet.v1.WalletService.NoSuchMethod", "gx.nothing.v1.Nope"):
        reply = await _ask(stub, reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol))
        assert reply.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
