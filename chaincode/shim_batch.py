"""Fabric 3.1's batched state calls (WRITE_BATCH_STATE, GET_STATE_MULTIPLE), used when the peer offers them.

Every state call is a request and an answer on the chaincode stream, and on the devnet each message
costs the chaincode process about 0.08 ms of CPU in grpc and the shim. Fabric 3.1 added two messages
that carry many keys at once, and a peer that accepts them says so in the payload of its READY
message (``ChaincodeAdditionalParams``: ``use_write_batch``/``max_size_write_batch``,
``use_get_multiple_keys``/``max_size_get_multiple_keys``). The Go shim then sends a transaction's
writes as one ``WRITE_BATCH_STATE`` when it ends, and ``GetMultipleStates`` as ``GET_STATE_MULTIPLE``.
fabric-chaincode-python 2.5.4 ignores READY's payload; :func:`apply` makes the handler keep it and
gives the stub the two calls:

- ``await stub.write_batch([(key, value or None for a delete), ...])``: True once sent in batches of
  at most the peer's size; False (nothing sent) when the peer did not offer batching, so the caller
  writes key by key as before.
- ``await stub.get_multiple_states([key, ...])``: the values (None for an absent key) in key order,
  or None when the peer did not offer it.

A peer without the feature (Fabric 2.x, or READY without payload) sees exactly what it saw before.
As in the Go shim, a size below 100 is raised to 100 (``defaultMaxSize*``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import logging
from typing import Any

from fabric_chaincode_python.fabric_shim import handler as _handler_mod
from fabric_chaincode_python.fabric_shim import msg_queue_handler as _mqh_mod
from fabric_chaincode_python.fabric_shim import stub as _stub_mod

__all__ = ["Batching", "apply", "batching_of"]

cc_pb2: Any = importlib.import_module("fabric_protos.peer.chaincode_pb2")
ccshim_pb2: Any = importlib.import_module("fabric_protos.peer.chaincode_shim_pb2")
_MSG = ccshim_pb2.ChaincodeMessage
_LOG = logging.getLogger(__name__)
_MARK = "_gx_shim_batch"
_ATTR = "_gx_batching"
_MIN_SIZE = 100  # the Go shim's defaultMaxSizeWriteBatch / defaultMaxSizeGetMultipleKeys


@dataclasses.dataclass(frozen=True)
class Batching:
    """What the peer offered in READY: the largest batch of each kind (0: not offered)."""

    write_batch: int = 0
    get_multiple: int = 0


def batching_of(payload: bytes) -> Batching:
    """The batching a READY payload offers (none for an empty or unreadable payload, as in Go)."""
    if not payload:
        return Batching()
    try:
        params = cc_pb2.ChaincodeAdditionalParams.FromString(payload)
    except Exception:  # the Go shim ignores a payload it cannot read
        return Batching()
    return Batching(
        write_batch=max(params.max_size_write_batch, _MIN_SIZE) if params.use_write_batch else 0,
        get_multiple=max(params.max_size_get_multiple_keys, _MIN_SIZE) if params.use_get_multiple_keys else 0,
    )


_upstream_established = _handler_mod.Handler.handle_message_established


async def _handle_message_established(self: Any, msg: Any) -> None:
    """Upstream's READY handling, keeping what the peer offered in the payload."""
    if msg.type == _MSG.READY:
        offered = batching_of(bytes(msg.payload))
        setattr(self, _ATTR, offered)
        _LOG.info(
            "peer offers batched state calls: write batch %d, get multiple %d (0: not offered)",
            offered.write_batch,
            offered.get_multiple,
        )
    await _upstream_established(self, msg)


async def _ask(stub: Any, kind: int, payload: bytes, method: str) -> Any:
    """Send one request for *stub*'s transaction and wait for its answer (the shim's own queue)."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    msg = _MSG(type=kind, payload=payload, txid=stub.tx_id, channel_id=stub.channel_id)
    await stub.client.msg_queue_handler.queue_msg(_mqh_mod.QueueMessage(msg, method, future))
    return await future


def _offered(stub: Any) -> Batching:
    found: Batching = getattr(stub.client, _ATTR, None) or Batching()
    return found


async def _write_batch(self: Any, writes: list[tuple[str, bytes | None]]) -> bool:
    size = _offered(self).write_batch
    if not size:
        return False
    for start in range(0, len(writes), size):
        batch = ccshim_pb2.WriteBatchState()
        for key, value in writes[start : start + size]:
            if value is None:
                batch.rec.add(key=key, type=ccshim_pb2.WriteRecord.DEL_STATE)
            else:
                batch.rec.add(key=key, value=value, type=ccshim_pb2.WriteRecord.PUT_STATE)
        await _ask(self, _MSG.WRITE_BATCH_STATE, batch.SerializeToString(), "WriteBatchState")
    return True


async def _get_multiple_states(self: Any, keys: list[str]) -> list[bytes | None] | None:
    size = _offered(self).get_multiple
    if not size:
        return None
    values: list[bytes | None] = []
    for start in range(0, len(keys), size):
        request = ccshim_pb2.GetStateMultiple(keys=keys[start : start + size])
        answer = await _ask(self, _MSG.GET_STATE_MULTIPLE, request.SerializeToString(), "GetStateMultiple")
        result = ccshim_pb2.GetStateMultipleResult.FromString(answer.payload)
        if len(result.values) != len(request.keys):
            raise RuntimeError(f"GET_STATE_MULTIPLE: {len(request.keys)} keys, {len(result.values)} values")
        values.extend(bytes(v) if v else None for v in result.values)
    return values


def apply() -> None:
    """Let the handler keep READY's batching offer and give the stub the batched calls; idempotent."""
    if getattr(_handler_mod.Handler, _MARK, False):
        return
    _handler_mod.Handler.handle_message_established = _handle_message_established
    _stub_mod.ChaincodeStub.write_batch = _write_batch
    _stub_mod.ChaincodeStub.get_multiple_states = _get_multiple_states
    setattr(_handler_mod.Handler, _MARK, True)
