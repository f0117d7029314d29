"""The outbox worker loop: wake on NOTIFY (or poll), claim due commands, process them with bounded concurrency."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from fabric_client.breaker import BreakerState
from outbox.metrics import BREAKER_STATE_VALUES, OutboxMetrics
from outbox.processor import CommandProcessor
from outbox.repository import ClaimedCommand, OutboxRepository
from services.common.names import OUTBOX_NOTIFY_CHANNEL
from services.common.wakeup import WakeUp

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerSettings:
    """Pacing of the claim loop.

    Attributes:
        batch_size: the most commands claimed in one statement.
        concurrency: the most commands in flight to the peer at once (per worker).
        poll_interval: seconds between polls when no NOTIFY arrives; NOTIFY is the fast path,
            polling catches backoffs coming due and notifications lost while disconnected.
        lease_seconds: how long a claim lasts without a heartbeat.
        stats_interval: seconds between queue-depth metric refreshes.
    """

    batch_size: int = 32
    concurrency: int = 16
    poll_interval: float = 1.0
    lease_seconds: float = 60.0
    stats_interval: float = 2.0


class OutboxWorker:
    """Runs until `shutdown()`; several workers (processes) may run against one database.

    Use as `async with worker: await worker.run()` or call `run()` and `shutdown()` yourself.
    """

    def __init__(
        self,
        repository: OutboxRepository,
        processor: CommandProcessor,
        metrics: OutboxMetrics,
        settings: WorkerSettings,
        listen_dsn: str | None,
        breaker_state: object = None,
    ) -> None:
        self._repo = repository
        self._processor = processor
        self._metrics = metrics
        self._settings = settings
        self._breaker_state = breaker_state
        self._stopping = asyncio.Event()
        self._wake = WakeUp(listen_dsn, OUTBOX_NOTIFY_CHANNEL, self._stopping)
        self._in_flight: dict[uuid.UUID, asyncio.Task[None]] = {}
        # True while the loop waits for a free slot (every slot was busy at its last pass).
        self._want_slot = False
        self._helpers: list[asyncio.Task[None]] = []

    @property
    def listening(self) -> bool:
        """True while the LISTEN connection is up; the loop polls otherwise."""
        return self._wake.listening

    async def __aenter__(self) -> OutboxWorker:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

    def _breaker_open(self) -> bool:
        if not callable(self._breaker_state):
            return False
        state = self._breaker_state()
        self._metrics.breaker_state.set(BREAKER_STATE_VALUES.get(state.value, 0))
        return state is BreakerState.OPEN

    async def run(self) -> None:
        """Claim and process commands until `shutdown()` is called."""
        self._helpers = [
            asyncio.create_task(self._wake.listen(), name="outbox-listen"),
            asyncio.create_task(self._heartbeat(), name="outbox-heartbeat"),
            asyncio.create_task(self._refresh_stats(), name="outbox-stats"),
        ]
        # A finished command's successors come straight back from the statement that records it
        # (outbox/repository.py `_RECORD_COMMITTED`), in the slot it frees: no NOTIFY and claim
        # round trip between one transfer of a sender and the next.
        self._repo.hand_over = self._adopt
        # A command given back with a delay is due again then: claim at that moment, not at the next poll.
        self._repo.on_reschedule = self._wake_after
        _LOG.info("outbox worker %s started", self._repo.owner)
        while not self._stopping.is_set():
            # Cleared BEFORE claiming: a NOTIFY that lands while the claim query runs must
            # still wake the wait below, or its command would sit until the next poll.
            self._wake.clear()
            claimed = 0
            free = self._settings.concurrency - len(self._in_flight)
            # While the breaker is open nothing is claimed at all: the commands stay in the
            # table, untouched and unleased, until the peer is back.
            if free > 0 and not self._breaker_open():
                want = min(free, self._settings.batch_size)
                try:
                    commands = await self._repo.claim(want)
                except Exception:
                    _LOG.exception("claiming commands failed; retrying after the poll interval")
                    commands = []
                claimed = len(commands)
                for command in commands:
                    self._start(command)
                if claimed == want and len(self._in_flight) < self._settings.concurrency:
                    continue  # probably more due right now
            self._want_slot = len(self._in_flight) >= self._settings.concurrency
            await self._wake.wait(self._settings.poll_interval)
        await self._drain()

    def _adopt(self, commands: list[ClaimedCommand]) -> None:
        self._metrics.handed_over.inc(len(commands))
        for command in commands:
            if command.id not in self._in_flight:
                self._start(command)

    def _wake_after(self, delay: float) -> None:
        if not self._stopping.is_set():
            asyncio.get_running_loop().call_later(delay, self._wake.set)

    def _start(self, command: ClaimedCommand) -> None:
        if command.attempts == 0 and command.tx_id is None:
            created = (
                command.created_at if command.created_at.tzinfo else command.created_at.replace(tzinfo=UTC)
            )
            self._metrics.pickup.observe(max(0.0, (datetime.now(UTC) - created).total_seconds()))
        task = asyncio.create_task(self._processor.process(command), name=f"outbox-{command.id}")
        self._in_flight[command.id] = task
        self._metrics.in_flight.set(len(self._in_flight))

        def done(_: asyncio.Task[None], command_id: uuid.UUID = command.id) -> None:
            self._in_flight.pop(command_id, None)
            self._metrics.in_flight.set(len(self._in_flight))
            # A slot is free: claim again at once, but only if the loop was waiting for one. A
            # claim after every finished command found nothing whenever the successor had been
            # handed over (or there was none); what a finish frees is handed over or NOTIFYed.
            if self._want_slot:
                self._want_slot = False
                self._wake.set()

        task.add_done_callback(done)

    async def _drain(self) -> None:
        for helper in self._helpers:
            helper.cancel()
        await asyncio.gather(*self._helpers, return_exceptions=True)
        # A command finishing now may still hand over a successor claimed in the same statement:
        # wait until none is left rather than for the ones in flight at this moment.
        while self._in_flight:
            _LOG.info("waiting for %d in-flight commands to finish", len(self._in_flight))
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        _LOG.info("outbox worker %s stopped", self._repo.owner)

    async def shutdown(self) -> None:
        """Stop claiming; commands already in flight finish (their outcome is recorded). Idempotent."""
        self._stopping.set()
        self._repo.hand_over = None  # no more successors handed over: only what is in flight finishes
        self._wake.set()

    async def _heartbeat(self) -> None:
        interval = self._settings.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await self._repo.extend_leases(list(self._in_flight))
            except Exception:
                _LOG.exception("extending leases failed")

    async def _refresh_stats(self) -> None:
        while True:
            try:
                depth, oldest = await self._repo.queue_stats()
                for status, count in depth.items():
                    self._metrics.queue_depth.labels(status).set(count)
                self._metrics.oldest_pending_age.set(oldest)
                blocked = await self._repo.blocked_count()
                self._metrics.blocked.set(blocked)
                if blocked:
                    # Ordering at work, not a fault: later commands on a busy aggregate wait
                    # for the earlier ones (outbox README, "Order").
                    _LOG.debug("%d due commands wait behind an earlier command on their keys", blocked)
                self._breaker_open()
            except Exception:
                _LOG.exception("refreshing outbox metrics failed")
            await asyncio.sleep(self._settings.stats_interval)
