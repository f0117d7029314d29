"""Mailed single-use tokens: shape, hashing and the spend rules (pure logic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.identity.account_tokens import (
    RESET_TTL,
    Purpose,
    TokenState,
    Verdict,
    hash_token,
    judge,
    looks_like,
    new_token,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("purpose", list(Purpose))
def test_a_new_token_is_stored_only_as_its_hash_and_has_its_purposes_shape(purpose: Purpose) -> None:
    token, digest = new_token(purpose)
    assert digest == hash_token(token) and len(digest) == 64 and token not in digest
    assert looks_like(token, purpose)
    other = Purpose.RESET_PASSWORD if purpose is Purpose.VERIFY_EMAIL else Purpose.VERIFY_EMAIL
    assert not looks_like(token, other)


def test_tokens_are_random() -> None:
    tokens = {new_token(Purpose.RESET_PASSWORD)[0] for _ in range(1000)}
    assert len(tokens) == 1000


@pytest.mark.parametrize(
    "token",
    [
        "",
        "gxp_",
        "gxp_short",
        "gxp_" + "a" * 65,
        "gxp_" + "a" * 31 + "!",
        "gxp_" + "a" * 31 + " ",
        "GXP_" + "a" * 32,
    ],
)
def test_malformed_tokens_are_refused_before_any_lookup(token: str) -> None:
    assert not looks_like(token, Purpose.RESET_PASSWORD)


def test_the_reset_lifetime_is_fifteen_minutes() -> None:
    assert RESET_TTL == timedelta(minutes=15)


def test_a_live_token_is_valid_until_its_expiry() -> None:
    expires = NOW + RESET_TTL
    assert judge(TokenState(expires, None, None), NOW) is Verdict.VALID
    assert judge(TokenState(expires, None, None), expires - timedelta(microseconds=1)) is Verdict.VALID
    assert judge(TokenState(expires, None, None), expires) is Verdict.EXPIRED


def test_a_spent_or_superseded_token_stays_dead() -> None:
    expires = NOW + RESET_TTL
    assert judge(TokenState(expires, NOW, None), NOW) is Verdict.USED
    assert judge(TokenState(expires, None, NOW), NOW) is Verdict.REVOKED
    # Spent wins over everything else, so the log says what happened first.
    assert judge(TokenState(NOW - timedelta(days=1), NOW, NOW), NOW) is Verdict.USED
