"""Typed errors for each Gateway call, with the gRPC code and every gateway.ErrorDetail decoded."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Self

import grpc
from google.rpc import status_pb2

from fabric_client._protos import gateway_pb2, transaction_pb2

_STATUS_DETAILS_KEY = "grpc-status-details-bin"
# The peer reports a chaincode rejection as "chaincode response <status>, <message>" both in the
# Evaluate status message and in each endorser's ErrorDetail (internal/pkg/gateway/apiutils.go).
_CHAINCODE_RESPONSE = re.compile(r"chaincode response (\d+), (.*)", re.DOTALL)


@dataclass(frozen=True)
class ErrorDetail:
    """One endpoint's part of a gateway error (``gateway.ErrorDetail``).

    Attributes:
        address: the endpoint (peer or orderer) that failed.
        msp_id: its organisation.
        message: what it said.
    """

    address: str
    msp_id: str
    message: str


class FabricError(Exception):
    """Base of every error raised by this client."""


class GatewayError(FabricError):
    """A Gateway RPC failed with a gRPC status.

    Attributes:
        code: the gRPC status code.
        message: the status message.
        details: every ``gateway.ErrorDetail`` from ``grpc-status-details-bin``.
        tx_id: the transaction concerned, when there is one.
        chaincode_status: the chaincode's response status when the chaincode rejected the call.
        chaincode_message: the chaincode's response message in that case.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        details: Iterable[ErrorDetail] = (),
        *,
        tx_id: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.details = tuple(details)
        self.tx_id = tx_id
        self.chaincode_status, self.chaincode_message = _chaincode_response(message, self.details)
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"{self.code.name}: {self.message}"
        if self.details:
            text += " [" + "; ".join(f"{d.address} ({d.msp_id}): {d.message}" for d in self.details) + "]"
        return text

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError, *, tx_id: str | None = None) -> Self:
        """Build the typed error from a failed call, decoding its status details.

        Args:
            error: a ``grpc.aio.AioRpcError`` (or any ``grpc.Call``-like error).
            tx_id: the transaction the call concerned.
        """
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        message = error.details() if hasattr(error, "details") else str(error)
        trailers = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
        return cls(code, message or "", decode_error_details(trailers), tx_id=tx_id)


class EvaluateError(GatewayError):
    """Evaluate failed (a chaincode rejection is UNKNOWN with the chaincode's status and message)."""


class EndorseError(GatewayError):
    """Endorse failed (a chaincode rejection or a refused proposal is ABORTED with details)."""


class SubmitError(GatewayError):
    """Submit failed: the orderer did not accept the transaction."""


class CommitStatusError(GatewayError):
    """CommitStatus failed, e.g. DEADLINE_EXCEEDED while the transaction is not yet committed."""


class ChaincodeEventsError(GatewayError):
    """The ChaincodeEvents stream failed."""


class CommitError(FabricError):
    """The transaction was ordered but committed as invalid.

    Attributes:
        tx_id: the transaction.
        code: the ``TxValidationCode`` number.
        code_name: its name, e.g. ``MVCC_READ_CONFLICT`` or ``DUPLICATE_TXID``.
        block_number: the block it was committed (invalid) in.
    """

    def __init__(self, tx_id: str, code: int, block_number: int) -> None:
        self.tx_id = tx_id
        self.code = code
        self.code_name = validation_code_name(code)
        self.block_number = block_number
        super().__init__(
            f"transaction {tx_id} failed to commit with status code {code} ({self.code_name}) "
            f"in block {block_number}"
        )


def validation_code_name(code: int) -> str:
    """Return the ``TxValidationCode`` name for ``code`` (``UNKNOWN_<n>`` if Fabric has none)."""
    try:
        return str(transaction_pb2.TxValidationCode.Name(code))
    except ValueError:
        return f"UNKNOWN_{code}"


def decode_error_details(trailing_metadata: object) -> list[ErrorDetail]:
    """Decode every ``gateway.ErrorDetail`` from a call's trailing metadata.

    Args:
        trailing_metadata: the call's trailers (``grpc.aio.Metadata`` or a sequence of pairs), or None.

    Returns:
        The details in order; empty when there is no ``grpc-status-details-bin`` trailer.
    """
    if not trailing_metadata:
        return []
    raw: bytes | None = None
    for key, value in trailing_metadata:  # type: ignore[attr-defined]
        if key == _STATUS_DETAILS_KEY:
            raw = value if isinstance(value, bytes) else str(value).encode("latin-1")
            break
    if raw is None:
        return []
    status = status_pb2.Status.FromString(raw)
    details = []
    for item in status.details:
        detail = gateway_pb2.ErrorDetail()
        # Other detail types (ErrorInfo, DebugInfo...) may ride along; only gateway details matter here.
        if item.Is(gateway_pb2.ErrorDetail.DESCRIPTOR) and item.Unpack(detail):
            details.append(ErrorDetail(address=detail.address, msp_id=detail.msp_id, message=detail.message))
    return details


def _chaincode_response(message: str, details: tuple[ErrorDetail, ...]) -> tuple[int | None, str | None]:
    for text in [message, *(d.message for d in details)]:
        match = _CHAINCODE_RESPONSE.search(text)
        if match:
            return int(match.group(1)), match.group(2)
    return None, None
