"""Signature checks: low-S enforced, tampering and malformed DER refused."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from devnet import signatures
from tests.devnet.txbuild import sign_high_s, sign_low_s


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def test_low_s_signature_verifies(key: ec.EllipticCurvePrivateKey) -> None:
    signatures.verify(key.public_key(), sign_low_s(key, b"msg"), b"msg")


def test_high_s_twin_of_a_valid_signature_is_refused(key: ec.EllipticCurvePrivateKey) -> None:
    high = sign_high_s(key, b"msg")
    assert not signatures.is_low_s(high)
    with pytest.raises(signatures.SignatureError, match="half the order"):
        signatures.verify(key.public_key(), high, b"msg")


def test_tampered_message_and_garbage_der_are_refused(key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(signatures.SignatureError, match="invalid"):
        signatures.verify(key.public_key(), sign_low_s(key, b"msg"), b"msg!")
    with pytest.raises(signatures.SignatureError, match="unmarshalling"):
        signatures.verify(key.public_key(), b"\x30\x02\x01", b"msg")
    with pytest.raises(signatures.SignatureError):
        signatures.verify(key.public_key(), b"", b"msg")


def test_devnet_signs_low_s_every_time(key: ec.EllipticCurvePrivateKey) -> None:
    for i in range(64):
        sig = signatures.sign(key, b"m%d" % i)
        assert signatures.is_low_s(sig)
        signatures.verify(key.public_key(), sig, b"m%d" % i)


def test_cache_skips_only_exact_repeats(key: ec.EllipticCurvePrivateKey) -> None:
    cache = signatures.SignatureCache()
    sig = sign_low_s(key, b"payload")
    cache.verify(key.public_key(), b"signer", sig, b"payload")
    cache.verify(key.public_key(), b"signer", sig, b"payload")
    with pytest.raises(signatures.SignatureError):
        cache.verify(key.public_key(), b"signer", sig, b"payload2")
