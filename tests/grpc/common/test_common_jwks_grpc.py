"""A service that is not identity verifies tokens with keys fetched from identity's GetJwks over gRPC."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import grpc
import pytest
from google.api import httpbody_pb2
from prometheus_client import CollectorRegistry

from services.common.server import create_server
from tests.grpc.common.jwt_helpers import Signer
from tests.grpc.common.runtime_harness import Behaviour, binding, settings
from tests.grpc.common.runtime_test_proto import COLOR_RED, SERVICE, EchoRequest, EchoResponse

GET_JWKS = "/gx.identity.v1.IdentityService/GetJwks"


class FakeIdentityJwks:
    """Stands in for identity's GetJwks: serves whatever keys are published now, and counts calls."""

    def __init__(self) -> None:
        self.signers: list[Signer] = [Signer("old")]
        self.calls = 0

    async def get_jwks(self, request: bytes, context: grpc.aio.ServicerContext) -> httpbody_pb2.HttpBody:
        self.calls += 1
        body = json.dumps({"keys": [s.jwk() for s in self.signers]}).encode()
        return httpbody_pb2.HttpBody(content_type="application/json", data=body)


@pytest.fixture
async def identity() -> AsyncIterator[tuple[FakeIdentityJwks, str]]:
    fake = FakeIdentityJwks()
    server = grpc.aio.server()
    handler = grpc.unary_unary_rpc_method_handler(
        fake.get_jwks,
        request_deserializer=lambda b: b,
        response_serializer=httpbody_pb2.HttpBody.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("gx.identity.v1.IdentityService", {"GetJwks": handler}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield fake, f"127.0.0.1:{port}"
    finally:
        await server.stop(0)


async def test_keys_are_fetched_from_identity_and_rotation_is_picked_up(
    identity: tuple[FakeIdentityJwks, str],
) -> None:
    fake, target = identity
    s = settings()
    s.auth.jwks_target = target
    s.auth.jwks_min_refresh_seconds = 0
    gx = create_server(s, [binding(Behaviour())], registry=CollectorRegistry())
    async with gx, grpc.aio.insecure_channel(gx.address) as channel:
        call = channel.unary_unary(
            f"/{SERVICE}/Echo",
            request_serializer=EchoRequest.SerializeToString,
            response_deserializer=EchoResponse.FromString,
        )
        request = EchoRequest(email="a@example.com", color=COLOR_RED)
        token = fake.signers[0].token(sub="u-old")
        reply = await call(request, metadata=[("authorization", f"Bearer {token}")])
        assert reply.user_id == "u-old"
        assert fake.calls == 1
        # A second call uses the cached key.
        await call(request, metadata=[("authorization", f"Bearer {token}")])
        assert fake.calls == 1

        # Identity rotates: a token with the new kid makes the service refetch once.
        fake.signers.append(Signer("new"))
        reply = await call(
            request, metadata=[("authorization", f"Bearer {fake.signers[1].token(sub='u-new')}")]
        )
        assert reply.user_id == "u-new"
        assert fake.calls == 2

        # A key identity never published stays refused.
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call(request, metadata=[("authorization", f"Bearer {Signer('rogue').token()}")])
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_identity_down_means_unauthenticated_not_internal() -> None:
    s = settings()
    s.auth.jwks_target = "127.0.0.1:1"
    gx = create_server(s, [binding(Behaviour())], registry=CollectorRegistry())
    async with gx, grpc.aio.insecure_channel(gx.address) as channel:
        call = channel.unary_unary(
            f"/{SERVICE}/Echo",
            request_serializer=EchoRequest.SerializeToString,
            response_deserializer=EchoResponse.FromString,
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call(
                EchoRequest(email="a@example.com", color=COLOR_RED),
                metadata=[("authorization", f"Bearer {Signer('k').token()}")],
                timeout=10,
            )
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
