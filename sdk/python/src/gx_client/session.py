"""Login and refresh handled for the app: one access token kept fresh, shared by every call."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from gx_client.errors import Unauthenticated

# Renew this long before the access token expires, so a call in flight does not carry a token that
# lapses on the way (the edge and the service each check it).
_SKEW_SECONDS = 30.0


@dataclass(frozen=True)
class Tokens:
    """What Login and RefreshToken answer."""

    access_token: str
    refresh_token: str
    expires_in: int


class Session:
    """Holds the caller's tokens; logs in lazily and refreshes before expiry or after a rejection.

    `login` and `refresh` call the identity service on a channel without this session (so they
    never recurse into it). With neither credentials nor a refresh token the session only passes on
    the access token it was given.
    """

    def __init__(
        self,
        login: Callable[[str, str], Tokens],
        refresh: Callable[[str], Tokens],
        *,
        email: str | None = None,
        password: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._login, self._refresh, self._clock = login, refresh, clock
        self._credentials = (email, password) if email and password else None
        self._access = access_token
        self._refresh_token = refresh_token
        # A given token's lifetime is unknown: use it until the server rejects it.
        self._expires_at = float("inf") if access_token else 0.0
        self._lock = threading.Lock()

    def log_in(self, email: str, password: str) -> None:
        """Keep these credentials (for later renewals too) and log in now."""
        with self._lock:
            self._credentials = (email, password)
            self._store(self._login(email, password))

    @property
    def refresh_token(self) -> str | None:
        """The current refresh token (for Logout)."""
        return self._refresh_token

    def token(self, *, renew: bool) -> str | None:
        """A fresh access token; with `renew` it logs in or refreshes when there is none fresh."""
        with self._lock:
            if self._access and self._clock() < self._expires_at - _SKEW_SECONDS:
                return self._access
            if not renew:
                return None
            self._renew()
            return self._access

    def reject(self, token: str) -> bool:
        """The server refused `token`: forget it; True when the session can get another one."""
        with self._lock:
            if self._access == token:
                self._access, self._expires_at = None, 0.0
            return bool(self._credentials or self._refresh_token)

    def _renew(self) -> None:
        if self._refresh_token:
            try:
                self._store(self._refresh(self._refresh_token))
                return
            except Unauthenticated:
                # Expired, revoked or rotated away: fall back to the credentials, if any.
                self._refresh_token = None
        if self._credentials:
            self._store(self._login(*self._credentials))

    def _store(self, tokens: Tokens) -> None:
        self._access, self._refresh_token = tokens.access_token, tokens.refresh_token
        self._expires_at = self._clock() + tokens.expires_in
