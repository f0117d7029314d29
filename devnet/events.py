"""Commit notifications (for CommitStatus) and chaincode event streams with Fabric's start and resume rules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from devnet._protos import chaincode_event_pb2
from devnet.ledger import LedgerStore, StoredEvent, TxLocation

_BLOCKS_PER_READ = 50


class CommitNotifier:
    """Wakes CommitStatus callers when their transaction commits and event streams when a block commits."""

    def __init__(self) -> None:
        self._waiters: dict[str, list[asyncio.Future[TxLocation]]] = {}
        self._block = asyncio.Event()

    def watch(self, txid: str) -> asyncio.Future[TxLocation]:
        """A future resolved when ``txid`` is first indexed. Register it BEFORE looking in the ledger,
        so a commit between the look-up and the wait cannot be missed (Fabric's commit/finder.go)."""
        future: asyncio.Future[TxLocation] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(txid, []).append(future)
        return future

    def unwatch(self, txid: str, future: asyncio.Future[TxLocation]) -> None:
        """Forget a watch (the caller gave up or found the tx in the ledger)."""
        futures = self._waiters.get(txid)
        if futures and future in futures:
            futures.remove(future)
            if not futures:
                del self._waiters[txid]

    def committed(self, number: int, indexed: list[tuple[str, int, int]]) -> None:
        """Report a committed block: ``indexed`` holds (txid, tx index, code) of newly indexed transactions."""
        for txid, index, code in indexed:
            for future in self._waiters.pop(txid, []):
                if not future.done():
                    future.set_result(TxLocation(block=number, tx=index, code=code))
        # Wake every stream waiting for a new block, then arm the event for the next one.
        self._block.set()
        self._block = asyncio.Event()

    async def wait_block(self, height: int, store: LedgerStore) -> None:
        """Return once the ledger height exceeds ``height``."""
        while store.height <= height:
            await self._block.wait()


async def chaincode_events(
    store: LedgerStore,
    notifier: CommitNotifier,
    chaincode_id: str,
    start_block: int,
    after_txid: str = "",
) -> AsyncIterator[tuple[int, list[chaincode_event_pb2.ChaincodeEvent]]]:
    """Yield (block number, events) for each block from ``start_block`` with events of ``chaincode_id``.

    Only VALID transactions' events are stored, so only those are streamed. With ``after_txid`` found in the
    ledger, streaming starts at its block and skips everything up to and including it; when it is not in
    the ledger, Fabric still waits to see it before matching anything, and so does this stream. The stream
    never ends by itself: it waits for new blocks until the caller cancels.
    """
    skip_until: TxLocation | None = None
    waiting_for = ""
    if after_txid:
        location = store.tx_location(after_txid)
        if location is not None:
            start_block = location.block
            skip_until = location
        else:
            waiting_for = after_txid
    block = start_block
    while True:
        if waiting_for:
            # The awaited tx may commit without an event of its own; its ledger position then ends the wait.
            location = store.tx_location(waiting_for)
            if location is not None:
                skip_until, waiting_for = location, ""
        height = store.height
        if block >= height:
            await notifier.wait_block(block, store)
            continue
        last = min(height, block + _BLOCKS_PER_READ)
        rows: list[StoredEvent] = store.events_from(block, last - block)
        batch: list[chaincode_event_pb2.ChaincodeEvent] = []
        current = -1
        for row in rows:
            if row.block != current:
                if batch:
                    yield current, batch
                batch, current = [], row.block
            if skip_until is not None and (row.block, row.tx) <= (skip_until.block, skip_until.tx):
                continue
            if waiting_for:
                if row.txid == waiting_for:
                    waiting_for = ""
                continue
            if row.chaincode_id != chaincode_id:
                continue
            batch.append(
                chaincode_event_pb2.ChaincodeEvent(
                    chaincode_id=row.chaincode_id,
                    tx_id=row.txid,
                    event_name=row.event_name,
                    payload=row.payload,
                )
            )
        if batch:
            yield current, batch
        block = last
