"""MSP: chain to the org CA, NodeOUs, expiry, MSP id, and the gxc_role attribute as Fabric CA encodes it."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from fabric_protos.msp import identities_pb2

from devnet import crypto
from devnet.msp import IdentityError, Msp
from tests.devnet.txbuild import DOMAIN, MSP_ID, Signer, user_msp


def _serialized(cert: x509.Certificate, msp_id: str = MSP_ID) -> bytes:
    return Signer.from_cert(cert, None, msp_id).creator  # type: ignore[arg-type]


def test_written_users_are_clients_and_peer_is_peer(
    msp: Msp, state_dir: Path, material: crypto.OrgMaterial
) -> None:
    for name in ("User1", "gx_admin", "gx_super_admin", "gx_partner_api"):
        ident = msp.deserialize(Signer.load(user_msp(state_dir, name)).creator)
        assert ident.role == "client"
    assert msp.deserialize(msp.serialize(material.peer_cert_pem)).role == "peer"
    assert msp.deserialize(Signer.load(user_msp(state_dir, "Admin")).creator).role == "admin"


def test_gxc_role_attribute_is_fabric_ca_json_extension(state_dir: Path) -> None:
    cert = x509.load_pem_x509_certificate(
        (user_msp(state_dir, "gx_admin") / "signcerts" / "cert.pem").read_bytes()
    )
    ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.2.3.4.5.6.7.8.1"))
    attrs = json.loads(ext.value.value)["attrs"]
    assert attrs == {
        "gxc_role": "gx_admin",
        "hf.EnrollmentID": "gx_admin",
        "hf.Type": "client",
        "hf.Affiliation": "",
    }
    user1 = x509.load_pem_x509_certificate(
        (user_msp(state_dir, "User1") / "signcerts" / "cert.pem").read_bytes()
    )
    with pytest.raises(x509.ExtensionNotFound):
        user1.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.2.3.4.5.6.7.8.1"))
    key = (user_msp(state_dir, "gx_admin") / "keystore" / "priv_sk").read_bytes()
    assert key.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    assert (state_dir / "organizations/peerOrganizations" / DOMAIN / "msp" / "config.yaml").read_text().count(
        "OrganizationalUnitIdentifier"
    ) == 4


def test_certificate_from_another_ca_is_refused(msp: Msp) -> None:
    other_ca, other_key = crypto.make_ca(DOMAIN)
    cert, _ = crypto.make_member(other_ca, other_key, "mallory", "client")
    with pytest.raises(IdentityError, match="unknown authority"):
        msp.deserialize(_serialized(cert))


def test_unknown_msp_id_is_refused(msp: Msp, state_dir: Path) -> None:
    cert_pem = (user_msp(state_dir, "User1") / "signcerts" / "cert.pem").read_bytes()
    raw = identities_pb2.SerializedIdentity(mspid="Org2MSP", id_bytes=cert_pem).SerializeToString()
    with pytest.raises(IdentityError, match="Org2MSP is unknown"):
        msp.deserialize(raw)


def test_certificate_without_a_node_ou_is_refused(msp: Msp, state_dir: Path) -> None:
    ca_key = crypto.serialization.load_pem_private_key(
        (state_dir / "organizations/peerOrganizations" / DOMAIN / "ca" / "priv_sk").read_bytes(), None
    )
    cert, _ = crypto.make_member(msp.ca_cert, ca_key, "nobody", "sales")  # type: ignore[arg-type]
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "sales"
    with pytest.raises(IdentityError, match="client, a peer, an orderer or an admin"):
        msp.deserialize(_serialized(cert))


def test_expired_certificate_is_refused_even_when_cached(msp: Msp, state_dir: Path) -> None:
    ca_key = crypto.serialization.load_pem_private_key(
        (state_dir / "organizations/peerOrganizations" / DOMAIN / "ca" / "priv_sk").read_bytes(), None
    )
    now = datetime.datetime.now(datetime.UTC)
    expired, _ = crypto.make_member(
        msp.ca_cert,
        ca_key,
        "old",
        "client",  # type: ignore[arg-type]
        not_before=now - datetime.timedelta(days=10),
        not_after=now - datetime.timedelta(days=1),
    )
    with pytest.raises(IdentityError, match="expired"):
        msp.deserialize(_serialized(expired))
    short, _ = crypto.make_member(
        msp.ca_cert,
        ca_key,
        "short",
        "client",  # type: ignore[arg-type]
        not_after=now + datetime.timedelta(hours=1),
    )
    raw = _serialized(short)
    msp.deserialize(raw)  # valid now, and cached
    with pytest.raises(IdentityError, match="expired"):
        msp.deserialize(raw, now=now + datetime.timedelta(hours=2))


def test_ca_certificate_itself_is_not_a_member(msp: Msp) -> None:
    with pytest.raises(IdentityError):
        msp.deserialize(_serialized(msp.ca_cert))
