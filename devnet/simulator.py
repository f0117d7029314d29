"""Transaction simulation with Fabric's read/write-set semantics, producing a Fabric-shaped TxReadWriteSet.

The rules that a faithful simulator must keep (research/fabric.md §3.1, §3.3):
- reads see committed state only, never the transaction's own writes;
- the first read of a key is recorded, with no version when the key is missing;
- range queries record what they returned (RangeQueryInfo) so the committer can detect phantoms;
- keys are sorted in the read/write set; writing an empty value is a delete (kvrwset.NewKVWrite).
"""

from __future__ import annotations

from collections.abc import Iterator

from devnet._protos import kv_rwset_pb2, rwset_pb2
from devnet.ledger import LedgerStore, Version


class SimulationError(Exception):
    """The chaincode asked for something the transaction may not do (reported to it as a shim ERROR)."""


class RangeIterator:
    """A range scan over committed state that records what it returned, as Fabric's resultsItr does."""

    def __init__(
        self,
        rows: Iterator[tuple[str, bytes, Version]],
        info: kv_rwset_pb2.RangeQueryInfo,
        end_key: str,
        limit: int | None = None,
    ) -> None:
        self._rows = rows
        self._info = info
        self._end_key = end_key
        self._limit = limit
        self._returned = 0
        self.exhausted = False
        self.next_key: str | None = None

    @property
    def paginated(self) -> bool:
        """True for a paginated query (the response then carries a bookmark)."""
        return self._limit is not None

    def next(self) -> tuple[str, bytes] | None:
        """The next (key, value), or None when the range is exhausted."""
        if self.exhausted:
            return None
        if self._limit is not None and self._returned >= self._limit:
            # A page is full: peek one more row so the bookmark names the next page's first key.
            row = next(self._rows, None)
            self.next_key = None if row is None else row[0]
            self.exhausted = True
            if row is None:
                self._mark_exhausted()
            return None
        row = next(self._rows, None)
        if row is None:
            self._mark_exhausted()
            return None
        key, value, version = row
        self._returned += 1
        self._info.raw_reads.kv_reads.add(
            key=key, version=kv_rwset_pb2.Version(block_num=version.block, tx_num=version.tx)
        )
        # Until the scan is exhausted, the recorded end is the last key handed out: the committer then
        # re-checks exactly the part of the range the chaincode saw (Fabric's updateRangeQueryInfo).
        self._info.end_key = key
        return key, value

    def _mark_exhausted(self) -> None:
        self.exhausted = True
        self._info.itr_exhausted = True
        self._info.end_key = self._end_key


class TxSimulator:
    """Collects one transaction's reads and writes against committed state.

    Args:
        store: The committed ledger.
    """

    def __init__(self, store: LedgerStore) -> None:
        self._store = store
        self._reads: dict[str, dict[str, Version | None]] = {}
        self._writes: dict[str, dict[str, bytes | None]] = {}
        self._ranges: dict[str, list[kv_rwset_pb2.RangeQueryInfo]] = {}
        self._paginated = False
        self._wrote = False

    def get_state(self, namespace: str, key: str) -> bytes | None:
        """The committed value (None when missing); the first read of each key is recorded with its version."""
        found = self._store.get_state(namespace, key)
        reads = self._reads.setdefault(namespace, {})
        if key not in reads:
            reads[key] = None if found is None else found[1]
        return None if found is None else found[0]

    def put_state(self, namespace: str, key: str, value: bytes) -> None:
        """Record a write (an empty value records a delete, as Fabric's kvrwset does)."""
        self._check_write(key)
        self._writes.setdefault(namespace, {})[key] = value if value else None

    def delete_state(self, namespace: str, key: str) -> None:
        """Record a delete."""
        self._check_write(key)
        self._writes.setdefault(namespace, {})[key] = None

    def _check_write(self, key: str) -> None:
        if self._paginated:
            raise SimulationError(
                "transaction has already performed a paginated query. Writes are not allowed"
            )
        if not key:
            raise SimulationError("empty key is not allowed")
        self._wrote = True

    def range(self, namespace: str, start: str, end: str, page_size: int | None = None) -> RangeIterator:
        """Start a range scan over committed state, [start, end) ("" end = unbounded).

        Args:
            page_size: Paginated query: at most this many results; Fabric allows these only in
                transactions that do not write.
        """
        if page_size is not None:
            if self._wrote:
                raise SimulationError(
                    "transaction has already performed writes. Performing paginated query is not supported"
                )
            self._paginated = True
        info = kv_rwset_pb2.RangeQueryInfo(start_key=start, end_key=end)
        info.raw_reads.SetInParent()
        self._ranges.setdefault(namespace, []).append(info)
        return RangeIterator(self._store.range_scan(namespace, start, end), info, end, page_size)

    def has_writes(self) -> bool:
        """True if the transaction wrote or deleted anything."""
        return any(self._writes.values())

    def rwset(self) -> rwset_pb2.TxReadWriteSet:
        """The Fabric-shaped read/write set: namespaces and keys sorted, first reads, range infos."""
        tx = rwset_pb2.TxReadWriteSet(data_model=rwset_pb2.TxReadWriteSet.KV)
        namespaces = sorted(set(self._reads) | set(self._writes) | set(self._ranges))
        for ns in namespaces:
            kv = kv_rwset_pb2.KVRWSet()
            for key in sorted(self._reads.get(ns, {})):
                version = self._reads[ns][key]
                read = kv.reads.add(key=key)
                if version is not None:
                    read.version.block_num = version.block
                    read.version.tx_num = version.tx
            kv.range_queries_info.extend(self._ranges.get(ns, []))
            for key in sorted(self._writes.get(ns, {})):
                value = self._writes[ns][key]
                if value is None:
                    kv.writes.add(key=key, is_delete=True)
                else:
                    kv.writes.add(key=key, value=value)
            tx.ns_rwset.add(namespace=ns, rwset=kv.SerializeToString())
        return tx
