"""Decoding gateway.ErrorDetail from grpc-status-details-bin into the typed errors."""

from __future__ import annotations

import grpc
from fabric_protos.gateway import gateway_pb2
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from fabric_client.errors import (
    EndorseError,
    ErrorDetail,
    EvaluateError,
    GatewayError,
    decode_error_details,
)


def _trailers(*details: object, code: int = 10, message: str = "failed") -> list[tuple[str, bytes | str]]:
    status = status_pb2.Status(code=code, message=message)
    for detail in details:
        packed = any_pb2.Any()
        packed.Pack(detail)  # type: ignore[arg-type]
        status.details.append(packed)
    return [("content-type", "application/grpc"), ("grpc-status-details-bin", status.SerializeToString())]


class _FakeRpcError(grpc.RpcError):
    """The three accessors an aio call error offers, for decoding tests without a server."""

    def __init__(self, code: grpc.StatusCode, details: str, trailers: object) -> None:
        self._code, self._details, self._trailers = code, details, trailers

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> object:
        return self._trailers


def test_every_error_detail_is_decoded_in_order() -> None:
    trailers = _trailers(
        gateway_pb2.ErrorDetail(address="peer0.org1.example.com:7051", msp_id="Org1MSP", message="one"),
        error_details_pb2.ErrorInfo(reason="IGNORED"),  # a foreign detail type is skipped
        gateway_pb2.ErrorDetail(address="peer1.org2.example.com:9051", msp_id="Org2MSP", message="two"),
    )
    assert decode_error_details(trailers) == [
        ErrorDetail("peer0.org1.example.com:7051", "Org1MSP", "one"),
        ErrorDetail("peer1.org2.example.com:9051", "Org2MSP", "two"),
    ]


def test_no_details_trailer_gives_no_details() -> None:
    assert decode_error_details(None) == []
    assert decode_error_details([("x", "y")]) == []


def test_endorse_error_carries_code_details_and_the_chaincode_response() -> None:
    rpc_error = _FakeRpcError(
        grpc.StatusCode.ABORTED,
        "failed to endorse transaction, see attached details for more info",
        _trailers(
            gateway_pb2.ErrorDetail(
                address="peer0.org1.example.com:7051",
                msp_id="Org1MSP",
                message="chaincode response 500, insufficient funds: a has 1, needs 5",
            )
        ),
    )
    error = EndorseError.from_rpc_error(rpc_error, tx_id="abc")
    assert isinstance(error, EndorseError) and isinstance(error, GatewayError)
    assert error.code is grpc.StatusCode.ABORTED
    assert error.tx_id == "abc"
    assert error.details[0].msp_id == "Org1MSP"
    assert error.chaincode_status == 500
    assert error.chaincode_message == "insufficient funds: a has 1, needs 5"
    assert "ABORTED" in str(error) and "peer0.org1.example.com:7051" in str(error)


def test_evaluate_error_reads_the_chaincode_response_from_the_status_message() -> None:
    error = EvaluateError.from_rpc_error(
        _FakeRpcError(
            grpc.StatusCode.UNKNOWN,
            "evaluate call to endorser returned error: chaincode response 404, no such key",
            [],
        )
    )
    assert (error.code, error.chaincode_status, error.chaincode_message) == (
        grpc.StatusCode.UNKNOWN,
        404,
        "no such key",
    )
    assert error.details == ()


def test_peer_refusal_has_no_chaincode_response() -> None:
    error = EndorseError(
        grpc.StatusCode.ABORTED,
        "failed to endorse transaction",
        [ErrorDetail("p", "Org1MSP", "error validating proposal: access denied")],
    )
    assert error.chaincode_status is None and error.chaincode_message is None
