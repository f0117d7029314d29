"""Gateway errors in Fabric's shape: a gRPC status whose details carry one gateway.ErrorDetail per endpoint."""

from __future__ import annotations

import dataclasses

import grpc
from google.protobuf import any_pb2
from google.rpc import status_pb2
from grpc_status import rpc_status

from devnet._protos import gateway_pb2


@dataclasses.dataclass
class GatewayError(Exception):
    """An RPC failure as the Fabric gateway reports it (internal/pkg/gateway/apiutils.go newRpcError).

    Attributes:
        code: The gRPC status code.
        message: The status message.
        details: Messages of the endpoints that failed; each becomes an ErrorDetail naming this peer.
    """

    code: grpc.StatusCode
    message: str
    details: list[str] = dataclasses.field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}"

    def to_status(self, address: str, msp_id: str) -> grpc.Status:
        """The grpc.Status (with ``grpc-status-details-bin``) to abort the call with."""
        status = status_pb2.Status(code=self.code.value[0], message=self.message)
        for text in self.details:
            detail = any_pb2.Any()
            detail.Pack(gateway_pb2.ErrorDetail(address=address, msp_id=msp_id, message=text))
            status.details.append(detail)
        return rpc_status.to_status(status)
