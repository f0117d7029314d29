"""The notifier loop: wake on NOTIFY (or poll), claim due messages, deliver them with bounded concurrency."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from notifier.backoff import expired, next_attempt, retry_delay
from notifier.metrics import NotifierMetrics
from notifier.repository import NotifierRepository
from notifier.transports import Message, Outcome, Transport
from services.common.notify import NOTIFY_CHANNEL
from services.common.wakeup import WakeUp

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerSettings:
    """Pacing of the claim loop.

    Attributes:
        batch_size: the most messages claimed in one statement.
        concurrency: the most messages in flight at once (per notifier).
        poll_interval: seconds between polls without a NOTIFY (retries coming due, leases
            running out, notifications lost while disconnected).
        backoff_initial: seconds before the first retry (doubling, jittered, up to backoff_max).
        backoff_max: the longest wait between two attempts.
        stats_interval: seconds between queue metric refreshes.
        retention_seconds: finished messages older than this are deleted (0: never).
        purge_interval_seconds: seconds between purge rounds.
        purge_batch_size: the most rows one DELETE removes (short transactions, little bloat).
    """

    batch_size: int = 32
    concurrency: int = 8
    poll_interval: float = 1.0
    backoff_initial: float = 5.0
    backoff_max: float = 3600.0
    stats_interval: float = 5.0
    retention_seconds: float = 0.0
    purge_interval_seconds: float = 3600.0
    purge_batch_size: int = 1000


def _reason(detail: str) -> str:
    """The UPPER_SNAKE reason an outcome's detail starts with (a low-cardinality metric label)."""
    return detail.split(":", 1)[0].strip() or "UNKNOWN"


