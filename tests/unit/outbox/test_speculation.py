"""The rules of speculative endorsement (outbox/speculation.py), on a fake endorser: which command
may use an endorsement started before it was handed over, and what happens to the rest."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from fabric_client import Transaction
from outbox.commands import CommandSpec
from outbox.metrics import OutboxMetrics
from outbox.repository import ClaimedCommand, Successor
from outbox.speculation import Speculations


class FakeEndorser:
    """Endorses on demand: each call waits until the test releases it (or fails it)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.gate = asyncio.Event()
        self.error: Exception | None = None

    async def __call__(self, spec: CommandSpec, payload_json: str) -> Transaction:
        self.calls.append(payload_json)
        await self.gate.wait()
        if self.error is not None:
            raise self.error
        return Transaction(tx_id=f"tx-{payload_json}", channel_id="c", envelope_bytes=b"env", result=b"")


def _counts(metrics: OutboxMetrics) -> dict[str, float]:
    return {
        sample.labels["outcome"]: sample.value
        for metric in metrics.speculations.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    }


def _handed(
    successor: uuid.UUID, freed_by: set[uuid.UUID], block: int, tx_id: str | None = None
) -> ClaimedCommand:
    return ClaimedCommand(
        id=successor,
        command_type="TRANSFER_TOKENS",
        payload_json="{}",
        status="PENDING",
        attempts=0,
        tx_id=tx_id,
        envelope=b"env" if tx_id else None,
        created_at=datetime.now(UTC),
        freed_by=frozenset(freed_by),
        freed_at_block=block,
    )


@pytest.fixture
def parts() -> tuple[Speculations, FakeEndorser, OutboxMetrics]:
    endorser = FakeEndorser()
    metrics = OutboxMetrics(CollectorRegistry())
    return Speculations(endorser, metrics), endorser, metrics


def _successor(payload: str = "s") -> Successor:
    return Successor(uuid.uuid4(), "TRANSFER_TOKENS", payload)


def _started_and_taken(speculations: Speculations) -> asyncio.Task[Transaction]:
    """A speculation started by one commit and taken by the successor that commit handed over."""
    x, s = uuid.uuid4(), _successor()
    speculations.start(x, 7, s)
    task = speculations.take(_handed(s.id, {x}, 7))
    assert task is not None
    return task


async def test_the_command_handed_over_by_its_predecessor_takes_the_endorsement(
    parts: tuple[Speculations, FakeEndorser, OutboxMetrics],
) -> None:
    speculations, endorser, metrics = parts
    x, s = uuid.uuid4(), _successor()
    speculations.start(x, 7, s)
    task = speculations.take(_handed(s.id, {x, uuid.uuid4()}, 7))
    assert task is not None and len(speculations) == 0
    endorser.gate.set()
    transaction = await speculations.result(task)
    assert transaction is not None and transaction.tx_id == "tx-s"
    assert _counts(metrics) == {"used": 1}


@pytest.mark.parametrize(
    ("why", "freed_by_predecessor", "freed_at_block", "stored_tx"),
    [
        ("claimed, not handed over by the predecessor", False, 7, None),
        ("freed by a commit of a later block than the one it read", True, 8, None),
        ("holds a stored transaction: it re-submits that one", True, 7, "tx-old"),
    ],
)
async def test_a_speculation_the_command_may_not_use_is_cancelled(
    parts: tuple[Speculations, FakeEndorser, OutboxMetrics],
    why: str,
    freed_by_predecessor: bool,
    freed_at_block: int,
    stored_tx: str | None,
) -> None:
    speculations, _, metrics = parts
    x, s = uuid.uuid4(), _successor()
    speculations.start(x, 7, s)
    freed_by = {x} if freed_by_predecessor else {uuid.uuid4()}
    assert speculations.take(_handed(s.id, freed_by, freed_at_block, stored_tx)) is None, why
    await asyncio.sleep(0)
    assert _counts(metrics) == {"discarded": 1}
    assert len(speculations) == 0


async def test_a_failed_speculation_is_no_outcome(
    parts: tuple[Speculations, FakeEndorser, OutboxMetrics],
) -> None:
    speculations, endorser, metrics = parts
    task = _started_and_taken(speculations)
    endorser.error = RuntimeError("INSUFFICIENT_FUNDS: read before the credit")
    endorser.gate.set()
    assert await speculations.result(task) is None  # the caller endorses again the ordinary way
    assert _counts(metrics) == {"failed": 1}


async def test_abandon_drops_only_what_that_predecessor_started_and_nobody_took(
    parts: tuple[Speculations, FakeEndorser, OutboxMetrics],
) -> None:
    speculations, endorser, metrics = parts
    x, y = uuid.uuid4(), uuid.uuid4()
    s_x, s_y = _successor("sx"), _successor("sy")
    speculations.start(x, 7, s_x)
    speculations.start(y, 7, s_y)
    await asyncio.sleep(0)  # both endorsements under way
    assert endorser.calls == ["sx", "sy"]
    speculations.abandon(x)
    assert len(speculations) == 1
    assert speculations.take(_handed(s_x.id, {x}, 7)) is None  # gone
    taken = speculations.take(_handed(s_y.id, {y}, 7))
    assert taken is not None and not taken.cancelled()
    endorser.gate.set()
    assert await speculations.result(taken) is not None
    assert _counts(metrics) == {"discarded": 1, "used": 1}


async def test_a_taken_speculation_never_awaited_is_released(
    parts: tuple[Speculations, FakeEndorser, OutboxMetrics],
) -> None:
    speculations, _, metrics = parts
    task = _started_and_taken(speculations)
    speculations.release(task)  # e.g. its prerequisite failed: it never endorsed
    await asyncio.sleep(0)
    assert task.cancelled() and _counts(metrics) == {"discarded": 1}
    speculations.release(task)  # once only
    assert _counts(metrics) == {"discarded": 1}


async def test_one_speculation_per_successor_and_none_for_an_unknown_type(
    parts: tuple[Speculations, FakeEndorser, OutboxMetrics],
) -> None:
    speculations, endorser, _ = parts
    s = _successor()
    speculations.start(uuid.uuid4(), 7, s)
    speculations.start(uuid.uuid4(), 7, s)  # two commits free the same command
    speculations.start(uuid.uuid4(), 7, Successor(uuid.uuid4(), "NO_SUCH_COMMAND", "{}"))
    await asyncio.sleep(0)
    assert endorser.calls == ["s"] and len(speculations) == 1
    endorser.gate.set()


async def test_the_command_cancelled_while_waiting_cancels_its_speculation(
    parts: tuple[Speculations, FakeEndorser, OutboxMetrics],
) -> None:
    speculations, _, _ = parts
    task = _started_and_taken(speculations)
    waiting = asyncio.create_task(speculations.result(task))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await asyncio.sleep(0)
    assert task.cancelled()
