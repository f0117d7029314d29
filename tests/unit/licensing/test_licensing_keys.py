"""API key format, checksum, hashing and display prefix (pure functions)."""

from __future__ import annotations

import hashlib
import math
import re

import pytest

from services.licensing import keys


@pytest.mark.parametrize(("environment", "prefix"), [("LIVE", "gx_live_"), ("TEST", "gx_test_")])
def test_a_key_has_its_environment_prefix_random_body_and_checksum(environment: str, prefix: str) -> None:
    new = keys.generate(environment)
    assert re.fullmatch(prefix + r"[0-9A-Za-z]{38}", new.secret)
    assert keys.parse(new.secret) == environment
    assert new.environment == environment


def test_the_body_carries_at_least_128_random_bits() -> None:
    assert keys.BODY_LENGTH * math.log2(62) >= 128
    bodies = {keys.generate("LIVE").secret[8:40] for _ in range(2000)}
    assert len(bodies) == 2000
    # Every base62 character shows up across many keys: the body is not drawn from a subset.
    assert len(set("".join(bodies))) == 62


def test_only_the_hash_is_kept_and_it_is_sha256_of_the_whole_key() -> None:
    new = keys.generate("TEST")
    assert new.secret_hash == hashlib.sha256(new.secret.encode()).digest()
    assert len(new.secret_hash) == 32
    assert new.secret.encode() not in new.secret_hash


def test_the_display_prefix_names_the_key_without_revealing_it() -> None:
    new = keys.generate("LIVE")
    assert new.display_prefix == new.secret[:12]
    assert new.secret.startswith(new.display_prefix)


def _flip(secret: str, index: int) -> str:
    replacement = "A" if secret[index] != "A" else "B"
    return secret[:index] + replacement + secret[index + 1 :]


def test_any_single_character_typo_fails_the_checksum() -> None:
    secret = keys.generate("LIVE").secret
    for index in range(8, len(secret)):
        assert keys.parse(_flip(secret, index)) is None, index


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "gx_live_",
        "gx_prod_" + "a" * 38,
        "GX_LIVE_" + "a" * 38,
        "gx_live_" + "a" * 37,
        "gx_live_" + "a" * 39,
        "gx_live_" + "a" * 36 + "-_",
        "gx_live_" + "é" * 38,
    ],
)
def test_malformed_keys_are_refused(bad: str) -> None:
    assert keys.parse(bad) is None


def test_swapping_the_environment_prefix_breaks_the_checksum() -> None:
    live = keys.generate("LIVE").secret
    assert keys.parse("gx_test_" + live[8:]) is None
