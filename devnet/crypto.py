"""The org's crypto material in Fabric's test-network layout: written on first start, loaded afterwards."""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import json
import logging
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_LOG = logging.getLogger(__name__)

# Fabric CA puts enrollment attributes in this X.509 extension, as raw JSON (fabric-ca lib/attrmgr).
ATTRIBUTE_OID = x509.ObjectIdentifier("1.2.3.4.5.6.7.8.1")
GX_ROLES = ("gx_super_admin", "gx_admin", "gx_partner_api")
_VALIDITY = datetime.timedelta(days=3650)
_BACKDATE = datetime.timedelta(minutes=5)

NODE_OU_CONFIG = """NodeOUs:
  Enable: true
  ClientOUIdentifier:
    Certificate: cacerts/{ca_file}
    OrganizationalUnitIdentifier: client
  PeerOUIdentifier:
    Certificate: cacerts/{ca_file}
    OrganizationalUnitIdentifier: peer
  AdminOUIdentifier:
    Certificate: cacerts/{ca_file}
    OrganizationalUnitIdentifier: admin
  OrdererOUIdentifier:
    Certificate: cacerts/{ca_file}
    OrganizationalUnitIdentifier: orderer
"""


@dataclasses.dataclass(frozen=True)
class OrgMaterial:
    """What the running peer needs from the org's material.

    Attributes:
        org_dir: ``<state>/organizations/peerOrganizations/<domain>``.
        ca_cert: The org's root CA certificate (the MSP trusts exactly this root).
        peer_cert_pem: The peer's signing certificate, PEM (its SerializedIdentity id_bytes).
        peer_key: The peer's signing key (endorsements).
        tls_cert_path, tls_key_path, tls_ca_path: The peer's TLS server material (used with ``--tls``).
    """

    org_dir: Path
    ca_cert: x509.Certificate
    peer_cert_pem: bytes
    peer_key: ec.EllipticCurvePrivateKey
    tls_cert_path: Path
    tls_key_path: Path
    tls_ca_path: Path


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    # PKCS#8 ("BEGIN PRIVATE KEY") is what the Go client's ParsePKCS8PrivateKey and Node accept.
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _ca_name(domain: str, prefix: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "California"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "San Francisco"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, domain),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{prefix}.{domain}"),
        ]
    )


def make_ca(domain: str, prefix: str = "ca") -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed P-256 root CA shaped like cryptogen's (internal/cryptogen/ca/ca.go)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _ca_name(domain, prefix)
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_member(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    common_name: str,
    ou: str,
    *,
    attrs: dict[str, str] | None = None,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """An enrolment certificate signed by ``ca_cert`` with NodeOU ``ou`` (client, peer, admin, orderer).

    Args:
        attrs: Fabric CA attributes; written as the JSON extension ``{"attrs": {...}}`` under ATTRIBUTE_OID.
        not_before, not_after: Validity override (tests use it for expired certificates).
    """
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "California"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "San Francisco"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - _BACKDATE)
        .not_valid_after(not_after or now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
    )
    if attrs is not None:
        raw = json.dumps({"attrs": attrs}, separators=(",", ":")).encode()
        builder = builder.add_extension(x509.UnrecognizedExtension(ATTRIBUTE_OID, raw), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def _make_tls(
    tls_ca: x509.Certificate,
    tls_ca_key: ec.EllipticCurvePrivateKey,
    host: str,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(tls_ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(host),
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .sign(tls_ca_key, hashes.SHA256())
    )
    return cert, key


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if private:
        path.chmod(0o600)


def _write_msp(
    msp_dir: Path, ca_file: str, ca_pem: bytes, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> None:
    _write(msp_dir / "signcerts" / "cert.pem", _pem(cert))
    _write(msp_dir / "keystore" / "priv_sk", _key_pem(key), private=True)
    _write(msp_dir / "cacerts" / ca_file, ca_pem)
    _write(msp_dir / "config.yaml", NODE_OU_CONFIG.format(ca_file=ca_file).encode())


def org_dir(state_dir: Path, domain: str) -> Path:
    """Where the org's material lives under a devnet state directory."""
    return Path(state_dir) / "organizations" / "peerOrganizations" / domain


def generate(state_dir: Path, domain: str) -> None:
    """Write a fresh CA, peer, admin and client identities (test-network layout) under ``state_dir``."""
    base = org_dir(state_dir, domain)
    ca_file = f"ca.{domain}-cert.pem"
    ca_cert, ca_key = make_ca(domain)
    ca_pem = _pem(ca_cert)
    _write(base / "ca" / ca_file, ca_pem)
    _write(base / "ca" / "priv_sk", _key_pem(ca_key), private=True)
    _write(base / "msp" / "cacerts" / ca_file, ca_pem)
    _write(base / "msp" / "config.yaml", NODE_OU_CONFIG.format(ca_file=ca_file).encode())

    peer_name = f"peer0.{domain}"
    cert, key = make_member(ca_cert, ca_key, peer_name, "peer")
    _write_msp(base / "peers" / peer_name / "msp", ca_file, ca_pem, cert, key)

    tls_ca, tls_ca_key = make_ca(domain, prefix="tlsca")
    tls_cert, tls_key = _make_tls(tls_ca, tls_ca_key, peer_name)
    tls_dir = base / "peers" / peer_name / "tls"
    _write(tls_dir / "ca.crt", _pem(tls_ca))
    _write(tls_dir / "server.crt", _pem(tls_cert))
    _write(tls_dir / "server.key", _key_pem(tls_key), private=True)
    _write(base / "tlsca" / f"tlsca.{domain}-cert.pem", _pem(tls_ca))

    cert, key = make_member(ca_cert, ca_key, f"Admin@{domain}", "admin")
    _write_msp(base / "users" / f"Admin@{domain}" / "msp", ca_file, ca_pem, cert, key)
    for role in GX_ROLES:
        attrs = {"gxc_role": role, "hf.EnrollmentID": role, "hf.Type": "client", "hf.Affiliation": ""}
        cert, key = make_member(ca_cert, ca_key, role, "client", attrs=attrs)
        _write_msp(base / "users" / f"{role}@{domain}" / "msp", ca_file, ca_pem, cert, key)
    cert, key = make_member(ca_cert, ca_key, f"User1@{domain}", "client")
    _write_msp(base / "users" / f"User1@{domain}" / "msp", ca_file, ca_pem, cert, key)
    _LOG.info("wrote crypto material for %s under %s", domain, base)


def load_or_generate(state_dir: Path, domain: str) -> OrgMaterial:
    """Load the org's material, generating it first if the state directory has none."""
    base = org_dir(state_dir, domain)
    ca_path = base / "ca" / f"ca.{domain}-cert.pem"
    if not ca_path.exists():
        generate(state_dir, domain)
    peer_msp = base / "peers" / f"peer0.{domain}" / "msp"
    key = serialization.load_pem_private_key((peer_msp / "keystore" / "priv_sk").read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the peer key must be an EC key")
    tls_dir = base / "peers" / f"peer0.{domain}" / "tls"
    return OrgMaterial(
        org_dir=base,
        ca_cert=x509.load_pem_x509_certificate(ca_path.read_bytes()),
        peer_cert_pem=(peer_msp / "signcerts" / "cert.pem").read_bytes(),
        peer_key=key,
        tls_cert_path=tls_dir / "server.crt",
        tls_key_path=tls_dir / "server.key",
        tls_ca_path=tls_dir / "ca.crt",
    )
