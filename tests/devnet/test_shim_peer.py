"""The peer side of the shim, driven message by message without a chaincode process."""

from __future__ import annotations

import asyncio

import pytest
from fabric_protos.ledger.queryresult import kv_query_result_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2
from fabric_protos.peer import chaincode_shim_pb2

from devnet.ledger import BlockWrite, LedgerStore
from devnet.shim_peer import ChaincodeConnection, _TxContext
from devnet.simulator import TxSimulator

M = chaincode_shim_pb2.ChaincodeMessage


@pytest.fixture
async def conn(store: LedgerStore) -> ChaincodeConnection:
    write = BlockWrite(number=0, data=b"")
    for i in range(250):
        write.puts.append(("kv", f"r/{i:03d}", b"v", i))
    write.history.append(("kv", "h", 0, "tx0", b"old", False, 1, 0))
    store.commit(write)
    connection = ChaincodeConnection("kv", "127.0.0.1:1", store)
    done = asyncio.get_running_loop().create_future()
    connection._contexts[("ch", "tx")] = _TxContext("kv", TxSimulator(store), done)
    return connection


def _ask(conn: ChaincodeConnection, msg_type: int, payload: bytes) -> tuple[int, bytes]:
    conn._dispatch(M(type=msg_type, payload=payload, txid="tx", channel_id="ch"))
    reply = conn._outgoing.get_nowait()
    assert reply is not None and reply.txid == "tx"
    return reply.type, bytes(reply.payload)


async def test_range_is_served_in_batches_of_100_then_closed(conn: ChaincodeConnection) -> None:
    kind, raw = _ask(
        conn,
        M.GET_STATE_BY_RANGE,
        chaincode_shim_pb2.GetStateByRange(startKey="r/", endKey="r/~").SerializeToString(),
    )
    assert kind == M.RESPONSE
    keys: list[str] = []
    resp = chaincode_shim_pb2.QueryResponse.FromString(raw)
    while True:
        keys += [kv_query_result_pb2.KV.FromString(r.resultBytes).key for r in resp.results]
        if not resp.has_more:
            break
        assert len(resp.results) == 100
        _, raw = _ask(
            conn, M.QUERY_STATE_NEXT, chaincode_shim_pb2.QueryStateNext(id=resp.id).SerializeToString()
        )
        resp = chaincode_shim_pb2.QueryResponse.FromString(raw)
    assert keys == [f"r/{i:03d}" for i in range(250)]
    kind, raw = _ask(
        conn, M.QUERY_STATE_NEXT, chaincode_shim_pb2.QueryStateNext(id=resp.id).SerializeToString()
    )
    assert kind == M.ERROR and b"query iterator not found" in raw


async def test_paginated_range_returns_bookmark(conn: ChaincodeConnection) -> None:
    meta = chaincode_shim_pb2.QueryMetadata(pageSize=5, bookmark="r/010").SerializeToString()
    _, raw = _ask(
        conn,
        M.GET_STATE_BY_RANGE,
        chaincode_shim_pb2.GetStateByRange(startKey="r/", endKey="r/~", metadata=meta).SerializeToString(),
    )
    resp = chaincode_shim_pb2.QueryResponse.FromString(raw)
    assert [kv_query_result_pb2.KV.FromString(r.resultBytes).key for r in resp.results] == [
        f"r/{i:03d}" for i in range(10, 15)
    ]
    page = chaincode_shim_pb2.QueryResponseMetadata.FromString(resp.metadata)
    assert (page.fetched_records_count, page.bookmark, resp.has_more) == (5, "r/015", False)


async def test_history_is_served_as_key_modifications(conn: ChaincodeConnection) -> None:
    _, raw = _ask(
        conn, M.GET_HISTORY_FOR_KEY, chaincode_shim_pb2.GetHistoryForKey(key="h").SerializeToString()
    )
    [mod] = [
        kv_query_result_pb2.KeyModification.FromString(r.resultBytes)
        for r in chaincode_shim_pb2.QueryResponse.FromString(raw).results
    ]
    assert (mod.tx_id, mod.value, mod.is_delete, mod.timestamp.seconds) == ("tx0", b"old", False, 1)


