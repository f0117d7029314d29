"""ES256 signing keys on disk: created when missing, newest signs, all published as JWKS."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

log = logging.getLogger(__name__)

_SUFFIX = ".pem"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """Returns the RFC 7517 JWK members of a P-256 public key (without kid/use/alg)."""
    numbers = public_key.public_numbers()
    return {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
    }


def jwk_thumbprint(public_key: ec.EllipticCurvePublicKey) -> str:
    """Computes the RFC 7638 JWK thumbprint (SHA-256, base64url), used as the key id.

    A thumbprint is derived from the key itself, so every replica that loads the same key
    file agrees on its kid without any extra state.
    """
    members = public_jwk(public_key)
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode("ascii")
    return _b64url(hashlib.sha256(canonical).digest())


@dataclass(frozen=True)
class SigningKey:
    """One ES256 key pair loaded from disk.

    Attributes:
        kid: The RFC 7638 thumbprint.
        private_key: The P-256 private key.
        created: When the key file was written (orders keys: the newest signs).
        path: The PEM file it came from.
    """

    kid: str
    private_key: ec.EllipticCurvePrivateKey
    created: datetime
    path: Path

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The public half."""
        return self.private_key.public_key()

    def jwk(self) -> dict[str, str]:
        """The public JWK with kid, use and alg, as published in the JWKS."""
        return {**public_jwk(self.public_key), "kid": self.kid, "use": "sig", "alg": "ES256"}


class KeyStore:
    """The identity service's signing keys in one directory of PKCS#8 PEM files.

    Every key in the directory is published, so tokens signed by an older key keep
    verifying after a rotation until that key's file is removed (which an operator may do
    once the longest access-token lifetime has passed). A new key is published for
    `activation_delay` before it signs: verifiers that cache the JWKS (Envoy's jwt_authn
    keeps it for minutes and does not refetch on an unknown kid) have it before any token
    names it. The newest key past that delay signs; a store whose keys are all younger (a
    fresh directory) signs with its oldest.
    """

    def __init__(
        self, directory: Path, keys: list[SigningKey], activation_delay: timedelta = timedelta(0)
    ) -> None:
        """Wraps loaded keys; use `KeyStore.open` to load a directory.

        Args:
            directory: Where the keys live.
            keys: The loaded keys, oldest first, at least one.
            activation_delay: How long a new key is only published before it signs.
        """
        if not keys:
            raise ValueError("a key store needs at least one key")
        self.directory = directory
        self._keys = keys
        self._delay = activation_delay
        self._loaded_at = time.monotonic()

    @classmethod
    def open(cls, directory: Path, activation_delay: timedelta = timedelta(0)) -> KeyStore:
        """Loads every key in a directory, creating the directory and a first key if empty.

        Args:
            directory: The keys directory (`GX_IDENTITY__KEYS_DIR`).
            activation_delay: How long a rotated-in key is only published before it signs.

        Returns:
            The loaded store.
        """
        if not directory.is_dir():
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        # A directory with keys (a Kubernetes Secret mount, read-only) is only read: no lock, no
        # write. Only an empty one is locked, so two processes starting together create one key.
        keys = _load_all(directory)
        if not keys:
            with _dir_lock(directory):
                keys = _load_all(directory)
                if not keys:
                    keys = [_write_new_key(directory)]
                    log.info("created a first signing key %s", keys[0].kid)
        return cls(directory, keys, activation_delay)

    def rotate(self) -> SigningKey:
        """Writes a new key; it signs once the activation delay has passed, and older keys
        stay published.

        Returns:
            The new key.
        """
        with _dir_lock(self.directory):
            key = _write_new_key(self.directory)
            self._keys = _load_all(self.directory)
        return key

    def reload(self) -> None:
        """Re-reads the directory, picking up keys rotated by another process."""
        keys = _load_all(self.directory)
        if keys:
            self._keys = keys
        self._loaded_at = time.monotonic()

    def reload_if_older_than(self, seconds: float) -> None:
        """Re-reads the directory when the last read is older than `seconds` (a cheap poll)."""
        if time.monotonic() - self._loaded_at >= seconds:
            self.reload()

    def signing_key(self, now: datetime) -> SigningKey:
        """The key that signs at `now`: the newest one published for the activation delay."""
        ripe = [k for k in self._keys if k.created <= now - self._delay]
        return ripe[-1] if ripe else self._keys[0]

    @property
    def current(self) -> SigningKey:
        """The key that signs new tokens now."""
        return self.signing_key(datetime.now(UTC))

    @property
    def keys(self) -> list[SigningKey]:
        """Every loaded key, oldest first."""
        return list(self._keys)

    def public_keys(self) -> dict[str, ec.EllipticCurvePublicKey]:
        """The verification keys by kid."""
        return {k.kid: k.public_key for k in self._keys}

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set (RFC 7517 §5) of every published key, newest first."""
        return {"keys": [k.jwk() for k in reversed(self._keys)]}

    def jwks_json(self) -> bytes:
        """The JWKS as compact JSON bytes, ready to serve."""
        return json.dumps(self.jwks(), separators=(",", ":")).encode("utf-8")


class _dir_lock:
    """An exclusive flock on the key directory itself, so two processes starting together create
    one key. Locking the directory's own descriptor (read-only is enough for flock) leaves no lock
    file behind: nothing but keys ever lives in the directory, which may be a read-only mount."""

    def __init__(self, directory: Path) -> None:
        self._path = directory
        self._fd = -1

    def __enter__(self) -> None:
        self._fd = os.open(self._path, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


def _load_all(directory: Path) -> list[SigningKey]:
    keys = []
    for path in sorted(directory.glob("*" + _SUFFIX)):
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private, ec.EllipticCurvePrivateKey) or not isinstance(private.curve, ec.SECP256R1):
            # A stray file must not silently become a signing key of the wrong kind.
            raise ValueError(f"{path} is not a P-256 private key")
        created = _created(path)
        keys.append(SigningKey(jwk_thumbprint(private.public_key()), private, created, path))
    keys.sort(key=lambda k: (k.created, k.path.name))
    return keys


_NAMED_TIME = re.compile(r"es256-(\d{8}T\d{12})Z-")


def _created(path: Path) -> datetime:
    # The file name carries the creation time, which survives copies (a Kubernetes secret
    # mount, a backup restore) that reset mtimes; other file names fall back to mtime.
    match = _NAMED_TIME.match(path.name)
    if match:
        return datetime.strptime(match.group(1), "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _write_new_key(directory: Path) -> SigningKey:
    private = ec.generate_private_key(ec.SECP256R1())
    kid = jwk_thumbprint(private.public_key())
    now = datetime.now(UTC)
    path = directory / f"es256-{now:%Y%m%dT%H%M%S%fZ}-{kid[:8]}{_SUFFIX}"
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Written under a name the loader does not read, then linked into place whole: a process
    # reading the directory without the lock (a second one starting at the same moment) never
    # sees a half-written key. `link` refuses an existing name, as O_EXCL did.
    partial = directory / f".{path.name}.partial"
    fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return SigningKey(kid, private, now, path)
