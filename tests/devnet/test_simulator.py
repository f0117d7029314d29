"""Read/write-set semantics: no read-your-own-writes, missing keys recorded, first read only, ranges, sorting."""

from __future__ import annotations

from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2

from devnet.ledger import BlockWrite, LedgerStore
from devnet.simulator import SimulationError, TxSimulator


def _seed(store: LedgerStore, **values: str) -> None:
    write = BlockWrite(number=store.height, data=b"")
    for i, (k, v) in enumerate(sorted(values.items())):
        write.puts.append(("kv", k, v.encode(), i))
    store.commit(write)


def _kv(sim: TxSimulator) -> kv_rwset_pb2.KVRWSet:
    tx = sim.rwset()
    assert [ns.namespace for ns in tx.ns_rwset] == ["kv"]
    return kv_rwset_pb2.KVRWSet.FromString(tx.ns_rwset[0].rwset)


def test_reads_do_not_see_own_writes_and_first_read_wins(store: LedgerStore) -> None:
    _seed(store, a="1")
    sim = TxSimulator(store)
    sim.put_state("kv", "a", b"2")
    assert sim.get_state("kv", "a") == b"1"
    sim.put_state("kv", "new", b"x")
    assert sim.get_state("kv", "new") is None
    kv = _kv(sim)
    assert [(r.key, r.HasField("version"), r.version.block_num, r.version.tx_num) for r in kv.reads] == [
        ("a", True, 0, 0),
        ("new", False, 0, 0),
    ]
    assert [(w.key, w.value) for w in kv.writes] == [("a", b"2"), ("new", b"x")]


def test_keys_are_sorted_and_empty_value_is_a_delete(store: LedgerStore) -> None:
    sim = TxSimulator(store)
    for key in ("z", "b", "m"):
        sim.get_state("kv", key)
        sim.put_state("kv", key, b"v")
    sim.put_state("kv", "m", b"")
    sim.delete_state("kv", "b")
    kv = _kv(sim)
    assert [r.key for r in kv.reads] == ["b", "m", "z"]
    assert [(w.key, w.is_delete) for w in kv.writes] == [("b", True), ("m", True), ("z", False)]


def test_exhausted_range_records_reads_and_original_end(store: LedgerStore) -> None:
    _seed(store, a="1", b="2", c="3")
    sim = TxSimulator(store)
    it = sim.range("kv", "a", "c")
    assert [it.next(), it.next(), it.next()] == [("a", b"1"), ("b", b"2"), None]
    info = _kv(sim).range_queries_info[0]
    assert (info.start_key, info.end_key, info.itr_exhausted) == ("a", "c", True)
    assert [r.key for r in info.raw_reads.kv_reads] == ["a", "b"]


def test_range_stopped_early_records_last_key_as_end(store: LedgerStore) -> None:
    _seed(store, a="1", b="2", c="3")
    sim = TxSimulator(store)
    it = sim.range("kv", "", "")
    it.next()
    info = _kv(sim).range_queries_info[0]
    assert (info.end_key, info.itr_exhausted) == ("a", False)


def test_paginated_query_forbids_writes_and_writes_forbid_pagination(store: LedgerStore) -> None:
    _seed(store, a="1", b="2", c="3")
    sim = TxSimulator(store)
    page = sim.range("kv", "", "", page_size=2)
    assert [page.next(), page.next(), page.next()] == [("a", b"1"), ("b", b"2"), None]
    assert page.next_key == "c"
    try:
        sim.put_state("kv", "x", b"1")
        raise AssertionError("write after paginated query accepted")
    except SimulationError as exc:
        assert "paginated query" in str(exc)
    sim2 = TxSimulator(store)
    sim2.put_state("kv", "x", b"1")
    try:
        sim2.range("kv", "", "", page_size=1)
        raise AssertionError("paginated query after write accepted")
    except SimulationError as exc:
        assert "performed writes" in str(exc)
