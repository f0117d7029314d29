"""The endorser: unpacks and validates signed proposals, simulates them on the chaincode, and endorses the result.

Validation follows Fabric's core/endorser (msgvalidation.go UnpackProposal/Validate and preProcess): header
type, epoch, nonce and creator present, creator a valid member allowed to propose (channel Writers), proposal
signature (low-S), txid = hex(sha256(nonce ‖ creator)), and the txid not already in the ledger.
"""

from __future__ import annotations

import dataclasses
import hashlib

from cryptography.hazmat.primitives.asymmetric import ec

from devnet import signatures
from devnet._protos import chaincode_pb2, common_pb2, proposal_pb2, proposal_response_pb2, transaction_pb2
from devnet.ledger import LedgerStore
from devnet.msp import WRITER_ROLES, IdentityError, Msp
from devnet.shim_peer import ChaincodeConnection, ExecutionResult
from devnet.simulator import TxSimulator

CHAINCODE_VERSION = "1.0"
ERROR_THRESHOLD = 400


class ProposalError(Exception):
    """The proposal cannot be unpacked (a malformed message)."""


class ValidationError(Exception):
    """The proposal failed validation; the message is what the endorser reports."""


class DuplicateTxError(ValidationError):
    """The proposal's txid is already in the ledger."""


@dataclasses.dataclass
class UnpackedProposal:
    """The parts of a SignedProposal the peer works with."""

    signed: proposal_pb2.SignedProposal
    header: common_pb2.Header
    channel_header: common_pb2.ChannelHeader
    signature_header: common_pb2.SignatureHeader
    chaincode_name: str
    cc_input: chaincode_pb2.ChaincodeInput
    cpp_no_transient: bytes

    @property
    def txid(self) -> str:
        return str(self.channel_header.tx_id)

    @property
    def channel_id(self) -> str:
        return str(self.channel_header.channel_id)


def compute_txid(nonce: bytes, creator: bytes) -> str:
    """Fabric's protoutil.ComputeTxID."""
    return hashlib.sha256(nonce + creator).hexdigest()


def unpack(signed: proposal_pb2.SignedProposal) -> UnpackedProposal:
    """Decode a SignedProposal down to the chaincode input.

    Raises:
        ProposalError: when any layer does not decode or the chaincode id is missing.
    """
    try:
        proposal = proposal_pb2.Proposal.FromString(signed.proposal_bytes)
        header = common_pb2.Header.FromString(proposal.header)
        chdr = common_pb2.ChannelHeader.FromString(header.channel_header)
        shdr = common_pb2.SignatureHeader.FromString(header.signature_header)
        ext = proposal_pb2.ChaincodeHeaderExtension.FromString(chdr.extension)
        cpp = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload)
        spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(cpp.input)
    except Exception as exc:
        raise ProposalError(f"error unmarshalling proposal: {exc}") from exc
    if not ext.chaincode_id.name:
        raise ProposalError("ChaincodeHeaderExtension.ChaincodeId.Name is empty")
    # The proposal hash and the transaction carry the payload without its transient map (private inputs).
    cpp_no_transient = proposal_pb2.ChaincodeProposalPayload(input=cpp.input).SerializeToString()
    return UnpackedProposal(
        signed=signed,
        header=header,
        channel_header=chdr,
        signature_header=shdr,
        chaincode_name=ext.chaincode_id.name,
        cc_input=spec.chaincode_spec.input,
        cpp_no_transient=cpp_no_transient,
    )


