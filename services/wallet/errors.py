"""The wallet service's errors: the shared hierarchy with the reasons clients branch on."""

from __future__ import annotations

from typing import Final

import grpc

from services.common.errors import FailedPrecondition, FieldViolation, GxError, InvalidArgument, NotFound

WALLET_NOT_FOUND: Final = "WALLET_NOT_FOUND"
RECIPIENT_NOT_FOUND: Final = "RECIPIENT_NOT_FOUND"
RECIPIENT_REQUIRED: Final = "RECIPIENT_REQUIRED"
SELF_TRANSFER: Final = "SELF_TRANSFER"
WALLET_FROZEN: Final = "WALLET_FROZEN"
WALLET_NOT_ACTIVE: Final = "WALLET_NOT_ACTIVE"
RECIPIENT_NOT_ACTIVE: Final = "RECIPIENT_NOT_ACTIVE"
SYSTEM_PAUSED: Final = "SYSTEM_PAUSED"
SYSTEM_NOT_BOOTSTRAPPED: Final = "SYSTEM_NOT_BOOTSTRAPPED"
INSUFFICIENT_FUNDS: Final = "INSUFFICIENT_FUNDS"
OPERATION_NOT_FOUND: Final = "OPERATION_NOT_FOUND"
INVALID_PAGE_TOKEN: Final = "INVALID_PAGE_TOKEN"


class Unimplemented(GxError):
    """The RPC is part of the contract but this release does not serve it yet (HTTP 501)."""

    code = grpc.StatusCode.UNIMPLEMENTED
    default_reason = "NOT_IMPLEMENTED"


def wallet_not_found() -> NotFound:
    """The one answer for a wallet that does not exist or that the caller may not see."""
    return NotFound("wallet not found", reason=WALLET_NOT_FOUND)


def operation_not_found() -> NotFound:
    """The one answer for an operation that does not exist or is not the caller's."""
    return NotFound("operation not found", reason=OPERATION_NOT_FOUND)


def bad_field(field: str, description: str, reason: str | None = None) -> InvalidArgument:
    """INVALID_ARGUMENT naming one field (google.rpc.BadRequest), with an optional reason."""
    return InvalidArgument(description, violations=[FieldViolation(field, description)], reason=reason)


def precondition(reason: str, message: str, **metadata: str) -> FailedPrecondition:
    """FAILED_PRECONDITION (HTTP 400) with a reason and string metadata."""
    return FailedPrecondition(message, reason=reason, metadata=metadata)
