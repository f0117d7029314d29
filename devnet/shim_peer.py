"""The peer side of the chaincode shim protocol: dials a chaincode server (CCaaS) and executes transactions on it.

Flow per connection (Fabric core/chaincode/handler.go, extcc): the peer opens ``protos.Chaincode/Connect``;
the chaincode sends REGISTER, the peer answers REGISTERED then READY. Each transaction is a TRANSACTION
(or INIT) message; while it runs, the chaincode sends state requests which the peer serves from the
transaction's simulator, until COMPLETED or ERROR ends it. The connection is re-dialled whenever it drops,
so a restarted chaincode is picked up without restarting the peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Callable
from typing import Any

from google.protobuf import timestamp_pb2

from devnet import h2_stream
from devnet._protos import (
    chaincode_event_pb2,
    chaincode_pb2,
    chaincode_shim_pb2,
    kv_query_result_pb2,
    proposal_pb2,
    proposal_response_pb2,
)
from devnet.ledger import HistoryEntry, LedgerStore
from devnet.simulator import RangeIterator, SimulationError, TxSimulator

_LOG = logging.getLogger(__name__)
_MSG = chaincode_shim_pb2.ChaincodeMessage
# Fabric's chaincode.maxResultLimit... the peer hands out query results in batches of 100.
MAX_RESULT_LIMIT = 100
_BACKOFF_START = 0.05
_BACKOFF_MAX = 1.0
_CONNECT_PATH = "/protos.Chaincode/Connect"
_REGISTER_TIMEOUT = 10.0

_UNSUPPORTED = {
    _MSG.GET_QUERY_RESULT: "ExecuteQuery not supported for leveldb",
    _MSG.GET_STATE_METADATA: "state-based endorsement (key metadata) is not supported by devnet",
    _MSG.PUT_STATE_METADATA: "state-based endorsement (key metadata) is not supported by devnet",
    _MSG.GET_PRIVATE_DATA_HASH: "private data is not supported by devnet: no collection config is defined",
    _MSG.PURGE_PRIVATE_DATA: "private data is not supported by devnet: no collection config is defined",
    _MSG.INVOKE_CHAINCODE: "chaincode-to-chaincode invocation is not supported by devnet",
}


class ExecutionError(Exception):
    """The chaincode could not execute the transaction (not connected, stream lost, timeout, shim ERROR)."""


@dataclasses.dataclass
class ExecutionResult:
    """What the chaincode returned: its Response and the event it set (with Fabric's overwrites applied)."""

    response: proposal_response_pb2.Response
    event: chaincode_event_pb2.ChaincodeEvent | None


@dataclasses.dataclass
class _TxContext:
    namespace: str
    simulator: TxSimulator
    done: asyncio.Future[chaincode_shim_pb2.ChaincodeMessage]
    queries: dict[str, Any] = dataclasses.field(default_factory=dict)


class ChaincodeConnection:
    """A chaincode reached as a service, kept connected in the background.

    Args:
        name: The chaincode name on the channel (the namespace of its state).
        address: host:port of its CCaaS server.
        store: The ledger its history queries read.
        execute_timeout: Seconds a transaction may run (Fabric's chaincode.executetimeout is 30 s).
        on_change: Called with True/False whenever the connection comes up or goes down.
    """

    def __init__(
        self,
        name: str,
        address: str,
        store: LedgerStore,
        *,
        execute_timeout: float = 30.0,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self.name = name
        self.address = address
        self._store = store
        self._timeout = execute_timeout
        self._on_change = on_change
        self._outgoing: asyncio.Queue[chaincode_shim_pb2.ChaincodeMessage] = asyncio.Queue()
        self._stream: h2_stream.GrpcStream | None = None
        self._contexts: dict[tuple[str, str], _TxContext] = {}
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._registered_as = ""

    @property
    def connected(self) -> bool:
        """True while the handshake is done and the stream is open."""
        return self._ready.is_set()

    def start(self) -> None:
        """Start the background dial/serve loop."""
        self._task = asyncio.create_task(self._run(), name=f"chaincode-{self.name}")

    async def close(self) -> None:
        """Stop the loop and fail whatever is in flight."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._fail_all("chaincode connection closed")

    async def wait_connected(self, limit: float) -> bool:
        """Wait up to ``limit`` seconds for the chaincode; True if it is connected."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit):
                await self._ready.wait()
        return self._ready.is_set()

    # -- connection loop ----------------------------------------------------------------------------
    async def _run(self) -> None:
        backoff = _BACKOFF_START
        while True:
            try:
                await self._serve()
                backoff = _BACKOFF_START
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._ready.is_set():
                    _LOG.warning("chaincode %s at %s disconnected: %s", self.name, self.address, exc)
            self._set_ready(False)
            self._fail_all("chaincode stream terminated")
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _BACKOFF_MAX)

    async def _serve(self) -> None:
        host, port = h2_stream.split_address(self.address)
        self._outgoing = asyncio.Queue()
        registering: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

        def received(data: bytes) -> None:
            if self._stream is not None:
                self._dispatch(_MSG.FromString(data))
            elif not registering.done():
                registering.set_result(data)

        async with asyncio.timeout(2.0):
            stream = await h2_stream.open_stream(host, port, _CONNECT_PATH, received)
        try:
            # A server that accepts the connection but never registers must not hold the dial loop forever.
            await asyncio.wait(
                (registering, stream.ended), timeout=_REGISTER_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
            )
            first = _MSG.FromString(registering.result()) if registering.done() else None
            if first is None or first.type != _MSG.REGISTER:
                raise ExecutionError(
                    f"expected REGISTER from chaincode, got {first if first is not None else stream.ended.result()!r}"
                )
            self._registered_as = chaincode_pb2.ChaincodeID.FromString(first.payload).name
            stream.send(_MSG(type=_MSG.REGISTERED).SerializeToString())
            stream.send(_MSG(type=_MSG.READY, payload=_BATCHING).SerializeToString())
            _LOG.info("chaincode %s registered as %s from %s", self.name, self._registered_as, self.address)
            self._stream = stream
            self._set_ready(True)
            reason = await asyncio.shield(stream.ended)
        finally:
            self._stream = None
            stream.close()
        _LOG.warning("chaincode %s stream ended: %s", self.name, reason)

    def _send(self, msg: chaincode_shim_pb2.ChaincodeMessage) -> None:
        # Replies go straight onto the connection: no writer task or queue between a request and its answer.
        # Without a connection (unit tests drive _dispatch directly) they wait in _outgoing.
        stream = self._stream
        if stream is not None:
            stream.send(msg.SerializeToString())
        else:
            self._outgoing.put_nowait(msg)

    def _set_ready(self, ready: bool) -> None:
        if ready == self._ready.is_set():
            return
        if ready:
            self._ready.set()
        else:
            self._ready.clear()
        if self._on_change is not None:
            self._on_change(ready)

    def _fail_all(self, reason: str) -> None:
        for ctx in self._contexts.values():
            if not ctx.done.done():
                ctx.done.set_exception(ExecutionError(reason))
        self._contexts.clear()

    # -- transactions -------------------------------------------------------------------------------
    async def execute(
        self,
        *,
        txid: str,
        channel_id: str,
        signed_proposal: proposal_pb2.SignedProposal,
        cc_input: chaincode_pb2.ChaincodeInput,
        simulator: TxSimulator,
    ) -> ExecutionResult:
        """Run one transaction on the chaincode, serving its state requests from ``simulator``.

        Raises:
            ExecutionError: when the chaincode is unreachable, the stream drops, it times out, or answers ERROR.
        """
        if not self._ready.is_set() and not await self.wait_connected(min(self._timeout, 10.0)):
            raise ExecutionError(
                f"could not launch chaincode {self.name}: connection to {self.address} failed"
            )
        key = (channel_id, txid)
        if key in self._contexts:
            # Fabric's TransactionContexts.Create refuses a second concurrent execution of one txid.
            raise ExecutionError(f"txid: {txid}({channel_id}) exists")
        done: asyncio.Future[chaincode_shim_pb2.ChaincodeMessage] = asyncio.get_running_loop().create_future()
        self._contexts[key] = _TxContext(namespace=self.name, simulator=simulator, done=done)
        msg_type = _MSG.INIT if cc_input.is_init else _MSG.TRANSACTION
        self._send(
            _MSG(
                type=msg_type,
                payload=cc_input.SerializeToString(),
                txid=txid,
                channel_id=channel_id,
                proposal=signed_proposal,
            )
        )
        try:
            async with asyncio.timeout(self._timeout):
                reply = await done
        except TimeoutError as exc:
            raise ExecutionError(f"timeout expired while executing transaction {txid}") from exc
        finally:
            self._contexts.pop(key, None)
        if reply.type == _MSG.ERROR:
            raise ExecutionError(
                f"transaction returned with failure: {bytes(reply.payload).decode(errors='replace')}"
            )
        response = proposal_response_pb2.Response.FromString(reply.payload)
        event = None
        if reply.HasField("chaincode_event"):
            event = chaincode_event_pb2.ChaincodeEvent()
            event.CopyFrom(reply.chaincode_event)
            # The peer stamps the event with the chaincode name and txid (processChaincodeExecutionResult).
            event.chaincode_id = self.name
            event.tx_id = txid
        return ExecutionResult(response=response, event=event)

    def _dispatch(self, msg: chaincode_shim_pb2.ChaincodeMessage) -> None:
        if _LOG.isEnabledFor(logging.DEBUG):
            _LOG.debug("chaincode %s sent %s for tx %s", self.name, _MSG.Type.Name(msg.type), msg.txid[:12])
        if msg.type == _MSG.KEEPALIVE:
            return
        ctx = self._contexts.get((msg.channel_id, msg.txid))
        if msg.type in (_MSG.COMPLETED, _MSG.ERROR):
            if ctx is not None and not ctx.done.done():
                ctx.done.set_result(msg)
            return
        if ctx is None:
            self._reply_error(msg, f"[{msg.txid[:8]}] Failed to get transaction context")
            return
        try:
            payload = self._handle(ctx, msg)
        except (SimulationError, ValueError, KeyError) as exc:
            self._reply_error(msg, str(exc))
            return
        except Exception as exc:
            _LOG.exception("shim request %s failed", _MSG.Type.Name(msg.type))
            self._reply_error(msg, f"{_MSG.Type.Name(msg.type)} failed: {exc}")
            return
        self._send(_MSG(type=_MSG.RESPONSE, payload=payload, txid=msg.txid, channel_id=msg.channel_id))

    def _reply_error(self, msg: chaincode_shim_pb2.ChaincodeMessage, text: str) -> None:
        self._send(_MSG(type=_MSG.ERROR, payload=text.encode(), txid=msg.txid, channel_id=msg.channel_id))

    def _handle(self, ctx: _TxContext, msg: chaincode_shim_pb2.ChaincodeMessage) -> bytes:
        """Serve one state request; return the RESPONSE payload or raise to answer ERROR."""
        t = msg.type
        sim, ns = ctx.simulator, ctx.namespace
        if t == _MSG.GET_STATE:
            req = chaincode_shim_pb2.GetState.FromString(msg.payload)
            _no_collection(req.collection, ns)
            return sim.get_state(ns, req.key) or b""
        if t == _MSG.PUT_STATE:
            put = chaincode_shim_pb2.PutState.FromString(msg.payload)
            _no_collection(put.collection, ns)
            sim.put_state(ns, put.key, put.value)
            return b""
        if t == _MSG.DEL_STATE:
            dele = chaincode_shim_pb2.DelState.FromString(msg.payload)
            _no_collection(dele.collection, ns)
            sim.delete_state(ns, dele.key)
            return b""
        if t == _MSG.GET_STATE_BY_RANGE:
            rng = chaincode_shim_pb2.GetStateByRange.FromString(msg.payload)
            _no_collection(rng.collection, ns)
            page_size = None
            start = rng.startKey
            if rng.metadata:
                meta = chaincode_shim_pb2.QueryMetadata.FromString(rng.metadata)
                if meta.pageSize > 0:
                    page_size = meta.pageSize
                    start = meta.bookmark or start
            query_id = uuid.uuid4().hex
            ctx.queries[query_id] = sim.range(ns, start, rng.endKey, page_size)
            return self._next_batch(ctx, query_id)
        if t == _MSG.QUERY_STATE_NEXT:
            return self._next_batch(ctx, chaincode_shim_pb2.QueryStateNext.FromString(msg.payload).id)
        if t == _MSG.QUERY_STATE_CLOSE:
            query_id = chaincode_shim_pb2.QueryStateClose.FromString(msg.payload).id
            ctx.queries.pop(query_id, None)
            closed: bytes = chaincode_shim_pb2.QueryResponse(has_more=False, id=query_id).SerializeToString()
            return closed
        if t == _MSG.GET_HISTORY_FOR_KEY:
            key = chaincode_shim_pb2.GetHistoryForKey.FromString(msg.payload).key
            query_id = uuid.uuid4().hex
            ctx.queries[query_id] = iter(self._store.history(ns, key))
            return self._next_batch(ctx, query_id)
        if t in (_MSG.WRITE_BATCH_STATE, _MSG.GET_STATE_MULTIPLE):
            return _handle_batch(sim, ns, msg)
        if t in _UNSUPPORTED:
            raise SimulationError(_UNSUPPORTED[t])
        raise SimulationError(
            f"[{msg.txid[:8]}] Fabric side handler cannot handle message ({_MSG.Type.Name(t)})"
        )

    def _next_batch(self, ctx: _TxContext, query_id: str) -> bytes:
        source = ctx.queries.get(query_id)
        if source is None:
            raise SimulationError(f"query iterator not found: {query_id}")
        resp = chaincode_shim_pb2.QueryResponse(id=query_id)
        has_more = True
        for _ in range(MAX_RESULT_LIMIT):
            encoded = self._next_result(ctx.namespace, source)
            if encoded is None:
                has_more = False
                break
            resp.results.add(resultBytes=encoded)
        resp.has_more = has_more
        if isinstance(source, RangeIterator) and source.paginated:
            resp.metadata = chaincode_shim_pb2.QueryResponseMetadata(
                fetched_records_count=len(resp.results),
                bookmark=source.next_key or "",
            ).SerializeToString()
        if not has_more:
            ctx.queries.pop(query_id, None)
        batch: bytes = resp.SerializeToString()
        return batch

    @staticmethod
    def _next_result(namespace: str, source: Any) -> bytes | None:
        """The next serialized KV (range) or KeyModification (history), or None at the end."""
        if isinstance(source, RangeIterator):
            row = source.next()
            if row is None:
                return None
            kv: bytes = kv_query_result_pb2.KV(
                namespace=namespace, key=row[0], value=row[1]
            ).SerializeToString()
            return kv
        entry: HistoryEntry | None = next(source, None)
        if entry is None:
            return None
        modification: bytes = kv_query_result_pb2.KeyModification(
            tx_id=entry.txid,
            value=entry.value,
            is_delete=entry.is_delete,
            timestamp=timestamp_pb2.Timestamp(seconds=entry.seconds, nanos=entry.nanos),
        ).SerializeToString()
        return modification


def _no_collection(collection: str, namespace: str) -> None:
    if collection:
        raise SimulationError(
            f"collection config for collection [{collection}] not defined for chaincode [{namespace}]: "
            "devnet has no private data collections"
        )


# --- Fabric 3.1 batched state calls (added by the chaincode work, issue 12) -------------------------
# READY offers them as Fabric 3.1's core.yaml chaincode.runtimeParams do by default (useWriteBatch,
# maxSizeWriteBatch 1000, useGetMultipleKeys, maxSizeGetMultipleKeys 1000); a shim that ignores the
# payload (fabric-chaincode-python 2.5.4 as shipped, Go before 2.2) keeps sending one key per message.
_BATCHING = chaincode_pb2.ChaincodeAdditionalParams(
    use_write_batch=True,
    max_size_write_batch=1000,
    use_get_multiple_keys=True,
    max_size_get_multiple_keys=1000,
).SerializeToString()
_WRITE_RECORD = chaincode_shim_pb2.WriteRecord


def _handle_batch(sim: TxSimulator, ns: str, msg: chaincode_shim_pb2.ChaincodeMessage) -> bytes:
    """WRITE_BATCH_STATE: each record as its own PutState/DelState (Fabric's HandleWriteBatch);
    GET_STATE_MULTIPLE: each key as its own GetState, the values in key order (empty if absent)."""
    if msg.type == _MSG.GET_STATE_MULTIPLE:
        req = chaincode_shim_pb2.GetStateMultiple.FromString(msg.payload)
        _no_collection(req.collection, ns)
        values = [sim.get_state(ns, key) or b"" for key in req.keys]
        result: bytes = chaincode_shim_pb2.GetStateMultipleResult(values=values).SerializeToString()
        return result
    for rec in chaincode_shim_pb2.WriteBatchState.FromString(msg.payload).rec:
        _no_collection(rec.collection, ns)
        if rec.type == _WRITE_RECORD.PUT_STATE:
            sim.put_state(ns, rec.key, rec.value)
        elif rec.type == _WRITE_RECORD.DEL_STATE:
            sim.delete_state(ns, rec.key)
        else:
            raise SimulationError(
                f"WRITE_BATCH_STATE record type {_WRITE_RECORD.Type.Name(rec.type)} is not supported by devnet"
            )
    return b""
