"""Test helpers that build Fabric messages the way a client does, written independently of devnet's code paths.

Signing here uses ``cryptography`` directly (not devnet.signatures) so a devnet signing bug cannot cancel
itself out in the tests.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from fabric_protos.common import common_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2
from google.protobuf import timestamp_pb2

N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
MSP_ID = "Org1MSP"
CHANNEL = "gxchannel"
DOMAIN = "org1.example.com"


def sign_low_s(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return encode_dss_signature(r, min(s, N - s))


def sign_high_s(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """A valid ECDSA signature in its high-S twin form, which Fabric refuses."""
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return encode_dss_signature(r, max(s, N - s))


@dataclasses.dataclass
class Signer:
    """A client identity: serialized creator bytes plus its key."""

    creator: bytes
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def load(cls, msp_dir: Path, msp_id: str = MSP_ID) -> Signer:
        cert_pem = (msp_dir / "signcerts" / "cert.pem").read_bytes()
        key = serialization.load_pem_private_key((msp_dir / "keystore" / "priv_sk").read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return cls(
            identities_pb2.SerializedIdentity(mspid=msp_id, id_bytes=cert_pem).SerializeToString(), key
        )

    @classmethod
    def from_cert(
        cls, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, msp_id: str = MSP_ID
    ) -> Signer:
        pem = cert.public_bytes(serialization.Encoding.PEM)
        return cls(identities_pb2.SerializedIdentity(mspid=msp_id, id_bytes=pem).SerializeToString(), key)

    def sign(self, message: bytes) -> bytes:
        return sign_low_s(self.key, message)


def user_msp(state_dir: Path, name: str) -> Path:
    return state_dir / "organizations" / "peerOrganizations" / DOMAIN / "users" / f"{name}@{DOMAIN}" / "msp"


def signed_proposal(
    signer: Signer,
    chaincode: str,
    *args: str,
    channel: str = CHANNEL,
    txid: str | None = None,
    epoch: int = 0,
    header_type: int = common_pb2.ENDORSER_TRANSACTION,
    nonce: bytes | None = None,
    high_s: bool = False,
) -> tuple[str, proposal_pb2.SignedProposal]:
    """A client's SignedProposal (fabric.md §2.4); overrides let tests break one field at a time."""
    nonce = os.urandom(24) if nonce is None else nonce
    real_txid = hashlib.sha256(nonce + signer.creator).hexdigest()
    now = time.time_ns()
    chdr = common_pb2.ChannelHeader(
        type=header_type,
        tx_id=txid or real_txid,
        channel_id=channel,
        epoch=epoch,
        timestamp=timestamp_pb2.Timestamp(seconds=now // 10**9, nanos=now % 10**9),
        extension=proposal_pb2.ChaincodeHeaderExtension(
            chaincode_id=chaincode_pb2.ChaincodeID(name=chaincode)
        ).SerializeToString(),
    )
    shdr = common_pb2.SignatureHeader(creator=signer.creator, nonce=nonce)
    spec = chaincode_pb2.ChaincodeInvocationSpec(
        chaincode_spec=chaincode_pb2.ChaincodeSpec(
            type=chaincode_pb2.ChaincodeSpec.NODE,
            chaincode_id=chaincode_pb2.ChaincodeID(name=chaincode),
            input=chaincode_pb2.ChaincodeInput(args=[a.encode() for a in args]),
        )
    )
    proposal = proposal_pb2.Proposal(
        header=common_pb2.Header(
            channel_header=chdr.SerializeToString(), signature_header=shdr.SerializeToString()
        ).SerializeToString(),
        payload=proposal_pb2.ChaincodeProposalPayload(input=spec.SerializeToString()).SerializeToString(),
    )
    raw = proposal.SerializeToString()
    signature = sign_high_s(signer.key, raw) if high_s else signer.sign(raw)
    return chdr.tx_id, proposal_pb2.SignedProposal(proposal_bytes=raw, signature=signature)


def sign_envelope(signer: Signer, envelope: common_pb2.Envelope) -> bytes:
    """Sign a prepared envelope's payload; return the serialized signed envelope."""
    signed = common_pb2.Envelope(payload=envelope.payload, signature=signer.sign(envelope.payload))
    return signed.SerializeToString()
