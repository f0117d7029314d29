"""Chaincode event streams with Fabric's checkpoint resume rules and automatic reconnection."""

from __future__ import annotations

import asyncio
import collections
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc

from fabric_client.errors import ChaincodeEventsError
from fabric_client.retry import FailureKind, RetryPolicy, classify

if TYPE_CHECKING:
    from fabric_client.gateway import Gateway

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChaincodeEvent:
    """One chaincode event from a VALID transaction.

    Attributes:
        block_number: the block holding the transaction.
        tx_id: the transaction that emitted it.
        chaincode_name: the chaincode.
        event_name: the name passed to ``SetEvent``.
        payload: the event payload bytes.
    """

    block_number: int
    tx_id: str
    chaincode_name: str
    event_name: str
    payload: bytes


@dataclass(frozen=True)
class Checkpoint:
    """Where to resume, with the same meaning as the official clients' checkpointers.

    Attributes:
        block_number: the block to (re)start reading at.
        tx_id: the last transaction already processed in that block; its event and every earlier one
            in the block are skipped. None resumes at the start of ``block_number``.
    """

    block_number: int
    tx_id: str | None = None

    @classmethod
    def after_event(cls, event: ChaincodeEvent) -> Checkpoint:
        """Resume right after ``event`` (other events later in its block still come)."""
        return cls(event.block_number, event.tx_id)

    @classmethod
    def after_block(cls, block_number: int) -> Checkpoint:
        """Resume at the block after ``block_number``."""
        return cls(block_number + 1, None)


class ChaincodeEventStream:
    """An async iterator of :class:`ChaincodeEvent`, in ledger order.

    The server streams one response per block that has matching events, and never ends on its own.
    When ``reconnect`` is set, a transient failure (peer restart, network loss) re-opens the stream
    from the last event yielded, so nothing is lost or repeated; without an event yet, it re-opens
    from the original start. (With no start block, the original start is "next commit", so blocks
    committed during an outage before the first event would be missed: give a start block or a
    checkpoint when that matters.)

    Use ``async with`` or call :meth:`close` to cancel the stream.
    """

    def __init__(
        self,
        gateway: Gateway,
        channel_id: str,
        chaincode_name: str,
        *,
        start_block: int | None,
        after: Checkpoint | None,
        reconnect: RetryPolicy | None,
    ) -> None:
        self._gateway = gateway
        self._channel_id = channel_id
        self._chaincode = chaincode_name
        self._start_block = start_block
        self._checkpoint = after
        self._reconnect = reconnect
        self._call: Any = None
        self._buffer: collections.deque[ChaincodeEvent] = collections.deque()
        self._closed = False
        self._failures = 0

    @property
    def checkpoint(self) -> Checkpoint | None:
        """Where a new stream should resume to continue after the last event yielded."""
        return self._checkpoint

    def __aiter__(self) -> ChaincodeEventStream:
        return self

    async def __aenter__(self) -> ChaincodeEventStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Cancel the stream; iteration then ends."""
        self._closed = True
        if self._call is not None:
            self._call.cancel()
            self._call = None

    async def __anext__(self) -> ChaincodeEvent:
        while True:
            if self._buffer:
                event = self._buffer.popleft()
                self._checkpoint = Checkpoint.after_event(event)
                return event
            if self._closed:
                raise StopAsyncIteration
            try:
                if self._call is None:
                    self._call = self._open()
                response = await self._call.read()
            except asyncio.CancelledError:
                # grpc.aio answers a pending read of a call cancelled locally (our close(), from
                # another task) with CancelledError, not EOF or an AioRpcError, both before the
                # first response (while it waits for the peer's initial metadata) and after. That
                # is the end the caller asked for. A cancellation of the reading task itself must
                # still propagate.
                task = asyncio.current_task()
                if self._closed and (task is None or not task.cancelling()):
                    raise StopAsyncIteration from None
                raise
            except grpc.aio.AioRpcError as rpc_error:
                if self._closed:
                    raise StopAsyncIteration from None
                self._call = None
                error = ChaincodeEventsError.from_rpc_error(rpc_error)
                self._gateway._stream_failed(rpc_error.code())
                await self._maybe_reconnect(error)
                continue
            except ChaincodeEventsError as error:  # the breaker refused to open the stream
                self._call = None
                await self._maybe_reconnect(error)
                continue
            if response is grpc.aio.EOF:
                # A peer shutting down can end the stream cleanly; it never ends by design.
                self._call = None
                await self._maybe_reconnect(
                    ChaincodeEventsError(grpc.StatusCode.UNAVAILABLE, "event stream ended by the peer")
                )
                continue
            self._failures = 0
            self._gateway._stream_ok(self._chaincode, len(response.events))
            for ev in response.events:
                self._buffer.append(
                    ChaincodeEvent(
                        block_number=response.block_number,
                        tx_id=ev.tx_id,
                        chaincode_name=ev.chaincode_id,
                        event_name=ev.event_name,
                        payload=ev.payload,
                    )
                )

    def _open(self) -> Any:
        start: int | None
        after_tx: str | None
        if self._checkpoint is not None:
            start, after_tx = self._checkpoint.block_number, self._checkpoint.tx_id
        else:
            start, after_tx = self._start_block, None
        return self._gateway._open_events_call(self._channel_id, self._chaincode, start, after_tx)

    async def _maybe_reconnect(self, error: ChaincodeEventsError) -> None:
        self._failures += 1
        policy = self._reconnect
        if policy is None or classify(error) is not FailureKind.TRANSIENT:
            self._closed = True
            raise error
        if self._failures >= policy.max_attempts:
            self._closed = True
            raise error
        delay = max(policy.backoff(self._failures), self._gateway.breaker.retry_after)
        _log.warning(
            "chaincode event stream for %s failed (%s), reconnecting in %.3fs from %s",
            self._chaincode,
            error,
            delay,
            self._checkpoint,
        )
        await asyncio.sleep(delay)
