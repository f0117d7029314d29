"""Webhook signatures, Stripe's scheme: `GX-Signature: t=<unix time>,v1=<hex HMAC-SHA256>`.

The HMAC is keyed with the endpoint's secret (the whole `whsec_…` string) over
`"<t>.<raw body>"`. Signing the time with the body lets a receiver refuse a replayed request
older than its tolerance; several `v1=` values may appear (a receiver accepts any), which leaves
room for rolling a secret. Receivers verify against the raw bytes they received, before
parsing the JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

HEADER: Final = "GX-Signature"
SCHEME: Final = "v1"
SECRET_PREFIX: Final = "whsec_"
DEFAULT_TOLERANCE_SECONDS: Final = 300


class SignatureError(Exception):
    """The header is malformed, too old, or matches no signature of the body."""


def new_secret() -> str:
    """A fresh endpoint secret: `whsec_` and 256 random bits, URL-safe."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header_value(secret: str, timestamp: int, body: bytes, *also: str) -> str:
    """The `GX-Signature` header value for a body sent at `timestamp`.

    Each secret in `also` adds a `v1=` signature of its own: while a rolled secret's grace period
    runs, a receiver holding either the new or the old secret accepts the request.
    """
    signatures = ",".join(f"{SCHEME}={signature(s, timestamp, body)}" for s in (secret, *also))
    return f"t={timestamp},{signatures}"


def verify(
    secret: str, header: str, body: bytes, now: int, tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS
) -> int:
    """Check a received request as a receiver should; returns its signed timestamp.

    Raises:
        SignatureError: a malformed header, a timestamp outside the tolerance, or no matching `v1`.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise SignatureError("malformed signature header")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError("malformed timestamp") from None
        elif key == SCHEME:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("the header needs t= and v1=")
    if abs(now - timestamp) > tolerance_seconds:
        raise SignatureError("timestamp outside the tolerance")
    expected = signature(secret, timestamp, body)
    # Constant-time comparison, and every candidate compared, so timing reveals nothing.
    matched = [hmac.compare_digest(expected, c) for c in candidates]
    if not any(matched):
        raise SignatureError("no signature matches")
    return timestamp
