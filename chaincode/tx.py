"""One transaction's view of the world state: reads through a write cache, buffered writes, events.

Fabric simulates a transaction without read-your-own-writes: ``GetState`` returns the committed
value even after this transaction's own ``PutState``. Rules that touch one key twice (a fee paid
by an account that also receives, a pool that is both source and counterparty) would silently
lose an update. Every read therefore goes through this cache first, and writes reach the peer
once per key, in first-write order, when the transaction ends.

Proto JSON is the chaincode's main CPU cost (json_format is pure Python), so each key is decoded
at most once per transaction and a message written is encoded once, when the transaction flushes:
a transfer stores its sender up to three times (fold, amount, fee) but encodes it once.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, TypeVar, cast

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from gx.ledger.v1 import events_pb2

from chaincode import codec

M = TypeVar("M", bound=Message)
_DELETED = None


# Values decoded in earlier transactions, by (message class, bytes): the system state and the
# parameters are the same bytes in nearly every transaction, so they are decoded once per change
# rather than once per transaction. Decoding is a pure function of the bytes, so this cannot
# change an outcome; entries are never handed out (only copies), and the size is bounded.
_DECODED_VALUES: OrderedDict[tuple[type[Message], bytes], Message] = OrderedDict()
_DECODED_VALUES_MAX = 512


def _decode(raw: bytes, cls: type[M]) -> M:
    cache_key = (cls, raw)
    found = _DECODED_VALUES.get(cache_key)
    if found is not None:
        _DECODED_VALUES.move_to_end(cache_key)
        return _copy(cast(M, found))
    decoded = codec.parse(raw, cls)
    _DECODED_VALUES[cache_key] = _copy(decoded)
    if len(_DECODED_VALUES) > _DECODED_VALUES_MAX:
        _DECODED_VALUES.popitem(last=False)
    return decoded


def _copy(message: M) -> M:
    out: M = type(message)()
    out.CopyFrom(message)
    return out


class Tx:
    """The state and clock of one chaincode transaction.

    Attributes:
        stub: The shim stub.
        tx_id: The Fabric transaction id.
        time: The transaction timestamp from the proposal header: the only clock (never wall time).
        role: The submitter's `gxc_role` ('' if none).
        events: Domain events collected so far, in order.
    """

    def __init__(self, stub: Any, role: str = "") -> None:
        self.stub = stub
        self.tx_id: str = stub.get_txid()
        ts = stub.get_tx_timestamp()
        self.time = Timestamp(seconds=ts.seconds, nanos=ts.nanos) if ts is not None else Timestamp()
        self.role = role
        self.events: list[events_pb2.LedgerEvent] = []
        self._reads: dict[str, bytes | None] = {}
        # A written value: bytes, a message still to encode (put_msg), or _DELETED.
        self._writes: dict[str, bytes | Message | None] = {}
        # Each key's current value as a message, so it is decoded once; a write replaces or drops it.
        self._decoded: dict[str, Message] = {}
        # Values derived from a key's current value (e.g. the parameters of the system record), by
        # key: dropped whenever the key is written, so they never outlive the value they came from.
        self.memo: dict[str, object] = {}
        self._seq = 0
        # Accounts whose pending credits this transaction folded (chaincode.ledger.fold).
        self.folded: set[str] = set()

    def _written_bytes(self, key: str) -> bytes | None:
        value = self._writes[key]
        if isinstance(value, Message):
            value = codec.to_json(value).encode("utf-8")
            self._writes[key] = value  # the message stays in _decoded
        return value

    async def get(self, key: str) -> bytes | None:
        """Return the value of *key* as this transaction sees it (None if absent)."""
        if key in self._writes:
            return self._written_bytes(key)
        if key in self._reads:
            return self._reads[key]
        raw = await self.stub.get_state(key)
        value = bytes(raw) if raw else None
        self._reads[key] = value
        return value

    def written(self, key: str) -> bool:
        """True if this transaction writes (or deletes) *key*: known without reading it."""
        return key in self._writes

    def put(self, key: str, value: bytes | str) -> None:
        """Set *key*; the peer sees it when the transaction flushes."""
        self._writes[key] = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        self._decoded.pop(key, None)
        self.memo.pop(key, None)

    def delete(self, key: str) -> None:
        """Delete *key*; the peer sees it when the transaction flushes."""
        self._writes[key] = _DELETED
        self._decoded.pop(key, None)
        self.memo.pop(key, None)

    async def get_msg(self, key: str, cls: type[M]) -> M | None:
        """Return the proto stored at *key*, or None: a new message each call (callers change
        what they get), decoded from JSON at most once per key."""
        decoded = self._decoded.get(key)
        if not isinstance(decoded, cls):
            raw = await self.get(key)
            if raw is None:
                return None
            decoded = _decode(raw, cls)
            self._decoded[key] = decoded
        return _copy(decoded)

    def put_msg(self, key: str, message: Message) -> None:
        """Store (a copy of) *message* at *key* as proto JSON, encoded when the transaction flushes."""
        stored = _copy(message)
        self._writes[key] = stored
        self._decoded[key] = stored
        self.memo.pop(key, None)

    async def range(self, start: str, end: str, limit: int = 0) -> list[tuple[str, bytes]]:
        """Return (key, value) for start <= key < end in key order, merged with this tx's writes.

        Args:
            start: First key (inclusive); must not be empty.
            end: Last key (exclusive).
            limit: Stop after this many results (0: all).
        """
        found: dict[str, bytes] = {}
        iterator = await self.stub.get_state_by_range(start, end)
        async for kv in iterator:
            found[kv.key] = bytes(kv.value)
            if limit and len(found) > limit + len(self._writes):
                break
        low, high = start.encode(), end.encode()
        for key in list(self._writes):
            if low <= key.encode() < high:
                value = self._written_bytes(key)
                if value is _DELETED:
                    found.pop(key, None)
                else:
                    found[key] = value
        keys = sorted(found, key=lambda k: k.encode())
        if limit:
            keys = keys[:limit]
        return [(k, found[k]) for k in keys]

    async def prefetch(self, keys: list[str]) -> None:
        """Read *keys* from the peer in one GET_STATE_MULTIPLE when it offers that (Fabric 3.1,
        ``chaincode.shim_batch``), so later reads of them cost no round trip; otherwise nothing.
        Only keys this transaction reads anyway belong here: each one joins the read set."""
        wanted = [k for k in dict.fromkeys(keys) if k not in self._writes and k not in self._reads]
        get_multiple = getattr(self.stub, "get_multiple_states", None)
        if len(wanted) < 2 or get_multiple is None:
            return
        values = await get_multiple(wanted)
        if values is None:  # the peer did not offer it
            return
        for key, raw in zip(wanted, values, strict=True):
            self._reads[key] = bytes(raw) if raw else None

    async def flush(self) -> None:
        """Send the buffered writes to the peer, once per key, in first-write order: as one
        WRITE_BATCH_STATE when the peer offers it (Fabric 3.1, ``chaincode.shim_batch``)."""
        writes = [(key, self._written_bytes(key)) for key in list(self._writes)]
        write_batch = getattr(self.stub, "write_batch", None)
        if write_batch is not None and await write_batch(writes):
            return
        for key, value in writes:
            if value is _DELETED:
                await self.stub.delete_state(key)
            else:
                await self.stub.put_state(key, value)

    def next_id(self) -> str:
        """Return a new id unique within the ledger: `<tx id>:<n>` (deterministic, never random)."""
        self._seq += 1
        return f"{self.tx_id}:{self._seq}"

    def emit(self, **event: Message) -> None:
        """Append one domain event, e.g. ``tx.emit(wallet_frozen=WalletFrozen(...))``."""
        self.events.append(events_pb2.LedgerEvent(**event))
