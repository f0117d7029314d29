"""Proposal validation: txid, header, epoch, signature (incl. high-S), creator role, duplicates."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fabric_protos.common import common_pb2

from devnet.endorser import DuplicateTxError, ValidationError, compute_txid, unpack
from tests.devnet.conftest import Chain
from tests.devnet.txbuild import Signer, signed_proposal


def test_txid_is_sha256_of_nonce_and_creator() -> None:
    assert compute_txid(b"n" * 24, b"creator") == hashlib.sha256(b"n" * 24 + b"creator").hexdigest()


def test_well_formed_proposal_validates(chain: Chain, user: Signer) -> None:
    _, sp = signed_proposal(user, "kv", "Get", "a")
    up = unpack(sp)
    chain.endorser.validate(up)
    assert up.chaincode_name == "kv" and list(up.cc_input.args) == [b"Get", b"a"]


def test_wrong_txid_is_refused_with_the_expected_one(chain: Chain, user: Signer) -> None:
    _, sp = signed_proposal(user, "kv", "Get", "a", txid="ab" * 32)
    with pytest.raises(
        ValidationError, match=r"incorrectly computed txid '(ab)+' -- expected '[0-9a-f]{64}'"
    ):
        chain.endorser.validate(unpack(sp))


@pytest.mark.parametrize("tamper", ["high_s", "bytes"])
def test_bad_signatures_are_access_denied(chain: Chain, user: Signer, tamper: str) -> None:
    _, sp = signed_proposal(user, "kv", "Get", "a", high_s=(tamper == "high_s"))
    if tamper == "bytes":
        sp.proposal_bytes = sp.proposal_bytes[:-1] + bytes([sp.proposal_bytes[-1] ^ 1])
    with pytest.raises(
        ValidationError, match=r"access denied: channel \[gxchannel\] creator org \[Org1MSP\]"
    ):
        chain.endorser.validate(unpack(sp))


def test_peer_identity_may_not_propose(chain: Chain, state_dir: Path) -> None:
    peer = Signer.load(
        state_dir / "organizations/peerOrganizations/org1.example.com/peers/peer0.org1.example.com/msp"
    )
    _, sp = signed_proposal(peer, "kv", "Get", "a")
    with pytest.raises(ValidationError, match="access denied"):
        chain.endorser.validate(unpack(sp))


def test_header_type_and_epoch_are_checked(chain: Chain, user: Signer) -> None:
    _, sp = signed_proposal(user, "kv", "Get", header_type=common_pb2.CONFIG)
    with pytest.raises(ValidationError, match="invalid header type CONFIG"):
        chain.endorser.validate(unpack(sp))
    _, sp = signed_proposal(user, "kv", "Get", epoch=3)
    with pytest.raises(ValidationError, match="Expected 0, got \\[3\\]"):
        chain.endorser.validate(unpack(sp))


def test_txid_already_in_ledger_is_a_duplicate(chain: Chain, user: Signer) -> None:
    txid, env = chain.tx(user, lambda sim: sim.put_state("kv", "k", b"v"))
    chain.committer.commit([env])
    nonce = bytes(
        common_pb2.SignatureHeader.FromString(
            common_pb2.Header.FromString(
                common_pb2.Payload.FromString(
                    common_pb2.Envelope.FromString(env).payload
                ).header.SerializeToString()
            ).signature_header
        ).nonce
    )
    again_txid, sp = signed_proposal(user, "kv", "Get", nonce=nonce)
    assert again_txid == txid
    with pytest.raises(DuplicateTxError, match=f"duplicate transaction found \\[{txid}\\]"):
        chain.endorser.validate(unpack(sp))
