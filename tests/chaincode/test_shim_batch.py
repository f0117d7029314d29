"""Fabric 3.1's batched state calls: the same ledger and answers in fewer round trips.

The chaincode uses WRITE_BATCH_STATE and GET_STATE_MULTIPLE only when the peer offers them in READY
(devnet does, as Fabric 3.1 does by default; the devnet tests run the real path). Here the rule tests'
fake peer runs the same commands with and without batching, and the shim side is checked on the
handler itself.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fabric_chaincode_python.fabric_shim import handler as handler_mod
from fabric_chaincode_python.fabric_shim.interfaces import Chaincode
from fabric_chaincode_python.fabric_shim.stub import ChaincodeStub
from fabric_protos.peer import chaincode_pb2, chaincode_shim_pb2
from gx.ledger.v1 import commands_pb2 as cmd

from chaincode import shim_batch
from tests.chaincode.conftest import COUNTRIES
from tests.chaincode.fake_ledger import FakeLedger, Outcome

GX = 1_000_000
_MSG = chaincode_shim_pb2.ChaincodeMessage


def test_the_offer_is_read_from_ready_as_the_go_shim_reads_it() -> None:
    offer = chaincode_pb2.ChaincodeAdditionalParams
    assert shim_batch.batching_of(b"") == shim_batch.Batching(0, 0)
    assert shim_batch.batching_of(b"\xff\xff") == shim_batch.Batching(0, 0)  # unreadable: none
    full = offer(
        use_write_batch=True,
        max_size_write_batch=1000,
        use_get_multiple_keys=True,
        max_size_get_multiple_keys=500,
    )
    assert shim_batch.batching_of(full.SerializeToString()) == shim_batch.Batching(1000, 500)
    small = offer(use_write_batch=True, max_size_write_batch=5)  # raised to the Go shim's minimum
    assert shim_batch.batching_of(small.SerializeToString()) == shim_batch.Batching(100, 0)


async def _story(gx: FakeLedger) -> list[Outcome]:
    """Bootstrap, countries, three users, transfers with and without a fee (one folding a credit),
    a refused one and a replayed one."""
    ids = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(3)]
    steps: list[tuple[str, Any, str]] = [
        ("BootstrapSystem", cmd.BootstrapSystemRequest(request_id="boot"), "gx_super_admin")
    ]
    countries = cmd.InitializeCountriesRequest(request_id="countries")
    for code, name, share in COUNTRIES:
        countries.countries.add(country_code=code, name=name, share_bps=share)
    steps.append(("InitializeCountries", countries, "gx_super_admin"))
    for n, user in enumerate(ids):
        request = cmd.CreateUserRequest(
            user_id=user, country_code="LK", date_of_birth="1990-05-01", request_id=f"u{n}"
        )
        steps.append(("CreateUser", request, "gx_admin"))
    for n, (src, dst, amount) in enumerate(
        [(0, 1, 5 * GX), (1, 0, GX), (0, 2, 7 * GX), (2, 1, 10**12), (0, 1, 5 * GX)]
    ):
        request = cmd.TransferTokensRequest(
            from_account_id=ids[src], to_account_id=ids[dst], amount_qirat=amount, request_id=f"t{n}"
        )
        steps.append(("TransferTokens", request, "gx_partner_api"))
    steps.append(("TransferTokens", steps[-5][1], "gx_partner_api"))  # t0 again: a replay
    return [await gx.invoke(function, request, role) for function, request, role in steps]


async def test_batching_changes_neither_the_ledger_nor_any_answer() -> None:
    plain, batched = FakeLedger(), FakeLedger(batching=True)
    before, after = await _story(plain), await _story(batched)
    assert [o.status for o in after] == [o.status for o in before]
    assert [o.status for o in after][-3:] == [400, 200, 200]  # refused, paid, replayed
    for one, other in zip(before, after, strict=True):
        assert (other.payload, other.events, other.writes) == (one.payload, one.events, one.writes)
        assert other.ranges == one.ranges
        # Fabric validates every key read: batching reads the same keys, plus at most what a
        # transfer names up front (sender, receiver, system record, fee shard) when the path taken
        # needed fewer (a transfer without a fee, a replay).
        assert set(one.reads) <= set(other.reads)
        extra = {key.split("~")[0] for key in set(other.reads) - set(one.reads)}
        assert extra <= {"acct", "sys", "accr"}, extra
    fee_less, replay = after[-5], after[-1]
    assert fee_less.result(cmd.TransferTokensResult).fee_qirat == 0
    shard = {k for k in fee_less.reads if k.startswith("accr~")}
    assert len(shard) == 1 and set(fee_less.reads) - set(before[-5].reads) == shard
    assert len(set(replay.reads) - set(before[-1].reads)) == 4
    assert batched.world == plain.world
    batched.assert_conserved()


async def test_a_fee_paying_transfer_takes_three_round_trips_when_the_peer_batches() -> None:
    gx = FakeLedger(batching=True)
    outcomes = await _story(gx)
    assert outcomes[-2].ok and outcomes[-2].result(cmd.TransferTokensResult).fee_qirat > 0
    assert gx.round_trips == ["GetStateMultiple"]  # the story's replay: its guard, and nothing written
    await gx.invoke(
        "TransferTokens",
        cmd.TransferTokensRequest(
            from_account_id="00000000-0000-4000-8000-000000000001",
            to_account_id="00000000-0000-4000-8000-000000000000",
            amount_qirat=5 * GX,
            request_id="t-last",
        ),
        "gx_partner_api",
    )
    # The guard, sender, receiver, system record and fee shard at once, the sender's credits, and
    # every write in one batch (5 + 1 + 5 requests without batching).
    assert gx.round_trips == ["GetStateMultiple", "GetStateByRange", "WriteBatchState"]


class _Idle(Chaincode):  # type: ignore[misc]
    async def init(self, stub: Any) -> Any:
        return None

    async def invoke(self, stub: Any) -> Any:
        return None


class _Peer:
    """Stands in for the stream: answers each request at once, recording it."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self.sent: list[Any] = []

    async def write(self, message: Any) -> None:
        self.sent.append(message)
        payload = b""
        if message.type == _MSG.GET_STATE_MULTIPLE:
            keys = chaincode_shim_pb2.GetStateMultiple.FromString(message.payload).keys
            payload = chaincode_shim_pb2.GetStateMultipleResult(
                values=[k.encode() if k != "absent" else b"" for k in keys]
            ).SerializeToString()
        answer = _MSG(type=_MSG.RESPONSE, payload=payload, txid=message.txid, channel_id=message.channel_id)
        asyncio.get_running_loop().call_soon(
            lambda: asyncio.ensure_future(self.handler.msg_queue_handler.handle_msg_response(answer))
        )


