"""The one-coroutine call chain's per-call savings keep the layered behaviour: metadata read once
per call (first value of a key, bytes decoded), request checks learned once per method."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import pytest
from gx.identity.v1 import identity_service_pb2
from prometheus_client import CollectorRegistry

from services.common import auth
from services.common.errors import InvalidArgument
from services.common.interceptors import ServerCalls
from services.common.metrics import GrpcServerMetrics
from services.common.rpc import hold_metadata, metadata_value, release_metadata


class _Context:
    """A servicer context that counts how often its metadata is built."""

    def __init__(self, metadata: tuple[tuple[str, Any], ...]) -> None:
        self._metadata = metadata
        self.reads = 0
        self.aborted: Any = None

    def invocation_metadata(self) -> tuple[tuple[str, Any], ...]:
        self.reads += 1
        return self._metadata

    def peer(self) -> str:
        return "ipv4:127.0.0.1:1234"

    def code(self) -> Any:
        return None

    async def abort_with_status(self, status: Any) -> None:
        self.aborted = status
        raise grpc.aio.AbortError()


def test_held_metadata_answers_like_a_scan_and_is_read_once() -> None:
    context = _Context((("a", "first"), ("a", "second"), ("b-bin", b"bytes"), ("c", "x")))
    scanned = [metadata_value(context, k) for k in ("a", "b-bin", "c", "missing")]
    assert scanned == ["first", "bytes", "x", None] and context.reads == 4
    token = hold_metadata(context)
    try:
        held = [metadata_value(context, k) for k in ("a", "b-bin", "c", "missing")]
        # Another call's context is never answered from this call's metadata.
        other = _Context((("a", "other"),))
        assert metadata_value(other, "a") == "other"
    finally:
        release_metadata(token)
    assert held == scanned and context.reads == 5
    metadata_value(context, "a")
    assert context.reads == 6  # released: scanned again


def _calls() -> ServerCalls:
    return ServerCalls(
        "test.gx",
        GrpcServerMetrics.for_registry(CollectorRegistry()),
        auth.AuthInterceptor(None, public=["gx.identity.v1.IdentityService"]),
    )


async def test_one_call_reads_the_metadata_once_and_fills_and_validates_each_request() -> None:
    seen: list[str] = []

    async def handler(request: Any, context: Any) -> Any:
        seen.append(request.request_id)
        return identity_service_pb2.GetUserResponse()

    wrapped = _calls().wrap(
        "/gx.identity.v1.IdentityService/RegisterUser",
        grpc.unary_unary_rpc_method_handler(handler),
    )
    keys = [str(uuid.uuid4()), str(uuid.uuid4())]
    for key in keys:
        context = _Context((("idempotency-key", key), ("x-request-id", "r1"), ("traceparent", "bad")))
        request = identity_service_pb2.RegisterUserRequest(
            email="a@example.com", password="a long enough password 1", country_code="LK"
        )
        await wrapped.unary_unary(request, context)
        assert context.reads == 1 and context.aborted is None
    assert seen == keys  # the key filled each call's empty request_id
    # Still validated on every call after the method learned its request type.
    bad = _Context(())
    with pytest.raises(grpc.aio.AbortError):
        await wrapped.unary_unary(identity_service_pb2.RegisterUserRequest(), bad)
    assert bad.aborted is not None and bad.aborted.code == grpc.StatusCode.INVALID_ARGUMENT
    assert seen == keys


def test_a_message_without_rules_is_never_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.common import validation

    def refuse(message: Any) -> None:
        raise InvalidArgument("walked", violations=[], reason="WALKED")

    monkeypatch.setattr(validation, "validate", refuse)
    import asyncio

    async def handler(request: Any, context: Any) -> Any:
        return identity_service_pb2.GetJwksRequest()

    wrapped = _calls().wrap(
        "/gx.identity.v1.IdentityService/GetJwks", grpc.unary_unary_rpc_method_handler(handler)
    )
    context = _Context(())
    asyncio.run(wrapped.unary_unary(identity_service_pb2.GetJwksRequest(), context))
    assert context.aborted is None
