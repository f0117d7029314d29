"""The projection loop: hold the lock, stream events from the checkpoint, apply each transaction atomically."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from projector import batch, lock, notifications, store
from projector.decode import PoisonEventError, command_type_name, decode, event_time
from projector.handlers import HANDLERS, TxContext
from projector.metrics import ProjectorMetrics
from services.common import tracing
from services.common.logging import trace_var

_LOG = logging.getLogger(__name__)


class RestartStream(Exception):
    """The checkpoint changed under us (a rebuild): re-open the stream from the stored checkpoint."""


class ProjectionHalted(Exception):
    """A poison event stopped the projection; it is recorded in ledger.poison_events."""


# Errors that say "the database connection is gone", not "this event is bad": the event is
# retried after reconnecting rather than recorded as poison.
_CONNECTION_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, ConnectionError, OSError)

# `stream_factory(checkpoint)` opens a chaincode event stream from that checkpoint (see
# fabric_client Network.chaincode_events): start at block 0 without one, else after it.
StreamFactory = Callable[[store.Checkpoint], Any]

# What the stream reader queues after the last event.
_END = object()
# Turns of the event loop a batch gives the reader before it goes without more: reading one
# response the stream already holds takes the reader one or two.
_READER_TURNS = 3


async def apply_event(
    conn: AsyncConnection,
    name: str,
    generation: int,
    block_number: int,
    tx_id: str,
    event_name: str,
    payload: bytes,
    metrics: ProjectorMetrics | None = None,
) -> bool:
    """Apply one chaincode event and move the checkpoint, in ONE transaction.

    Returns:
        True when the transaction was applied now; False when it had been applied before
        (the checkpoint still moves, nothing else changes).

    Raises:
        RestartStream: a rebuild reset the checkpoint since this stream was opened.
        PoisonEventError: the event cannot be applied; nothing was written.
    """
    message = decode(event_name, payload)
    when = event_time(message)
    async with conn.begin():
        # Locking the checkpoint row serialises this transaction with a rebuild's reset.
        if await store.lock_generation(conn, name) != generation:
            raise RestartStream()
        applied = await store.mark_projected(
            conn,
            tx_id,
            block_number,
            len(message.events),
            message.request_id or None,
            command_type_name(message) or None,
            when,
        )
        if applied:
            # The trace of the request whose command became this transaction, so its lines here
            # join that request's lines in the services and the outbox.
            span = tracing.start_span(
                "projector.apply",
                await store.command_traceparent(conn, tx_id),
                kind="consumer",
                **{"gx.tx_id": tx_id},
            )
            token = trace_var.set(span.trace)
            error: BaseException | None = None
            try:
                _LOG.info(
                    "applying transaction %s (block %d, %s, %d events)",
                    tx_id,
                    block_number,
                    command_type_name(message) or "no command",
                    len(message.events),
                )
                await _apply_events(conn, tx_id, block_number, when, message, metrics)
                # The users this transaction credited get their mail, recorded in this same
                # transaction (projector/notifications.py: never twice, silent on rebuilds).
                await notifications.record_money_notifications(conn, tx_id, when, message)
            except BaseException as exc:
                error = exc
                raise
            finally:
                trace_var.reset(token)
                span.end(error)
        await store.save_checkpoint(conn, name, block_number, tx_id, 1, when)
    if metrics is not None:
        metrics.transactions.labels(
            "replayed" if message.replayed else "applied" if applied else "duplicate"
        ).inc()
        if when is not None and applied:
            metrics.event_delay.observe(max(0.0, (datetime.now(UTC) - when).total_seconds()))
    return applied


class Poisoned(Exception):
    """`apply_events` stopped at a poison event; the events before it are applied.

    Attributes:
        event: the stream event that cannot be applied.
        error: why.
    """

    def __init__(self, event: batch.ChaincodeEvent, error: PoisonEventError) -> None:
        super().__init__(str(error))
        self.event = event
        self.error = error


async def apply_events(
    conn: AsyncConnection,
    name: str,
    generation: int,
    events: Sequence[batch.ChaincodeEvent],
    metrics: ProjectorMetrics | None = None,
) -> None:
    """Apply consecutive stream events: as one batch (projector/batch.py), else one by one.

    The batch is one transaction with the checkpoint; when it fails (nothing of it written),
    the same events are applied with `apply_event`, each in its own transaction, which
    attributes a poison event to its transaction and keeps everything before it, as always.

    Raises:
        RestartStream: a rebuild reset the checkpoint since this stream was opened.
        Poisoned: an event cannot be applied (those before it are).
    """
    # Also a single transaction goes as a batch: three round trips instead of a dozen, which is
    # what lets a live projection keep up (each block's transactions arrive as one batch).
    try:
        if not await batch.apply_batch(conn, name, generation, events, metrics):
            raise RestartStream()
        return
    except batch.BatchFailed as failure:
        if metrics is not None:
            metrics.batch_fallbacks.inc()
        _LOG.warning("a batch of %d transactions failed (%s); applying them one by one", len(events), failure)
    for event in events:
        try:
            await apply_event(
                conn,
                name,
                generation,
                event.block_number,
                event.tx_id,
                event.event_name,
                event.payload,
                metrics,
            )
        except PoisonEventError as error:
            raise Poisoned(event, error) from error


async def _apply_events(
    conn: AsyncConnection,
    tx_id: str,
    block_number: int,
    when: Any,
    message: Any,
    metrics: ProjectorMetrics | None,
) -> None:
    ctx = TxContext(conn, tx_id, block_number, when, message.request_id, command_type_name(message))
    for index, event in enumerate(message.events):
        kind = event.WhichOneof("event")
        try:
            await HANDLERS[kind](ctx, index, getattr(event, kind))
        except _CONNECTION_ERRORS:
            raise
        except Exception as error:
            raise PoisonEventError(f"{kind}: {error}", index) from error
        if metrics is not None:
            metrics.domain_events.labels(kind).inc()


class Projector:
    """One projection (channel, chaincode): active while it holds the advisory lock, else a standby.

    Use `await projector.run()`; `shutdown()` stops it. `run()` raises ProjectionHalted after
    a poison event (the process should exit non-zero: loudly, not silently skipping).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        name: str,
        lock_key: int,
        stream_factory: StreamFactory,
        metrics: ProjectorMetrics,
        *,
        standby_retry: float = 1.0,
        control_interval: float = 1.0,
        batch_max: int = 500,
    ) -> None:
        self._engine = engine
        self._name = name
        self._lock_key = lock_key
        self._open_stream = stream_factory
        self._metrics = metrics
        self._standby_retry = standby_retry
        self._control_interval = control_interval
        self._batch_max = batch_max
        self._stopping = asyncio.Event()
        self._stream: Any = None
        self.active = False
        self.streaming = False
        self.halted = False

    async def shutdown(self) -> None:
        """Stop after the transaction in progress (idempotent)."""
        self._stopping.set()
        await self._close_stream()

    async def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                await stream.close()

    async def run(self) -> None:
        """Project until shutdown; survives database restarts by re-taking the lock."""
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                await self._run_once()
                backoff = 0.5
            except ProjectionHalted:
                raise
            except _CONNECTION_ERRORS as error:
                _LOG.warning("projector lost its database connection (%s); retrying in %.1fs", error, backoff)
                self.active = self.streaming = False
                self._metrics.active.set(0)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def _run_once(self) -> None:
        async with self._engine.connect() as conn:
            acquired = asyncio.create_task(lock.acquire(conn, self._lock_key, self._standby_retry))
            stop = asyncio.create_task(self._stopping.wait())
            await asyncio.wait({acquired, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not acquired.done():
                acquired.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await acquired
                return
            stop.cancel()
            acquired.result()
            self.active = True
            self._metrics.active.set(1)
            try:
                while not self._stopping.is_set():
                    await self._project(conn)
            finally:
                self.active = self.streaming = False
                self._metrics.active.set(0)
                await lock.release(conn, self._lock_key)

    async def _project(self, conn: AsyncConnection) -> None:
        async with conn.begin():
            checkpoint = await store.load_checkpoint(conn, self._name)
        _LOG.info(
            "projecting %s from block %s after tx %s (generation %d)",
            self._name,
            checkpoint.block_number,
            checkpoint.tx_id,
            checkpoint.generation,
        )
        self._stream = self._open_stream(checkpoint)
        watcher = asyncio.create_task(self._watch_generation(checkpoint.generation))
        self.streaming = True
        try:
            await self._consume(conn, checkpoint)
        finally:
            self.streaming = False
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await self._close_stream()

    async def _consume(self, conn: AsyncConnection, checkpoint: store.Checkpoint) -> None:
        if self._stream is None:
            return
        # A reader task keeps the stream flowing while a batch is written; each batch takes what
        # has arrived (at most batch_max), so a replay goes in large batches and a live chain in
        # whatever one block brought, without waiting for more.
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=2 * self._batch_max)
        reader = asyncio.create_task(self._read(self._stream, queue))
        try:
            while not self._stopping.is_set():
                events = await self._next_batch(queue)
                if not events:
                    return
                started = time.perf_counter()
                try:
                    await apply_events(conn, self._name, checkpoint.generation, events, self._metrics)
                except RestartStream:
                    _LOG.info("checkpoint of %s was reset (rebuild); restarting the stream", self._name)
                    return
                except Poisoned as poisoned:
                    await self._halt(conn, poisoned.event, poisoned.error)
                # The histogram stays per transaction: a batch's time is shared by its transactions.
                share = (time.perf_counter() - started) / len(events)
                for _ in events:
                    self._metrics.apply_seconds.observe(share)
                self._metrics.batch_size.observe(len(events))
                self._metrics.checkpoint_block.set(events[-1].block_number)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _read(self, stream: Any, queue: asyncio.Queue[Any]) -> None:
        """Move stream events, decoded, to `queue`; then `_END`, or the exception that ended the stream."""
        try:
            async for event in stream:
                # Decoding here overlaps it with the database's work on the batch being written.
                await queue.put(batch.receive(event))
        except Exception as error:
            await queue.put(error)
            return
        await queue.put(_END)

    async def _next_batch(self, queue: asyncio.Queue[Any]) -> list[Any]:
        """Wait for one event, then take what else has arrived (up to batch_max); [] at the end.

        "Arrived" includes what the stream has received but the reader has not moved yet: the
        first event wakes this task at once, so without a look the next batch would be that one
        event whenever the projector had caught up. Before a batch goes, the reader gets turns of
        the event loop as long as each turn brings an event (no waiting on the network or a clock):
        a live block's transactions and a replay's backlog go as one batch, a quiet stream at once.
        """
        events: list[Any] = []
        item = await queue.get()
        while True:
            if item is _END:
                queue.put_nowait(_END)  # seen again by the next call, after this batch
                return events
            if isinstance(item, Exception):
                if events:
                    queue.put_nowait(item)  # raised after this batch is applied
                    return events
                raise item
            events.append(item)
            if len(events) >= self._batch_max:
                return events
            if queue.empty():
                for _ in range(_READER_TURNS):
                    await asyncio.sleep(0)
                    if not queue.empty():
                        break
                else:
                    return events
            item = queue.get_nowait()

    async def _watch_generation(self, generation: int) -> None:
        # A quiet chain sends no events, so a rebuild request would otherwise wait for the
        # next one; closing the stream makes `_project` reload the (reset) checkpoint now.
        while True:
            await asyncio.sleep(self._control_interval)
            try:
                async with self._engine.connect() as conn:
                    current = await store.current_generation(conn, self._name)
            except Exception:
                continue
            if current is not None and current != generation:
                await self._close_stream()
                return

    async def _halt(self, conn: AsyncConnection, event: Any, error: PoisonEventError) -> None:
        self.halted = True
        self._metrics.halted.set(1)
        _LOG.critical(
            "POISON EVENT: projection %s stopped at block %d tx %s (event %s): %s",
            self._name,
            event.block_number,
            event.tx_id,
            error.event_index,
            error,
        )
        async with conn.begin():
            await store.record_poison(
                conn,
                self._name,
                event.block_number,
                event.tx_id,
                error.event_index,
                event.event_name,
                event.payload,
                str(error),
            )
        raise ProjectionHalted(str(error))
