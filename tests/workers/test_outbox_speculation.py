"""Speculative endorsement against a real PostgreSQL and a scripted peer: the successor a commit
frees is endorsed once the peer reports that commit and before the statement recording it hands the
successor over; a speculation that failed, or whose successor was not handed over, changes no outcome.

The same rules on the real devnet (a chain of transfers each funded by the one before) are in
test_outbox_faults.py; the pure rules are in tests/unit/outbox/test_speculation.py.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field

import grpc
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from fabric_client import CommitStatus, Transaction
from fabric_client.errors import EndorseError, ErrorDetail
from outbox.commands import CommandSpec
from outbox.metrics import OutboxMetrics
from outbox.processor import CommandProcessor, ProcessorSettings
from outbox.repository import ClaimedCommand, OutboxRepository, Successor
from tests.workers.conftest import command_row, new_id, pay, quiet_queue, record
from tests.workers.test_outbox_processor import ScriptedPeer


@dataclass
class TracingPeer(ScriptedPeer):
    """A scripted peer that logs each call in order, naming the transfer by its request id.

    `refuse_once`: request ids whose FIRST endorsement is refused as the chaincode would refuse it.
    """

    events: list[str] = field(default_factory=list)
    refuse_once: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)  # tx id -> request id
    peeked: asyncio.Event = field(default_factory=asyncio.Event)
    looks_up: bool = True  # whether the processor looks up the next command in line at all

    async def endorse(self, spec: CommandSpec, payload_json: str) -> Transaction:
        request = _request_id(payload_json)
        self.events.append(f"endorse {request}")
        if request in self.refuse_once:
            self.refuse_once.discard(request)
            raise EndorseError(
                grpc.StatusCode.ABORTED,
                "failed to endorse transaction, see attached details for more info",
                [
                    ErrorDetail(
                        "peer0", "Org1MSP", "chaincode response 400, INSUFFICIENT_FUNDS: balance 0 < 1"
                    )
                ],
            )
        transaction = await super().endorse(spec, payload_json)
        self.names[transaction.tx_id] = request
        return transaction

    async def submit(self, envelope: bytes) -> None:
        self.events.append(f"submit {self.names[envelope.decode().removeprefix('env:')]}")
        await super().submit(envelope)

    async def commit_status(self, tx_id: str, wait: float) -> CommitStatus:
        # A block takes longer than looking up the next command in line (tens of ms against one
        # statement): answer once that look-up, asked before this call, has been answered.
        if self.looks_up:
            await asyncio.wait_for(self.peeked.wait(), 10)
            self.peeked.clear()
        status = await super().commit_status(tx_id, wait)
        self.events.append(f"committed {self.names[tx_id]}")
        return status


def _request_id(payload_json: str) -> str:
    return str(json.loads(payload_json)["requestId"])


@dataclass
class Worker:
    """The processor and repository as the worker wires them: what a commit hands over starts at once."""

    processor: CommandProcessor
    repo: OutboxRepository
    metrics: OutboxMetrics
    peer: TracingPeer
    started: list[asyncio.Task[None]] = field(default_factory=list)

    def adopt(self, commands: list[ClaimedCommand]) -> None:
        for command in commands:
            self.peer.events.append(f"handed over {_request_id(command.payload_json)}")
            self.started.append(asyncio.create_task(self.processor.process(command)))

    async def settle(self) -> None:
        while self.started:
            await self.started.pop(0)

    def speculations(self) -> dict[str, float]:
        return {
            sample.labels["outcome"]: sample.value
            for metric in self.metrics.speculations.collect()
            for sample in metric.samples
            if sample.name.endswith("_total")
        }


class PeekedRepository(OutboxRepository):
    """The repository, telling the peer when a look-up of the next command in line was answered."""

    def __init__(self, engine: AsyncEngine, peer: TracingPeer) -> None:
        super().__init__(engine, "w1", lease_seconds=30)
        self._peer = peer

    async def next_in_line(self, command_id: uuid.UUID) -> Successor | None:
        try:
            return await super().next_in_line(command_id)
        finally:
            self._peer.peeked.set()


def _worker(engine: AsyncEngine, *, speculate: bool = True) -> Worker:
    peer = TracingPeer(engine)
    repo = PeekedRepository(engine, peer) if speculate else OutboxRepository(engine, "w1", lease_seconds=30)
    peer.looks_up = speculate
    metrics = OutboxMetrics(CollectorRegistry())
    processor = CommandProcessor(
        repo, peer, metrics, ProcessorSettings(commit_timeout=1.0, speculate=speculate)
    )
    worker = Worker(processor, repo, metrics, peer)
    repo.hand_over = worker.adopt
    return worker


async def _transfer(engine: AsyncEngine, sender: str, receiver: str) -> tuple[uuid.UUID, str]:
    payload = pay(sender, receiver)
    return await record(engine, "TRANSFER_TOKENS", payload), payload.request_id


async def test_the_successor_is_endorsed_after_the_commit_and_before_it_is_handed_over(
    engine: AsyncEngine,
) -> None:
    await quiet_queue(engine)
    worker = _worker(engine)
    alice = new_id()
    first, r1 = await _transfer(engine, alice, new_id())
    second, r2 = await _transfer(engine, alice, new_id())
    [claimed] = await worker.repo.claim(10)  # the second waits for the first (one sender)
    assert claimed.id == first
    await worker.processor.process(claimed)
    await worker.settle()
    events = worker.peer.events
    assert events == [
        f"endorse {r1}",
        f"submit {r1}",
        f"committed {r1}",
        # Never before the peer reported the first committed: it must read the state after it.
        f"endorse {r2}",
        # ... and before the statement recording the first handed the second over.
        f"handed over {r2}",
        f"submit {r2}",
        f"committed {r2}",
    ], events
    assert len(worker.peer.endorsed) == 2  # the speculation was the second's only endorsement
    row = await command_row(engine, second)
    assert (row.status, row.tx_id) == ("COMMITTED", worker.peer.endorsed[1])  # type: ignore[attr-defined]
    assert worker.peer.stored_at_commit_status == [True, True]  # each stored before its commit was awaited
    assert worker.speculations() == {"used": 1}


async def test_without_speculation_the_successor_is_endorsed_after_the_hand_over(engine: AsyncEngine) -> None:
    await quiet_queue(engine)
    worker = _worker(engine, speculate=False)
    alice = new_id()
    await _transfer(engine, alice, new_id())
    second, r2 = await _transfer(engine, alice, new_id())
    [claimed] = await worker.repo.claim(10)
    await worker.processor.process(claimed)
    await worker.settle()
    events = worker.peer.events
    assert events.index(f"handed over {r2}") < events.index(f"endorse {r2}"), events
    assert (await command_row(engine, second)).status == "COMMITTED"  # type: ignore[attr-defined]
    assert worker.speculations() == {}


async def test_a_refused_speculation_is_endorsed_again_and_commits(engine: AsyncEngine) -> None:
    await quiet_queue(engine)
    worker = _worker(engine)
    alice = new_id()
    await _transfer(engine, alice, new_id())
    second, r2 = await _transfer(engine, alice, new_id())
    # As if the speculation had read a state without a credit the second needs: a refusal that,
    # from an ordinary endorsement, would fail the command for good.
    worker.peer.refuse_once.add(r2)
    [claimed] = await worker.repo.claim(10)
    await worker.processor.process(claimed)
    await worker.settle()
    assert worker.peer.events.count(f"endorse {r2}") == 2, worker.peer.events
    row = await command_row(engine, second)
    assert (row.status, row.error_code) == ("COMMITTED", None)  # type: ignore[attr-defined]
    assert worker.speculations() == {"failed": 1}


async def test_a_successor_that_another_command_still_blocks_drops_its_speculation(
    engine: AsyncEngine,
) -> None:
    await quiet_queue(engine)
    worker = _worker(engine)
    alice, dave = new_id(), new_id()
    first, _ = await _transfer(engine, alice, new_id())
    blocker, _ = await _transfer(engine, dave, new_id())  # holds dave's account exclusively
    behind, r3 = await _transfer(engine, alice, dave)  # waits for the first AND for the blocker
    claimed = {command.id: command for command in await worker.repo.claim(10)}
    assert set(claimed) == {first, blocker}
    await worker.processor.process(claimed[first])  # the blocker stays in flight (claimed, unfinished)
    await worker.settle()
    assert f"endorse {r3}" in worker.peer.events  # speculated: it was next in line on alice's account
    assert f"handed over {r3}" not in worker.peer.events
    assert worker.speculations() == {"discarded": 1}
    row = await command_row(engine, behind)
    assert (row.status, row.tx_id, row.lease_owner) == ("PENDING", None, None)  # type: ignore[attr-defined]


async def test_next_in_line_is_the_earliest_unendorsed_command_a_commit_can_free(
    engine: AsyncEngine,
) -> None:
    await quiet_queue(engine)
    repo = OutboxRepository(engine, "w1", lease_seconds=30)
    alice, bob = new_id(), new_id()
    first, _ = await _transfer(engine, alice, bob)
    bobs_debit, _ = await _transfer(engine, bob, new_id())  # behind the credit to bob
    alices_next, _ = await _transfer(engine, alice, new_id())  # behind the debit of alice, later
    lonely, _ = await _transfer(engine, new_id(), new_id())
    found = await asyncio.gather(repo.next_in_line(first), repo.next_in_line(lonely))
    assert found[0] is not None and found[0].id == bobs_debit  # the lower of the two
    assert found[0].command_type == "TRANSFER_TOKENS" and '"requestId"' in found[0].payload_json
    assert found[1] is None  # nothing behind it
    # One that an earlier attempt endorsed re-submits its own transaction: not a candidate.
    claimed = {c.id for c in await repo.claim(10)}
    assert first in claimed
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE outbox.commands SET tx_id = 'stored', envelope = 'x' WHERE id = :id"),
            {"id": bobs_debit},
        )
    again = await repo.next_in_line(first)
    assert again is not None and again.id == alices_next
    assert repo.statements == 2  # the two asked together went as one statement
