"""Access token claims and the refresh-token rotation rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from services.identity.keys import KeyStore
from services.identity.tokens import (
    AccessTokenIssuer,
    RefreshState,
    RefreshVerdict,
    hash_refresh_token,
    judge_refresh,
    looks_like_refresh_token,
    new_refresh_token,
    successor_expiry,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_access_token_has_every_claim_and_the_kid(tmp_path: Path) -> None:
    keys = KeyStore.open(tmp_path)
    issuer = AccessTokenIssuer(keys, "gx-identity", "gx-api", timedelta(minutes=15))
    issued = issuer.issue("u-1", ["USER", "ADMIN", "USER"], NOW)
    header = jwt.get_unverified_header(issued.token)
    assert header["alg"] == "ES256" and header["kid"] == keys.current.kid
    claims = jwt.decode(
        issued.token,
        keys.current.public_key,
        algorithms=["ES256"],
        audience="gx-api",
        issuer="gx-identity",
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert claims["sub"] == "u-1"
    assert claims["roles"] == ["ADMIN", "USER"]
    assert claims["exp"] - claims["iat"] == 900 == issued.expires_in
    assert claims["jti"] == issued.jti
    assert claims["iat"] == int(NOW.timestamp())


def test_each_token_has_a_fresh_jti(tmp_path: Path) -> None:
    issuer = AccessTokenIssuer(KeyStore.open(tmp_path), "i", "a", timedelta(minutes=5))
    assert issuer.issue("u", ["USER"], NOW).jti != issuer.issue("u", ["USER"], NOW).jti


def test_lifetime_over_fifteen_minutes_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        AccessTokenIssuer(KeyStore.open(tmp_path), "i", "a", timedelta(minutes=16))


def test_refresh_tokens_are_random_and_stored_as_their_hash() -> None:
    token, digest = new_refresh_token()
    other, _ = new_refresh_token()
    assert token != other
    assert looks_like_refresh_token(token)
    assert digest == hash_refresh_token(token) and token not in digest and len(digest) == 64
    assert not looks_like_refresh_token("eyJhbGciOi.not.a.refresh")


def _state(**kw: object) -> RefreshState:
    base = {
        "expires_at": NOW + timedelta(days=1),
        "family_expires_at": NOW + timedelta(days=30),
        "rotated_at": None,
        "revoked_at": None,
    }
    base.update(kw)
    return RefreshState(**base)  # type: ignore[arg-type]


def test_fresh_token_rotates() -> None:
    assert judge_refresh(_state(), NOW) is RefreshVerdict.ROTATE


def test_spent_token_presented_again_is_reuse() -> None:
    assert judge_refresh(_state(rotated_at=NOW - timedelta(seconds=1)), NOW) is RefreshVerdict.REUSED


def test_spent_and_expired_token_is_still_reuse() -> None:
    state = _state(rotated_at=NOW - timedelta(days=2), expires_at=NOW - timedelta(days=1))
    assert judge_refresh(state, NOW) is RefreshVerdict.REUSED


def test_revoked_family_wins_over_everything() -> None:
    state = _state(rotated_at=NOW, revoked_at=NOW, expires_at=NOW - timedelta(days=1))
    assert judge_refresh(state, NOW) is RefreshVerdict.REVOKED


def test_idle_or_session_expiry_expires() -> None:
    assert judge_refresh(_state(expires_at=NOW), NOW) is RefreshVerdict.EXPIRED
    assert judge_refresh(_state(family_expires_at=NOW - timedelta(seconds=1)), NOW) is RefreshVerdict.EXPIRED


def test_successor_never_outlives_the_session() -> None:
    end = NOW + timedelta(hours=1)
    assert successor_expiry(NOW, timedelta(days=14), end) == end
    assert successor_expiry(NOW, timedelta(minutes=5), end) == NOW + timedelta(minutes=5)


def _claims(issuer: AccessTokenIssuer, keys: KeyStore, **kwargs: object) -> dict[str, object]:
    token = issuer.issue("u-1", ["USER"], NOW, **kwargs).token  # type: ignore[arg-type]
    return dict(
        jwt.decode(
            token,
            keys.current.public_key,
            algorithms=["ES256"],
            audience="a",
            issuer="i",
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    )


def test_tokens_carry_their_precise_issue_time_and_session(tmp_path: Path) -> None:
    keys = KeyStore.open(tmp_path)
    issuer = AccessTokenIssuer(keys, "i", "a", timedelta(minutes=5))
    claims = _claims(issuer, keys, session_id="family-1")
    assert claims["gx_iat_ms"] == int(NOW.timestamp() * 1000)
    assert claims["sid"] == "family-1"
    assert "sid" not in _claims(issuer, keys)


def test_a_token_is_issued_after_the_subjects_revocation_cutoff(tmp_path: Path) -> None:
    # A replica whose clock is behind the one that wrote the cutoff still mints a token that
    # the cutoff does not catch; the whole-second iat follows, within the verifiers' leeway.
    keys = KeyStore.open(tmp_path)
    issuer = AccessTokenIssuer(keys, "i", "a", timedelta(minutes=5))
    cutoff = int(NOW.timestamp() * 1000) + 1500
    claims = _claims(issuer, keys, after_ms=cutoff)
    assert claims["gx_iat_ms"] == cutoff + 1
    assert claims["iat"] == (cutoff + 1) // 1000 == claims["nbf"]
    assert _claims(issuer, keys, after_ms=5)["gx_iat_ms"] == int(
        NOW.timestamp() * 1000
    )  # an old cutoff: the clock
