"""A cheaper per-message path through fabric-chaincode-python 2.5.4, with the same messages on the wire.

On the devnet the chaincode process spent about 2.7 ms of CPU per GX transfer, against 0.25 ms for the
chaincode's own work: the rest is the shim and grpc, per stream message (about 28 per transfer). The
profile (py-spy and cProfile of the chaincode process under ``python -m bench chaincode``) showed what
the shim itself adds to grpc's cost, and this module removes exactly that:

1. ``Handler.chat_with_peer`` builds four log lines with f-strings for EVERY received message, whatever
   the log level (``f'->>>>  proposal  {receive_message.proposal}'``): for a TRANSACTION that is the
   text format of the whole signed proposal, byte-escaped in Python, about 0.25 ms per transaction.
   The replacement loop logs nothing per message (the shim's logger is turned down to ERROR anyway).
2. It also spawns one task per received message, answers included. An answer (RESPONSE or ERROR) only
   resolves the waiting request's future, so the replacement resolves it in the read loop: no task, no
   extra event-loop turn. TRANSACTION, INIT, KEEPALIVE and handshake messages still get their task, as
   upstream, so transactions run concurrently.
3. ``ChaincodeStub.get_state``/``put_state``/``delete_state`` format their arguments into a log line
   with ``%`` before the level check (the value's ``repr`` for every write). The replacements call the
   handler directly.
4. A range iterator that has read the peer's last page (``has_more`` false) still sends
   ``QUERY_STATE_CLOSE`` and waits for the answer: one more round trip per range read (every transfer
   reads its sender's credits). The peer has already released the query with that page (Fabric's
   ``createQueryResponse`` calls ``CleanupQueryContext`` before answering ``has_more: false``; devnet
   does the same), so the close changes nothing there. The replacement closes locally in that case
   and still sends ``QUERY_STATE_CLOSE`` for an iterator closed early, while the peer holds it.

What stays exactly as upstream: the messages written, their order per transaction (the per-transaction
queue of :class:`MsgQueueHandler` still sends the next request only after the previous answer), the
serialised writes and the event and peer-error fixes of :mod:`chaincode.shim_fix` (applied first; its
probes run again over this path, and a conversation probe checks the transcript). Only the verified shim
version is patched: another version keeps its own code (the fast path is an optimisation, not a fix).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import importlib
import logging
from collections.abc import AsyncIterable
from typing import Any

from fabric_chaincode_python.fabric_shim import handler as _handler_mod
from fabric_chaincode_python.fabric_shim import iterators as _iterators_mod
from fabric_chaincode_python.fabric_shim import stub as _stub_mod
from fabric_chaincode_python.fabric_shim.interfaces import Chaincode
from fabric_chaincode_python.fabric_shim.response import success as _shim_success

from chaincode import shim_fix

_kv_pb2: Any = importlib.import_module("fabric_protos.ledger.queryresult.kv_query_result_pb2")

__all__ = ["ShimFastReport", "apply", "conversation", "same_conversation", "without_closes"]

_LOG = logging.getLogger(__name__)
_MARK = "_gx_shim_fast"
_MSG = shim_fix.ccshim_pb2.ChaincodeMessage
_ANSWERS = frozenset({_MSG.RESPONSE, _MSG.ERROR})


@dataclasses.dataclass(frozen=True)
class ShimFastReport:
    """What :func:`apply` did.

    Attributes:
        shim_version: The installed fabric-chaincode-python version.
        applied: True if the fast message path is in use.
        reason: Why not, when it is not.
    """

    shim_version: str
    applied: bool
    reason: str = ""


async def _send(handler: Any, queued: Any) -> None:
    """What ``MsgQueueHandler.__send_msg`` does for a queued request: write it, or fail its caller."""
    try:
        await handler.context.write(queued.get_msg())
    except Exception as exc:  # the caller's future carries the failure, as upstream
        queued.fail(exc)


def _answer(handler: Any, msg: Any) -> None:
    """Resolve the request *msg* answers and send that transaction's next queued request, if any
    (``MsgQueueHandler.handle_msg_response`` without the task and the await around it)."""
    queues = handler.msg_queue_handler.tx_queues
    context_id = msg.channel_id + msg.txid
    queue = queues.get(context_id)
    if not queue:
        _handler_mod.LOGGER.warning("No queued message found for tx_context_id %s", context_id)
        return
    current = queue.pop(0)
    try:
        current.success(msg)  # shim_fix makes an ERROR answer raise in the caller
    except Exception as exc:
        current.fail(exc)
    if queue:
        handler._track_task(_send(handler, queue[0]))
    else:
        del queues[context_id]


async def _chat_with_peer(self: Any, stream: AsyncIterable[Any], context: Any) -> Any:
    """Replacement for ``Handler.chat_with_peer``: the same conversation, no per-message log lines,
    answers resolved in the read loop (see the module docstring)."""
    self.state = _handler_mod.STATES.CREATED
    # One write in flight at a time (shim_fix's defect 3), as the patched upstream loop has it.
    self.context = shim_fix._SerializedWriter(context)
    self.msg_queue_handler = _handler_mod.MsgQueueHandler(self)
    register = _MSG(type=_MSG.REGISTER, payload=self.chaincode_id.SerializeToString())
    register.timestamp.FromDatetime(datetime.datetime.now())
    await self.context.write(register)
    ready = _handler_mod.STATES.READY
    async for msg in stream:
        if msg is None:
            text = "received nil message, ending chaincode stream"
            _handler_mod.LOGGER.error(text)
            return _MSG(type=_MSG.ERROR, payload=text.encode("utf-8"))
        if msg.type in _ANSWERS and self.state == ready:
            _answer(self, msg)
        else:
            self._track_task(self.handle_message(msg))
    if self._pending_tasks:
        await asyncio.gather(*self._pending_tasks, return_exceptions=True)
    return None


async def _get_state(self: Any, key: str) -> Any:
    """``ChaincodeStub.get_state`` without the eagerly formatted log line."""
    return await self.client.handle_get_state("", key, self.channel_id, self.tx_id)


async def _put_state(self: Any, key: str, value: Any) -> Any:
    """``ChaincodeStub.put_state`` without the eagerly formatted log line (the value's repr)."""
    if isinstance(value, str):
        value = value.encode()
    return await self.client.handle_put_state("", key, value, self.channel_id, self.tx_id)


async def _delete_state(self: Any, key: str) -> Any:
    """``ChaincodeStub.delete_state`` without the eagerly formatted log line."""
    return await self.client.handle_delete_state("", key, self.channel_id, self.tx_id)


_upstream_close = _iterators_mod._QueryIteratorBase._close


async def _close(self: Any) -> None:
    """``_QueryIteratorBase._close`` without the round trip for a query the peer has released."""
    if not self._closed and self._id is not None and not self._has_more:
        self._closed = True  # the peer cleaned the query up when it sent the last page
        return
    await _upstream_close(self)


# --- the conversation probe --------------------------------------------------------------------


class _ConversationChaincode(Chaincode):  # type: ignore[misc]  # the shim ships no type information
    """Each transaction reads a key, writes two, deletes one, reads a key the peer refuses, and sets
    an event: every kind of answer the fast path resolves."""

    async def init(self, stub: Any) -> Any:
        return await self.invoke(stub)

    async def invoke(self, stub: Any) -> Any:
        tx = stub.get_txid()
        seen = bytes(await stub.get_state(f"{tx}/a"))
        async for kv in await stub.get_state_by_range(f"{tx}/r0", f"{tx}/r9"):
            seen += b"," + kv.key.encode()
        await stub.put_state(f"{tx}/b", b"1" + seen)
        await stub.put_state(f"{tx}/c", "2")
        await stub.delete_state(f"{tx}/d")
        try:
            await stub.get_state(f"{tx}/refused")
            refused = b"no error"
        except shim_fix.PeerError as exc:
            refused = str(exc).encode()
        stub.set_event("probe", seen)
        return _shim_success(seen + b"|" + refused)


async def _converse(chat: Any, txids: tuple[str, ...]) -> list[tuple[str, int, bytes]]:
    stream = shim_fix.StrictStream()
    answered = 0

    async def peer() -> Any:
        nonlocal answered
        yield _MSG(type=_MSG.REGISTERED)
        yield _MSG(type=_MSG.READY)
        payload = shim_fix.cc_pb2.ChaincodeInput(args=[b"probe"]).SerializeToString()
        for txid in txids:  # all at once, as a busy peer sends them
            yield _MSG(type=_MSG.TRANSACTION, txid=txid, channel_id="probe-channel", payload=payload)
        while sum(m.type in (_MSG.COMPLETED, _MSG.ERROR) for m in stream.written) < len(txids):
            await stream.changed.wait()
            stream.changed.clear()
            requests = [m for m in stream.written if m.type not in (_MSG.REGISTER, _MSG.COMPLETED)]
            for request in requests[answered:]:
                answered += 1
                key = _request_key(request)
                if key.endswith("/refused"):
                    yield _MSG(type=_MSG.ERROR, txid=request.txid, channel_id="probe-channel", payload=b"no")
                    continue
                value = b""
                if request.type == _MSG.GET_STATE:
                    value = key.encode()
                elif request.type == _MSG.GET_STATE_BY_RANGE:
                    value = _range_page(request)
                elif request.type == _MSG.QUERY_STATE_CLOSE:
                    value = shim_fix.ccshim_pb2.QueryResponse(id=f"q-{request.txid}").SerializeToString()
                yield _MSG(type=_MSG.RESPONSE, txid=request.txid, channel_id="probe-channel", payload=value)

    handler = _handler_mod.Handler("gx-shim-probe", _ConversationChaincode())
    await asyncio.wait_for(chat(handler, peer(), stream), timeout=5)
    if stream.overlaps:
        raise AssertionError(f"{stream.overlaps} overlapping writes")
    return [(m.txid, m.type, _transcribed(m)) for m in stream.written if m.type != _MSG.REGISTER]


def _request_key(message: Any) -> str:
    kinds = {_MSG.GET_STATE: "GetState", _MSG.PUT_STATE: "PutState", _MSG.DEL_STATE: "DelState"}
    if message.type not in kinds:
        return ""
    parsed = getattr(shim_fix.ccshim_pb2, kinds[message.type]).FromString(message.payload)
    return str(parsed.key)


def _range_page(message: Any) -> bytes:
    """The one and last page of a range: two keys, the query released (Fabric's has_more false)."""
    start = shim_fix.ccshim_pb2.GetStateByRange.FromString(message.payload).startKey
    page = shim_fix.ccshim_pb2.QueryResponse(id=f"q-{message.txid}", has_more=False)
    for key in (start, start[:-1] + "5"):
        kv = _kv_pb2.KV(namespace="probe", key=key, value=b"v")
        page.results.add(resultBytes=kv.SerializeToString())
    return bytes(page.SerializeToString())


def _transcribed(message: Any) -> bytes:
    if message.type == _MSG.COMPLETED:
        return bytes(message.payload) + b"|event:" + bytes(message.chaincode_event.payload)
    return bytes(message.payload)


def conversation(chat: Any, txids: tuple[str, ...] = ("probe-a", "probe-b", "probe-c")) -> list[Any]:
    """Run concurrent transactions through *chat* (a ``chat_with_peer``) over a stand-in stream, in a
    private event loop; return what the chaincode wrote, in order: (txid, message type, payload)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_converse(chat, txids))
    finally:
        loop.close()


def _per_transaction(transcript: list[Any]) -> dict[str, list[Any]]:
    """Each transaction's messages in order (transactions interleave differently run to run)."""
    out: dict[str, list[Any]] = {}
    for txid, kind, payload in transcript:
        out.setdefault(txid, []).append((kind, payload))
    return out


def without_closes(transcript: list[Any]) -> list[Any]:
    """*transcript* less its QUERY_STATE_CLOSE messages (the fast path skips those of released queries)."""
    return [m for m in transcript if m[1] != _MSG.QUERY_STATE_CLOSE]


def same_conversation(expected: list[Any], got: list[Any]) -> bool:
    """The same messages for each transaction, in the same order (transactions may interleave)."""
    return len(got) == len(expected) and _per_transaction(got) == _per_transaction(expected)


def apply() -> ShimFastReport:
    """Switch the shim to the fast message path, after :func:`chaincode.shim_fix.apply`; idempotent.

    Returns:
        What was done (not applied, with the reason, for a shim version it was not written for or
        when a probe disagrees: the shim then keeps its own, slower but correct, path).

    Raises:
        RuntimeError: shim_fix has not been applied (this path relies on its repairs).
    """
    previous: ShimFastReport | None = getattr(_handler_mod.Handler, _MARK, None)
    if previous is not None:
        return previous
    if getattr(_handler_mod.Handler, shim_fix._MARK, None) is None:
        raise RuntimeError("apply chaincode.shim_fix before chaincode.shim_fast")
    version = shim_fix.SHIM_VERSION
    if version not in shim_fix.VERIFIED_VERSIONS:
        report = ShimFastReport(version, False, f"written for {sorted(shim_fix.VERIFIED_VERSIONS)}")
    else:
        # What the shim as fixed writes, recorded before anything here is patched.
        expected = without_closes(conversation(shim_fix._chat_with_peer))
        originals = (
            _handler_mod.Handler.chat_with_peer,
            _stub_mod.ChaincodeStub.get_state,
            _stub_mod.ChaincodeStub.put_state,
            _stub_mod.ChaincodeStub.delete_state,
            _iterators_mod._QueryIteratorBase._close,
        )
        _handler_mod.Handler.chat_with_peer = _chat_with_peer
        _stub_mod.ChaincodeStub.get_state = _get_state
        _stub_mod.ChaincodeStub.put_state = _put_state
        _stub_mod.ChaincodeStub.delete_state = _delete_state
        _iterators_mod._QueryIteratorBase._close = _close
        failed = [
            name
            for name, bad in (
                ("events", shim_fix.events_dropped),
                ("peer errors", shim_fix.errors_read_as_values),
                ("stream writes", shim_fix.writes_race),
                ("conversation", lambda: not same_conversation(expected, conversation(_chat_with_peer))),
            )
            if bad()
        ]
        if failed:
            (
                _handler_mod.Handler.chat_with_peer,
                _stub_mod.ChaincodeStub.get_state,
                _stub_mod.ChaincodeStub.put_state,
                _stub_mod.ChaincodeStub.delete_state,
                _iterators_mod._QueryIteratorBase._close,
            ) = originals
            report = ShimFastReport(version, False, f"probes failed: {', '.join(failed)}")
            _LOG.error("fast shim path not used: %s", report.reason)
        else:
            report = ShimFastReport(version, True)
    setattr(_handler_mod.Handler, _MARK, report)
    return report