class Endorser:
    """One peer's endorser for one channel.

    Args:
        msp: The org's MSP.
        store: The channel ledger.
        chaincodes: The chaincodes defined on the channel, by name.
        peer_identity: The peer's SerializedIdentity bytes (the endorser field).
        peer_key: The peer's signing key.
        sig_cache: Where endorsements this peer signs are remembered, so the committer need not re-verify them.
    """

    def __init__(
        self,
        msp: Msp,
        store: LedgerStore,
        chaincodes: dict[str, ChaincodeConnection],
        peer_identity: bytes,
        peer_key: ec.EllipticCurvePrivateKey,
        sig_cache: signatures.SignatureCache,
    ) -> None:
        self._msp = msp
        self._store = store
        self.chaincodes = chaincodes
        self._peer_identity = peer_identity
        self._peer_key = peer_key
        self._sig_cache = sig_cache

    def validate(self, up: UnpackedProposal) -> None:
        """Fabric's proposal checks, in its order.

        Raises:
            ValidationError: with Fabric's message (prefixed "error validating proposal: " where Fabric does).
        """
        chdr, shdr = up.channel_header, up.signature_header
        if chdr.type != common_pb2.ENDORSER_TRANSACTION:
            raise ValidationError(
                f"error validating proposal: invalid header type {common_pb2.HeaderType.Name(chdr.type)}"
            )
        if chdr.epoch != 0:
            raise ValidationError(
                f"error validating proposal: invalid Epoch in ChannelHeader. Expected 0, got [{chdr.epoch}]"
            )
        if not shdr.nonce:
            raise ValidationError("error validating proposal: invalid nonce specified in the header")
        if not shdr.creator:
            raise ValidationError("error validating proposal: invalid creator specified in the header")
        # Fabric logs the precise reason but tells the caller only "access denied" (no oracle for attackers).
        denied = f"error validating proposal: access denied: channel [{chdr.channel_id}] creator org [{self._msp.msp_id}]"
        try:
            creator = self._msp.deserialize(shdr.creator)
            creator.verify(up.signed.signature, up.signed.proposal_bytes)
        except (IdentityError, signatures.SignatureError) as exc:
            raise ValidationError(denied) from exc
        if creator.role not in WRITER_ROLES:
            raise ValidationError(denied)
        expected = compute_txid(shdr.nonce, shdr.creator)
        if chdr.tx_id != expected:
            raise ValidationError(
                f"error validating proposal: incorrectly computed txid '{chdr.tx_id}' -- expected '{expected}'"
            )
        if self._store.tx_location(chdr.tx_id) is not None:
            raise DuplicateTxError(
                f"duplicate transaction found [{chdr.tx_id}]. Creator [{shdr.creator.hex()}]"
            )

    async def simulate(self, up: UnpackedProposal) -> tuple[ExecutionResult, TxSimulator]:
        """Execute the proposal on its chaincode against a fresh simulator (nothing is committed).

        Raises:
            devnet.shim_peer.ExecutionError: when the chaincode could not run it.
            KeyError: when the chaincode is not defined on the channel.
        """
        connection = self.chaincodes[up.chaincode_name]
        simulator = TxSimulator(self._store)
        result = await connection.execute(
            txid=up.txid,
            channel_id=up.channel_id,
            signed_proposal=up.signed,
            cc_input=up.cc_input,
            simulator=simulator,
        )
        return result, simulator

    def prepare_transaction(
        self, up: UnpackedProposal, result: ExecutionResult, simulator: TxSimulator
    ) -> common_pb2.Envelope:
        """Endorse a successful simulation and assemble the unsigned transaction envelope.

        Mirrors Fabric: the ChaincodeAction (rwset, event, response, chaincode id) inside a
        ProposalResponsePayload bound to the proposal by its hash, signed by the peer over
        ``prp ‖ endorser``, then wrapped as gateway's prepareTransaction does.
        """
        action = proposal_pb2.ChaincodeAction(
            results=simulator.rwset().SerializeToString(),
            events=result.event.SerializeToString() if result.event is not None else b"",
            response=result.response,
            chaincode_id=chaincode_pb2.ChaincodeID(name=up.chaincode_name, version=CHAINCODE_VERSION),
        )
        proposal_hash = hashlib.sha256(
            up.header.channel_header + up.header.signature_header + up.cpp_no_transient
        ).digest()
        prp = proposal_response_pb2.ProposalResponsePayload(
            proposal_hash=proposal_hash, extension=action.SerializeToString()
        ).SerializeToString()
        signature = signatures.sign(self._peer_key, prp + self._peer_identity)
        self._sig_cache.remember(self._peer_identity, signature, prp + self._peer_identity)
        endorsed = transaction_pb2.ChaincodeEndorsedAction(
            proposal_response_payload=prp,
            endorsements=[
                proposal_response_pb2.Endorsement(endorser=self._peer_identity, signature=signature)
            ],
        )
        cap = transaction_pb2.ChaincodeActionPayload(
            chaincode_proposal_payload=up.cpp_no_transient, action=endorsed
        )
        tx = transaction_pb2.Transaction(
            actions=[
                transaction_pb2.TransactionAction(
                    header=up.header.signature_header, payload=cap.SerializeToString()
                )
            ]
        )
        payload = common_pb2.Payload(header=up.header, data=tx.SerializeToString())
        return common_pb2.Envelope(payload=payload.SerializeToString())


def is_error(response: proposal_response_pb2.Response) -> bool:
    """Fabric endorses only responses below 400 (shim.ERRORTHRESHOLD)."""
    return bool(response.status >= ERROR_THRESHOLD)
