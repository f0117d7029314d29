"""API key secrets: format, checksum, hash and display prefix. Pure functions, no I/O.

A key reads `gx_live_<body><check>` or `gx_test_<body><check>`:
- `body`: 32 base62 characters from `secrets` (≈190 bits, well over the 128 required);
- `check`: CRC-32 of prefix and body, as 6 base62 characters, so a typo or a truncated
  paste is refused before any database or Redis work (the edge's first check);
- the environment prefix lets secret scanners and people recognise a key and where it
  belongs.
Only `hash_secret` (SHA-256) is stored. A slow password hash is not needed: nobody can guess
190 random bits, and the edge must look a key up by equality on every request.
"""

from __future__ import annotations

import hashlib
import secrets
import zlib
from dataclasses import dataclass
from typing import Final

_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_INDEX: Final = {c: i for i, c in enumerate(_ALPHABET)}
BODY_LENGTH: Final = 32
CHECK_LENGTH: Final = 6
PREFIXES: Final = {"LIVE": "gx_live_", "TEST": "gx_test_"}
_ENV_BY_PREFIX: Final = {v: k for k, v in PREFIXES.items()}
_PREFIX_LENGTH: Final = 8
KEY_LENGTH: Final = _PREFIX_LENGTH + BODY_LENGTH + CHECK_LENGTH
# Shown in lists: the prefix and 4 body characters (~24 of ~190 bits): enough to tell keys
# apart, useless for guessing the rest.
_DISPLAY_BODY: Final = 4


def _base62(number: int, width: int) -> str:
    out = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        out.append(_ALPHABET[digit])
    return "".join(reversed(out))


def _checksum(prefix_and_body: str) -> str:
    return _base62(zlib.crc32(prefix_and_body.encode("ascii")), CHECK_LENGTH)


@dataclass(frozen=True)
class NewKey:
    """A freshly generated key: the secret (shown once) and what is stored about it."""

    secret: str
    secret_hash: bytes
    display_prefix: str
    environment: str


def generate(environment: str) -> NewKey:
    """A new random key for `LIVE` or `TEST`."""
    prefix = PREFIXES[environment]
    body = "".join(secrets.choice(_ALPHABET) for _ in range(BODY_LENGTH))
    secret = prefix + body + _checksum(prefix + body)
    return NewKey(secret, hash_secret(secret), display_prefix(secret), environment)


def parse(secret: str) -> str | None:
    """The environment (`LIVE`/`TEST`) of a well-formed key with a valid checksum, else None.

    Costs a few microseconds and touches nothing else, so malformed keys are refused first.
    """
    if len(secret) != KEY_LENGTH:
        return None
    environment = _ENV_BY_PREFIX.get(secret[:_PREFIX_LENGTH])
    if environment is None:
        return None
    rest = secret[_PREFIX_LENGTH:]
    if any(c not in _INDEX for c in rest):
        return None
    if not secrets.compare_digest(_checksum(secret[: _PREFIX_LENGTH + BODY_LENGTH]), rest[BODY_LENGTH:]):
        return None
    return environment


def hash_secret(secret: str) -> bytes:
    """The stored form of a key: SHA-256 of its full text (32 bytes)."""
    return hashlib.sha256(secret.encode("ascii")).digest()


def display_prefix(secret: str) -> str:
    """The key's recognisable, non-secret start (`gx_live_3fA9`)."""
    return secret[: _PREFIX_LENGTH + _DISPLAY_BODY]
