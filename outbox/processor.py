"""What the worker does with one claimed command: the exactly-once-in-effect state machine."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from dataclasses import dataclass, field
from typing import Protocol

import grpc

from fabric_client import CommitStatus, Transaction
from fabric_client.errors import CommitStatusError, GatewayError, SubmitError
from fabric_client.retry import FailureKind, RetryPolicy, classify
from outbox import failpoints
from outbox.commands import CommandSpec, spec_for
from outbox.metrics import OutboxMetrics
from outbox.replays import replay_of
from outbox.repository import ClaimedCommand, OutboxRepository, Successor
from outbox.speculation import Speculations
from services.common import tracing
from services.common.logging import trace_var

_LOG = logging.getLogger(__name__)

# A chaincode rejection message that starts with an UPPER_SNAKE reason ("INSUFFICIENT_FUNDS:
# balance 10 < 25") gives that reason to the operation, so clients can branch on it.
_REASON = re.compile(r"^\s*([A-Z][A-Z0-9_]{2,63})\s*[:\-]\s*(.*)$", re.DOTALL)


class LedgerPort(Protocol):
    """The three peer calls the processor needs, and what an envelope carries (see `outbox.ledger.Ledger`)."""

    async def endorse(self, spec: CommandSpec, payload_json: str) -> Transaction: ...

    async def submit(self, envelope: bytes) -> None: ...

    async def commit_status(self, tx_id: str, wait: float) -> CommitStatus: ...

    def outcome_of(self, envelope: bytes) -> tuple[bytes, bytes]: ...


@dataclass(frozen=True)
class ProcessorSettings:
    """Timing and limits of one command's processing.

    Attributes:
        max_attempts: failed attempts (transient errors, conflicts) before dead-lettering.
            Waits caused by the peer being unreachable do not count.
        retry: backoff between attempts (full jitter).
        commit_timeout: how long to wait for the commit after a Submit.
        recover_status_timeout: how long to ask CommitStatus for a transaction stored by an
            earlier attempt before re-submitting its envelope: short, because a transaction
            that was never submitted makes CommitStatus block until this deadline.
        conflict_backoff: the most seconds to wait before rebuilding a transaction that lost
            an MVCC/phantom read conflict. Conflicts spend no attempt (contention is never a
            reason to fail), so this small jittered delay (between a quarter of it and all of
            it) is what keeps a contended command from spinning.
        speculate: endorse the successor a commit will hand over while the commit is recorded
            (outbox/speculation.py); off, it is endorsed after the hand-over.
    """

    max_attempts: int = 8
    retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(max_attempts=1_000_000, initial_backoff=0.2, max_backoff=30.0)
    )
    commit_timeout: float = 30.0
    recover_status_timeout: float = 2.0
    conflict_backoff: float = 0.2
    speculate: bool = True


def rejection_reason(message: str | None, default: str) -> tuple[str, str]:
    """Split a chaincode message into (UPPER_SNAKE reason, text)."""
    text = (message or "").strip()
    match = _REASON.match(text)
    if match:
        return match.group(1), text
    return default, text or default


def _peer_unreachable(error: BaseException) -> bool:
    # UNAVAILABLE is what a down peer (or the open breaker, which the client reports as
    # UNAVAILABLE) looks like: the command is fine, the peer is not, so it waits without
    # using up its attempts ("commands wait, none is lost").
    return isinstance(error, GatewayError) and error.code is grpc.StatusCode.UNAVAILABLE


class CommandProcessor:
    """Takes one claimed command one step nearer to COMMITTED or FAILED.

    The order of the steps is the whole point:
    1. a command with a stored transaction first asks CommitStatus (the earlier attempt may
       have committed before the crash), then re-submits the SAME envelope; Fabric refuses a
       second copy as DUPLICATE_TXID and the first outcome stands;
    2. otherwise it endorses a new transaction, submits it, and STORES its id and signed
       envelope before it waits for the commit (the orderer is cutting the block meanwhile), so
       a crash after the store leaves something step 1 can finish. A crash between Submit and
       the store leaves no stored transaction: the next attempt endorses a new one, and the
       chaincode's request-id guard answers it as a replay of the first (or, when the first
       never committed, lets it apply the request once). A replay names the transaction that
       applied the request (`replay_of_tx_id`), and the command records that one and its block,
       so the effect stays single and the operation names the transaction that carries it;
    3. only an MVCC/phantom conflict forgets the stored transaction, so the next attempt
       endorses a new one (the chaincode's request-id guard keeps the effect single even then).

    Why the store follows Submit: before Submit it was the one database statement between a
    successor's endorsement and its Submit (about 3.4 of the 22 ms from one block's commit to
    the next block's first envelope under `bench ordering`), and the orderer's batch timer
    starts at a block's first envelope, so it lengthened every block of a busy sender.
    """

    def __init__(
        self,
        repository: OutboxRepository,
        ledger: LedgerPort,
        metrics: OutboxMetrics,
        settings: ProcessorSettings,
        breaker_retry_after: object = None,
    ) -> None:
        self._repo = repository
        self._ledger = ledger
        self._metrics = metrics
        self._settings = settings
        self._breaker_retry_after = breaker_retry_after
        self._speculations = Speculations(self._endorse_new, metrics)

    async def process(self, command: ClaimedCommand) -> None:
        """Run the steps for `command`; every outcome is recorded, nothing is raised.

        Its log lines carry the trace of the request that recorded it (a new span of it), so
        one request can be followed across the asynchronous hop.
        """
        # Before any await: the hand-over starts this task before the predecessor that endorsed it
        # resumes and drops what nobody took.
        speculative = self._speculations.take(command)
        try:
            await self._process_spanned(command, speculative)
        finally:
            if speculative is not None:
                self._speculations.release(speculative)

    async def _process_spanned(
        self, command: ClaimedCommand, speculative: asyncio.Task[Transaction] | None
    ) -> None:
        span = tracing.start_span(
            "outbox.process",
            command.traceparent,
            kind="consumer",
            **{"gx.outbox.command_id": str(command.id)},
        )
        token = trace_var.set(span.trace)
        try:
            await self._process_traced(command, speculative)
        finally:
            trace_var.reset(token)
            span.end()

    async def _process_traced(
        self, command: ClaimedCommand, speculative: asyncio.Task[Transaction] | None
    ) -> None:
        try:
            spec = spec_for(command.command_type)
        except KeyError:
            await self._repo.record_failed(
                command.id,
                "UNKNOWN_COMMAND_TYPE",
                f"no ledger binding for command type {command.command_type}",
            )
            self._metrics.rejected.labels(command.command_type, "UNKNOWN_COMMAND_TYPE").inc()
            return
        try:
            if not command.tx_id and await self._prerequisite_failed(command):
                return
            await self._process(command, spec, speculative)
        except Exception as error:  # the worker must outlive any single command
            _LOG.exception("unexpected error processing command %s", command.id)
            try:
                await self._retry(command, error, "INTERNAL")
            except Exception:
                # Typically the database is gone too. The lease runs out and the command is
                # claimed again; a stored envelope makes that retry safe.
                _LOG.exception(
                    "could not record the failure of command %s; its lease will expire", command.id
                )

    async def _prerequisite_failed(self, command: ClaimedCommand) -> bool:
        """Fail a command whose prerequisite FAILED, naming it, instead of submitting it.

        The claim hands a dependent out only once its prerequisite finished, so here it is
        COMMITTED (go on) or FAILED (this command was accepted on the promise of it).
        """
        if command.depends_on is None:
            return False
        prerequisite = await self._repo.prerequisite(command.depends_on)
        if prerequisite is None or prerequisite.status != "FAILED":
            return False
        message = (
            f"prerequisite {prerequisite.command_type} command {prerequisite.command_id} failed"
            f" ({prerequisite.error_code or 'FAILED'}); this command was not submitted"
        )
        if await self._repo.record_failed(command.id, "PREREQUISITE_FAILED", message, count_attempt=False):
            self._metrics.rejected.labels(command.command_type, "PREREQUISITE_FAILED").inc()
            _LOG.info("command %s (%s) failed: %s", command.id, command.command_type, message)
        return True

    async def _process(
        self, command: ClaimedCommand, spec: CommandSpec, speculative: asyncio.Task[Transaction] | None
    ) -> None:
        tx_id, envelope = command.tx_id, command.envelope
        endorsed: Transaction | None = None  # the transaction this attempt endorsed, if it did
        if tx_id and envelope:
            try:
                status = await self._status_if_committed(command, tx_id)
            except CommitStatusError as error:  # e.g. the peer is down: ask again later
                await self._retry(command, error, "COMMIT_STATUS_UNKNOWN")
                return
            if status is not None:
                await self._finish(command, status, envelope)
                return
        else:
            step = time.perf_counter()
            try:
                endorsed = await self._endorse(spec, command, speculative)
            except Exception as error:
                await self._endorse_failed(command, error)
                return
            self._timed("endorse", step)
            tx_id, envelope = endorsed.tx_id, endorsed.envelope_bytes
            failpoints.hit("after_endorse")
        started = step = time.perf_counter()
        submit_failed: SubmitError | None = None
        try:
            await self._ledger.submit(envelope)
        except SubmitError as error:
            if classify(error) is not FailureKind.DUPLICATE:
                submit_failed = error
            # Else already ordered by an earlier attempt: its outcome is what CommitStatus says.
        else:
            self._metrics.submitted.labels(spec.command_type).inc()
            failpoints.hit("after_submit")
        step = self._timed("submit", step)
        if endorsed is not None:
            # Stored while the orderer cuts the block (step 2 of the class docstring); a failed
            # Submit is stored too, so the retry sends the same envelope again.
            if not await self._repo.record_endorsed(command.id, tx_id, envelope):
                _LOG.warning(
                    "lease on command %s lost before its transaction %s was stored; its new owner's"
                    " attempt is answered as a replay if this one committed",
                    command.id,
                    tx_id,
                )
                return
            step = self._timed("store", step)
            failpoints.hit("after_store")
        if submit_failed is not None:
            await self._retry(command, submit_failed, "SUBMIT_FAILED")
            return
        successor = self._next_in_line(command)
        try:
            status = await self._ledger.commit_status(tx_id, self._settings.commit_timeout)
        except CommitStatusError as error:
            _cancel(successor)
            await self._retry(command, error, "COMMIT_STATUS_UNKNOWN")
            return
        self._metrics.submit_to_commit.observe(time.perf_counter() - started)
        step = self._timed("commit_status", step)
        self._speculate(command, status, successor)
        try:
            await self._finish(command, status, envelope, endorsed)
        finally:
            self._speculations.abandon(command.id)
        self._timed("record", step)

    def _next_in_line(self, command: ClaimedCommand) -> asyncio.Task[Successor | None] | None:
        """Ask, while the commit is awaited, which successor this command's commit will hand over."""
        if not self._settings.speculate or self._repo.hand_over is None:
            return None  # nothing is handed over to this processor: nothing to speculate for
        task = asyncio.create_task(self._repo.next_in_line(command.id), name=f"outbox-peek-{command.id}")
        task.add_done_callback(_ignore_failure)
        return task

    def _speculate(
        self, command: ClaimedCommand, status: CommitStatus, successor: asyncio.Task[Successor | None] | None
    ) -> None:
        """On a successful commit, endorse the successor found in time; the peek never waits."""
        if successor is None:
            return
        if not (status.successful and successor.done()) or successor.cancelled() or successor.exception():
            _cancel(successor)
            return
        found = successor.result()
        if found is not None:
            self._speculations.start(command.id, status.block_number, found)

    async def _endorse(
        self, spec: CommandSpec, command: ClaimedCommand, speculative: asyncio.Task[Transaction] | None
    ) -> Transaction:
        """The speculation taken for `command` if it succeeded, else a new endorsement."""
        if speculative is not None:
            transaction = await self._speculations.result(speculative)
            if transaction is not None:
                return transaction
        return await self._endorse_new(spec, command.payload_json)

    async def _endorse_new(self, spec: CommandSpec, payload_json: str) -> Transaction:
        return await self._ledger.endorse(spec, payload_json)

    def _timed(self, name: str, since: float) -> float:
        """Observe the step that began at `since`; the moment the next one begins."""
        now = time.perf_counter()
        self._metrics.step.labels(name).observe(now - since)
        return now

    async def _applied_by(self, status: CommitStatus, event: bytes) -> CommitStatus:
        """The commit of the transaction that applied the request: `status` itself, or, when this
        transaction was a replay (`replay_of_tx_id`: an earlier attempt was submitted but not
        stored, or another command carried the same request id), the earlier transaction's."""
        original = replay_of(event)
        if original is None or original == status.tx_id:
            return status
        try:
            applied = await self._ledger.commit_status(original, self._settings.recover_status_timeout)
        except CommitStatusError as error:
            if error.code is not grpc.StatusCode.DEADLINE_EXCEEDED:
                raise  # the peer could not answer now: ask again on the next attempt
            # The peer has no commit of the named transaction: it is not taken on its word.
            _LOG.warning(
                "replay %s names transaction %s, which the peer does not know", status.tx_id, original
            )
            return status
        return applied if applied.successful else status

    async def _status_if_committed(self, command: ClaimedCommand, tx_id: str) -> CommitStatus | None:
        try:
            return await self._ledger.commit_status(tx_id, self._settings.recover_status_timeout)
        except CommitStatusError as error:
            if error.code is grpc.StatusCode.DEADLINE_EXCEEDED:
                return None  # not committed (yet): re-submit the same envelope
            raise

    async def _finish(
        self,
        command: ClaimedCommand,
        status: CommitStatus,
        envelope: bytes,
        endorsed: Transaction | None = None,
    ) -> None:
        name = status.code_name
        if status.successful:
            # The chaincode's answer and event travel inside the endorsed envelope, so a command
            # recovered after a crash still gets them without re-running anything (one endorsed
            # here already has them: no second parse of the envelope).
            result, event = (
                (endorsed.result, endorsed.event)
                if endorsed is not None
                else self._ledger.outcome_of(envelope)
            )
            try:
                applied = await self._applied_by(status, event)
            except CommitStatusError as error:
                # The stored transaction committed; the next attempt asks again (step 1).
                await self._retry(command, error, "COMMIT_STATUS_UNKNOWN")
                return
            if await self._repo.record_committed(
                command.id,
                applied.block_number,
                _result_json(result),
                applied.tx_id if applied is not status else None,
            ):
                self._metrics.committed.labels(command.command_type).inc()
                _LOG.info(
                    "command %s (%s) committed as %s in block %d",
                    command.id,
                    command.command_type,
                    applied.tx_id,
                    applied.block_number,
                )
            return
        if name in ("MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT"):
            # Contention is never a reason to fail: another transaction changed what this one
            # read, so the command is as valid as before. Build and submit a new transaction
            # (spending no attempt) until it commits or the chaincode refuses it on its merits.
            self._metrics.conflicts.labels(command.command_type, name).inc()
            await self._retry_or_dead_letter(
                command,
                name,
                f"transaction {status.tx_id} committed as {name} in block {status.block_number}; building a new one",
                forget_transaction=True,
                validation_code=name,
                count_attempt=False,
                delay=random.uniform(self._settings.conflict_backoff / 4, self._settings.conflict_backoff),
            )
            return
        reason = f"TX_{name}"
        if await self._repo.record_failed(
            command.id,
            reason,
            f"transaction {status.tx_id} committed as invalid ({name}) in block {status.block_number}",
            validation_code=name,
            block_number=status.block_number,
        ):
            self._metrics.rejected.labels(command.command_type, reason).inc()

    async def _endorse_failed(self, command: ClaimedCommand, error: Exception) -> None:
        kind = classify(error)
        if kind is FailureKind.BUSINESS:
            chaincode_message = getattr(error, "chaincode_message", None)
            reason, text = rejection_reason(
                chaincode_message or str(error),
                "LEDGER_REJECTED" if chaincode_message else "ENDORSEMENT_REFUSED",
            )
            if await self._repo.record_failed(command.id, reason, text):
                self._metrics.rejected.labels(command.command_type, reason).inc()
            return
        await self._retry(command, error, "ENDORSE_FAILED")

    async def _retry(self, command: ClaimedCommand, error: BaseException, reason: str) -> None:
        await self._retry_or_dead_letter(
            command, reason, str(error), forget_transaction=False, count_attempt=not _peer_unreachable(error)
        )

    async def _retry_or_dead_letter(
        self,
        command: ClaimedCommand,
        reason: str,
        message: str,
        *,
        forget_transaction: bool,
        count_attempt: bool,
        validation_code: str | None = None,
        delay: float | None = None,
    ) -> None:
        failed_attempts = command.attempts + (1 if count_attempt else 0)
        if count_attempt and failed_attempts >= self._settings.max_attempts:
            final = f"gave up after {failed_attempts} attempts; last error ({reason}): {message}"
            if await self._repo.record_failed(
                command.id, "RETRIES_EXHAUSTED", final, validation_code=validation_code
            ):
                self._metrics.rejected.labels(command.command_type, "RETRIES_EXHAUSTED").inc()
            return
        if delay is None:
            delay = self._settings.retry.backoff(max(1, failed_attempts))
            if not count_attempt and callable(self._breaker_retry_after):
                # The peer is unreachable: while the breaker is open there is no point coming
                # back before it lets a trial through.
                delay = max(delay, float(self._breaker_retry_after()))
        self._metrics.retried.labels(command.command_type, reason).inc()
        _LOG.info(
            "command %s (%s) waits %.2fs: %s: %s", command.id, command.command_type, delay, reason, message
        )
        await self._repo.reschedule(
            command.id,
            delay,
            reason,
            message,
            count_attempt=count_attempt,
            forget_transaction=forget_transaction,
            validation_code=validation_code,
        )


def _cancel(task: asyncio.Task[Successor | None] | None) -> None:
    if task is not None:
        task.cancel()


def _ignore_failure(task: asyncio.Task[Successor | None]) -> None:
    # The peek is an optimisation: a failed one only means no speculation (its error is read here).
    if not task.cancelled() and task.exception() is not None:
        _LOG.debug("looking up the next command in line failed", exc_info=task.exception())


def _result_json(result: bytes) -> str | None:
    if not result:
        return None
    try:
        return result.decode("utf-8")
    except UnicodeDecodeError:
        return result.hex()
