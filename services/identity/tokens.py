"""Access tokens (ES256 JWTs) and opaque rotating refresh tokens."""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from services.common.revocation import ISSUED_AT_MS_CLAIM, SESSION_CLAIM
from services.identity.keys import KeyStore

# Access tokens are verified offline; the revocation deny-list (services.common.revocation)
# ends them early, and the lifetime bounds how long a deny entry must be kept: 15 min at most.
MAX_ACCESS_TTL = timedelta(minutes=15)

_REFRESH_PREFIX = "gxr_"
_KEY_POLL_SECONDS = 10.0


@dataclass(frozen=True)
class IssuedAccessToken:
    """A signed access token and what it says.

    Attributes:
        token: The compact JWS.
        jti: Its unique id.
        expires_in: Seconds until it expires.
    """

    token: str
    jti: str
    expires_in: int


class AccessTokenIssuer:
    """Signs access tokens with the key store's current key."""

    def __init__(self, keys: KeyStore, issuer: str, audience: str, ttl: timedelta) -> None:
        """Builds an issuer.

        Args:
            keys: The signing keys; the newest signs.
            issuer: The `iss` claim (`GX_AUTH__ISSUER`).
            audience: The `aud` claim (`GX_AUTH__AUDIENCE`).
            ttl: The token lifetime, at most 15 minutes.

        Raises:
            ValueError: If the lifetime is longer than 15 minutes or not positive.
        """
        if ttl > MAX_ACCESS_TTL or ttl <= timedelta(0):
            raise ValueError("access token lifetime must be positive and at most 15 minutes")
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl

    def issue(
        self,
        user_id: str,
        roles: Iterable[str],
        now: datetime,
        *,
        session_id: str | None = None,
        after_ms: int = 0,
        extra: dict[str, str] | None = None,
    ) -> IssuedAccessToken:
        """Signs a token for a user.

        Args:
            user_id: The `sub` claim.
            roles: Short role names (`USER`, `ADMIN`, …) for the `roles` claim.
            now: The issue time (aware UTC).
            session_id: The login session (refresh-token family), the `sid` claim, so a
                logout can revoke every access token of the session.
            after_ms: The subject's revocation cutoff (epoch ms); the token's precise issue
                time is put after it, so a token minted right after a freeze or role change
                is never caught by it, even if this replica's clock is a little behind.
            extra: More claims (a partner principal's `partner_id`); never the registered ones.

        Returns:
            The token with its id and lifetime in seconds.
        """
        # Pick up keys rotated in by another process (or the CLI) within seconds.
        self._keys.reload_if_older_than(_KEY_POLL_SECONDS)
        key = self._keys.signing_key(now)
        jti = str(uuid.uuid4())
        iat_ms = max(int(now.timestamp() * 1000), after_ms + 1)
        iat = iat_ms // 1000
        claims: dict[str, object] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": user_id,
            "roles": sorted(set(roles)),
            "iat": iat,
            "nbf": iat,
            "exp": iat + int(self._ttl.total_seconds()),
            "jti": jti,
            ISSUED_AT_MS_CLAIM: iat_ms,
        }
        if session_id:
            claims[SESSION_CLAIM] = session_id
        for name, value in (extra or {}).items():
            claims.setdefault(name, value)
        token = jwt.encode(claims, key.private_key, algorithm="ES256", headers={"kid": key.kid, "typ": "JWT"})
        return IssuedAccessToken(token, jti, int(self._ttl.total_seconds()))


def new_refresh_token() -> tuple[str, str]:
    """Mints a refresh token.

    Returns:
        The token to hand to the client (256 random bits) and the hash to store. A plain
        SHA-256 is enough: with 256 bits of entropy there is nothing to brute-force, and a
        fast hash lets the lookup be an index probe.
    """
    token = _REFRESH_PREFIX + secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    """Hashes a presented refresh token for lookup (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_refresh_token(token: str) -> bool:
    """Cheap shape check before touching the database."""
    return token.startswith(_REFRESH_PREFIX) and 20 <= len(token) <= 100


def same_hash(a: str, b: str) -> bool:
    """Constant-time comparison of two hashes."""
    return hmac.compare_digest(a.encode(), b.encode())


class RefreshVerdict(enum.Enum):
    """What to do with a presented refresh token."""

    ROTATE = "ROTATE"
    """Valid and unused: spend it and issue a successor in the same family."""
    REUSED = "REUSED"
    """Already rotated: someone replayed it, so revoke the whole family."""
    REVOKED = "REVOKED"
    """Its family was revoked (logout, reuse, freeze)."""
    EXPIRED = "EXPIRED"
    """Past its own or its family's expiry."""


@dataclass(frozen=True)
class RefreshState:
    """The stored facts about one refresh token that decide its fate.

    Attributes:
        expires_at: When this token stops working if unused.
        family_expires_at: The absolute end of the login session it belongs to.
        rotated_at: When it was spent, if it was.
        revoked_at: When it (its family) was revoked, if it was.
    """

    expires_at: datetime
    family_expires_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


def judge_refresh(state: RefreshState, now: datetime) -> RefreshVerdict:
    """Decides what a presented refresh token means.

    The order matters: a revoked family stays revoked whatever else is true, and reuse
    is detected even for an expired token, because a replayed old token is still a sign
    of theft (RFC 6819 §5.2.2.3, OAuth 2.0 Security BCP §4.14).

    Args:
        state: The stored token.
        now: The current time.

    Returns:
        The verdict.
    """
    if state.revoked_at is not None:
        return RefreshVerdict.REVOKED
    if state.rotated_at is not None:
        return RefreshVerdict.REUSED
    if now >= state.expires_at or now >= state.family_expires_at:
        return RefreshVerdict.EXPIRED
    return RefreshVerdict.ROTATE


def successor_expiry(now: datetime, idle_ttl: timedelta, family_expires_at: datetime) -> datetime:
    """The expiry of a newly minted refresh token: idle lifetime, capped by the session's end."""
    return min(now + idle_ttl, family_expires_at)
