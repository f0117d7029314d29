"""Run-time fixes for fabric-chaincode-python defects: lost events, misread peer errors, racing writes.

fabric-chaincode-python 2.5.4 has three defects that matter to any chaincode built on it:

1. ``ChaincodeStub.set_event()`` stores the event on the stub, but ``Handler.handle_stub_interaction``
   builds the ``COMPLETED`` message without ``chaincode_event``, so the peer never sees an event.
2. ``MsgQueueHandler.handle_msg_response`` resolves the pending request for a peer ``ERROR`` exactly
   as for a ``RESPONSE``, so ``get_state`` returns the peer's error text as if it were the stored value
   (and a refused ``put_state`` looks like a success).
3. Every transaction runs in its own task and writes to the one gRPC stream to the peer without any
   ordering, but a ``grpc.aio`` stream allows one write in flight at a time: with concurrent
   transactions a write fails (``GRPC_CALL_ERROR_TOO_MANY_OPERATIONS``), the transaction answers 500 or
   hangs until the peer's execute timeout.

:func:`apply` repairs all three at chaincode start-up. It first *probes* the installed shim in a private
event loop (no network): only a defect that the probe reproduces is patched, and the probe is run
again afterwards so a patch that did not take refuses to start the chaincode instead of losing events
silently. A shim release that fixes these upstream is therefore left untouched, and this module can be
deleted once every deployment runs such a release.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import logging
from typing import Any

from fabric_chaincode_python.fabric_shim import handler as _handler_mod
from fabric_chaincode_python.fabric_shim import msg_queue_handler as _mqh_mod
from fabric_chaincode_python.fabric_shim.interfaces import Chaincode
from fabric_chaincode_python.fabric_shim.response import ResponseCode
from fabric_chaincode_python.fabric_shim.response import success as _shim_success
from fabric_chaincode_python.version import VERSION as SHIM_VERSION

# hyperledger-fabric-protos ships no type stubs; typed as Any so the checker does not flag every use.
cc_pb2: Any = importlib.import_module("fabric_protos.peer.chaincode_pb2")
ccshim_pb2: Any = importlib.import_module("fabric_protos.peer.chaincode_shim_pb2")
pr_pb2: Any = importlib.import_module("fabric_protos.peer.proposal_response_pb2")

__all__ = [
    "SHIM_VERSION",
    "PeerError",
    "ShimFixReport",
    "apply",
    "errors_read_as_values",
    "events_dropped",
    "writes_race",
]

_LOG = logging.getLogger(__name__)

# Versions whose internals the replacement functions below were written against and tested on.
# Another version that still shows a defect is patched too, but with a warning, and only kept if
# the probe passes afterwards.
VERIFIED_VERSIONS = frozenset({"2.5.4"})

_MARK = "_gx_shim_fix"
_PROBE_EVENT = "gx.shim_fix.probe"


class PeerError(Exception):
    """The peer answered a shim request (GetState, PutState, ...) with ERROR instead of RESPONSE."""


@dataclasses.dataclass(frozen=True)
class ShimFixReport:
    """What :func:`apply` found and did.

    Attributes:
        shim_version: The installed fabric-chaincode-python version.
        events_patched: True if COMPLETED is now built with the stub's chaincode event by this module.
        errors_patched: True if peer ERROR replies now raise :class:`PeerError` because of this module.
        writes_patched: True if writes to the peer stream are now serialised by this module.
    """

    shim_version: str
    events_patched: bool
    errors_patched: bool
    writes_patched: bool


async def _handle_stub_interaction(self: Any, msg: Any, action: str = "Invoke") -> None:
    """Replacement for ``Handler.handle_stub_interaction`` that sends the chaincode event.

    Mirrors the Go shim's ``handleTransaction``: the last event the chaincode set travels in
    ``COMPLETED.chaincode_event`` (Fabric keeps one event per transaction; the peer fills in the
    chaincode id and tx id). A transaction that cannot run at all gets an ``ERROR`` reply at once,
    where upstream left the peer waiting for its execute timeout.
    """
    try:
        cc_input = cc_pb2.ChaincodeInput.FromString(msg.payload)
        stub = _handler_mod.ChaincodeStub(self, msg.channel_id, msg.txid, cc_input, msg.proposal)
        if (action or "").lower() == "init":
            resp = await self.chaincode.init(stub)
        else:
            resp = await self.chaincode.invoke(stub)
    except Exception as exc:  # any failure here must still answer the peer
        _LOG.exception("chaincode could not run transaction %s", msg.txid)
        await self.context.write(
            ccshim_pb2.ChaincodeMessage(
                type=ccshim_pb2.ChaincodeMessage.ERROR,
                payload=str(exc).encode("utf-8"),
                txid=msg.txid,
                channel_id=msg.channel_id,
            )
        )
        return
    if not resp or not resp.status:
        resp = pr_pb2.Response(
            status=ResponseCode.ERROR, message=f"chaincode {action}() returned no response"
        )
    completed = ccshim_pb2.ChaincodeMessage(
        type=ccshim_pb2.ChaincodeMessage.COMPLETED,
        payload=resp.SerializeToString(),
        txid=msg.txid,
        channel_id=msg.channel_id,
    )
    events = stub.get_events() if hasattr(stub, "get_events") else []
    if events:
        completed.chaincode_event.CopyFrom(events[-1])
    await self.context.write(completed)


def _queue_message_success(self: Any, response: Any) -> None:
    """Replacement for ``QueueMessage.success`` that turns a peer ERROR into an exception."""
    if response.type == ccshim_pb2.ChaincodeMessage.ERROR:
        text = bytes(response.payload).decode("utf-8", errors="replace")
        self.future.set_exception(PeerError(f"peer refused {self.method}: {text}"))
        return
    self.future.set_result(response)


class _SerializedWriter:
    """Wraps the peer stream so that one write at a time is in flight (grpc.aio's rule)."""

    def __init__(self, context: Any) -> None:
        self._context = context
        self._lock = asyncio.Lock()

    async def write(self, message: Any) -> None:
        async with self._lock:
            await self._context.write(message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


_upstream_chat_with_peer = _handler_mod.Handler.chat_with_peer


async def _chat_with_peer(self: Any, stream: Any, context: Any) -> Any:
    """Replacement for ``Handler.chat_with_peer`` that hands the handler a serialised writer."""
    return await _upstream_chat_with_peer(self, stream, _SerializedWriter(context))


class _Recorder:
    """Stands in for the gRPC stream context: records what the handler writes."""

    def __init__(self) -> None:
        self.written: list[Any] = []

    async def write(self, message: Any) -> None:
        self.written.append(message)


class _EventProbeChaincode(Chaincode):  # type: ignore[misc]  # the shim ships no type information
    """A chaincode that sets one event and succeeds."""

    async def init(self, stub: Any) -> Any:
        return await self.invoke(stub)

    async def invoke(self, stub: Any) -> Any:
        stub.set_event(_PROBE_EVENT, b"probe")
        return _shim_success(b"")


def _run_private(coro: Any) -> Any:
    """Run *coro* in a throw-away event loop that is never made the thread's current loop."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


async def _probe_events() -> bool:
    handler = _handler_mod.Handler("gx-shim-probe", _EventProbeChaincode())
    recorder = _Recorder()
    handler.context = recorder
    msg = ccshim_pb2.ChaincodeMessage(
        type=ccshim_pb2.ChaincodeMessage.TRANSACTION,
        payload=cc_pb2.ChaincodeInput(args=[b"probe"]).SerializeToString(),
        txid="probe-tx",
        channel_id="probe-channel",
    )
    await handler.handle_stub_interaction(msg, "Invoke")
    completed = [m for m in recorder.written if m.type == ccshim_pb2.ChaincodeMessage.COMPLETED]
    return not (completed and completed[-1].chaincode_event.event_name == _PROBE_EVENT)


async def _probe_errors() -> bool:
    handler = _handler_mod.Handler("gx-shim-probe", _EventProbeChaincode())
    handler.context = _Recorder()
    handler.msg_queue_handler = _mqh_mod.MsgQueueHandler(handler)
    pending = asyncio.ensure_future(handler.handle_get_state("", "probe-key", "probe-channel", "probe-tx"))
    await asyncio.sleep(0)  # let the request reach the queue
    await handler.msg_queue_handler.handle_msg_response(
        ccshim_pb2.ChaincodeMessage(
            type=ccshim_pb2.ChaincodeMessage.ERROR,
            payload=b"probe failure",
            txid="probe-tx",
            channel_id="probe-channel",
        )
    )
    try:
        await asyncio.wait_for(pending, timeout=5)
    except Exception:
        return False
    return True


class StrictStream:
    """Stands in for a grpc.aio stream: counts writes started while another is still in flight."""

    def __init__(self) -> None:
        self.written: list[Any] = []
        self.overlaps = 0
        self.changed = asyncio.Event()
        self._busy = False

    async def write(self, message: Any) -> None:
        if self._busy:
            self.overlaps += 1
        self._busy = True
        try:
            await asyncio.sleep(0)  # a real write yields to the loop while the frame goes out
            self.written.append(message)
            self.changed.set()
        finally:
            self._busy = False


class _StateProbeChaincode(Chaincode):  # type: ignore[misc]  # the shim ships no type information
    """A chaincode whose transactions each read one key."""

    async def init(self, stub: Any) -> Any:
        return await self.invoke(stub)

    async def invoke(self, stub: Any) -> Any:
        await stub.get_state("probe")
        return _shim_success(b"")


async def _probe_writes() -> bool:
    msg = ccshim_pb2.ChaincodeMessage
    stream = StrictStream()
    txids = ("probe-a", "probe-b")

    def _written(kind: int) -> set[str]:
        return {m.txid for m in stream.written if m.type == kind}

    async def peer() -> Any:
        yield msg(type=msg.REGISTERED)
        yield msg(type=msg.READY)
        payload = cc_pb2.ChaincodeInput(args=[b"probe"]).SerializeToString()
        for txid in txids:  # two transactions at once, as a busy peer sends them
            yield msg(type=msg.TRANSACTION, txid=txid, channel_id="probe-channel", payload=payload)
        answered: set[str] = set()
        while len(_written(msg.COMPLETED)) < len(txids):
            await stream.changed.wait()
            stream.changed.clear()
            for txid in sorted(_written(msg.GET_STATE) - answered):
                answered.add(txid)
                yield msg(type=msg.RESPONSE, txid=txid, channel_id="probe-channel", payload=b"v")

    handler = _handler_mod.Handler("gx-shim-probe", _StateProbeChaincode())
    try:
        await asyncio.wait_for(handler.chat_with_peer(peer(), stream), timeout=5)
    except TimeoutError:
        return True
    return stream.overlaps > 0


def writes_race() -> bool:
    """Report whether concurrent transactions write to the peer stream at the same time (defect 3).

    Returns:
        True if two writes can be in flight on the one stream at once.
    """
    return bool(_run_private(_probe_writes()))


def events_dropped() -> bool:
    """Report whether the installed shim loses ``set_event()`` (defect 1).

    Returns:
        True if a transaction that sets an event completes without it.
    """
    return bool(_run_private(_probe_events()))


def errors_read_as_values() -> bool:
    """Report whether the installed shim returns a peer ERROR as a state value (defect 2).

    Returns:
        True if ``get_state`` answered with ERROR returns instead of raising.
    """
    return bool(_run_private(_probe_errors()))


def apply() -> ShimFixReport:
    """Repair the installed shim's events, peer-error handling and stream writes; safe to call again.

    Returns:
        What was found and patched.

    Raises:
        RuntimeError: A defect is still present after patching (the chaincode must not start).
    """
    previous: ShimFixReport | None = getattr(_handler_mod.Handler, _MARK, None)
    if previous is not None:
        return previous
    events_patched = errors_patched = writes_patched = False
    if events_dropped():
        _warn_unverified("events")
        _handler_mod.Handler.handle_stub_interaction = _handle_stub_interaction
        events_patched = True
    if errors_read_as_values():
        _warn_unverified("peer errors")
        _mqh_mod.QueueMessage.success = _queue_message_success
        errors_patched = True
    if writes_race():
        _warn_unverified("concurrent stream writes")
        _handler_mod.Handler.chat_with_peer = _chat_with_peer
        writes_patched = True
    if events_dropped() or errors_read_as_values() or writes_race():
        raise RuntimeError(
            f"fabric-chaincode-python {SHIM_VERSION}: the shim fix did not take; refusing to run a "
            "chaincode that would lose events, misread peer errors or break under concurrent load"
        )
    report = ShimFixReport(SHIM_VERSION, events_patched, errors_patched, writes_patched)
    setattr(_handler_mod.Handler, _MARK, report)
    _LOG.info(
        "fabric shim %s: events patched=%s, peer errors patched=%s, stream writes patched=%s",
        SHIM_VERSION,
        events_patched,
        errors_patched,
        writes_patched,
    )
    return report


def _warn_unverified(what: str) -> None:
    if SHIM_VERSION not in VERIFIED_VERSIONS:
        _LOG.warning(
            "fabric-chaincode-python %s still mishandles %s; patching a version this fix was not "
            "written against (verified: %s)",
            SHIM_VERSION,
            what,
            ", ".join(sorted(VERIFIED_VERSIONS)),
        )
