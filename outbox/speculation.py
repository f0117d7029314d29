"""Speculative endorsement: a successor's transaction endorsed while its predecessor's outcome is recorded.

A sender's transfers run one after another: the next one is handed over by the statement that
records the previous one COMMITTED (outbox/repository.py `_RECORD_COMMITTED`), and only then
endorsed. Under `bench ordering` that statement was about a tenth of each hop (about 10 ms of 85),
on the critical path of every chain. Endorsing has no effect on the ledger (nothing is stored or
submitted), so the successor can be endorsed as soon as the predecessor's commit is known, while the
statement runs; what the statement hands over then decides whether the endorsement is used.

The rules that keep this exactly as safe as endorsing after the hand-over:
- a speculation starts only once the peer reported the predecessor committed, so it reads the
  state the successor must see (never the state before the predecessor);
- it is used only by a command handed over by the statement that recorded its predecessor, and
  only if it started after the highest block among the commits that statement recorded (a command
  freed by two commits of different blocks must read both);
- a command that already holds a stored transaction never uses one (it re-submits that one);
- a speculation that failed is never an outcome: the command endorses again the ordinary way
  (a stale read must not turn into a rejection);
- anything else is cancelled and dropped. What is used goes through the usual steps: its envelope
  stored before its commit is awaited, and a read conflict at commit builds a new transaction, as always.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fabric_client import Transaction
from outbox.commands import CommandSpec, spec_for
from outbox.metrics import OutboxMetrics
from outbox.repository import ClaimedCommand, Successor

Endorse = Callable[[CommandSpec, str], Coroutine[Any, Any, Transaction]]


@dataclass(frozen=True)
class _Speculation:
    predecessor: uuid.UUID
    after_block: int
    task: asyncio.Task[Transaction]


class Speculations:
    """The speculative endorsements this worker has in flight, by the successor they were made for."""

    def __init__(self, endorse: Endorse, metrics: OutboxMetrics) -> None:
        self._endorse = endorse
        self._metrics = metrics
        self._by_successor: dict[uuid.UUID, _Speculation] = {}
        self._taken: set[asyncio.Task[Transaction]] = set()

    def __len__(self) -> int:
        return len(self._by_successor)

    def start(self, predecessor: uuid.UUID, committed_block: int, successor: Successor) -> None:
        """Endorse `successor` now: `predecessor` committed in `committed_block`, per the peer."""
        if successor.id in self._by_successor:
            return  # two commits free the same command: one speculation is enough
        try:
            spec = spec_for(successor.command_type)
        except KeyError:
            return  # the processor fails it with UNKNOWN_COMMAND_TYPE; nothing to endorse
        # In a context of its own: it belongs to the successor's trace, not the predecessor's.
        task = asyncio.create_task(
            self._endorse(spec, successor.payload_json),
            name=f"outbox-speculate-{successor.id}",
            context=contextvars.Context(),
        )
        # Its failure is read by the command that takes it, or by nobody: never "never retrieved".
        task.add_done_callback(_retrieved)
        self._by_successor[successor.id] = _Speculation(predecessor, committed_block, task)

    def take(self, command: ClaimedCommand) -> asyncio.Task[Transaction] | None:
        """The endorsement started for `command`, if it may use it (the rules above); else None.

        Called when the command's processing starts, before its first await: the hand-over starts
        the successor's task before the predecessor resumes, so the speculation is still here.
        """
        speculation = self._by_successor.pop(command.id, None)
        if speculation is None:
            return None
        if (
            command.tx_id is None
            and speculation.predecessor in command.freed_by
            and speculation.after_block >= command.freed_at_block
        ):
            self._taken.add(speculation.task)
            return speculation.task
        self._drop(speculation)
        return None

    def abandon(self, predecessor: uuid.UUID) -> None:
        """Drop what `predecessor` started and nobody took (its successor was not handed over)."""
        for successor_id, speculation in list(self._by_successor.items()):
            if speculation.predecessor == predecessor:
                del self._by_successor[successor_id]
                self._drop(speculation)

    async def result(self, task: asyncio.Task[Transaction]) -> Transaction | None:
        """The taken speculation's transaction, or None when it failed (endorse the ordinary way)."""
        self._taken.discard(task)
        try:
            transaction = await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.cancelled():
                task.cancel()
                raise  # the command's own task is being cancelled, not the speculation
            transaction = None
        except Exception:
            transaction = None
        self._metrics.speculations.labels("used" if transaction is not None else "failed").inc()
        return transaction

    def release(self, task: asyncio.Task[Transaction]) -> None:
        """The command that took `task` is done: drop it if it never asked for the result (it
        failed before endorsing, on a failed prerequisite say)."""
        if task in self._taken:
            self._taken.discard(task)
            task.cancel()
            self._metrics.speculations.labels("discarded").inc()

    def _drop(self, speculation: _Speculation) -> None:
        speculation.task.cancel()
        self._metrics.speculations.labels("discarded").inc()


def _retrieved(task: asyncio.Task[Transaction]) -> None:
    if not task.cancelled():
        with contextlib.suppress(Exception):
            task.exception()
