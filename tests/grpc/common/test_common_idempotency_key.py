"""The Idempotency-Key header and its X-Idempotency-Key alias fill an empty request_id, over real gRPC."""

from __future__ import annotations

import uuid

import grpc
import pytest
from grpc_status import rpc_status

from services.common import errors
from tests.grpc.common.runtime_harness import Running
from tests.grpc.common.runtime_test_proto import COLOR_RED, EchoRequest

VALID = {"email": "a@example.com", "color": COLOR_RED}


@pytest.mark.parametrize("header", ["idempotency-key", "x-idempotency-key"])
async def test_either_header_fills_an_empty_request_id(running: Running, header: str) -> None:
    key = str(uuid.uuid4())
    meta = [(header, f" {key} "), ("authorization", f"Bearer {running.signer.token()}")]
    reply = await running.call("Echo")(EchoRequest(**VALID), metadata=meta)
    assert reply.request_id == key


async def test_the_body_request_id_wins_over_the_header(running: Running) -> None:
    body, header = str(uuid.uuid4()), str(uuid.uuid4())
    meta = [("x-idempotency-key", header), ("authorization", f"Bearer {running.signer.token()}")]
    reply = await running.call("Echo")(EchoRequest(request_id=body, **VALID), metadata=meta)
    assert reply.request_id == body


async def test_both_headers_must_agree(running: Running) -> None:
    key = str(uuid.uuid4())
    token = ("authorization", f"Bearer {running.signer.token()}")
    same = [("idempotency-key", key), ("x-idempotency-key", key), token]
    assert (await running.call("Echo")(EchoRequest(**VALID), metadata=same)).request_id == key
    differ = [("idempotency-key", key), ("x-idempotency-key", str(uuid.uuid4())), token]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await running.call("Echo")(EchoRequest(**VALID), metadata=differ)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(err.value)
    assert status is not None
    info, _ = errors.details_of(status)
    assert info is not None and info.reason == "IDEMPOTENCY_KEY_CONFLICT"
