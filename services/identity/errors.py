"""The identity service's errors, built on the shared hierarchy with stable reasons."""

from __future__ import annotations

from collections.abc import Iterable

from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    GxError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)
from services.identity.passwords import RuleViolation

ServiceError = GxError


def invalid(problems: Iterable[RuleViolation]) -> InvalidArgument:
    """INVALID_ARGUMENT with one field violation per broken rule."""
    return InvalidArgument(violations=[FieldViolation(p.field, p.description) for p in problems])


def unauthenticated(reason: str, message: str) -> Unauthenticated:
    """UNAUTHENTICATED (HTTP 401)."""
    return Unauthenticated(message, reason=reason)


def permission_denied(reason: str, message: str) -> PermissionDenied:
    """PERMISSION_DENIED (HTTP 403)."""
    return PermissionDenied(message, reason=reason)


def not_found(reason: str, message: str) -> NotFound:
    """NOT_FOUND (HTTP 404)."""
    return NotFound(message, reason=reason)


def user_not_found() -> NotFound:
    """The one answer for a user that does not exist or that the caller may not see."""
    return NotFound("user not found", reason="USER_NOT_FOUND")


def already_exists(reason: str, message: str) -> AlreadyExists:
    """ALREADY_EXISTS (HTTP 409)."""
    return AlreadyExists(message, reason=reason)


def failed_precondition(reason: str, message: str) -> FailedPrecondition:
    """FAILED_PRECONDITION (HTTP 400)."""
    return FailedPrecondition(message, reason=reason)


def locked(scope: str, retry_after_seconds: int) -> ResourceExhausted:
    """RESOURCE_EXHAUSTED (HTTP 429) for a login lockout.

    Args:
        scope: `ACCOUNT` or `CLIENT`: which counter tripped.
        retry_after_seconds: When the caller may try again; sent both as ErrorInfo
            metadata and as google.rpc.RetryInfo.
    """
    what = "account" if scope == "ACCOUNT" else "client address"
    return ResourceExhausted(
        f"too many failed logins for this {what}; try again in {retry_after_seconds} seconds",
        reason=f"{scope}_LOCKED",
        metadata={"retry_after_seconds": str(retry_after_seconds)},
        retry_after=float(retry_after_seconds),
    )


def unavailable(reason: str, message: str) -> Unavailable:
    """UNAVAILABLE (HTTP 503): a dependency is down; nothing was changed, retry."""
    return Unavailable(message, reason=reason)
