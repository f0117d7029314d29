"""Argon2id with the block in huge pages: the same hashes as argon2-cffi's, either side verifying the other's."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from argon2 import PasswordHasher, Type

from services.identity import argon2_pages
from services.identity.argon2_pages import HugePageArgon2id
from services.identity.passwords import OWASP_MEMORY_KIB, OWASP_PARALLELISM, OWASP_TIME_COST, PasswordHashing

pytestmark = pytest.mark.skipif(not argon2_pages.available(), reason="maps its blocks on Linux only")

_PASSWORD = "Correct horse 2026"


def _library() -> PasswordHasher:
    return PasswordHasher(
        time_cost=OWASP_TIME_COST, memory_cost=OWASP_MEMORY_KIB, parallelism=OWASP_PARALLELISM, type=Type.ID
    )


def _pages() -> HugePageArgon2id:
    return HugePageArgon2id(OWASP_TIME_COST, OWASP_MEMORY_KIB, OWASP_PARALLELISM)


def test_its_hashes_are_argon2_cffi_hashes() -> None:
    encoded = _pages().hash(_PASSWORD)
    assert encoded.startswith(
        f"$argon2id$v=19$m={OWASP_MEMORY_KIB},t={OWASP_TIME_COST},p={OWASP_PARALLELISM}$"
    )
    assert _library().verify(encoded, _PASSWORD)
    assert not _library().check_needs_rehash(encoded)
    assert _pages().hash(_PASSWORD) != encoded  # a fresh salt each time


def test_it_verifies_argon2_cffi_hashes_under_their_own_parameters() -> None:
    assert _pages().verify(_library().hash(_PASSWORD), _PASSWORD) is True
    stronger = PasswordHasher(time_cost=3, memory_cost=OWASP_MEMORY_KIB + 1024, parallelism=2, type=Type.ID)
    assert _pages().verify(stronger.hash(_PASSWORD), _PASSWORD) is True
    assert _pages().verify(stronger.hash(_PASSWORD), _PASSWORD + "x") is False


def test_a_wrong_password_or_an_altered_string_does_not_verify() -> None:
    encoded = _pages().hash(_PASSWORD)
    assert _pages().verify(encoded, _PASSWORD) is True
    assert _pages().verify(encoded, "Correct horse 2027") is False
    assert _pages().verify(encoded, "") is False
    params, salt, tag = encoded.rsplit("$", 2)
    flipped = tag[:-2] + ("A" if tag[-2] != "A" else "B") + tag[-1]
    assert _pages().verify(f"{params}${salt}${flipped}", _PASSWORD) is False
    other_salt = _pages().hash(_PASSWORD).rsplit("$", 2)[1]
    assert _pages().verify(f"{params}${other_salt}${tag}", _PASSWORD) is False
    assert _pages().verify(encoded.replace(f"t={OWASP_TIME_COST}", "t=3"), _PASSWORD) is False


def test_what_it_does_not_read_goes_to_argon2_cffi() -> None:
    argon2i = PasswordHasher(type=Type.I).hash(_PASSWORD)
    for encoded in (
        argon2i,
        "not-a-hash",
        _pages().hash(_PASSWORD).replace("v=19", "v=16"),
        "$argon2id$v=19$m=1",
    ):
        assert _pages().verify(encoded, _PASSWORD) is None
    # Base64 with stray low bits in its last character names the same bytes; libargon2 refuses it.
    encoded = _pages().hash(_PASSWORD)
    last = encoded[-1]
    stray = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    sibling = stray[stray.index(last) ^ 1]
    assert _pages().verify(encoded[:-1] + sibling, _PASSWORD) is None
    assert not PasswordHashing()._verify(encoded[:-1] + sibling, _PASSWORD)
    # PasswordHashing still answers for them through argon2-cffi.
    assert PasswordHashing()._verify(argon2i, _PASSWORD)
    assert not PasswordHashing()._verify("not-a-hash", _PASSWORD)


def test_password_hashing_uses_the_huge_page_path() -> None:
    hashing = PasswordHashing()
    assert hashing._hash_password == hashing._pages.hash  # type: ignore[union-attr]
    encoded = hashing._hash_password(_PASSWORD)
    assert hashing._verify(encoded, _PASSWORD) and not hashing._verify(encoded, "nope nope nope 1")


_HASH_IN_THREADS = textwrap.dedent(
    """
    import threading
    from services.identity.argon2_pages import HugePageArgon2id
    pages = HugePageArgon2id(2, 19 * 1024, 1)
    def rss_mib():
        return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
    pages.hash("warm up")
    before = rss_mib()
    threads = [threading.Thread(target=lambda: [pages.hash("pw") for _ in range(3)]) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print(rss_mib() - before)
    """
)


def test_blocks_go_back_to_the_system_after_the_hash() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _HASH_IN_THREADS], capture_output=True, text=True, timeout=120, check=True
    )
    # Twelve hashes of 19 MiB on four threads: none of their blocks stays mapped.
    assert float(out.stdout) < 4
