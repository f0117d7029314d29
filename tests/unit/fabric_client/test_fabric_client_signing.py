"""Low-S ECDSA signatures, transaction ids and identity loading."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from fabric_protos.msp import identities_pb2

from fabric_client import signing
from fabric_client.identity import Identity, PrivateKeySigner, load_msp_identity
from fabric_client.txid import NONCE_LENGTH, compute_tx_id, new_nonce

N = signing.P256_ORDER


def _verify(key: ec.EllipticCurvePrivateKey, signature: bytes, message: bytes) -> None:
    key.public_key().verify(signature, message, ec.ECDSA(hashes.SHA256()))


def _high_s_signature(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return encode_dss_signature(r, max(s, N - s))


def test_high_s_signature_is_rewritten_to_low_s_and_still_verifies(
    private_key: ec.EllipticCurvePrivateKey,
) -> None:
    message = b"proposal bytes"
    high = _high_s_signature(private_key, message)
    r_high, s_high = decode_dss_signature(high)
    assert s_high > N // 2 and not signing.is_low_s(high)
    _verify(private_key, high, message)  # mathematically valid, which is why peers must refuse it

    low = signing.normalize_low_s(high)

    r_low, s_low = decode_dss_signature(low)
    assert r_low == r_high and s_low == N - s_high and s_low <= N // 2
    assert signing.is_low_s(low)
    _verify(private_key, low, message)


def test_low_s_signature_is_left_unchanged(private_key: ec.EllipticCurvePrivateKey) -> None:
    high = _high_s_signature(private_key, b"m")
    low = signing.normalize_low_s(high)
    assert signing.normalize_low_s(low) == low


def test_sign_always_yields_low_s_signatures_that_verify(private_key: ec.EllipticCurvePrivateKey) -> None:
    # ECDSA picks s at random, so about half of raw signatures are high-S; 64 runs would all but
    # certainly include some, and every output must still be low-S.
    for i in range(64):
        message = b"message %d" % i
        signature = signing.sign(private_key, message)
        assert signing.is_low_s(signature)
        _verify(private_key, signature, message)


def test_signature_over_other_bytes_does_not_verify(private_key: ec.EllipticCurvePrivateKey) -> None:
    signature = signing.sign(private_key, b"original")
    with pytest.raises(InvalidSignature):
        _verify(private_key, signature, b"tampered")


def test_tx_id_is_hex_sha256_of_nonce_then_creator(identity: Identity) -> None:
    nonce = bytes(range(24))
    creator = identity.serialize()
    tx_id = compute_tx_id(nonce, creator)
    assert tx_id == hashlib.sha256(nonce + creator).hexdigest()
    assert len(tx_id) == 64 and tx_id == tx_id.lower()
    assert compute_tx_id(nonce, creator + b"x") != tx_id
    assert compute_tx_id(bytes(24), creator) != tx_id


def test_nonces_are_24_random_bytes() -> None:
    nonces = {new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    assert all(len(n) == NONCE_LENGTH == 24 for n in nonces)


def test_identity_serializes_as_msp_serialized_identity(identity: Identity) -> None:
    parsed = identities_pb2.SerializedIdentity.FromString(identity.serialize())
    assert parsed.mspid == "Org1MSP"
    assert parsed.id_bytes == identity.certificate


def test_identity_loads_from_msp_directory(msp_dir: Path, identity: Identity) -> None:
    loaded, signer = load_msp_identity("Org1MSP", msp_dir)
    assert loaded == identity
    signature = signer.sign(b"hello")
    signer.public_key().verify(signature, b"hello", ec.ECDSA(hashes.SHA256()))


def test_msp_directory_with_a_key_of_another_certificate_is_refused(msp_dir: Path) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    from cryptography.hazmat.primitives import serialization

    (msp_dir / "keystore" / "priv_sk").write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(ValueError, match="does not match"):
        load_msp_identity("Org1MSP", msp_dir)


def test_msp_directory_with_two_keys_is_refused(msp_dir: Path) -> None:
    (msp_dir / "keystore" / "second_sk").write_bytes(b"x")
    with pytest.raises(FileNotFoundError, match="exactly one file"):
        load_msp_identity("Org1MSP", msp_dir)


def test_signer_refuses_keys_not_on_p256() -> None:
    with pytest.raises(ValueError, match="P-256"):
        PrivateKeySigner(ec.generate_private_key(ec.SECP384R1()))
