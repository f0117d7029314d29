"""The shim's fast message path writes what the fixed shim writes, without its per-message overhead.

The transcripts come from concurrent transactions run over a stand-in stream (chaincode.shim_fast's
conversation probe: reads, a range, writes, a delete, a refused read and an event per transaction);
the devnet tests run the same path over the real protocol.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import pytest
from fabric_chaincode_python.fabric_shim import handler as handler_mod
from fabric_chaincode_python.fabric_shim.iterators import StateQueryIterator
from fabric_protos.ledger.queryresult import kv_query_result_pb2
from fabric_protos.peer import chaincode_shim_pb2

from chaincode import shim_fast, shim_fix

_MSG = chaincode_shim_pb2.ChaincodeMessage

# A fresh interpreter: the transcript of the shim as fixed, then of the fast path, and what apply()
# says before shim_fix (refused) and after.
_SCRIPT = """
import json, logging
logging.disable(logging.CRITICAL)
from chaincode import shim_fast, shim_fix
try:
    shim_fast.apply()
    refused = ""
except RuntimeError as exc:
    refused = str(exc)
shim_fix.apply()
upstream = shim_fast.conversation(shim_fix._chat_with_peer)
report = shim_fast.apply()
fast = shim_fast.conversation(shim_fix._handler_mod.Handler.chat_with_peer)
out = {"refused": refused, "applied": report.applied, "reason": report.reason}
out["upstream"] = [[t, k, p.hex()] for t, k, p in upstream]
out["fast"] = [[t, k, p.hex()] for t, k, p in fast]
print(json.dumps(out))
"""


@pytest.fixture
def fast_path() -> None:
    """The shim fix and the fast path applied (their probes run event loops of their own, so a
    synchronous fixture applies them before an async test's loop starts)."""
    shim_fix.apply()
    assert shim_fast.apply().applied


def _transcripts() -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, check=True)
    found: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return found


def test_the_fast_path_writes_what_the_fixed_shim_writes_less_the_closes_of_released_queries() -> None:
    found = _transcripts()
    assert found["refused"] == "apply chaincode.shim_fix before chaincode.shim_fast"
    assert found["applied"], found["reason"]
    upstream = [(t, k, bytes.fromhex(p)) for t, k, p in found["upstream"]]
    fast = [(t, k, bytes.fromhex(p)) for t, k, p in found["fast"]]
    # Upstream closes each fully read range with a round trip; the fast path does not.
    assert sum(k == _MSG.QUERY_STATE_CLOSE for _, k, _ in upstream) == 3
    assert not [m for m in fast if m[1] == _MSG.QUERY_STATE_CLOSE]
    assert shim_fast.same_conversation(shim_fast.without_closes(upstream), fast)
    completed = [p for _, k, p in fast if k == _MSG.COMPLETED]
    assert len(completed) == 3
    # Each transaction saw its read, both range keys and the peer's refusal; its event went out.
    assert all(b"/r0," in p and b"peer refused GetState: no" in p and b"|event:" in p for p in completed)


def test_a_different_transcript_is_told_apart() -> None:
    found = _transcripts()
    upstream = [(t, k, bytes.fromhex(p)) for t, k, p in found["upstream"]]
    fast = [(t, k, bytes.fromhex(p)) for t, k, p in found["fast"]]
    assert not shim_fast.same_conversation(upstream, fast)  # the closes count
    swapped = list(fast)
    first, second = [i for i, m in enumerate(swapped) if m[0] == "probe-a" and m[1] == _MSG.PUT_STATE]
    swapped[first], swapped[second] = swapped[second], swapped[first]
    assert not shim_fast.same_conversation(fast, swapped)  # order within a transaction counts


def test_answers_take_no_task_and_no_message_is_logged(
    fast_path: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tasks: list[str] = []
    upstream_track = handler_mod.Handler._track_task

    def counted(self: Any, coro: Any) -> None:
        tasks.append(coro.__qualname__)
        upstream_track(self, coro)

    monkeypatch.setattr(handler_mod.Handler, "_track_task", counted)
    caplog.set_level(logging.DEBUG, logger="asyncio")
    caplog.clear()  # apply()'s own probe ran the upstream loop, which logs every message
    transcript = shim_fast.conversation(handler_mod.Handler.chat_with_peer)
    assert len([m for m in transcript if m[1] == _MSG.COMPLETED]) == 3
    # REGISTERED, READY and three TRANSACTIONs: one task each; the 18 answers none.
    assert tasks == ["Handler.handle_message"] * 5
    assert not [r for r in caplog.records if "->>>>" in r.getMessage() or "called with key" in r.getMessage()]


class _Peer:
    def __init__(self) -> None:
        self.closed: list[str] = []

    async def handle_query_state_close(self, query_id: str, channel_id: str, tx_id: str) -> Any:
        self.closed.append(query_id)
        return _MSG(type=_MSG.RESPONSE)


def _iterator(peer: _Peer, has_more: bool) -> StateQueryIterator:
    page = chaincode_shim_pb2.QueryResponse(id="q1", has_more=has_more)
    page.results.add(resultBytes=kv_query_result_pb2.KV(key="k", value=b"v").SerializeToString())
    return StateQueryIterator(
        handler=peer,
        channel_id="ch",
        tx_id="tx",
        initial_response=_MSG(type=_MSG.RESPONSE, payload=page.SerializeToString()),
        response_factory=chaincode_shim_pb2.QueryResponse.FromString,
        parser=lambda qrb: kv_query_result_pb2.KV.FromString(qrb.resultBytes),
    )


async def test_a_query_is_closed_on_the_peer_only_while_the_peer_holds_it(fast_path: None) -> None:
    released = _Peer()
    assert [kv.key async for kv in _iterator(released, has_more=False)] == ["k"]
    assert released.closed == []  # the last page released it on the peer: no round trip
    held = _Peer()
    early = _iterator(held, has_more=True)
    await early.aclose()  # closed before the peer's last page: the peer must be told
    await early.aclose()
    assert held.closed == ["q1"]
