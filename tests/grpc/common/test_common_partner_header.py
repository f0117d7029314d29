"""The acting partner through the shared auth interceptor on a real gRPC server: `x-gx-partner-token` must be a valid
partner principal's token (else UNAUTHENTICATED, the handler never runs), and it is exposed as `Principal.partner_id`."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
from grpc_status import rpc_status
from prometheus_client import CollectorRegistry

from services.common import auth, errors
from services.common.server import ServiceBinding, create_server
from tests.grpc.common import runtime_test_proto
from tests.grpc.common.jwt_helpers import AUDIENCE, ISSUER, Signer
from tests.grpc.common.runtime_harness import settings
from tests.grpc.common.runtime_test_proto import COLOR_RED, SERVICE

# Built at import from a descriptor, so typed as plain `type` there.
EchoRequest: Any = runtime_test_proto.EchoRequest
EchoResponse: Any = runtime_test_proto.EchoResponse

VALID = {"email": "a@example.com", "color": COLOR_RED}
ACME = "6f1c2a8e-0d3b-4c55-9a61-1f2e3d4c5b6a"
OTHER = "0b7e9d41-5a2c-4e8f-b3d6-7c8a9e0f1d2b"


class _Seen:
    """What the handler saw: the caller and the partner, per call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []


def _binding(seen: _Seen) -> ServiceBinding:
    async def echo(request: Any, context: grpc.aio.ServicerContext) -> Any:
        principal = auth.current_principal()
        seen.calls.append((principal.user_id, principal.partner_id) if principal else ("", None))
        return EchoResponse()

    handler = grpc.unary_unary_rpc_method_handler(
        echo, request_deserializer=EchoRequest.FromString, response_serializer=EchoResponse.SerializeToString
    )
    handlers = {"Echo": handler, "PublicEcho": handler}
    return ServiceBinding(
        name=SERVICE,
        add=lambda server: server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(SERVICE, handlers),)
        ),
    )


@pytest.fixture
async def served() -> AsyncIterator[tuple[grpc.aio.Channel, Signer, _Seen]]:
    signer, seen = Signer("k1"), _Seen()
    verifier = auth.TokenVerifier(
        auth.StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE
    )
    gx = create_server(settings(), [_binding(seen)], {}, verifier=verifier, registry=CollectorRegistry())
    await gx.start()
    channel = grpc.aio.insecure_channel(gx.address)
    try:
        yield channel, signer, seen
    finally:
        await channel.close()
        await gx.stop(0)


def _partner_token(signer: Signer, partner_id: str, **overrides: Any) -> str:
    """A token shaped like identity's IssuePartnerToken answer."""
    return signer.token(sub=f"partner:{partner_id}", roles=["PARTNER"], partner_id=partner_id, **overrides)


async def _call(channel: grpc.aio.Channel, method: str, bearer: str | None, partner: str | None) -> None:
    metadata = []
    if bearer is not None:
        metadata.append(("authorization", f"Bearer {bearer}"))
    if partner is not None:
        metadata.append((auth.PARTNER_TOKEN_HEADER, partner))
    stub = channel.unary_unary(
        f"/{SERVICE}/{method}",
        request_serializer=EchoRequest.SerializeToString,
        response_deserializer=EchoResponse.FromString,
    )
    await stub(EchoRequest(**VALID), metadata=metadata)


async def _refusal(channel: grpc.aio.Channel, method: str, bearer: str | None, partner: str | None) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _call(channel, method, bearer, partner)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    status = rpc_status.from_call(err.value)
    info, _ = errors.details_of(status) if status is not None else (None, None)
    assert info is not None
    return str(info.reason)


async def test_a_users_call_with_a_valid_partner_token_carries_the_partner(
    served: tuple[grpc.aio.Channel, Signer, _Seen],
) -> None:
    channel, signer, seen = served
    await _call(channel, "Echo", signer.token(sub="u-1"), _partner_token(signer, ACME))
    await _call(channel, "Echo", signer.token(sub="u-1"), None)
    # The key alone: the partner principal acts for itself.
    await _call(channel, "Echo", _partner_token(signer, ACME), None)
    assert seen.calls == [("u-1", ACME), ("u-1", None), (f"partner:{ACME}", ACME)]


@pytest.mark.parametrize("kind", ["forged", "expired", "user-token", "claim-mismatch", "garbage"])
async def test_a_bad_partner_token_is_refused_and_the_handler_never_runs(
    served: tuple[grpc.aio.Channel, Signer, _Seen], kind: str
) -> None:
    channel, signer, seen = served
    now = int(time.time())
    makers: dict[str, Callable[[], str]] = {
        "forged": lambda: _partner_token(Signer("k1"), ACME),
        "expired": lambda: _partner_token(signer, ACME, iat=now - 2000, exp=now - 1000),
        "user-token": lambda: signer.token(sub="u-2", roles=["USER", "PARTNER"]),
        "claim-mismatch": lambda: signer.token(sub=f"partner:{OTHER}", roles=["PARTNER"], partner_id=ACME),
        "garbage": lambda: "not-a-token",
    }
    header = makers[kind]()
    assert await _refusal(channel, "Echo", signer.token(sub="u-1"), header) == "PARTNER_TOKEN_INVALID"
    # Not ignored on a public method either: the edge never sends a bad one.
    assert await _refusal(channel, "PublicEcho", None, header) == "PARTNER_TOKEN_INVALID"
    assert seen.calls == []


async def test_a_partner_principal_cannot_act_for_another_partner(
    served: tuple[grpc.aio.Channel, Signer, _Seen],
) -> None:
    channel, signer, seen = served
    reason = await _refusal(channel, "Echo", _partner_token(signer, ACME), _partner_token(signer, OTHER))
    assert reason == "PARTNER_TOKEN_INVALID" and seen.calls == []
