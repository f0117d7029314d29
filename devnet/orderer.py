"""The ordering service: queues accepted envelopes and cuts them into blocks by count and timeout."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

_LOG = logging.getLogger(__name__)


class Orderer:
    """A solo orderer's block cutter (Fabric's BatchSize.MaxMessageCount and BatchTimeout).

    Args:
        batch_size: Most transactions in one block.
        batch_timeout: Seconds after the first pending transaction at which a partial block is cut.
        deliver: Receives each cut batch of serialized envelopes, in order; the next block is cut only
            after it returns, so blocks are committed strictly one after another.
    """

    def __init__(
        self, batch_size: int, batch_timeout: float, deliver: Callable[[list[bytes]], Awaitable[None]]
    ) -> None:
        if batch_size < 1 or batch_timeout <= 0:
            raise ValueError("batch size must be >= 1 and batch timeout > 0")
        self.batch_size = batch_size
        self.batch_timeout = batch_timeout
        self._deliver = deliver
        self._pending: list[bytes] = []
        self._arrived = asyncio.Event()
        self._full = asyncio.Event()
        self._first_arrival = 0.0
        self.failed: BaseException | None = None

    def enqueue(self, envelope: bytes) -> None:
        """Accept an envelope for ordering (never blocks).

        Raises:
            RuntimeError: when ordering has stopped after a failed commit.
        """
        if self.failed is not None:
            raise RuntimeError(f"ordering stopped: {self.failed}")
        if not self._pending:
            # Fabric's batch timer starts when the first envelope of a batch arrives.
            self._first_arrival = asyncio.get_running_loop().time()
        self._pending.append(envelope)
        self._arrived.set()
        # Waking the cutter only for the first arrival and for a full batch keeps a busy orderer from
        # being rescheduled once per transaction.
        if len(self._pending) >= self.batch_size:
            self._full.set()

    @property
    def pending(self) -> int:
        """Envelopes waiting for a block."""
        return len(self._pending)

    async def run(self) -> None:
        """Cut and deliver blocks until cancelled."""
        while True:
            while not self._pending:
                self._arrived.clear()
                await self._arrived.wait()
            remaining = self._first_arrival + self.batch_timeout - asyncio.get_running_loop().time()
            if len(self._pending) < self.batch_size and remaining > 0:
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await self._full.wait()
            batch = self._pending[: self.batch_size]
            del self._pending[: self.batch_size]
            if self._pending:
                # Leftovers beyond a full batch open the next batch now.
                self._first_arrival = asyncio.get_running_loop().time()
            try:
                await self._deliver(batch)
            except Exception as exc:
                # A block that cannot be committed must stop the chain, not be skipped silently.
                _LOG.exception("committing a block of %d transactions failed; ordering stops", len(batch))
                self.failed = exc
                raise

    async def drain(self) -> None:
        """Deliver everything still pending (used on shutdown, after run() is cancelled)."""
        while self._pending:
            batch = self._pending[: self.batch_size]
            del self._pending[: self.batch_size]
            await self._deliver(batch)