@pytest.mark.parametrize(
    ("msg_type", "payload", "text"),
    [
        (
            M.GET_STATE,
            chaincode_shim_pb2.GetState(key="k", collection="secret").SerializeToString(),
            b"collection",
        ),
        (
            M.PUT_STATE,
            chaincode_shim_pb2.PutState(key="k", value=b"v", collection="c").SerializeToString(),
            b"collection",
        ),
        (M.GET_QUERY_RESULT, chaincode_shim_pb2.GetQueryResult(query="{}").SerializeToString(), b"leveldb"),
        (M.PUT_STATE_METADATA, b"", b"state-based endorsement"),
        (M.GET_PRIVATE_DATA_HASH, b"", b"private data"),
        (M.INVOKE_CHAINCODE, b"", b"chaincode-to-chaincode"),
        (M.PUT_STATE, chaincode_shim_pb2.PutState(key="", value=b"v").SerializeToString(), b"empty key"),
    ],
)
async def test_unsupported_requests_get_explicit_errors(
    conn: ChaincodeConnection, msg_type: int, payload: bytes, text: bytes
) -> None:
    kind, raw = _ask(conn, msg_type, payload)
    assert kind == M.ERROR and text in raw


async def test_request_for_unknown_transaction_is_refused(conn: ChaincodeConnection) -> None:
    conn._dispatch(
        M(
            type=M.GET_STATE,
            payload=chaincode_shim_pb2.GetState(key="k").SerializeToString(),
            txid="other",
            channel_id="ch",
        )
    )
    reply = conn._outgoing.get_nowait()
    assert (
        reply is not None and reply.type == M.ERROR and b"Failed to get transaction context" in reply.payload
    )


async def test_get_state_multiple_answers_in_key_order_and_records_each_read(
    conn: ChaincodeConnection,
) -> None:
    # Fabric 3.1's batched read must leave the same read set as one GET_STATE per key.
    keys = ["r/002", "absent", "r/001"]
    kind, raw = _ask(
        conn, M.GET_STATE_MULTIPLE, chaincode_shim_pb2.GetStateMultiple(keys=keys).SerializeToString()
    )
    assert kind == M.RESPONSE
    assert list(chaincode_shim_pb2.GetStateMultipleResult.FromString(raw).values) == [b"v", b"", b"v"]
    [ns] = conn._contexts[("ch", "tx")].simulator.rwset().ns_rwset
    reads = {
        r.key: (r.HasField("version"), r.version.tx_num)
        for r in kv_rwset_pb2.KVRWSet.FromString(ns.rwset).reads
    }
    assert reads == {"absent": (False, 0), "r/001": (True, 1), "r/002": (True, 2)}


async def test_write_batch_applies_puts_and_deletes_and_refuses_what_devnet_lacks(
    conn: ChaincodeConnection,
) -> None:
    record = chaincode_shim_pb2.WriteRecord
    batch = chaincode_shim_pb2.WriteBatchState(
        rec=[
            record(key="a", value=b"1", type=record.PUT_STATE),
            record(key="r/000", type=record.DEL_STATE),
        ]
    )
    kind, _ = _ask(conn, M.WRITE_BATCH_STATE, batch.SerializeToString())
    assert kind == M.RESPONSE
    [ns] = conn._contexts[("ch", "tx")].simulator.rwset().ns_rwset
    writes = [(w.key, w.value, w.is_delete) for w in kv_rwset_pb2.KVRWSet.FromString(ns.rwset).writes]
    assert writes == [("a", b"1", False), ("r/000", b"", True)]
    for refused, text in (
        (record(key="m", type=record.PUT_STATE_METADATA), b"not supported"),
        (record(key="p", value=b"x", type=record.PUT_STATE, collection="secret"), b"collection"),
    ):
        kind, raw = _ask(
            conn, M.WRITE_BATCH_STATE, chaincode_shim_pb2.WriteBatchState(rec=[refused]).SerializeToString()
        )
        assert kind == M.ERROR and text in raw
