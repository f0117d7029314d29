"""The fabric shim fix: the stock 2.5.4 shim loses events, misreads peer errors and races stream writes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest
from fabric_chaincode_python.fabric_shim import handler as handler_mod
from fabric_chaincode_python.fabric_shim import msg_queue_handler as mqh_mod
from fabric_chaincode_python.fabric_shim.interfaces import Chaincode
from fabric_chaincode_python.fabric_shim.response import success
from fabric_protos.peer import chaincode_pb2, chaincode_shim_pb2

from chaincode import shim_fix

_MSG = chaincode_shim_pb2.ChaincodeMessage


def test_stock_shim_has_all_three_defects() -> None:
    # A fresh interpreter, so no earlier apply() in this process hides the upstream state.
    code = "from chaincode import shim_fix as s; print(s.events_dropped(), s.errors_read_as_values())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]


def test_apply_fixes_both_and_is_idempotent() -> None:
    first = shim_fix.apply()
    second = shim_fix.apply()
    assert second is first
    assert first.shim_version == shim_fix.SHIM_VERSION
    assert (first.events_patched, first.errors_patched, first.writes_patched) == (True, True, True)
    assert not shim_fix.events_dropped()
    assert not shim_fix.errors_read_as_values()
    # Two transactions in flight at once no longer write to the stream at the same time.
    assert not shim_fix.writes_race()


class _Recorder:
    def __init__(self) -> None:
        self.written: list[Any] = []

    async def write(self, message: Any) -> None:
        self.written.append(message)


class _TwoEvents(Chaincode):
    async def init(self, stub: Any) -> Any:  # type: ignore[override]
        return await self.invoke(stub)

    async def invoke(self, stub: Any) -> Any:  # type: ignore[override]
        stub.set_event("First", b"1")
        stub.set_event("LedgerEvents", b'{"events":[]}')
        return success(b"ok")


class _Raises(Chaincode):
    async def init(self, stub: Any) -> Any:  # type: ignore[override]
        raise RuntimeError("boom")

    async def invoke(self, stub: Any) -> Any:  # type: ignore[override]
        raise RuntimeError("boom")


def _tx(txid: str) -> Any:
    return _MSG(
        type=_MSG.TRANSACTION,
        payload=chaincode_pb2.ChaincodeInput(args=[b"Fn", b"{}"]).SerializeToString(),
        txid=txid,
        channel_id="gxchannel",
    )


async def test_completed_carries_the_last_event_like_go() -> None:
    shim_fix.apply()
    h = handler_mod.Handler("gx:1.0", _TwoEvents())
    h.context = _Recorder()
    await h.handle_stub_interaction(_tx("tx1"))
    (completed,) = h.context.written
    assert completed.type == _MSG.COMPLETED
    assert completed.txid == "tx1"
    assert completed.chaincode_event.event_name == "LedgerEvents"
    assert completed.chaincode_event.payload == b'{"events":[]}'


async def test_a_crashing_transaction_answers_error_at_once() -> None:
    shim_fix.apply()
    h = handler_mod.Handler("gx:1.0", _Raises())
    h.context = _Recorder()
    await h.handle_stub_interaction(_tx("tx2"))
    (reply,) = h.context.written
    assert reply.type == _MSG.ERROR
    assert b"boom" in reply.payload


async def test_peer_error_raises_instead_of_being_a_state_value() -> None:
    shim_fix.apply()
    h = handler_mod.Handler("gx:1.0", _TwoEvents())
    h.context = _Recorder()
    h.msg_queue_handler = mqh_mod.MsgQueueHandler(h)
    first = asyncio.ensure_future(h.handle_get_state("", "k1", "gxchannel", "tx3"))
    second = asyncio.ensure_future(h.handle_get_state("", "k2", "gxchannel", "tx3"))
    await asyncio.sleep(0)
    await h.msg_queue_handler.handle_msg_response(
        _MSG(type=_MSG.ERROR, payload=b"no ledger context", txid="tx3", channel_id="gxchannel")
    )
    with pytest.raises(shim_fix.PeerError, match="no ledger context"):
        await first
    # The queue moves on to the next request, and a RESPONSE still answers normally.
    await asyncio.sleep(0)
    await h.msg_queue_handler.handle_msg_response(
        _MSG(type=_MSG.RESPONSE, payload=b"value", txid="tx3", channel_id="gxchannel")
    )
    assert await second == b"value"
