"""gx-client: the GX mesh over gRPC, with login, request ids, retries, operations and paging built in."""

from gx_client.client import DEFAULT_TARGET, Client
from gx_client.errors import (
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    FieldViolation,
    GxError,
    InvalidArgument,
    NotFound,
    OperationFailed,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)
from gx_client.operations import Operation

__all__ = [
    "DEFAULT_TARGET",
    "AlreadyExists",
    "Client",
    "DeadlineExceeded",
    "FailedPrecondition",
    "FieldViolation",
    "GxError",
    "InvalidArgument",
    "NotFound",
    "Operation",
    "OperationFailed",
    "PermissionDenied",
    "ResourceExhausted",
    "Unauthenticated",
    "Unavailable",
]
