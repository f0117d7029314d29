"""Fixtures for the fabric_client unit tests: an offline P-256 identity in a Fabric MSP layout."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fabric_client.identity import Identity, PrivateKeySigner


def make_cert(key: ec.EllipticCurvePrivateKey, common_name: str = "User1@org1.example.com") -> bytes:
    """Return a self-signed PEM certificate for ``key`` (enough for client-side tests)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="session")
def private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="session")
def identity(private_key: ec.EllipticCurvePrivateKey) -> Identity:
    return Identity(msp_id="Org1MSP", certificate=make_cert(private_key))


@pytest.fixture(scope="session")
def signer(private_key: ec.EllipticCurvePrivateKey) -> PrivateKeySigner:
    return PrivateKeySigner(private_key)


@pytest.fixture()
def msp_dir(tmp_path: Path, private_key: ec.EllipticCurvePrivateKey, identity: Identity) -> Path:
    """A cryptogen-style MSP folder: signcerts/cert.pem and keystore/priv_sk (PKCS#8)."""
    msp = tmp_path / "msp"
    (msp / "signcerts").mkdir(parents=True)
    (msp / "keystore").mkdir()
    (msp / "signcerts" / "cert.pem").write_bytes(identity.certificate)
    (msp / "keystore" / "priv_sk").write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return msp
