"""Opaque page tokens: a cursor bound to the filter it was issued for."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from services.wallet.errors import INVALID_PAGE_TOKEN, bad_field


def _fingerprint(filter_key: str) -> str:
    return hashlib.sha256(filter_key.encode()).hexdigest()[:16]


def encode(cursor: Any, filter_key: str) -> str:
    """A token for the page after `cursor`, valid only with the same filter."""
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
        raise bad_field(field, "the page token is malformed", INVALID_PAGE_TOKEN) from None
    if fingerprint != _fingerprint(filter_key):
        raise bad_field(
            field, "the page token belongs to a request with other parameters", INVALID_PAGE_TOKEN
        )
    return cursor
