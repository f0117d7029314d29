"""Typed errors: every failed call raises a GxError subclass that carries the server's ErrorInfo reason."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status


@dataclass(frozen=True)
class FieldViolation:
    """One entry of a `google.rpc.BadRequest`: which request field was wrong and why."""

    field: str
    description: str


class GxError(Exception):
    """A call failed. Subclasses name the gRPC code; `reason` is the ErrorInfo reason (UPPER_SNAKE).

    Attributes:
        code: The gRPC status code.
        message: The server's message.
        reason: `google.rpc.ErrorInfo.reason`, or "" when the answer carried none (e.g. a
            connection that never reached a service).
        domain: `ErrorInfo.domain` (e.g. `wallet.gx`).
        metadata: `ErrorInfo.metadata`.
        violations: The `BadRequest` field violations, if any.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        *,
        reason: str = "",
        domain: str = "",
        metadata: dict[str, str] | None = None,
        violations: tuple[FieldViolation, ...] = (),
    ) -> None:
        super().__init__(f"{code.name}: {reason or '-'}: {message}")
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.metadata = dict(metadata or {})
        self.violations = violations


class InvalidArgument(GxError):
    """INVALID_ARGUMENT: the request is malformed; see `violations`."""


class Unauthenticated(GxError):
    """UNAUTHENTICATED: no, a bad, an expired or a revoked credential."""


class PermissionDenied(GxError):
    """PERMISSION_DENIED: the caller lacks a role or owns not the resource."""


class NotFound(GxError):
    """NOT_FOUND."""


class AlreadyExists(GxError):
    """ALREADY_EXISTS."""


class FailedPrecondition(GxError):
    """FAILED_PRECONDITION: the state does not allow it (e.g. INSUFFICIENT_FUNDS, WALLET_FROZEN)."""


class ResourceExhausted(GxError):
    """RESOURCE_EXHAUSTED: a rate limit or quota; retry later."""


class Unavailable(GxError):
    """UNAVAILABLE after every retry the method's policy allows."""


class DeadlineExceeded(GxError):
    """DEADLINE_EXCEEDED."""


class OperationFailed(GxError):
    """A ledger operation ended FAILED; `reason` is the operation's error reason.

    Attributes:
        operation: The final `gx.type.v1.Operation`.
    """

    def __init__(self, operation: object, code: grpc.StatusCode, message: str, reason: str) -> None:
        super().__init__(code, message, reason=reason)
        self.operation = operation


_BY_CODE: dict[grpc.StatusCode, type[GxError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
}


def error_class(code: grpc.StatusCode) -> type[GxError]:
    """The GxError subclass for a gRPC code (GxError itself for the rest)."""
    return _BY_CODE.get(code, GxError)


def from_status(status: status_pb2.Status) -> GxError:
    """A GxError from a `google.rpc.Status` with its ErrorInfo and BadRequest details."""
    code = code_of(status.code)
    reason, domain, metadata = "", "", {}
    violations: list[FieldViolation] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, domain, metadata = info.reason, info.domain, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations += [FieldViolation(v.field, v.description) for v in bad.field_violations]
    return error_class(code)(
        code, status.message, reason=reason, domain=domain, metadata=metadata, violations=tuple(violations)
    )


def from_rpc_error(error: grpc.RpcError) -> GxError:
    """Turn a failed call into a GxError, reading `grpc-status-details-bin` when the answer has it."""
    status = rpc_status.from_call(error) if isinstance(error, grpc.Call) else None
    if status is not None:
        return from_status(status)
    code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
    message = (error.details() if isinstance(error, grpc.Call) else None) or str(error)
    return error_class(code)(code, message)


def code_of(number: int) -> grpc.StatusCode:
    """The grpc.StatusCode of a numeric code (UNKNOWN for a number gRPC does not define)."""
    for code in grpc.StatusCode:
        if code.value[0] == number:
            return code
    return grpc.StatusCode.UNKNOWN
