"""gx-client's Session: when it logs in, refreshes and gives up (pure logic: fake login/refresh and clock)."""

from __future__ import annotations

import grpc
import pytest
from gx_client import Unauthenticated
from gx_client.session import Session, Tokens


class _Identity:
    """Counts logins and refreshes; a refresh token listed in `revoked` is refused."""

    def __init__(self) -> None:
        self.logins: list[str] = []
        self.refreshes: list[str] = []
        self.revoked: set[str] = set()

    def login(self, email: str, password: str) -> Tokens:
        self.logins.append(email)
        n = len(self.logins)
        return Tokens(f"access-login-{n}", f"refresh-login-{n}", 900)

    def refresh(self, token: str) -> Tokens:
        self.refreshes.append(token)
        if token in self.revoked:
            raise Unauthenticated(grpc.StatusCode.UNAUTHENTICATED, "revoked", reason="REFRESH_TOKEN_INVALID")
        n = len(self.refreshes)
        return Tokens(f"access-refresh-{n}", f"refresh-refresh-{n}", 900)


@pytest.fixture
def identity() -> _Identity:
    return _Identity()


def test_it_logs_in_lazily_and_only_for_calls_that_need_a_token(identity: _Identity) -> None:
    now = [0.0]
    session = Session(identity.login, identity.refresh, email="a@x", password="pw", clock=lambda: now[0])
    assert session.token(renew=False) is None and identity.logins == []
    assert session.token(renew=True) == "access-login-1"
    assert session.token(renew=True) == "access-login-1" and identity.logins == ["a@x"]


def test_it_refreshes_shortly_before_expiry_instead_of_logging_in_again(identity: _Identity) -> None:
    now = [0.0]
    session = Session(identity.login, identity.refresh, email="a@x", password="pw", clock=lambda: now[0])
    session.token(renew=True)
    now[0] = 880.0  # 20 s before the 900 s expiry: inside the renewal margin
    assert session.token(renew=True) == "access-refresh-1"
    assert identity.refreshes == ["refresh-login-1"] and identity.logins == ["a@x"]


def test_a_refused_refresh_token_falls_back_to_the_credentials(identity: _Identity) -> None:
    session = Session(identity.login, identity.refresh, email="a@x", password="pw")
    first = session.token(renew=True)
    assert first
    identity.revoked.add("refresh-login-1")
    assert session.reject(first) is True
    assert session.token(renew=True) == "access-login-2" and len(identity.logins) == 2


def test_a_given_token_without_a_way_to_renew_it_is_not_renewed(identity: _Identity) -> None:
    session = Session(identity.login, identity.refresh, access_token="given")
    assert session.token(renew=True) == "given"
    assert session.reject("given") is False
    assert session.token(renew=True) is None and identity.logins == identity.refreshes == []
