"""The committer: validates each block's transactions in order, writes TRANSACTIONS_FILTER, applies VALID writes.

Checks per transaction, in Fabric's order (core/committer/txvalidator/v20, kvledger validation):
payload and header decode, header type and channel, creator signature, txid, duplicate txid (in the ledger
or earlier in the same block), endorsement policy (a valid signature of an org peer over prp ‖ endorser),
read/write set decode, MVCC reads (also against writes of earlier VALID transactions in the same block)
and phantom reads (range queries re-executed over committed state plus those writes).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging

from devnet import blocks, signatures
from devnet._protos import (
    chaincode_event_pb2,
    common_pb2,
    kv_rwset_pb2,
    proposal_pb2,
    proposal_response_pb2,
    rwset_pb2,
    transaction_pb2,
)
from devnet.ledger import BlockWrite, LedgerStore, StoredEvent, Version
from devnet.msp import WRITER_ROLES, IdentityError, Msp

_LOG = logging.getLogger(__name__)
Code = transaction_pb2.TxValidationCode


class _Invalid(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        # Set once the txid is proven (sha256(nonce ‖ creator) of a correctly signed envelope): only then
        # is an invalid transaction indexed, so CommitStatus can report its code.
        self.txid = ""


@dataclasses.dataclass
class CommittedBlock:
    """The outcome of one committed block.

    Attributes:
        number: The block number.
        codes: (txid, validation code) per transaction, in block order.
        indexed: (txid, tx index, code) of the transactions indexed by this block (first occurrences only).
    """

    number: int
    codes: list[tuple[str, int]]
    indexed: list[tuple[str, int, int]]


@dataclasses.dataclass
class _ValidTx:
    txid: str
    index: int
    seconds: int
    nanos: int
    writes: list[tuple[str, kv_rwset_pb2.KVWrite]]
    event: chaincode_event_pb2.ChaincodeEvent | None


class Committer:
    """Validates and commits blocks to one channel's ledger.

    Args:
        store: The channel ledger.
        msp: The org MSP (creators and endorsers).
        channel_id: The channel this peer serves.
        chaincodes: Names of the chaincodes defined on the channel.
        sig_cache: Signatures already known valid (checked at Submit, or made by this peer).
    """

    def __init__(
        self,
        store: LedgerStore,
        msp: Msp,
        channel_id: str,
        chaincodes: set[str],
        sig_cache: signatures.SignatureCache,
    ) -> None:
        self._store = store
        self._msp = msp
        self._channel_id = channel_id
        self._chaincodes = chaincodes
        self._sig_cache = sig_cache
        self._previous_hash = b""
        if store.height > 0:
            last = common_pb2.Block.FromString(store.get_block(store.height - 1) or b"")
            self._previous_hash = blocks.header_hash(last.header)

    def ensure_genesis(self) -> None:
        """Write block 0 (a config block) on a fresh ledger."""
        if self._store.height == 0:
            block = blocks.genesis_block(self._channel_id)
            self._store.commit(BlockWrite(number=0, data=block.SerializeToString()))
            self._previous_hash = blocks.header_hash(block.header)

    def commit(self, envelopes: list[bytes]) -> CommittedBlock:
        """Build the next block from ordered envelopes, validate it, and persist it atomically."""
        number = self._store.height
        block = blocks.new_block(number, self._previous_hash, envelopes)
        codes: list[tuple[str, int]] = []
        valid: list[_ValidTx] = []
        updates: dict[tuple[str, str], tuple[bytes | None, Version]] = {}
        seen_txids: set[str] = set()
        for index, raw in enumerate(envelopes):
            txid = ""
            try:
                txid, tx = self._validate(raw, index, number, seen_txids, updates)
                code = Code.VALID
            except _Invalid as exc:
                code = exc.code
                txid = exc.txid
                tx = None
                _LOG.info("tx %s in block %d invalid: %s (%s)", txid or "?", number, Code.Name(code), exc)
            if txid:
                seen_txids.add(txid)
            codes.append((txid, code))
            if tx is not None:
                valid.append(tx)
                for ns, write in tx.writes:
                    updates[(ns, write.key)] = (
                        None if write.is_delete else write.value,
                        Version(number, index),
                    )
        block.metadata.metadata[common_pb2.TRANSACTIONS_FILTER] = bytes(code for _, code in codes)
        write = BlockWrite(number=number, data=block.SerializeToString())
        for tx in valid:
            for ns, w in tx.writes:
                if w.is_delete:
                    write.deletes.append((ns, w.key, tx.index))
                else:
                    write.puts.append((ns, w.key, w.value, tx.index))
                write.history.append(
                    (ns, w.key, tx.index, tx.txid, w.value, w.is_delete, tx.seconds, tx.nanos)
                )
            ev = tx.event
            if ev is not None and ev.chaincode_id and ev.event_name and ev.tx_id:
                write.events.append(
                    StoredEvent(number, tx.index, ev.tx_id, ev.chaincode_id, ev.event_name, ev.payload)
                )
        # A proven txid that is not a duplicate (of the ledger or of an earlier tx in this block) is a first
        # occurrence: index it with its code, VALID or not, so CommitStatus can report it.
        indexed = [
            (txid, index, code)
            for index, (txid, code) in enumerate(codes)
            if txid and code != Code.DUPLICATE_TXID
        ]
        write.txids.extend((txid, index, code) for txid, index, code in indexed)
        self._store.commit(write)
        self._previous_hash = blocks.header_hash(block.header)
        return CommittedBlock(number=number, codes=codes, indexed=indexed)

    # -- validation ---------------------------------------------------------------------------------
    def _validate(
        self,
        raw: bytes,
        index: int,
        number: int,
        seen_txids: set[str],
        updates: dict[tuple[str, str], tuple[bytes | None, Version]],
    ) -> tuple[str, _ValidTx]:
        try:
            env = common_pb2.Envelope.FromString(raw)
            payload = common_pb2.Payload.FromString(env.payload)
        except Exception as exc:
            raise _Invalid(Code.BAD_PAYLOAD, f"envelope does not decode: {exc}") from exc
        try:
            chdr = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
            shdr = common_pb2.SignatureHeader.FromString(payload.header.signature_header)
        except Exception as exc:
            raise _Invalid(Code.BAD_COMMON_HEADER, f"header does not decode: {exc}") from exc
        if chdr.type != common_pb2.ENDORSER_TRANSACTION:
            raise _Invalid(Code.UNKNOWN_TX_TYPE, f"header type {chdr.type}")
        if chdr.channel_id != self._channel_id:
            raise _Invalid(Code.TARGET_CHAIN_NOT_FOUND, f"channel {chdr.channel_id!r}")
        txid = chdr.tx_id
        try:
            creator = self._msp.deserialize(shdr.creator)
            if creator.role not in WRITER_ROLES:
                raise IdentityError(f"creator role {creator.role} is not a channel writer")
            self._sig_cache.verify(creator.public_key, shdr.creator, env.signature, env.payload)
        except (IdentityError, signatures.SignatureError) as exc:
            raise _Invalid(Code.BAD_CREATOR_SIGNATURE, str(exc)) from exc
        if not shdr.nonce or hashlib.sha256(shdr.nonce + shdr.creator).hexdigest() != txid:
            raise _Invalid(Code.BAD_PROPOSAL_TXID, "txid is not sha256(nonce ‖ creator)")
        # Only ids that passed the checks above count as "seen": a forged envelope must not be able to
        # knock out a later genuine transaction with the same id.
        try:
            return txid, self._validate_action(txid, index, chdr, payload, seen_txids, updates)
        except _Invalid as exc:
            exc.txid = txid
            raise

    def _validate_action(
        self,
        txid: str,
        index: int,
        chdr: common_pb2.ChannelHeader,
        payload: common_pb2.Payload,
        seen_txids: set[str],
        updates: dict[tuple[str, str], tuple[bytes | None, Version]],
    ) -> _ValidTx:
        if txid in seen_txids or self._store.tx_location(txid) is not None:
            raise _Invalid(Code.DUPLICATE_TXID, "txid already committed or earlier in this block")
        try:
            tx = transaction_pb2.Transaction.FromString(payload.data)
        except Exception as exc:
            raise _Invalid(Code.BAD_PAYLOAD, f"transaction does not decode: {exc}") from exc
        if len(tx.actions) != 1:
            raise _Invalid(
                Code.NIL_TXACTION if not tx.actions else Code.INVALID_ENDORSER_TRANSACTION,
                f"{len(tx.actions)} actions, exactly one expected",
            )
        try:
            cap = transaction_pb2.ChaincodeActionPayload.FromString(tx.actions[0].payload)
            prp = proposal_response_pb2.ProposalResponsePayload.FromString(
                cap.action.proposal_response_payload
            )
            action = proposal_pb2.ChaincodeAction.FromString(prp.extension)
            ext = proposal_pb2.ChaincodeHeaderExtension.FromString(chdr.extension)
        except Exception as exc:
            raise _Invalid(Code.BAD_RESPONSE_PAYLOAD, f"action does not decode: {exc}") from exc
        if tx.actions[0].header != payload.header.signature_header:
            raise _Invalid(Code.INVALID_ENDORSER_TRANSACTION, "action header differs from the payload's")
        name = action.chaincode_id.name
        if name != ext.chaincode_id.name or name not in self._chaincodes:
            raise _Invalid(Code.INVALID_CHAINCODE, f"chaincode {name!r} is not defined on the channel")
        self._check_endorsements(cap)
        try:
            rwset = rwset_pb2.TxReadWriteSet.FromString(action.results)
            ns_sets = [(ns.namespace, kv_rwset_pb2.KVRWSet.FromString(ns.rwset)) for ns in rwset.ns_rwset]
        except Exception as exc:
            raise _Invalid(Code.BAD_RWSET, f"read/write set does not decode: {exc}") from exc
        for ns, kv in ns_sets:
            if ns != name and kv.writes:
                raise _Invalid(Code.ILLEGAL_WRITESET, f"writes to namespace {ns!r} from chaincode {name!r}")
            self._check_reads(ns, kv, updates)
        event = None
        if action.events:
            event = chaincode_event_pb2.ChaincodeEvent.FromString(action.events)
        writes = [(ns, w) for ns, kv in ns_sets for w in kv.writes]
        return _ValidTx(
            txid=txid,
            index=index,
            seconds=chdr.timestamp.seconds,
            nanos=chdr.timestamp.nanos,
            writes=writes,
            event=event,
        )

    def _check_endorsements(self, cap: transaction_pb2.ChaincodeActionPayload) -> None:
        """The devnet's endorsement policy: one valid signature from a peer of the org."""
        prp = cap.action.proposal_response_payload
        for endorsement in cap.action.endorsements:
            try:
                endorser = self._msp.deserialize(endorsement.endorser)
                if endorser.role != "peer":
                    continue
                self._sig_cache.verify(
                    endorser.public_key,
                    endorsement.endorser,
                    endorsement.signature,
                    prp + endorsement.endorser,
                )
                return
            except (IdentityError, signatures.SignatureError):
                continue
        raise _Invalid(Code.ENDORSEMENT_POLICY_FAILURE, "no valid endorsement from a peer of the org")

    def _check_reads(
        self, ns: str, kv: kv_rwset_pb2.KVRWSet, updates: dict[tuple[str, str], tuple[bytes | None, Version]]
    ) -> None:
        for read in kv.reads:
            if (ns, read.key) in updates:
                raise _Invalid(Code.MVCC_READ_CONFLICT, f"{ns}/{read.key} written earlier in this block")
            committed = self._store.get_version(ns, read.key)
            expected = (
                Version(read.version.block_num, read.version.tx_num) if read.HasField("version") else None
            )
            if committed != expected:
                raise _Invalid(Code.MVCC_READ_CONFLICT, f"{ns}/{read.key} is at {committed}, read {expected}")
        for rq in kv.range_queries_info:
            if self._range_now(ns, rq, updates) != [
                (r.key, Version(r.version.block_num, r.version.tx_num) if r.HasField("version") else None)
                for r in rq.raw_reads.kv_reads
            ]:
                raise _Invalid(
                    Code.PHANTOM_READ_CONFLICT, f"range [{rq.start_key!r}, {rq.end_key!r}) changed"
                )

    def _range_now(
        self,
        ns: str,
        rq: kv_rwset_pb2.RangeQueryInfo,
        updates: dict[tuple[str, str], tuple[bytes | None, Version]],
    ) -> list[tuple[str, Version | None]]:
        """Re-run a recorded range query over committed state plus this block's earlier valid writes."""
        start = rq.start_key
        # A scan the chaincode stopped early recorded its last key as the end, inclusive (Fabric's rangeQueryValidator).
        end = rq.end_key if rq.itr_exhausted else rq.end_key + "\x00"
        rows: dict[str, Version | None] = {
            key: version for key, _, version in self._store.range_scan(ns, start, end)
        }
        for (uns, key), (value, version) in updates.items():
            if uns == ns and key >= start and (not end or key < end):
                if value is None:
                    rows.pop(key, None)
                else:
                    rows[key] = version
        return sorted(rows.items())
