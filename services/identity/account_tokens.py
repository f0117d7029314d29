"""Single-use tokens sent by mail: email verification codes and password reset tokens.

Only their SHA-256 is stored. A plain fast hash is enough, as for refresh tokens: each token
carries at least 192 random bits, so there is nothing to brute-force from a leaked hash, and
the lookup stays one index probe. The prefix says what a token is for, so a reset token pasted
as a verification code (or anything else) is refused before the database is asked.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final


class Purpose(enum.Enum):
    """What a token does; the value is what `identity.account_tokens.purpose` stores."""

    VERIFY_EMAIL = "VERIFY_EMAIL"
    RESET_PASSWORD = "RESET_PASSWORD"


_PREFIX: Final = {Purpose.VERIFY_EMAIL: "gxv_", Purpose.RESET_PASSWORD: "gxp_"}
# token_urlsafe(24) is 32 characters (192 bits); 24..64 leaves room for longer tokens later.
_RANDOM_BYTES: Final = 24
_BODY_LEN: Final = range(24, 65)
_ALPHABET: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

# OWASP's forgot-password cheat sheet: reset tokens short-lived. The issue fixes 15 minutes.
RESET_TTL: Final = timedelta(minutes=15)
# A verification mail may wait in an inbox for a while; the code proves only the address.
VERIFY_TTL: Final = timedelta(hours=24)


def new_token(purpose: Purpose) -> tuple[str, str]:
    """Mints a token.

    Returns:
        The token to mail (prefix + 192 random bits, URL-safe) and the hash to store.
    """
    token = _PREFIX[purpose] + secrets.token_urlsafe(_RANDOM_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """The stored form of a token (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like(token: str, purpose: Purpose) -> bool:
    """Cheap shape check before touching the database: the purpose's prefix and a URL-safe body."""
    prefix = _PREFIX[purpose]
    if not token.startswith(prefix):
        return False
    body = token[len(prefix) :]
    return len(body) in _BODY_LEN and set(body) <= _ALPHABET


class Verdict(enum.Enum):
    """What a presented token is worth."""

    VALID = "VALID"
    """Live: spend it."""
    USED = "USED"
    """Spent already (single use)."""
    REVOKED = "REVOKED"
    """Superseded by a newer token of the same purpose, or ended by a password change."""
    EXPIRED = "EXPIRED"
    """Past its expiry."""


@dataclass(frozen=True)
class TokenState:
    """The stored facts that decide a token's fate.

    Attributes:
        expires_at: When it stops working.
        used_at: When it was spent, if it was.
        revoked_at: When it was superseded or ended, if it was.
    """

    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


def judge(state: TokenState, now: datetime) -> Verdict:
    """Decides whether a stored token may be spent now.

    Callers answer every verdict but VALID the same way (the API's one reason per purpose),
    so the order only matters for logs: spent first, then revoked, then expired.
    """
    if state.used_at is not None:
        return Verdict.USED
    if state.revoked_at is not None:
        return Verdict.REVOKED
    if now >= state.expires_at:
        return Verdict.EXPIRED
    return Verdict.VALID
