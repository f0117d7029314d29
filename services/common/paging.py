"""Opaque page tokens: a keyset cursor bound to the filter it was issued for (AIP-158), for every service."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any, Final

from services.common.errors import FieldViolation, InvalidArgument

INVALID_PAGE_TOKEN: Final = "INVALID_PAGE_TOKEN"


def _fingerprint(filter_key: str) -> str:
    return hashlib.sha256(filter_key.encode()).hexdigest()[:16]


def encode(cursor: Any, filter_key: str) -> str:
    """A token for the page after `cursor` (JSON-serialisable), valid only with the same filter."""
    raw = json.dumps({"c": cursor, "f": _fingerprint(filter_key)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, filter_key: str, field: str = "page_token") -> Any:
    """The cursor of `token`, or None for an empty token.

    Raises:
        InvalidArgument: INVALID_PAGE_TOKEN when it is not ours or the filter changed.
    """
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        cursor, fingerprint = data["c"], data["f"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise _bad(field, "the page token is malformed") from None
    if fingerprint != _fingerprint(filter_key):
        raise _bad(field, "the page token belongs to a request with other parameters")
    return cursor


def page_size(requested: int, default: int = 50) -> int:
    """The page size to use: the requested one, or `default` for 0."""
    return requested or default


def _bad(field: str, description: str) -> InvalidArgument:
    return InvalidArgument(description, violations=[FieldViolation(field, description)], reason=INVALID_PAGE_TOKEN)
