"""Password rules and Argon2id hashing."""

from __future__ import annotations

import pytest

from services.identity.passwords import PasswordHashing, check_password_rules


def _descriptions(password: str, email: str = "ana@example.com") -> list[str]:
    return [v.description for v in check_password_rules(password, email)]


def test_long_mixed_password_passes() -> None:
    assert check_password_rules("correct horse battery 9", "ana@example.com") == []


def test_short_password_is_rejected_with_the_minimum() -> None:
    assert any("at least 12" in d for d in _descriptions("Abc123!"))


def test_single_class_password_is_rejected_however_long() -> None:
    assert any("two kinds" in d for d in _descriptions("abcdefghijklmnopqrst"))
    assert any("two kinds" in d for d in _descriptions("12345678901234567"))


def test_password_equal_to_email_or_its_local_part_is_rejected() -> None:
    assert any("email" in d for d in _descriptions("Ana.Long-Name@Example.com", "ana.long-name@example.com"))
    assert any("email" in d for d in _descriptions("Ana.Long-Name1", "ana.long-name1@example.com"))


def test_violations_name_the_field() -> None:
    (violation,) = check_password_rules("aaaaaaaaaaaaaaa", "x@example.com", field="new_password")
    assert violation.field == "new_password"


def test_weaker_than_owasp_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        PasswordHashing(memory_kib=1024)
    with pytest.raises(ValueError):
        PasswordHashing(time_cost=1)


async def test_hash_is_argon2id_and_verifies() -> None:
    hashing = PasswordHashing()
    encoded = await hashing.hash("Str0ng enough pass")
    assert encoded.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in encoded
    assert await hashing.verify(encoded, "Str0ng enough pass")
    assert not await hashing.verify(encoded, "Str0ng enough pasS")
    assert not hashing.needs_rehash(encoded)


async def test_unknown_account_verify_is_false() -> None:
    hashing = PasswordHashing()
    assert not await hashing.verify(None, "anything at all 1")


async def test_garbage_hash_does_not_verify_and_needs_rehash() -> None:
    hashing = PasswordHashing()
    assert not await hashing.verify("not-a-hash", "anything at all 1")
    assert hashing.needs_rehash("not-a-hash")


async def test_concurrent_hashing_is_bounded_and_all_complete() -> None:
    import asyncio
    import threading

    hashing = PasswordHashing(max_concurrent=2)
    real = hashing._hash_password
    lock = threading.Lock()
    active = peak = 0

    def counting(password: str) -> str:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        try:
            return real(password)
        finally:
            with lock:
                active -= 1

    hashing._hash_password = counting
    hashes = await asyncio.gather(*(hashing.hash(f"Password number {i}") for i in range(6)))
    assert len(set(hashes)) == 6 and 1 <= peak <= 2
    assert all([await hashing.verify(h, f"Password number {i}") for i, h in enumerate(hashes)])
