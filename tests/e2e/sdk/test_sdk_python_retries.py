"""gx-client's retry, request-id, credential and error handling against a real gRPC server that fails on purpose."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from gx.identity.v1 import identity_service_pb2_grpc
from gx.type.v1 import operation_pb2
from gx.wallet.v1 import wallet_service_pb2_grpc
from gx_client import Client, FailedPrecondition, Unavailable


@dataclass
class _Seen:
    request_ids: list[str] = field(default_factory=list)
    metadata: list[dict[str, str]] = field(default_factory=list)
    logins: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _FlakyWallet(wallet_service_pb2_grpc.WalletServiceServicer):
    """Transfer: UNAVAILABLE twice, then an operation; an amount of 13 fails with an ErrorInfo."""

    def __init__(self, seen: _Seen) -> None:
        self.seen = seen

    def Transfer(self, request, context):  # type: ignore[no-untyped-def]
        with self.seen.lock:
            self.seen.request_ids.append(request.request_id)
            self.seen.metadata.append(dict(context.invocation_metadata()))
            attempt = len(self.seen.request_ids)
        if request.amount_qirat == 13:
            info = error_details_pb2.ErrorInfo(reason="INSUFFICIENT_FUNDS", domain="wallet.gx")
            detail = any_pb2.Any()
            detail.Pack(info)
            status = status_pb2.Status(code=code_pb2.FAILED_PRECONDITION, message="no", details=[detail])
            context.abort_with_status(rpc_status.to_status(status))
        if attempt <= 2:
            context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
        return operation_pb2.Operation(name="operations/op-1", state=operation_pb2.OPERATION_STATE_PENDING)


class _DownIdentity(identity_service_pb2_grpc.IdentityServiceServicer):
    def __init__(self, seen: _Seen) -> None:
        self.seen = seen

    def Login(self, request, context):  # type: ignore[no-untyped-def]
        with self.seen.lock:
            self.seen.logins += 1
        context.abort(grpc.StatusCode.UNAVAILABLE, "down")


@pytest.fixture
def server() -> Iterator[tuple[str, _Seen]]:
    seen = _Seen()
    grpc_server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    wallet_service_pb2_grpc.add_WalletServiceServicer_to_server(_FlakyWallet(seen), grpc_server)
    identity_service_pb2_grpc.add_IdentityServiceServicer_to_server(_DownIdentity(seen), grpc_server)
    port = grpc_server.add_insecure_port("127.0.0.1:0")
    grpc_server.start()
    try:
        yield f"127.0.0.1:{port}", seen
    finally:
        grpc_server.stop(0)


def test_unavailable_is_retried_with_the_same_request_id_and_credentials(server: tuple[str, _Seen]) -> None:
    target, seen = server
    with Client(target, access_token="tok-1", api_key="key-1") as client:
        operation = client.transfer(5, to_user_id="00000000-0000-4000-8000-000000000001")
    assert operation.id == "op-1" and operation.state == "OPERATION_STATE_PENDING"
    assert len(seen.request_ids) == 3 and len(set(seen.request_ids)) == 1 and seen.request_ids[0]
    assert all(m["authorization"] == "Bearer tok-1" and m["x-api-key"] == "key-1" for m in seen.metadata)


def test_each_call_gets_its_own_request_id(server: tuple[str, _Seen]) -> None:
    target, seen = server
    with Client(target, access_token="tok-1") as client:
        client.transfer(5, to_user_id="00000000-0000-4000-8000-000000000001")
        client.transfer(5, to_user_id="00000000-0000-4000-8000-000000000001")
    assert len(seen.request_ids) == 4 and len(set(seen.request_ids)) == 2


def test_login_is_never_retried(server: tuple[str, _Seen]) -> None:
    target, seen = server
    with Client(target) as client, pytest.raises(Unavailable):
        client.login("ada@example.com", "Correct horse 123!")
    assert seen.logins == 1


def test_an_error_carries_its_reason_and_is_not_retried(server: tuple[str, _Seen]) -> None:
    target, seen = server
    with Client(target, access_token="tok-1") as client, pytest.raises(FailedPrecondition) as failed:
        client.transfer(13, to_user_id="00000000-0000-4000-8000-000000000001")
    assert (failed.value.reason, failed.value.domain, failed.value.message) == (
        "INSUFFICIENT_FUNDS",
        "wallet.gx",
        "no",
    )
    assert len(seen.request_ids) == 1
