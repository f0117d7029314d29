"""Unit tests of the Stripe-style webhook signature: what a receiver accepts and refuses."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from services.common.webhook_signature import SignatureError, header_value, new_secret, verify

BODY = b'{"id":"e1","type":"operation.committed"}'


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    secret = new_secret()
    header = header_value(secret, 1_700_000_000, BODY)
    expected = hmac.new(secret.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert verify(secret, header, BODY, now=1_700_000_010) == 1_700_000_000


def test_secrets_are_prefixed_and_unique() -> None:
    a, b = new_secret(), new_secret()
    assert a.startswith("whsec_") and len(a) > 40 and a != b


def test_a_changed_body_or_wrong_secret_is_refused() -> None:
    secret = new_secret()
    header = header_value(secret, 100, BODY)
    with pytest.raises(SignatureError):
        verify(secret, header, BODY + b" ", now=100)
    with pytest.raises(SignatureError):
        verify(new_secret(), header, BODY, now=100)


def test_a_stale_timestamp_is_refused() -> None:
    secret = new_secret()
    header = header_value(secret, 100, BODY)
    with pytest.raises(SignatureError):
        verify(secret, header, BODY, now=100 + 301)
    assert verify(secret, header, BODY, now=100 + 300) == 100


def test_any_of_several_v1_signatures_may_match() -> None:
    secret = new_secret()
    good = header_value(secret, 100, BODY).split(",")[1]
    assert verify(secret, f"t=100,v1={'0' * 64},{good}", BODY, now=100) == 100


@pytest.mark.parametrize("header", ["", "t=1", "v1=ab", "t=x,v1=ab", "garbage"])
def test_malformed_headers_are_refused(header: str) -> None:
    with pytest.raises(SignatureError):
        verify("whsec_x", header, BODY, now=1)


def test_during_a_roll_either_secret_verifies() -> None:
    new, old = new_secret(), new_secret()
    header = header_value(new, 100, BODY, old)
    assert header.count("v1=") == 2
    assert verify(new, header, BODY, now=100) == verify(old, header, BODY, now=100) == 100
    with pytest.raises(SignatureError):
        verify(new_secret(), header, BODY, now=100)
