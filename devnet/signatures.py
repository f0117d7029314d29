"""ECDSA P-256/SHA-256 signatures as Fabric makes and checks them: DER encoded, low-S enforced."""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

# Order of the P-256 group. Fabric (fabric-lib-go bccsp/sw/ecdsa.go) refuses s > N/2: each ECDSA signature
# has a twin (r, N-s) that also verifies, and allowing both would make signatures malleable.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_HALF_ORDER = P256_ORDER >> 1
_ALGORITHM = ec.ECDSA(hashes.SHA256())


class SignatureError(Exception):
    """A signature is malformed, high-S, or does not verify."""


def sign(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """Sign ``message`` (hashed with SHA-256) and return a low-S DER signature, as Fabric signers do."""
    r, s = decode_dss_signature(key.sign(message, _ALGORITHM))
    if s > _HALF_ORDER:
        s = P256_ORDER - s
    return encode_dss_signature(r, s)


def is_low_s(signature: bytes) -> bool:
    """True if the DER signature's s is at most half the group order."""
    _, s = decode_dss_signature(signature)
    return s <= _HALF_ORDER


def verify(public_key: ec.EllipticCurvePublicKey, signature: bytes, message: bytes) -> None:
    """Check a Fabric signature over ``message``.

    Raises:
        SignatureError: with Fabric's wording, when the DER is bad, s is high, or the signature is wrong.
    """
    if not signature:
        raise SignatureError("signature is empty")
    try:
        r, s = decode_dss_signature(signature)
    except ValueError as exc:
        raise SignatureError(f"failed unmarshalling signature: {exc}") from exc
    if r <= 0 or s <= 0:
        raise SignatureError("invalid signature, r and s must be larger than zero")
    if s > _HALF_ORDER:
        raise SignatureError("invalid S. Must be smaller than half the order")
    try:
        public_key.verify(signature, message, _ALGORITHM)
    except InvalidSignature as exc:
        raise SignatureError("the signature is invalid") from exc


class SignatureCache:
    """Remembers signatures this process already verified or made, so each is checked once.

    A transaction's creator signature is verified when the orderer accepts it and its endorsement is made
    by this peer; the committer asks again for the exact same bytes. The key covers the signer, the
    signature and the message, so any changed byte misses the cache and is verified in full.
    """

    def __init__(self, size: int = 100_000) -> None:
        self._size = size
        self._seen: set[bytes] = set()

    @staticmethod
    def _key(signer: bytes, signature: bytes, message: bytes) -> bytes:
        h = hashlib.sha256()
        for part in (signer, signature, message):
            h.update(len(part).to_bytes(8, "big"))
            h.update(part)
        return h.digest()

    def remember(self, signer: bytes, signature: bytes, message: bytes) -> None:
        """Record a signature known to be valid (one this peer made, or one just verified)."""
        if len(self._seen) >= self._size:
            # Dropping everything is crude but keeps memory bounded; the cost is a re-verification.
            self._seen.clear()
        self._seen.add(self._key(signer, signature, message))

    def verify(
        self, public_key: ec.EllipticCurvePublicKey, signer: bytes, signature: bytes, message: bytes
    ) -> None:
        """Like :func:`verify`, but skips signatures already seen valid for these exact bytes."""
        key = self._key(signer, signature, message)
        if key in self._seen:
            return
        verify(public_key, signature, message)
        if len(self._seen) >= self._size:
            self._seen.clear()
        self._seen.add(key)
