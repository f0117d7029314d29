"""The exception hierarchy of use cases, and its one conversion to a rich gRPC status."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status


@dataclass(frozen=True)
class FieldViolation:
    """One bad request field.

    Attributes:
        field: The proto field path, e.g. `user.email` or `documents[2].sha256`.
        description: Why the value is rejected, for a human.
    """

    field: str
    description: str


class GxError(Exception):
    """Base of every error a use case raises on purpose.

    Each subclass fixes the gRPC code; `reason` is the stable UPPER_SNAKE string clients
    branch on (it lands in `google.rpc.ErrorInfo.reason`).
    """

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN
    default_reason: str = "UNKNOWN"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Create the error.

        Args:
            message: Safe to show to the caller; never put internals here.
            reason: UPPER_SNAKE reason; defaults to the class's.
            metadata: Extra ErrorInfo metadata (string values only).
            retry_after: Seconds the caller should wait; adds `google.rpc.RetryInfo`.
        """
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.metadata: dict[str, str] = dict(metadata or {})
        self.retry_after = retry_after


class InvalidArgument(GxError):
    """The request is malformed; carries field violations (`google.rpc.BadRequest`)."""

    code = grpc.StatusCode.INVALID_ARGUMENT
    default_reason = "INVALID_ARGUMENT"

    def __init__(
        self,
        message: str = "the request has invalid fields",
        *,
        violations: Iterable[FieldViolation] = (),
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.violations = list(violations)


class NotFound(GxError):
    """The resource does not exist, or the caller may not know that it does."""

    code = grpc.StatusCode.NOT_FOUND
    default_reason = "NOT_FOUND"


class AlreadyExists(GxError):
    """The resource to create exists already (HTTP 409)."""

    code = grpc.StatusCode.ALREADY_EXISTS
    default_reason = "ALREADY_EXISTS"


class PermissionDenied(GxError):
    """The caller is known but may not do this (HTTP 403)."""

    code = grpc.StatusCode.PERMISSION_DENIED
    default_reason = "PERMISSION_DENIED"


class Unauthenticated(GxError):
    """No valid credentials (HTTP 401)."""

    code = grpc.StatusCode.UNAUTHENTICATED
    default_reason = "UNAUTHENTICATED"


class FailedPrecondition(GxError):
    """The system is not in a state that allows this (e.g. KYC not pending)."""

    code = grpc.StatusCode.FAILED_PRECONDITION
    default_reason = "FAILED_PRECONDITION"


class Aborted(GxError):
    """A concurrency conflict; the caller may retry (HTTP 409)."""

    code = grpc.StatusCode.ABORTED
    default_reason = "ABORTED"


class ResourceExhausted(GxError):
    """A quota or lockout; usually with `retry_after` (HTTP 429)."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    default_reason = "RESOURCE_EXHAUSTED"


class Unavailable(GxError):
    """A dependency is down; safe to retry (HTTP 503)."""

    code = grpc.StatusCode.UNAVAILABLE
    default_reason = "UNAVAILABLE"


class DeadlineExceeded(GxError):
    """The work did not finish in time (HTTP 504)."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED
    default_reason = "DEADLINE_EXCEEDED"


def _pack(message: object) -> any_pb2.Any:
    detail = any_pb2.Any()
    detail.Pack(message)
    return detail


def to_status_proto(error: GxError, domain: str) -> status_pb2.Status:
    """Convert an error to `google.rpc.Status` with ErrorInfo (+ BadRequest, RetryInfo).

    Args:
        error: The use case's error.
        domain: The ErrorInfo domain, `<service>.gx`.
    """
    status = status_pb2.Status(code=error.code.value[0], message=error.message)
    status.details.append(
        _pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=domain, metadata=error.metadata))
    )
    if isinstance(error, InvalidArgument) and error.violations:
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in error.violations
            ]
        )
        status.details.append(_pack(bad))
    if error.retry_after is not None:
        seconds = max(0.0, error.retry_after)
        delay = duration_pb2.Duration(seconds=int(seconds), nanos=int((seconds % 1) * 1e9))
        status.details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    return status


def internal_status_proto(domain: str) -> status_pb2.Status:
    """The status for an unexpected exception: INTERNAL, with nothing of the cause."""
    status = status_pb2.Status(code=code_pb2.INTERNAL, message="internal error")
    status.details.append(_pack(error_details_pb2.ErrorInfo(reason="INTERNAL", domain=domain)))
    return status


def to_grpc_status(status: status_pb2.Status) -> grpc.Status:
    """Wrap a `google.rpc.Status` for `context.abort_with_status` (details in trailing metadata)."""
    return rpc_status.to_status(status)


def details_of(
    status: status_pb2.Status,
) -> tuple[error_details_pb2.ErrorInfo | None, error_details_pb2.BadRequest | None]:
    """Unpack ErrorInfo and BadRequest from a status (for clients and tests)."""
    info: error_details_pb2.ErrorInfo | None = None
    bad: error_details_pb2.BadRequest | None = None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
    return info, bad
