"""Client identities: an MSP id with an X.509 certificate, and the matching ECDSA signer."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fabric_client import signing
from fabric_client._protos import identities_pb2


@dataclass(frozen=True)
class Identity:
    """Who signs: an MSP id and a PEM certificate.

    Attributes:
        msp_id: the organisation's MSP id, e.g. ``Org1MSP``.
        certificate: the PEM-encoded X.509 certificate bytes, exactly as the peer will see them.
    """

    msp_id: str
    certificate: bytes

    def serialize(self) -> bytes:
        """Return the ``msp.SerializedIdentity`` bytes used as the creator everywhere."""
        return self._serialized

    @functools.cached_property
    def _serialized(self) -> bytes:
        # Every proposal, commit-status and events request carries the creator: build it once.
        serialized = identities_pb2.SerializedIdentity(mspid=self.msp_id, id_bytes=self.certificate)
        return bytes(serialized.SerializeToString())


class Signer(Protocol):
    """Anything that signs bytes the Fabric way (SHA-256 digest, DER ECDSA, low-S)."""

    def sign(self, message: bytes) -> bytes:
        """Sign ``message`` (not a digest) and return the DER signature."""
        ...


class PrivateKeySigner:
    """A :class:`Signer` over an in-memory P-256 private key."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        """Wrap ``key``.

        Args:
            key: an EC private key on P-256.

        Raises:
            ValueError: if the key is not on P-256.
        """
        if not isinstance(key.curve, ec.SECP256R1):
            raise ValueError(f"Fabric signing here supports P-256 keys only, got {key.curve.name}")
        self._key = key

    @classmethod
    def from_pem(cls, pem: bytes) -> PrivateKeySigner:
        """Load a PEM private key (PKCS#8 as Fabric CA and cryptogen write; SEC1 also accepted).

        Raises:
            ValueError: if the PEM is not an unencrypted EC private key.
        """
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("not an EC private key")
        return cls(key)

    def sign(self, message: bytes) -> bytes:
        """Sign ``message`` with SHA-256 ECDSA, low-S normalised."""
        return signing.sign(self._key, message)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        """Return the public half of the key."""
        return self._key.public_key()


def load_identity(msp_id: str, cert_path: Path, key_path: Path) -> tuple[Identity, PrivateKeySigner]:
    """Load an identity and signer from a PEM certificate file and a PEM key file.

    Raises:
        ValueError: if the key does not belong to the certificate.
    """
    cert_pem = Path(cert_path).read_bytes()
    signer = PrivateKeySigner.from_pem(Path(key_path).read_bytes())
    cert = x509.load_pem_x509_certificate(cert_pem)
    # A mismatched pair would be refused by the peer with a vague "access denied"; say it here.
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(*spki) != signer.public_key().public_bytes(*spki):
        raise ValueError(f"private key {key_path} does not match certificate {cert_path}")
    return Identity(msp_id=msp_id, certificate=cert_pem), signer


def load_msp_identity(msp_id: str, msp_dir: Path) -> tuple[Identity, PrivateKeySigner]:
    """Load an identity from a Fabric MSP directory (``signcerts/`` and ``keystore/``).

    Fabric CA names the key file after its SKI and cryptogen calls it ``priv_sk``; both hold exactly
    one file per directory, so the single file present is used.

    Args:
        msp_id: the MSP id the certificate belongs to.
        msp_dir: the ``msp`` directory.

    Returns:
        The identity and its signer.

    Raises:
        FileNotFoundError: if either directory does not hold exactly one file.
    """
    msp = Path(msp_dir)
    return load_identity(msp_id, _single_file(msp / "signcerts"), _single_file(msp / "keystore"))


def _single_file(directory: Path) -> Path:
    files = sorted(p for p in directory.iterdir() if p.is_file()) if directory.is_dir() else []
    if len(files) != 1:
        raise FileNotFoundError(f"expected exactly one file in {directory}, found {len(files)}")
    return files[0]
