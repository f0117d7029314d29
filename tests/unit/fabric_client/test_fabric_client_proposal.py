"""Proposal, envelope and signed-request structure, field by field as the official clients build them."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import (
    chaincode_event_pb2,
    chaincode_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)
from google.protobuf import timestamp_pb2

from fabric_client import signing
from fabric_client.errors import CommitError
from fabric_client.identity import Identity, PrivateKeySigner
from fabric_client.proposal import (
    build_proposal,
    envelope_outcome,
    envelope_result,
    qualified_name,
    sign_envelope,
    signed_chaincode_events_request,
    signed_commit_status_request,
)
from fabric_client.transaction import CommitStatus, Transaction


def _build(identity: Identity, signer: PrivateKeySigner, **kwargs: object):
    params: dict[str, object] = dict(
        identity=identity,
        signer=signer,
        channel_id="gxchannel",
        chaincode_name="gx",
        transaction_name="Transfer",
        args=["a", b"\x00\x01"],
    )
    params.update(kwargs)
    return build_proposal(**params)  # type: ignore[arg-type]


def test_proposal_headers_carry_type_txid_channel_chaincode_and_creator(
    identity: Identity, signer: PrivateKeySigner
) -> None:
    nonce = b"n" * 24
    ts = timestamp_pb2.Timestamp(seconds=1_700_000_000, nanos=5)
    built = _build(identity, signer, nonce=nonce, timestamp=ts)

    proposal = proposal_pb2.Proposal.FromString(built.signed_proposal.proposal_bytes)
    header = common_pb2.Header.FromString(proposal.header)
    channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
    signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)

    assert channel_header.type == common_pb2.ENDORSER_TRANSACTION
    assert channel_header.channel_id == "gxchannel"
    assert channel_header.epoch == 0
    assert channel_header.timestamp == ts
    assert channel_header.tx_id == built.tx_id == hashlib.sha256(nonce + identity.serialize()).hexdigest()
    extension = proposal_pb2.ChaincodeHeaderExtension.FromString(channel_header.extension)
    assert extension.chaincode_id.name == "gx"
    assert signature_header.creator == identity.serialize()
    assert signature_header.nonce == nonce


def test_proposal_payload_holds_function_then_args_and_transient_data(
    identity: Identity, signer: PrivateKeySigner
) -> None:
    built = _build(identity, signer, transient={"secret": b"pin"})
    proposal = proposal_pb2.Proposal.FromString(built.signed_proposal.proposal_bytes)
    payload = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload)
    spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input).chaincode_spec

    assert spec.chaincode_id.name == "gx"
    assert list(spec.input.args) == [b"Transfer", b"a", b"\x00\x01"]
    assert dict(payload.TransientMap) == {"secret": b"pin"}


def test_proposal_signature_is_low_s_over_the_proposal_bytes(
    identity: Identity, signer: PrivateKeySigner
) -> None:
    built = _build(identity, signer)
    sp = built.signed_proposal
    signer.public_key().verify(sp.signature, sp.proposal_bytes, ec.ECDSA(hashes.SHA256()))
    assert signing.is_low_s(sp.signature)


def test_every_proposal_gets_a_fresh_nonce_and_tx_id(identity: Identity, signer: PrivateKeySigner) -> None:
    assert len({_build(identity, signer).tx_id for _ in range(20)}) == 20


def test_contract_name_qualifies_the_function() -> None:
    assert qualified_name("Transfer", "tokenomics") == "tokenomics:Transfer"
    assert qualified_name("Transfer", None) == "Transfer"


def _endorsed_envelope(identity: Identity, result: bytes, event: bytes | None = None) -> common_pb2.Envelope:
    """An envelope shaped like the gateway's prepareTransaction output (unsigned); `event`, the
    payload of a chaincode event the transaction sets."""
    built = build_proposal(
        identity=identity,
        signer=PrivateKeySigner(ec.generate_private_key(ec.SECP256R1())),
        channel_id="gxchannel",
        chaincode_name="gx",
        transaction_name="Put",
    )
    proposal = proposal_pb2.Proposal.FromString(built.signed_proposal.proposal_bytes)
    header = common_pb2.Header.FromString(proposal.header)
    action = proposal_pb2.ChaincodeAction(response=proposal_response_pb2.Response(status=200, payload=result))
    if event is not None:
        action.events = chaincode_event_pb2.ChaincodeEvent(
            chaincode_id="gx", tx_id="t", event_name="gx", payload=event
        ).SerializeToString()
    prp = proposal_response_pb2.ProposalResponsePayload(
        proposal_hash=b"h", extension=action.SerializeToString()
    )
    cap = transaction_pb2.ChaincodeActionPayload(
        action=transaction_pb2.ChaincodeEndorsedAction(proposal_response_payload=prp.SerializeToString())
    )
    tx = transaction_pb2.Transaction(
        actions=[
            transaction_pb2.TransactionAction(header=header.signature_header, payload=cap.SerializeToString())
        ]
    )
    payload = common_pb2.Payload(header=header, data=tx.SerializeToString())
    return common_pb2.Envelope(payload=payload.SerializeToString())


def test_endorsed_envelope_is_signed_and_rebuilt_from_stored_bytes(
    identity: Identity, signer: PrivateKeySigner
) -> None:
    unsigned = _endorsed_envelope(identity, b"chaincode result")
    assert envelope_result(unsigned) == b"chaincode result"
    with pytest.raises(ValueError, match="not signed"):
        Transaction.from_envelope_bytes(unsigned.SerializeToString())

    signed = sign_envelope(unsigned, signer)
    signer.public_key().verify(signed.signature, signed.payload, ec.ECDSA(hashes.SHA256()))
    tx = Transaction.from_envelope_bytes(signed.SerializeToString())

    header = common_pb2.ChannelHeader.FromString(
        common_pb2.Payload.FromString(signed.payload).header.channel_header
    )
    assert tx.tx_id == header.tx_id and tx.channel_id == "gxchannel"
    assert tx.result == b"chaincode result"
    assert tx.envelope_bytes == signed.SerializeToString()
    assert tx.event == b""  # the transaction set no event


def test_the_event_a_transaction_sets_is_read_from_its_envelope(
    identity: Identity, signer: PrivateKeySigner
) -> None:
    unsigned = _endorsed_envelope(identity, b"{}", event=b'{"replayed":true}')
    assert envelope_outcome(unsigned) == (b"{}", b'{"replayed":true}')
    tx = Transaction.from_envelope_bytes(sign_envelope(unsigned, signer).SerializeToString())
    assert (tx.result, tx.event) == (b"{}", b'{"replayed":true}')


def test_commit_status_request_is_signed_by_the_client(identity: Identity, signer: PrivateKeySigner) -> None:
    signed = signed_commit_status_request(identity, signer, "gxchannel", "ab" * 32)
    request = gateway_pb2.CommitStatusRequest.FromString(signed.request)
    assert (request.transaction_id, request.channel_id, request.identity) == (
        "ab" * 32,
        "gxchannel",
        identity.serialize(),
    )
    signer.public_key().verify(signed.signature, signed.request, ec.ECDSA(hashes.SHA256()))


def test_events_request_uses_next_commit_without_start_block(
    identity: Identity, signer: PrivateKeySigner
) -> None:
    signed = signed_chaincode_events_request(identity, signer, "gxchannel", "gx", None, None)
    request = gateway_pb2.ChaincodeEventsRequest.FromString(signed.request)
    assert request.start_position.WhichOneof("Type") == "next_commit"
    assert request.after_transaction_id == ""
    signer.public_key().verify(signed.signature, signed.request, ec.ECDSA(hashes.SHA256()))


def test_events_request_resumes_from_a_checkpoint(identity: Identity, signer: PrivateKeySigner) -> None:
    signed = signed_chaincode_events_request(identity, signer, "gxchannel", "gx", 7, "tx-7")
    request = gateway_pb2.ChaincodeEventsRequest.FromString(signed.request)
    assert request.start_position.WhichOneof("Type") == "specified"
    assert request.start_position.specified.number == 7
    assert request.after_transaction_id == "tx-7"
    assert (request.channel_id, request.chaincode_id) == ("gxchannel", "gx")


def test_commit_status_raises_commit_error_with_validation_code_name() -> None:
    assert CommitStatus("t", 0, 3).successful
    CommitStatus("t", 0, 3).raise_for_status()
    status = CommitStatus("t", 11, 4)
    assert status.code_name == "MVCC_READ_CONFLICT" and not status.successful
    with pytest.raises(CommitError) as caught:
        status.raise_for_status()
    assert (caught.value.code, caught.value.code_name, caught.value.block_number) == (
        11,
        "MVCC_READ_CONFLICT",
        4,
    )
    assert CommitStatus("t", 9, 5).code_name == "DUPLICATE_TXID"
    assert CommitStatus("t", 77, 5).code_name == "UNKNOWN_77"
