"""The outbox's exactly-once state machine against a real PostgreSQL and a scripted peer.

The peer here is a scripted stand-in (its answers are the point of each test); the worker's
fault tests against the real devnet are in test_outbox_faults.py.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from gx.ledger.v1 import commands_pb2, events_pb2
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from fabric_client import CommitStatus, Transaction
from fabric_client.errors import CommitStatusError, EndorseError, ErrorDetail, SubmitError
from fabric_client.retry import RetryPolicy
from outbox.admin import OutboxAdmin
from outbox.commands import CommandSpec
from outbox.metrics import OutboxMetrics
from outbox.processor import CommandProcessor, ProcessorSettings
from outbox.repository import OutboxRepository
from services.common.errors import FailedPrecondition
from tests.workers.conftest import command_row, record

VALID, MVCC = 0, 11


@dataclass
class ScriptedPeer:
    """Answers each call from a script; records what it was asked."""

    engine: AsyncEngine
    endorse_errors: list[Exception] = field(default_factory=list)
    submit_errors: list[Exception] = field(default_factory=list)
    statuses: list[Any] = field(default_factory=list)  # CommitStatus code ints or exceptions
    # The chaincode event each endorsement sets, in order (none once the list is used up).
    chaincode_events: list[bytes] = field(default_factory=list)
    blocks: dict[str, int] = field(default_factory=dict)  # a transaction's block (else 42)
    endorsed: list[str] = field(default_factory=list)
    submitted: list[bytes] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)  # the transactions whose commit was asked for
    # Whether the transaction was stored when it was submitted, and when its commit was awaited.
    stored_at_submit: list[bool] = field(default_factory=list)
    stored_at_commit_status: list[bool] = field(default_factory=list)
    _events_of: dict[bytes, bytes] = field(default_factory=dict)

    async def endorse(self, spec: CommandSpec, payload_json: str) -> Transaction:
        if self.endorse_errors:
            raise self.endorse_errors.pop(0)
        tx_id = hashlib.sha256(f"{payload_json}{len(self.endorsed)}".encode()).hexdigest()
        self.endorsed.append(tx_id)
        envelope = f"env:{tx_id}".encode()
        self._events_of[envelope] = self.chaincode_events.pop(0) if self.chaincode_events else b""
        return Transaction(
            tx_id=tx_id,
            channel_id="gxchannel",
            envelope_bytes=envelope,
            result=b'{"ok":true}',
            event=self._events_of[envelope],
        )

    async def _stored(self, tx_id: str) -> bool:
        async with self.engine.connect() as conn:
            return bool(
                (
                    await conn.execute(
                        text("SELECT count(*) FROM outbox.commands WHERE tx_id = :t AND envelope = :e"),
                        {"t": tx_id, "e": f"env:{tx_id}".encode()},
                    )
                ).scalar_one()
            )

    async def submit(self, envelope: bytes) -> None:
        self.stored_at_submit.append(await self._stored(envelope.decode().removeprefix("env:")))
        self.submitted.append(envelope)
        if self.submit_errors:
            raise self.submit_errors.pop(0)

    async def commit_status(self, tx_id: str, wait: float) -> CommitStatus:
        self.asked.append(tx_id)
        self.stored_at_commit_status.append(await self._stored(tx_id))
        answer = self.statuses.pop(0) if self.statuses else VALID
        if isinstance(answer, Exception):
            raise answer
        return CommitStatus(tx_id=tx_id, code=answer, block_number=self.blocks.get(tx_id, 42))

    def outcome_of(self, envelope: bytes) -> tuple[bytes, bytes]:
        return b'{"ok":true}', self._events_of.get(envelope, b"")


def _replay_of(tx_id: str) -> bytes:
    """The event of a transaction that repeated a request `tx_id` applied (as the chaincode sets it)."""
    return json_format.MessageToJson(
        events_pb2.LedgerEvents(request_id="r", replayed=True, replay_of_tx_id=tx_id), indent=None
    ).encode()


def _processor(
    engine: AsyncEngine, peer: ScriptedPeer, owner: str = "w1", max_attempts: int = 3
) -> tuple[CommandProcessor, OutboxRepository]:
    repo = OutboxRepository(engine, owner, lease_seconds=30)
    settings = ProcessorSettings(
        max_attempts=max_attempts,
        retry=RetryPolicy(max_attempts=100, initial_backoff=0.0, max_backoff=0.0),
        commit_timeout=1.0,
        recover_status_timeout=0.1,
    )
    return CommandProcessor(repo, peer, OutboxMetrics(CollectorRegistry()), settings), repo


def _transfer(amount: int = 10) -> commands_pb2.TransferTokensRequest:
    # Accounts of their own per command: transfers from one sender are ordered, and a command a
    # test leaves unfinished must not hold up the next test's (tests/workers/test_outbox_ordering.py
    # is where ordering is tested).
    return commands_pb2.TransferTokensRequest(
        request_id=str(uuid.uuid4()),
        from_account_id=f"a-{uuid.uuid4()}",
        to_account_id=f"b-{uuid.uuid4()}",
        amount_qirat=amount,
    )


async def _claim_one(repo: OutboxRepository, command_id: uuid.UUID) -> Any:
    # Make only our command due (other tests' leftovers are pushed into the future).
    async with repo._engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE outbox.commands SET next_attempt_at = now() + interval '1 hour' WHERE id <> :id AND status IN ('PENDING','SUBMITTED')"
            ),
            {"id": command_id},
        )
        await conn.execute(
            text("UPDATE outbox.commands SET next_attempt_at = now() WHERE id = :id"), {"id": command_id}
        )
    claimed = await repo.claim(10)
    assert [c.id for c in claimed] == [command_id]
    return claimed[0]


async def test_a_new_transaction_is_submitted_then_stored_before_its_commit_is_awaited(
    engine: AsyncEngine,
) -> None:
    peer = ScriptedPeer(engine)
    processor, repo = _processor(engine, peer)
    cid = await record(engine, "TRANSFER_TOKENS", _transfer())
    await processor.process(await _claim_one(repo, cid))
    row = await command_row(engine, cid)
    # Stored while the orderer cuts the block, so a crash from there on leaves it to finish.
    assert (peer.stored_at_submit, peer.stored_at_commit_status) == ([False], [True])
    assert (row.status, row.tx_id, row.block_number, row.validation_code, row.result_json) == (
        "COMMITTED",
        peer.endorsed[0],
        42,
        "VALID",
        '{"ok":true}',
    )
    assert row.lease_owner is None


async def test_a_replay_records_the_transaction_that_applied_the_request_and_its_block(
    engine: AsyncEngine,
) -> None:
    # An earlier attempt was submitted and committed but never stored (its worker died between
    # the two): this attempt's transaction repeats the request, and its event names that one.
    peer = ScriptedPeer(engine, chaincode_events=[_replay_of("t-first")], blocks={"t-first": 7})
    processor, repo = _processor(engine, peer)
    cid = await record(engine, "TRANSFER_TOKENS", _transfer())
    await processor.process(await _claim_one(repo, cid))
    row = await command_row(engine, cid)
    assert peer.asked == [peer.endorsed[0], "t-first"]
    assert (row.status, row.tx_id, row.block_number, row.result_json) == (
        "COMMITTED",
        "t-first",
        7,
        '{"ok":true}',
    )


@pytest.mark.parametrize(
    "original",
    [MVCC, CommitStatusError(grpc.StatusCode.DEADLINE_EXCEEDED, "no such transaction")],
    ids=["invalid", "unknown"],
)
async def test_a_replay_naming_an_invalid_or_unknown_transaction_keeps_its_own(
    engine: AsyncEngine, original: Any
) -> None:
    peer = ScriptedPeer(engine, chaincode_events=[_replay_of("t-other")], statuses=[VALID, original])
    processor, repo = _processor(engine, peer)
    cid = await record(engine, "TRANSFER_TOKENS", _transfer())
    await processor.process(await _claim_one(repo, cid))
    row = await command_row(engine, cid)
    # A replay can only name a VALID transaction the peer knows; anything else is not taken on its word.
    assert peer.asked == [peer.endorsed[0], "t-other"]
    assert (row.status, row.tx_id, row.block_number) == ("COMMITTED", peer.endorsed[0], 42)


async def test_a_replay_whose_original_cannot_be_asked_now_is_finished_by_the_next_attempt(
    engine: AsyncEngine,
) -> None:
    down = CommitStatusError(grpc.StatusCode.UNAVAILABLE, "peer restarting")
    peer = ScriptedPeer(
        engine, chaincode_events=[_replay_of("t-first")], statuses=[VALID, down], blocks={"t-first": 7}
    )
    processor, repo = _processor(engine, peer)
    cid = await record(engine, "TRANSFER_TOKENS", _transfer())
    await processor.process(await _claim_one(repo, cid))
    waiting = await command_row(engine, cid)
    assert (waiting.status, waiting.tx_id, waiting.error_code) == (
        "SUBMITTED",
        peer.endorsed[0],
        "COMMIT_STATUS_UNKNOWN",
    )
    # The next attempt finds the stored replay committed, reads its event from the envelope, asks again.
    await processor.process(await _claim_one(repo, cid))
    row = await command_row(engine, cid)
    assert peer.endorsed == [waiting.tx_id] and peer.submitted == [f"env:{waiting.tx_id}".encode()]
    assert (row.status, row.tx_id, row.block_number) == ("COMMITTED", "t-first", 7)


async def test_a_stored_transaction_is_checked_then_resubmitted_never_re_endorsed(
    engine: AsyncEngine,
) -> None:
    peer = ScriptedPeer(engine)
    processor, repo = _processor(engine, peer)
    cid = await record(engine, "TRANSFER_TOKENS", _transfer())
    # An earlier worker endorsed and stored the transaction, then died before submitting.
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE outbox.commands SET status='SUBMITTED', tx_id='t-old', envelope=:e WHERE id=:id"),
            {"e": b"env:t-old", "id": cid},
        )
    peer.statuses = [CommitStatusError(grpc.StatusCode.DEADLINE_EXCEEDED, "not committed"), VALID]
    await processor.process(await _claim_one(repo, cid))
    assert peer.endorsed == []
    assert peer.submitted == [b"env:t-old"]
    assert (await command_row(engine, cid)).status == "COMMITTED"


async def test_an_already_committed_transaction_is_not_submitted_again(engine: AsyncEngine) -> None:
    peer = ScriptedPeer(engine)
    processor, repo = _processor(engine, peer)
    cid = await record(engine, "TRANSFER_TOKENS", _transfer())
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE outbox.commands SET status='SUBMITTED', tx_id='t-done', envelope=:e WHERE id=:id"),
            {"e": b"env:t-done", "id": cid},
        )
    await processor.process(await _claim_one(repo, cid))
    assert peer.submitted == [] and peer.endorsed == []
    assert (await command_row(engine, cid)).status == "COMMITTED"


async def test_duplicate_txid_on_resubmit_keeps_the_first_outcome(engine: AsyncEngine) -> None:
    peer = ScriptedPeer(engine)
    processor, repo = _processor(engine, peer)
    cid = await record(engine, "TRANSFER_TOKENS", _transfer())
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE outbox.commands SET status='SUBMITTED', tx_id='t-dup', envelope=:e WHERE id=:id"),
            {"e": b"env:t-dup", "id": cid},
        )
    peer.statuses = [CommitStatusError(grpc.StatusCode.DEADLINE_EXCEEDED, "x"), VALID]
    peer.submit_errors = [
        SubmitError(grpc.StatusCode.FAILED_PRECONDITION, "duplicate transaction found [t-dup]")
    ]
    await processor.process(await _claim_one(repo, cid))
    assert (await command_row(engine, cid)).status == "COMMITTED"


async def test_mvcc_conflict_builds_a_new_transaction_next_time(engine: AsyncEngine) -> None:
    peer = ScriptedPeer(engine)
    processor, repo = _processor(engine, peer)
    cid = await record(engine, "TRANSFER_TOKENS", _transfer())
    peer.statuses = [MVCC, VALID]
    await processor.process(await _claim_one(repo, cid))
    row = await command_row(engine, cid)
    # A read conflict is contention, not the command's fault: it spends no attempt, and comes
    # back after a small jittered delay (ProcessorSettings.conflict_backoff, 0.2 s: a quarter to all of it).
    assert (row.status, row.tx_id, row.attempts, row.validation_code) == (
        "PENDING",
        None,
        0,
        "MVCC_READ_CONFLICT",
    )
    assert 0.05 <= (row.next_attempt_at - row.updated_at).total_seconds() <= 0.2
    await processor.process(await _claim_one(repo, cid))
    assert len(peer.endorsed) == 2 and peer.endorsed[0] != peer.endorsed[1]
    row = await command_row(engine, cid)
    assert (row.status, row.tx_id) == ("COMMITTED", peer.endorsed[1])


async def test_read_conflicts_never_exhaust_the_attempts(engine: AsyncEngine) -> None:
    peer = ScriptedPeer(engine)
    processor, repo = _processor(engine, peer, max_attempts=3)
    cid = await record(engine, "TRANSFER_TOKENS", _transfer())
    phantom = 12  # PHANTOM_READ_CONFLICT
    peer.statuses = [MVCC, phantom] * 6 + [VALID]
    for _ in range(13):
        await processor.process(await _claim_one(repo, cid))
    row = await command_row(engine, cid)
    # Twelve conflicts against a limit of 3 attempts: still committed, each time on a new transaction.
    assert (row.status, row.attempts, row.error_code) == ("COMMITTED", 0, None)
    assert len(set(peer.endorsed)) == 13 and row.tx_id == peer.endorsed[-1]


async def test_business_rejection_fails_at_once_with_the_chaincode_reason(engine: AsyncEngine) -> None:
    peer = ScriptedPeer(engine)
    peer.endorse_errors = [
        EndorseError(
            grpc.StatusCode.ABORTED,
            "failed to endorse transaction, see attached details for more info",
            [
                ErrorDetail(
                    "peer0", "Org1MSP", "chaincode response 400, INSUFFICIENT_FUNDS: balance 5 < 10 + fee 0"
                )
            ],
        )
    ]
    processor, repo = _processor(engine, peer)
    cid = await record(engine, "TRANSFER_TOKENS", _transfer())
    await processor.process(await _claim_one(repo, cid))
    row = await command_row(engine, cid)
    assert (row.status, row.error_code, row.attempts) == ("FAILED", "INSUFFICIENT_FUNDS", 1)
    assert "balance 5 < 10" in row.error_message
    assert peer.submitted == []


async def test_unreachable_peer_waits_without_using_attempts(engine: AsyncEngine) -> None:
    peer = ScriptedPeer(engine)
    peer.endorse_errors = [EndorseError(grpc.StatusCode.UNAVAILABLE, "connection refused")] * 5
    processor, repo = _processor(engine, peer, max_attempts=2)
    cid = await record(engine, "TRANSFER_TOKENS", _transfer())
    for _ in range(5):
        await processor.process(await _claim_one(repo, cid))
    row = await command_row(engine, cid)
    assert (row.status, row.attempts, row.error_code) == ("PENDING", 0, "ENDORSE_FAILED")
    await processor.process(await _claim_one(repo, cid))
    assert (await command_row(engine, cid)).status == "COMMITTED"


async def test_transient_failures_dead_letter_after_the_attempt_limit(engine: AsyncEngine) -> None:
    peer = ScriptedPeer(engine)
    peer.endorse_errors = [EndorseError(grpc.StatusCode.DEADLINE_EXCEEDED, "slow")] * 3
    processor, repo = _processor(engine, peer, max_attempts=3)
    cid = await record(engine, "TRANSFER_TOKENS", _transfer())
    for _ in range(3):
        await processor.process(await _claim_one(repo, cid))
    row = await command_row(engine, cid)
    assert (row.status, row.error_code, row.attempts) == ("FAILED", "RETRIES_EXHAUSTED", 3)
    # Terminal: a worker never claims it again.
    assert [c.id for c in await repo.claim(100)].count(cid) == 0


async def test_a_worker_that_lost_its_lease_stores_and_records_nothing_and_the_new_owner_names_its_transaction(
    engine: AsyncEngine,
) -> None:
    peer = ScriptedPeer(engine)
    processor, repo = _processor(engine, peer, owner="slow-worker")
    cid = await record(engine, "TRANSFER_TOKENS", _transfer())
    claimed = await _claim_one(repo, cid)
    async with engine.begin() as conn:  # the lease expired and another worker took the command
        await conn.execute(
            text("UPDATE outbox.commands SET lease_owner = 'other' WHERE id = :id"), {"id": cid}
        )
    await processor.process(claimed)
    first = peer.endorsed[0]
    assert peer.submitted == [f"env:{first}".encode()]  # sent before the store found the lease gone
    row = await command_row(engine, cid)
    assert (row.lease_owner, row.status, row.tx_id) == ("other", "PENDING", None)
    assert peer.asked == []  # it waits for nothing and records nothing

    # The new owner's attempt repeats the request the slow worker's transaction applied.
    peer.chaincode_events = [_replay_of(first)]
    peer.blocks[first] = 9
    other, other_repo = _processor(engine, peer, owner="other")
    async with engine.begin() as conn:
        # (its claim, made up here: the test took the command for it by hand above)
        await conn.execute(
            text("UPDATE outbox.commands SET lease_expires_at = now() - interval '1 second' WHERE id = :id"),
            {"id": cid},
        )
    await other.process(await _claim_one(other_repo, cid))
    row = await command_row(engine, cid)
    assert (row.status, row.tx_id, row.block_number) == ("COMMITTED", first, 9)


async def test_operator_cancel_and_retry(engine: AsyncEngine) -> None:
    admin = OutboxAdmin(engine)
    cid = await record(engine, "TRANSFER_TOKENS", _transfer())
    cancelled = await admin.cancel(str(cid), "wrong amount")
    assert (cancelled.status, cancelled.error_code) == ("FAILED", "CANCELLED")
    retry_key = str(uuid.uuid4())
    retried = await admin.retry(str(cid), retry_key)
    again = await admin.retry(str(cid), retry_key)
    assert retried.id == again.id and retried.id != cid
    assert (retried.status, retried.retry_of) == ("PENDING", cid)
    assert retried.payload_json == cancelled.payload_json
    original = await admin.get(str(cid))
    assert (original.status, original.error_code) == ("FAILED", "CANCELLED")  # terminal states never change
    with pytest.raises(FailedPrecondition):
        await admin.retry(str(retried.id), str(uuid.uuid4()))  # not FAILED
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE outbox.commands SET status='SUBMITTED', tx_id='t' WHERE id=:id"), {"id": retried.id}
        )
    with pytest.raises(FailedPrecondition):
        await admin.cancel(str(retried.id))  # already sent to the ledger
    views, _ = await admin.list("FAILED")
    assert cid in [v.id for v in views]


async def test_peer_down_while_checking_a_stored_transaction_keeps_it_for_later(engine: AsyncEngine) -> None:
    peer = ScriptedPeer(engine)
    processor, repo = _processor(engine, peer)
    cid = await record(engine, "TRANSFER_TOKENS", _transfer())
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE outbox.commands SET status='SUBMITTED', tx_id='t-keep', envelope=:e WHERE id=:id"),
            {"e": b"env:t-keep", "id": cid},
        )
    peer.statuses = [CommitStatusError(grpc.StatusCode.UNAVAILABLE, "connection refused")]
    await processor.process(await _claim_one(repo, cid))
    row = await command_row(engine, cid)
    assert (row.status, row.tx_id, bytes(row.envelope), row.attempts, row.error_code) == (
        "SUBMITTED",
        "t-keep",
        b"env:t-keep",
        0,
        "COMMIT_STATUS_UNKNOWN",
    )
    assert peer.submitted == [] and peer.endorsed == []
