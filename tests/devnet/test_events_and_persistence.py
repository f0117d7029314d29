"""Chaincode event start/resume rules, commit notification, and a ledger that survives a reopen."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fabric_protos.peer import chaincode_event_pb2

from devnet import crypto
from devnet.committer import Committer
from devnet.events import CommitNotifier, chaincode_events
from devnet.ledger import LedgerStore
from devnet.msp import Msp
from tests.devnet.conftest import CC, Chain
from tests.devnet.txbuild import CHANNEL, Signer


def _emit(chain: Chain, user: Signer, name: str) -> tuple[str, bytes]:
    return chain.tx(
        user,
        lambda sim: sim.put_state(CC, name, b"x"),
        event=chaincode_event_pb2.ChaincodeEvent(event_name=name, payload=name.encode()),
    )


async def _take(agen, n: int) -> list[tuple[int, list[str]]]:  # type: ignore[no-untyped-def]
    out = []
    async with asyncio.timeout(5):
        async for block, events in agen:
            out.append((block, [e.event_name for e in events]))
            if len(out) == n:
                break
    return out


async def test_start_block_and_after_txid_skip(chain: Chain, user: Signer) -> None:
    notifier = CommitNotifier()
    chain.committer.commit([_emit(chain, user, "a1")[1], _emit(chain, user, "a2")[1]])  # block 1
    b_id, b = _emit(chain, user, "b1")
    chain.committer.commit([b, _emit(chain, user, "b2")[1]])  # block 2
    chain.committer.commit([chain.tx(user, lambda sim: sim.put_state(CC, "quiet", b"x"))[1]])  # 3: no events
    chain.committer.commit([_emit(chain, user, "c1")[1]])  # block 4
    assert await _take(chaincode_events(chain.store, notifier, CC, 0), 3) == [
        (1, ["a1", "a2"]),
        (2, ["b1", "b2"]),
        (4, ["c1"]),
    ]
    assert await _take(chaincode_events(chain.store, notifier, CC, 2), 1) == [(2, ["b1", "b2"])]
    # Resuming after b1: start_position is ignored, b1 itself is not replayed.
    assert await _take(chaincode_events(chain.store, notifier, CC, 0, after_txid=b_id), 2) == [
        (2, ["b2"]),
        (4, ["c1"]),
    ]


async def test_other_chaincode_events_are_filtered(chain: Chain, user: Signer) -> None:
    chain.committer.commit([_emit(chain, user, "a")[1]])
    stream = chaincode_events(chain.store, CommitNotifier(), "other", 0)
    task = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0.05)
    assert not task.done()
    task.cancel()


async def test_live_stream_wakes_on_new_block_and_unknown_after_txid_waits(
    chain: Chain, user: Signer
) -> None:
    notifier = CommitNotifier()
    live = chaincode_events(chain.store, notifier, CC, chain.store.height)
    waiting_id, waiting_env = _emit(chain, user, "w")
    gated = chaincode_events(chain.store, notifier, CC, 0, after_txid=waiting_id)
    live_next = asyncio.ensure_future(live.__anext__())
    gated_next = asyncio.ensure_future(gated.__anext__())
    await asyncio.sleep(0.05)
    assert not live_next.done()
    result = chain.committer.commit([_emit(chain, user, "first")[1]])
    notifier.committed(result.number, result.indexed)
    block, events = await asyncio.wait_for(live_next, 5)
    assert (block, [e.event_name for e in events]) == (result.number, ["first"])
    assert not gated_next.done()  # still waiting to see its after-txid
    result = chain.committer.commit([waiting_env, _emit(chain, user, "after")[1]])
    notifier.committed(result.number, result.indexed)
    block, events = await asyncio.wait_for(gated_next, 5)
    assert [e.event_name for e in events] == ["after"]


async def test_commit_notifier_resolves_watchers(chain: Chain, user: Signer) -> None:
    notifier = CommitNotifier()
    txid, env = chain.tx(user, lambda sim: sim.put_state(CC, "k", b"v"))
    watch = notifier.watch(txid)
    result = chain.committer.commit([env])
    notifier.committed(result.number, result.indexed)
    location = await asyncio.wait_for(watch, 1)
    assert (location.block, location.code) == (1, 0)


def test_ledger_survives_reopen(tmp_path: Path, msp: Msp, material: crypto.OrgMaterial, user: Signer) -> None:
    path = tmp_path / "l.sqlite"
    store = LedgerStore(path)
    chain = Chain.__new__(Chain)
    Chain.__init__(chain, store, msp, material)
    txid, env = chain.tx(user, lambda sim: sim.put_state(CC, "k", b"v"))
    chain.committer.commit([env])
    store.close()
    reopened = LedgerStore(path)
    try:
        assert reopened.height == 2
        assert reopened.get_state(CC, "k") is not None
        location = reopened.tx_location(txid)
        assert location is not None and location.block == 1
        committer = Committer(reopened, msp, CHANNEL, {CC}, chain.cache)
        committer.ensure_genesis()  # must not write a second block 0
        chain.store, chain.committer = reopened, committer
        result = committer.commit([chain.tx(user, lambda sim: sim.put_state(CC, "k2", b"v"))[1]])
        assert result.number == 2
        from fabric_protos.common import common_pb2

        from devnet.blocks import header_hash

        b1 = common_pb2.Block.FromString(reopened.get_block(1) or b"")
        b2 = common_pb2.Block.FromString(reopened.get_block(2) or b"")
        assert b2.header.previous_hash == header_hash(b1.header)
        assert [h.txid for h in reopened.history(CC, "k")] == [txid]
    finally:
        reopened.close()
