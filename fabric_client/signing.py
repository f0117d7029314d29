"""ECDSA P-256 / SHA-256 signatures in DER with the low-S form Fabric peers require."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

#: The order n of the P-256 group. Fabric's verifier (bccsp/sw/ecdsa.go) rejects any s > n/2.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_HALF_ORDER = P256_ORDER >> 1


def is_low_s(signature: bytes) -> bool:
    """Tell whether a DER ECDSA signature has s <= n/2.

    Args:
        signature: DER-encoded ``SEQUENCE{r, s}``.

    Returns:
        True when a Fabric peer would accept the S value.
    """
    _, s = decode_dss_signature(signature)
    return s <= _HALF_ORDER


def normalize_low_s(signature: bytes) -> bytes:
    """Rewrite a DER ECDSA P-256 signature to its low-S twin.

    (r, s) and (r, n - s) verify alike; Fabric accepts only the smaller s so that a signature
    cannot be altered into a second valid one (malleability).

    Args:
        signature: DER-encoded ``SEQUENCE{r, s}``.

    Returns:
        The DER signature with s <= n/2 (the input unchanged if it already was).
    """
    r, s = decode_dss_signature(signature)
    if s <= _HALF_ORDER:
        return signature
    return encode_dss_signature(r, P256_ORDER - s)


def sign(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """Sign ``message`` as Fabric clients do: SHA-256 digest, ECDSA, DER, low-S.

    Args:
        key: a P-256 private key.
        message: the bytes to sign (hashed here; never pass a digest).

    Returns:
        The DER-encoded low-S signature.
    """
    return normalize_low_s(key.sign(message, ec.ECDSA(hashes.SHA256())))