class NotifierWorker:
    """Runs until `shutdown()`; several notifiers (processes) may share one queue.

    Use as `async with worker: await worker.run()` or call `run()` and `shutdown()` yourself.
    """

    def __init__(
        self,
        repository: NotifierRepository,
        transports: Mapping[str, Transport],
        metrics: NotifierMetrics,
        settings: WorkerSettings,
        listen_dsn: str | None,
        rng: random.Random | None = None,
    ) -> None:
        self._repo = repository
        self._transports = dict(transports)
        self._metrics = metrics
        self._settings = settings
        self._rng = rng or random.Random()
        self._stopping = asyncio.Event()
        self._wake = WakeUp(listen_dsn, NOTIFY_CHANNEL, self._stopping)
        self._in_flight: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._helpers: list[asyncio.Task[None]] = []

    @property
    def listening(self) -> bool:
        """True while the LISTEN connection is up; the loop polls otherwise."""
        return self._wake.listening

    async def __aenter__(self) -> NotifierWorker:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

    async def run(self) -> None:
        """Claim and deliver messages until `shutdown()` is called."""
        self._helpers = [
            asyncio.create_task(self._wake.listen(), name="notifier-listen"),
            asyncio.create_task(self._refresh_stats(), name="notifier-stats"),
        ]
        if self._settings.retention_seconds > 0:
            self._helpers.append(asyncio.create_task(self._purge(), name="notifier-purge"))
        _LOG.info("notifier started: channels %s", ", ".join(sorted(self._transports)))
        while not self._stopping.is_set():
            # Cleared BEFORE claiming: a NOTIFY landing while the claim runs still wakes the wait.
            self._wake.clear()
            free = self._settings.concurrency - len(self._in_flight)
            if free > 0:
                want = min(free, self._settings.batch_size)
                try:
                    claimed = await self._repo.claim(list(self._transports), want)
                except Exception:
                    _LOG.exception("claiming messages failed; retrying after the poll interval")
                    claimed = []
                for message in claimed:
                    self._start(message)
                if len(claimed) == want and len(self._in_flight) < self._settings.concurrency:
                    continue  # probably more due right now
            await self._wake.wait(self._settings.poll_interval)
        await self._drain()

    async def shutdown(self) -> None:
        """Stop claiming; messages in flight finish and their outcome is recorded. Idempotent."""
        self._stopping.set()
        self._wake.set()

    def _start(self, message: Message) -> None:
        task = asyncio.create_task(self.process(message), name=f"notifier-{message.id}")
        self._in_flight[message.id] = task

        def done(_: asyncio.Task[None], message_id: uuid.UUID = message.id) -> None:
            self._in_flight.pop(message_id, None)
            self._wake.set()  # a slot is free: claim again at once

        task.add_done_callback(done)

    async def process(self, message: Message) -> None:
        """Deliver one claimed message and record the outcome; never raises.

        The row is marked SENT only after the transport reports the receiver's acceptance. A
        crash (or a failed write) between the two leaves it PENDING under its lease, and it is
        sent again when the lease runs out: at least once, never lost.
        """
        transport = self._transports[message.channel]
        now = datetime.now(UTC)
        if expired(now, message.created_at, transport.max_age_seconds):
            outcome = Outcome("failed", f"EXPIRED: older than {transport.max_age_seconds:.0f} s, not sent")
        else:
            try:
                outcome = await transport.deliver(message)
            except Exception as error:  # a transport bug must not lose the message
                _LOG.exception("transport %s raised for message %s", message.channel, message.id)
                outcome = Outcome("retry", f"TRANSPORT_ERROR: {type(error).__name__}: {error}")
        retry_at = None
        if outcome.kind == "retry":
            delay = retry_delay(
                message.attempts, self._settings.backoff_initial, self._settings.backoff_max, self._rng
            )
            retry_at = next_attempt(datetime.now(UTC), message.created_at, delay, transport.max_age_seconds)
        try:
            kept = await self._repo.finish(message, outcome, retry_at)
        except Exception:
            _LOG.exception(
                "recording the outcome of message %s failed; it is retried after its lease", message.id
            )
            return
        if not kept:
            _LOG.warning(
                "message %s: lease lost before its outcome (%s) was recorded", message.id, outcome.kind
            )
            return
        self._observe(message, outcome, retry_at)

    def _observe(self, message: Message, outcome: Outcome, retry_at: datetime | None) -> None:
        channel, reason = message.channel, _reason(outcome.detail)
        extra = {"gx.notify.message_id": str(message.id), "gx.notify.channel": channel}
        if outcome.kind == "sent":
            self._metrics.sent.labels(channel).inc()
            created = message.created_at
            self._metrics.delivery_latency.labels(channel).observe(
                max(0.0, (datetime.now(UTC) - created).total_seconds())
            )
            _LOG.info("message %s sent (attempt %d)", message.id, message.attempts, extra=extra)
        elif outcome.kind == "skipped":
            self._metrics.skipped.labels(channel, reason).inc()
            _LOG.info("message %s skipped: %s", message.id, outcome.detail, extra=extra)
        elif outcome.kind == "retry" and retry_at is not None:
            self._metrics.retried.labels(channel, reason).inc()
            _LOG.warning(
                "message %s attempt %d failed (%s); next at %s",
                message.id,
                message.attempts,
                outcome.detail,
                retry_at.isoformat(),
                extra=extra,
            )
        else:
            self._metrics.failed.labels(channel, "EXPIRED" if outcome.kind == "retry" else reason).inc()
            _LOG.error("message %s failed for good: %s", message.id, outcome.detail, extra=extra)

    async def _drain(self) -> None:
        for helper in self._helpers:
            helper.cancel()
        await asyncio.gather(*self._helpers, return_exceptions=True)
        if self._in_flight:
            _LOG.info("waiting for %d messages in flight", len(self._in_flight))
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        _LOG.info("notifier stopped")

    async def _refresh_stats(self) -> None:
        while True:
            try:
                stats = await self._repo.queue_stats()
                for channel in self._transports:
                    count, age = stats.get(channel, (0, 0.0))
                    self._metrics.queued.labels(channel).set(count)
                    self._metrics.oldest_age.labels(channel).set(age)
            except Exception:
                _LOG.exception("refreshing notifier metrics failed")
            await asyncio.sleep(self._settings.stats_interval)

    async def purge_once(self) -> int:
        """One purge round: delete finished messages past retention, batch by batch; returns the count."""
        total = 0
        while True:
            removed = await self._repo.purge_finished(
                self._settings.retention_seconds, self._settings.purge_batch_size
            )
            total += removed
            if removed < self._settings.purge_batch_size:
                return total

    async def _purge(self) -> None:
        while True:
            try:
                removed = await self.purge_once()
                if removed:
                    _LOG.info("purged %d finished messages", removed, extra={"gx.notify.purged": removed})
            except Exception:
                _LOG.exception("purging finished messages failed")
            await asyncio.sleep(self._settings.purge_interval_seconds)
