"""Licensing's error reasons and the few errors it raises in more than one place."""

from __future__ import annotations

from typing import Final

from services.common.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound

PARTNER_NOT_FOUND: Final = "PARTNER_NOT_FOUND"
LICENSE_NOT_FOUND: Final = "LICENSE_NOT_FOUND"
API_KEY_NOT_FOUND: Final = "API_KEY_NOT_FOUND"
PARTNER_EXISTS: Final = "PARTNER_EXISTS"
PARTNER_OWNER_TAKEN: Final = "PARTNER_OWNER_TAKEN"
PARTNER_NOT_PENDING: Final = "PARTNER_NOT_PENDING"
PARTNER_NOT_ACTIVE: Final = "PARTNER_NOT_ACTIVE"
LICENSE_NOT_ACTIVE: Final = "LICENSE_NOT_ACTIVE"
API_KEY_NOT_ACTIVE: Final = "API_KEY_NOT_ACTIVE"
IDENTITY_UNAVAILABLE: Final = "IDENTITY_UNAVAILABLE"
ROLE_GRANT_REFUSED: Final = "ROLE_GRANT_REFUSED"


def partner_not_found() -> NotFound:
    """The one answer for a partner that does not exist or that the caller may not see."""
    return NotFound("partner not found", reason=PARTNER_NOT_FOUND)


def license_not_found() -> NotFound:
    """A licence that does not exist under the named partner."""
    return NotFound("licence not found", reason=LICENSE_NOT_FOUND)


def api_key_not_found() -> NotFound:
    """A key that does not exist under the named licence."""
    return NotFound("API key not found", reason=API_KEY_NOT_FOUND)


def bad_fields(*violations: tuple[str, str]) -> InvalidArgument:
    """INVALID_ARGUMENT with one field violation per (field, description)."""
    return InvalidArgument(violations=[FieldViolation(f, d) for f, d in violations])


def precondition(reason: str, message: str) -> FailedPrecondition:
    """FAILED_PRECONDITION with a reason."""
    return FailedPrecondition(message, reason=reason)