async def _ready(payload: bytes) -> tuple[Any, _Peer, Any]:
    shim_batch.apply()
    handler = handler_mod.Handler("gx-test", _Idle())
    peer = _Peer(handler)
    handler.context = peer
    handler.msg_queue_handler = handler_mod.MsgQueueHandler(handler)
    handler.state = handler_mod.STATES.ESTABLISHED
    await handler.handle_message(_MSG(type=_MSG.READY, payload=payload))
    assert handler.state == handler_mod.STATES.READY
    stub = ChaincodeStub(handler, "ch", "tx1", chaincode_pb2.ChaincodeInput(), None)
    return handler, peer, stub


async def test_the_shim_batches_only_what_the_peer_offered() -> None:
    offer = chaincode_pb2.ChaincodeAdditionalParams(
        use_write_batch=True,
        max_size_write_batch=100,
        use_get_multiple_keys=True,
        max_size_get_multiple_keys=100,
    )
    _, peer, stub = await _ready(offer.SerializeToString())
    keys = [f"k{n}" for n in range(150)] + ["absent"]
    values = await stub.get_multiple_states(keys)
    assert values == [k.encode() for k in keys[:-1]] + [None]
    assert [m.type for m in peer.sent] == [_MSG.GET_STATE_MULTIPLE] * 2  # 100 + 51 keys
    assert await stub.write_batch([("a", b"1"), ("b", None)])
    batch = chaincode_shim_pb2.WriteBatchState.FromString(peer.sent[-1].payload)
    assert [(r.key, r.value, r.type) for r in batch.rec] == [
        ("a", b"1", chaincode_shim_pb2.WriteRecord.PUT_STATE),
        ("b", b"", chaincode_shim_pb2.WriteRecord.DEL_STATE),
    ]
    assert peer.sent[-1].txid == "tx1" and peer.sent[-1].channel_id == "ch"

    _, silent, plain_stub = await _ready(b"")  # a Fabric 2.x peer: READY without an offer
    assert await plain_stub.get_multiple_states(["a", "b"]) is None
    assert not await plain_stub.write_batch([("a", b"1")])
    assert silent.sent == []  # nothing was sent: the caller goes key by key
