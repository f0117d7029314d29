"""Endorsed transactions (storable signed envelopes) and commit statuses."""

from __future__ import annotations

from dataclasses import dataclass

from fabric_client._protos import common_pb2
from fabric_client.errors import CommitError, validation_code_name
from fabric_client.proposal import envelope_channel_header, envelope_outcome

_VALID = 0


@dataclass(frozen=True)
class Transaction:
    """An endorsed, signed transaction ready for (re-)submission.

    Store ``envelope_bytes`` (and ``tx_id``) before the first submit: the same bytes can be submitted
    again later, and Fabric then answers DUPLICATE_TXID while the first outcome stands.

    Attributes:
        tx_id: the transaction id.
        channel_id: the channel it belongs to.
        envelope_bytes: the serialized, signed ``common.Envelope``.
        result: the chaincode's response payload from endorsement.
        event: the payload of the chaincode event the transaction sets (``b""`` if none): what the
            peer will announce once it commits, e.g. that it repeated an earlier request.
    """

    tx_id: str
    channel_id: str
    envelope_bytes: bytes
    result: bytes
    event: bytes = b""

    @classmethod
    def from_envelope_bytes(cls, envelope_bytes: bytes) -> Transaction:
        """Rebuild a transaction from stored envelope bytes alone.

        Raises:
            ValueError: if the bytes are not a signed endorser transaction envelope.
        """
        envelope = common_pb2.Envelope.FromString(envelope_bytes)
        if not envelope.signature:
            raise ValueError("the envelope is not signed")
        header = envelope_channel_header(envelope)
        if header.type != common_pb2.ENDORSER_TRANSACTION or not header.tx_id:
            raise ValueError("the envelope is not an endorser transaction")
        result, event = envelope_outcome(envelope)
        return cls(
            tx_id=header.tx_id,
            channel_id=header.channel_id,
            envelope_bytes=envelope_bytes,
            result=result,
            event=event,
        )


@dataclass(frozen=True)
class CommitStatus:
    """How a transaction was committed.

    Attributes:
        tx_id: the transaction.
        code: the ``TxValidationCode`` number (0 is VALID).
        code_name: its name, e.g. ``VALID``, ``MVCC_READ_CONFLICT``.
        block_number: the block holding the transaction.
    """

    tx_id: str
    code: int
    block_number: int

    @property
    def code_name(self) -> str:
        """The validation code's name."""
        return validation_code_name(self.code)

    @property
    def successful(self) -> bool:
        """True when the transaction committed as VALID."""
        return self.code == _VALID

    def raise_for_status(self) -> None:
        """Raise :class:`CommitError` unless the transaction is VALID."""
        if not self.successful:
            raise CommitError(self.tx_id, self.code, self.block_number)
