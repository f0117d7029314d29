"""Pure builders and parsers for the signed messages of the Gateway flow (no network)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from google.protobuf import timestamp_pb2

from fabric_client._protos import (
    ab_pb2,
    chaincode_event_pb2,
    chaincode_pb2,
    common_pb2,
    gateway_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)
from fabric_client.identity import Identity, Signer
from fabric_client.txid import compute_tx_id, new_nonce

Arg = str | bytes


@dataclass(frozen=True)
class BuiltProposal:
    """A signed proposal and the facts a caller needs about it.

    Attributes:
        tx_id: the transaction id the peer will recompute.
        channel_id: the channel named in the channel header.
        signed_proposal: the ``protos.SignedProposal`` to send.
    """

    tx_id: str
    channel_id: str
    signed_proposal: proposal_pb2.SignedProposal


def qualified_name(transaction_name: str, contract_name: str | None) -> str:
    """Return ``contract:fn`` when a contract name is given, as the official clients do."""
    return f"{contract_name}:{transaction_name}" if contract_name else transaction_name


def _as_bytes(value: Arg) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def build_proposal(
    *,
    identity: Identity,
    signer: Signer,
    channel_id: str,
    chaincode_name: str,
    transaction_name: str,
    args: Sequence[Arg] = (),
    transient: Mapping[str, bytes] | None = None,
    nonce: bytes | None = None,
    timestamp: timestamp_pb2.Timestamp | None = None,
) -> BuiltProposal:
    """Build and sign a chaincode proposal exactly as the official Go and Node clients do.

    ``ChaincodeSpec.type`` is left UNDEFINED like the Go client (the peer ignores it; Node sets NODE).

    Args:
        identity: the creator.
        signer: signs ``proposal_bytes``.
        channel_id: the channel.
        chaincode_name: the chaincode's name on the channel.
        transaction_name: the function, already qualified with the contract name if any.
        args: the function arguments (str is UTF-8 encoded).
        transient: private inputs; they reach the chaincode but are stripped from the envelope.
        nonce: fixed nonce (tests only); a fresh 24-byte nonce by default.
        timestamp: fixed header timestamp (tests only); now by default.

    Returns:
        The signed proposal with its transaction id.
    """
    creator = identity.serialize()
    nonce = new_nonce() if nonce is None else nonce
    tx_id = compute_tx_id(nonce, creator)
    if timestamp is None:
        timestamp = timestamp_pb2.Timestamp()
        timestamp.GetCurrentTime()
    chaincode_id = chaincode_pb2.ChaincodeID(name=chaincode_name)
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.ENDORSER_TRANSACTION,
        tx_id=tx_id,
        timestamp=timestamp,
        channel_id=channel_id,
        epoch=0,
        extension=proposal_pb2.ChaincodeHeaderExtension(chaincode_id=chaincode_id).SerializeToString(),
    )
    signature_header = common_pb2.SignatureHeader(creator=creator, nonce=nonce)
    header = common_pb2.Header(
        channel_header=channel_header.SerializeToString(),
        signature_header=signature_header.SerializeToString(),
    )
    invocation = chaincode_pb2.ChaincodeInvocationSpec(
        chaincode_spec=chaincode_pb2.ChaincodeSpec(
            chaincode_id=chaincode_id,
            input=chaincode_pb2.ChaincodeInput(
                args=[_as_bytes(transaction_name), *(_as_bytes(a) for a in args)]
            ),
        )
    )
    payload = proposal_pb2.ChaincodeProposalPayload(
        input=invocation.SerializeToString(), TransientMap=dict(transient or {})
    )
    proposal_bytes = proposal_pb2.Proposal(
        header=header.SerializeToString(), payload=payload.SerializeToString()
    ).SerializeToString()
    signed = proposal_pb2.SignedProposal(proposal_bytes=proposal_bytes, signature=signer.sign(proposal_bytes))
    return BuiltProposal(tx_id=tx_id, channel_id=channel_id, signed_proposal=signed)


def envelope_channel_header(envelope: common_pb2.Envelope) -> common_pb2.ChannelHeader:
    """Return the channel header inside an envelope's payload."""
    payload = common_pb2.Payload.FromString(envelope.payload)
    return common_pb2.ChannelHeader.FromString(payload.header.channel_header)


def envelope_result(envelope: common_pb2.Envelope) -> bytes:
    """Return the chaincode's response payload carried by an endorsed envelope.

    The gateway blanks ``ProposalResponse.response.payload`` to avoid sending it twice; the copy
    that counts is ``ChaincodeAction.response.payload`` inside the endorsed action.
    """
    return envelope_outcome(envelope)[0]


def envelope_outcome(envelope: common_pb2.Envelope) -> tuple[bytes, bytes]:
    """Return the chaincode's response payload and the payload of the event it set (``b""`` if
    none), both carried by an endorsed envelope's ``ChaincodeAction``: what the transaction will
    answer and announce once committed, known before it is submitted."""
    payload = common_pb2.Payload.FromString(envelope.payload)
    tx = transaction_pb2.Transaction.FromString(payload.data)
    if not tx.actions:
        return b"", b""
    action_payload = transaction_pb2.ChaincodeActionPayload.FromString(tx.actions[0].payload)
    prp = proposal_response_pb2.ProposalResponsePayload.FromString(
        action_payload.action.proposal_response_payload
    )
    action = proposal_pb2.ChaincodeAction.FromString(prp.extension)
    event = chaincode_event_pb2.ChaincodeEvent.FromString(action.events).payload if action.events else b""
    return bytes(action.response.payload), bytes(event)


def sign_envelope(envelope: common_pb2.Envelope, signer: Signer) -> common_pb2.Envelope:
    """Return a copy of ``envelope`` signed over its payload."""
    return common_pb2.Envelope(payload=envelope.payload, signature=signer.sign(envelope.payload))


def signed_commit_status_request(
    identity: Identity, signer: Signer, channel_id: str, tx_id: str
) -> gateway_pb2.SignedCommitStatusRequest:
    """Build the signed ``CommitStatus`` request (the peer checks it against the Readers policy)."""
    request = gateway_pb2.CommitStatusRequest(
        transaction_id=tx_id, channel_id=channel_id, identity=identity.serialize()
    ).SerializeToString()
    return gateway_pb2.SignedCommitStatusRequest(request=request, signature=signer.sign(request))


def signed_chaincode_events_request(
    identity: Identity,
    signer: Signer,
    channel_id: str,
    chaincode_name: str,
    start_block: int | None,
    after_tx_id: str | None,
) -> gateway_pb2.SignedChaincodeEventsRequest:
    """Build the signed ``ChaincodeEvents`` request.

    Args:
        start_block: the block to start at; None means ``next_commit`` (only future blocks).
        after_tx_id: skip every event up to and including this transaction's (checkpoint resume).
    """
    if start_block is None:
        position = ab_pb2.SeekPosition(next_commit=ab_pb2.SeekNextCommit())
    else:
        position = ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=start_block))
    request = gateway_pb2.ChaincodeEventsRequest(
        channel_id=channel_id,
        chaincode_id=chaincode_name,
        identity=identity.serialize(),
        start_position=position,
        after_transaction_id=after_tx_id or "",
    ).SerializeToString()
    return gateway_pb2.SignedChaincodeEventsRequest(request=request, signature=signer.sign(request))
