"""SQL of the outbox worker: claiming due commands under a lease and recording each outcome."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from outbox.group_commit import GroupCommit
from outbox.metrics import OutboxMetrics
from outbox.statements import Statements
from services.common.names import OUTBOX_NOTIFY_CHANNEL

PENDING = "PENDING"
SUBMITTED = "SUBMITTED"
COMMITTED = "COMMITTED"
FAILED = "FAILED"
TERMINAL = frozenset({COMMITTED, FAILED})


@dataclass(frozen=True)
class ClaimedCommand:
    """A command this worker holds the lease on.

    Attributes:
        id: the command id.
        command_type: the `gx.type.v1.CommandType` name without prefix (e.g. `TRANSFER_TOKENS`).
        payload_json: the proto JSON of its `gx.ledger.v1` request.
        status: PENDING or SUBMITTED.
        attempts: attempts already made.
        tx_id: the stored Fabric transaction id, when one was endorsed before.
        envelope: the stored signed envelope for `tx_id`.
        created_at: when the command was recorded.
        depends_on: the prerequisite command it was accepted on, if any; the claim only hands
            it out once that one finished, and the processor fails it if that one FAILED.
        traceparent: the W3C trace of the request that recorded it (the worker logs under it).
        freed_by: for a command handed over by the statement that recorded its predecessors'
            outcomes, the commands that statement finished (empty for an ordinary claim).
        freed_at_block: the highest block among `freed_by`'s commits (0 for an ordinary claim).
    """

    id: uuid.UUID
    command_type: str
    payload_json: str
    status: str
    attempts: int
    tx_id: str | None
    envelope: bytes | None
    created_at: datetime
    depends_on: uuid.UUID | None = None
    traceparent: str | None = None
    freed_by: frozenset[uuid.UUID] = frozenset()
    freed_at_block: int = 0


@dataclass(frozen=True)
class Successor:
    """The command next in line behind one in flight: what a speculative endorsement needs.

    Attributes:
        id: the successor's command id.
        command_type: its `gx.type.v1.CommandType` name without prefix.
        payload_json: the proto JSON of its `gx.ledger.v1` request.
    """

    id: uuid.UUID
    command_type: str
    payload_json: str


@dataclass(frozen=True)
class PrerequisiteOutcome:
    """How a command's prerequisite ended (it is terminal when a dependent is claimed)."""

    command_id: uuid.UUID
    command_type: str
    status: str
    error_code: str | None


# Due = not terminal, its backoff over, and no live lease. Runnable = due, and
# (1) no EARLIER live command holds one of its ordering keys in a conflicting mode
#     (services/common/ordering.py `conflicts`: an exclusive key against any of mine, or any
#     key against one of my exclusive ones); `outbox.live_keys` holds the keys of unfinished
#     commands only (kept by triggers, migration 0007), so each test is one B-tree probe, and
#     a shared key probes the exclusive holders only (a hot merchant's credits are skipped).
#     OFFSET 0 keeps the planner from turning the test into one anti-join over every live key
#     (it did, without fresh statistics: 0.5 s instead of 45 ms for 5,000 queued commands), and
# (2) its prerequisite (depends_on), if any, has finished.
# Both depend only on other rows' status, never on leases, so two workers cannot both hand
# out two ordered commands: the later one is not runnable until the earlier one is terminal,
# and terminal is forever. Only EARLIER rows block, so a stream of later shared holders never
# starves an exclusive one. Oldest due first; SKIP LOCKED lets several workers claim
# concurrently without waiting on each other's row locks; the lease (not the row lock, which
# ends with this statement's transaction) keeps a claimed command to one worker while it talks
# to the peer.


def _runnable(finishing: str = "") -> str:
    """The runnable test of `c` (above); `finishing`: SQL of the ids this same statement finishes.

    A statement reads the snapshot from before its own updates, so the keys (and the prerequisite
    role) of the commands it finishes would still block their successors there; they do not count.
    """
    not_finishing = f" AND e.command_id NOT IN ({finishing})" if finishing else ""
    prerequisite_not_finishing = f" AND p.id NOT IN ({finishing})" if finishing else ""
    return f"""
          AND NOT EXISTS (
              SELECT 1 FROM outbox.live_keys mine
               WHERE mine.command_id = c.id
                 AND (EXISTS (SELECT 1 FROM outbox.live_keys e
                               WHERE e.key = mine.key AND e.seq < mine.seq AND e.exclusive{not_finishing})
                      OR (mine.exclusive AND EXISTS (SELECT 1 FROM outbox.live_keys e
                                                      WHERE e.key = mine.key AND e.seq < mine.seq{not_finishing})))
              OFFSET 0)
          AND (c.depends_on IS NULL OR NOT EXISTS (
              SELECT 1 FROM outbox.commands p
               WHERE p.id = c.depends_on AND p.status IN ('PENDING', 'SUBMITTED'){prerequisite_not_finishing} OFFSET 0))
"""


_RUNNABLE = _runnable()


# SQL of (predecessor, id): on each key of the commands of the CTE `finishing` (a column `id`), the
# NEXT holder in a conflicting mode (a sender's next debit waits on the sender's exclusive key; a
# credit only behind an exclusive holder), and their dependents. These are the commands that
# finishing one of them can make runnable (not that it does: another holder may still block one).
# The statement that records outcomes hands them over; the look-up of `_NEXT_IN_LINE` guesses which.
_NEXT_HOLDERS = """
        SELECT me.id AS predecessor, s.command_id AS id FROM finishing JOIN outbox.commands me ON me.id = finishing.id
          CROSS JOIN LATERAL unnest(me.order_keys) AS k(key)
          CROSS JOIN LATERAL (SELECT l.command_id FROM outbox.live_keys l
                               WHERE l.key = k.key AND l.seq > me.seq AND l.exclusive ORDER BY l.seq LIMIT 1) s
        UNION
        SELECT me.id, s.command_id FROM finishing JOIN outbox.commands me ON me.id = finishing.id
          CROSS JOIN LATERAL unnest(me.exclusive_keys) AS k(key)
          CROSS JOIN LATERAL (SELECT l.command_id FROM outbox.live_keys l
                               WHERE l.key = k.key AND l.seq > me.seq ORDER BY l.seq LIMIT 1) s
        UNION
        SELECT d.depends_on, d.id FROM outbox.commands d JOIN finishing ON d.depends_on = finishing.id"""


# Taking or giving up a lease (the claim, the hand-over, the release) writes only the lease
# columns, which no index covers, and leaves `updated_at` (the last change of the command's state,
# an operation's update_time) alone: such an update is HOT, no new entry in any of the table's
# indexes. With `updated_at = now()` it was not (commands_finished_idx keys on it, for retention):
# 0 of 1,000 claim-like updates HOT, 7.5 kB of WAL each, against 848 HOT and 2.9 kB without it.
_CLAIMED_COLUMNS = """c.id, c.command_type, c.payload::text AS payload_json, c.status, c.attempts,
              c.tx_id, c.envelope, c.created_at, c.depends_on, c.traceparent"""
_CLAIM = f"""
    WITH due AS (
        SELECT c.id FROM outbox.commands c
        WHERE c.status IN ('PENDING', 'SUBMITTED')
          AND c.next_attempt_at <= now()
          AND (c.lease_expires_at IS NULL OR c.lease_expires_at < now())
          {_RUNNABLE}
        ORDER BY c.next_attempt_at, c.seq
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    )
    UPDATE outbox.commands AS c
       SET lease_owner = %(owner)s,
           lease_expires_at = now() + make_interval(secs => %(lease)s)
      FROM due
     WHERE c.id = due.id
    RETURNING {_CLAIMED_COLUMNS}
    """
# When a command finishes and a later one was waiting for it, wake every worker (delivered on
# commit), not only the one that finished it: that one may be busy up to its concurrency, and
# the others would otherwise find the freed command only at their next poll. It is a CTE of the
# statement that finishes the command (`done`, the UPDATE … RETURNING id, in `_update`): it reads
# the snapshot from before that update, where only this command's own live keys differ (the
# trigger drops them), and those never match `l.seq > me.seq`; NOTIFY is delivered when the
# statement commits, so a woken worker finds the command terminal.
_WAKE_SUCCESSORS = """woken AS (
        SELECT pg_notify(%(channel)s, CAST(me.id AS text)) FROM outbox.commands me JOIN done ON done.id = me.id
         WHERE EXISTS (SELECT 1 FROM unnest(me.order_keys) AS k
                        WHERE EXISTS (SELECT 1 FROM outbox.live_keys l
                                       WHERE l.key = k AND l.seq > me.seq AND l.exclusive))
            OR EXISTS (SELECT 1 FROM unnest(me.exclusive_keys) AS k
                        WHERE EXISTS (SELECT 1 FROM outbox.live_keys l WHERE l.key = k AND l.seq > me.seq))
            OR EXISTS (SELECT 1 FROM outbox.commands d
                        WHERE d.depends_on = me.id AND d.status IN ('PENDING', 'SUBMITTED')))"""
# The two updates every command makes, grouped (outbox/group_commit.py): the envelopes endorsed
# in the same moment stored in one statement, the outcomes of one block recorded in one. Each row
# keeps the fence of `_update` (`lease_owner = :owner`, not terminal); the ids that matched come
# back, so each caller learns whether ITS lease still held.
_FENCED = "c.id = v.id AND c.lease_owner = %(owner)s AND c.status IN ('PENDING', 'SUBMITTED')"
_STORE_ENVELOPES = f"""
    WITH v AS (SELECT * FROM unnest(CAST(%(ids)s AS uuid[]), CAST(%(tx_ids)s AS text[]), CAST(%(envelopes)s AS bytea[]))
                          AS v(id, tx_id, envelope)),
    done AS (
        UPDATE outbox.commands AS c
           SET status = 'SUBMITTED', tx_id = v.tx_id, envelope = v.envelope, block_number = NULL,
               validation_code = NULL, updated_at = now()
          FROM v WHERE {_FENCED}
        RETURNING c.id)
    SELECT id FROM done
    """
# Recording the outcomes also claims (up to %(handover)s, one per finished command: each frees the
# slot it held) the successors they were holding back, so this worker starts them at once instead
# of waiting for the NOTIFY and a claim round trip. Successors = on each key, the NEXT holder in a
# conflicting mode (a sender's next transfer; every later holder was 624 candidates for 16 finished
# transfers with 40 queued per sender, ~7 ms of the statement), and dependents; they get the
# claim's runnable test with the finishing commands not counted, and the claim's lease. Whatever
# this leaves (the second of two credits freed by a payout, say) the NOTIFY of `woken` and the
# ordinary claim pick up. The statement commits as one, so no other worker can see the successor
# runnable before the predecessor is terminal.
# It NOTIFYs only when the hand-over may have left a freed command behind (`_WAKE_UNLESS_HANDED`):
# a sender's next transfer, handed over here, woke every worker into a claim that found nothing
# (the claim was ~17% of the worker's event-loop CPU under `bench ordering`). On each key, the
# next later holder in a conflicting mode (n1) is the only one this command can free, unless it
# holds the key EXCLUSIVE and n1 is SHARED: then the run of SHARED holders after n1 is freed too, and
# its second member (n2, if SHARED) is what the hand-over (one per finished command) left. So the
# workers are woken when some n1 was not handed over, or some SHARED n1 is followed by a SHARED n2
# that was not, or a dependent was not (a transfer back to the sender of the one just finished:
# n1 SHARED, n2 its sender's next debit, EXCLUSIVE: nothing to wake for). A successor that another
# command still blocks wakes them as before (a claim that finds nothing, harmless).
_WAKE_UNLESS_HANDED = """woken AS (
        SELECT pg_notify(%(channel)s, CAST(me.id AS text)) FROM outbox.commands me JOIN done ON done.id = me.id
         WHERE EXISTS (SELECT 1 FROM unnest(me.order_keys) AS k(key)
                         CROSS JOIN LATERAL (
                             SELECT array_agg(h.command_id ORDER BY h.seq) AS ids,
                                    array_agg(h.exclusive ORDER BY h.seq) AS ex
                               FROM (SELECT l.command_id, l.exclusive, l.seq FROM outbox.live_keys l
                                      WHERE l.key = k.key AND l.seq > me.seq
                                        AND (l.exclusive OR k.key = ANY(me.exclusive_keys))
                                      ORDER BY l.seq LIMIT 2) h) n
                        WHERE n.ids[1] NOT IN (SELECT id FROM handed)
                           OR (NOT n.ex[1] AND n.ex[2] IS FALSE AND n.ids[2] NOT IN (SELECT id FROM handed)))
            OR EXISTS (SELECT 1 FROM outbox.commands d
                        WHERE d.depends_on = me.id AND d.status IN ('PENDING', 'SUBMITTED')
                          AND d.id NOT IN (SELECT id FROM handed)))"""
_RECORD_COMMITTED = f"""
    WITH v AS (SELECT * FROM unnest(CAST(%(ids)s AS uuid[]), CAST(%(blocks)s AS bigint[]), CAST(%(results)s AS text[]),
                                    CAST(%(tx_ids)s AS text[]))
                          AS v(id, block, result, tx_id)),
    done AS (
        UPDATE outbox.commands AS c
           SET status = 'COMMITTED', block_number = v.block, validation_code = 'VALID', result_json = v.result,
               tx_id = COALESCE(v.tx_id, c.tx_id),
               error_code = NULL, error_message = NULL, lease_owner = NULL, lease_expires_at = NULL,
               updated_at = now()
          FROM v WHERE {_FENCED}
        RETURNING c.id),
    finishing AS (SELECT id FROM done),
    successors AS ({_NEXT_HOLDERS}),
    runnable AS (
        SELECT c.id FROM outbox.commands c
        WHERE c.id IN (SELECT id FROM successors) AND c.id NOT IN (SELECT id FROM v)
          AND c.status IN ('PENDING', 'SUBMITTED')
          AND c.next_attempt_at <= now()
          AND (c.lease_expires_at IS NULL OR c.lease_expires_at < now())
          {_runnable("SELECT id FROM done")}
        ORDER BY c.next_attempt_at, c.seq
        LIMIT %(handover)s
        FOR UPDATE SKIP LOCKED),
    handed AS (
        UPDATE outbox.commands AS c
           SET lease_owner = %(owner)s, lease_expires_at = now() + make_interval(secs => %(lease)s)
          FROM runnable WHERE c.id = runnable.id
        RETURNING {_CLAIMED_COLUMNS}),
    {_WAKE_UNLESS_HANDED}
    SELECT TRUE AS finished, id, NULL AS command_type, NULL AS payload_json, NULL AS status,
           NULL::integer AS attempts, NULL AS tx_id, NULL::bytea AS envelope, NULL::timestamptz AS created_at,
           NULL::uuid AS depends_on, NULL AS traceparent, (SELECT count(*) FROM woken) AS woken
      FROM done
    UNION ALL
    SELECT FALSE, id, command_type, payload_json, status, attempts, tx_id, envelope, created_at, depends_on,
           traceparent, 0
      FROM handed
    """
# For commands in flight, the successor each will most likely hand over when it commits (its
# next holder of lowest seq that no earlier attempt endorsed): the processor endorses that one
# speculatively while the outcome is being recorded (outbox/speculation.py). Read-only: it claims
# nothing, and the hand-over of `_RECORD_COMMITTED` still decides who runs what.
_NEXT_IN_LINE = f"""
    WITH finishing AS (SELECT unnest(CAST(%(ids)s AS uuid[])) AS id),
    candidates AS ({_NEXT_HOLDERS})
    SELECT DISTINCT ON (c.predecessor) c.predecessor, s.id, s.command_type, s.payload::text AS payload_json
      FROM candidates c JOIN outbox.commands s ON s.id = c.id
     WHERE s.status = 'PENDING' AND s.tx_id IS NULL
     ORDER BY c.predecessor, s.seq
    """
# Due commands that wait behind an earlier one (ordering metric; bounded so a huge backlog
# cannot make the stats refresh expensive).
_BLOCKED = text(
    """
    SELECT count(*) AS n FROM (
        SELECT 1 FROM outbox.commands c
         WHERE c.status IN ('PENDING', 'SUBMITTED') AND c.next_attempt_at <= now()
           AND NOT (TRUE """
    + _RUNNABLE
    + """)
         LIMIT 10000) blocked
    """
)


def _claimed(r: Any) -> ClaimedCommand:
    return ClaimedCommand(
        id=r.id,
        command_type=r.command_type,
        payload_json=r.payload_json,
        status=r.status,
        attempts=r.attempts,
        tx_id=r.tx_id,
        envelope=bytes(r.envelope) if r.envelope is not None else None,
        created_at=r.created_at,
        depends_on=r.depends_on,
        traceparent=r.traceparent,
    )


class OutboxRepository:
    """Every statement the worker runs against `outbox.commands`.

    Each update is fenced by the lease: it only applies while this worker still holds it
    (`lease_owner = :owner AND status = ...`), so a worker that stalled past its lease can
    never overwrite what the worker that took over recorded.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        owner: str,
        lease_seconds: float,
        *,
        pool: AsyncConnectionPool | None = None,
        metrics: OutboxMetrics | None = None,
    ) -> None:
        """Statements on `engine`; the hot ones (claim, store, record, reschedule) on `pool` if given.

        Args:
            engine: the process's engine.
            owner: this worker's lease name.
            lease_seconds: how long a claim lasts without a heartbeat.
            pool: autocommit psycopg connections for the one-statement hot path
                (`outbox/statements.py`); None runs the same statements on the engine.
            metrics: where the hot-path statements are counted (`gx_outbox_statements_total`).
        """
        self._engine = engine
        self._sql = Statements(engine, pool)
        self._count = metrics.statements if metrics is not None else None
        self.owner = owner
        self._lease = lease_seconds
        self._store_envelopes: GroupCommit[tuple[uuid.UUID, str, bytes], bool] = GroupCommit(
            self._store_batch
        )
        self._record_commits: GroupCommit[tuple[uuid.UUID, int, str | None, str | None], bool] = GroupCommit(
            self._commit_batch
        )
        # Read-only and off the critical path (asked while the commit is awaited): one at a time.
        self._peeks: GroupCommit[uuid.UUID, Successor | None] = GroupCommit(
            self._peek_batch, max_concurrent=1
        )
        # Where recording an outcome hands the successors it claimed (the worker's `_start`); None:
        # it claims none (a repository used on its own, or a worker that is stopping).
        self.hand_over: Callable[[list[ClaimedCommand]], None] | None = None
        # Told the delay of each command given back for later (the worker wakes its claim loop
        # then, instead of at the next poll); None: nobody is told.
        self.on_reschedule: Callable[[float], None] | None = None

    def _counted(self, statement: str) -> None:
        if self._count is not None:
            self._count.labels(statement).inc()

    @property
    def statements(self) -> int:
        """Grouped statements run so far (envelopes stored, outcomes recorded): a test's view of the grouping."""
        return self._store_envelopes.batches + self._record_commits.batches + self._peeks.batches

    async def claim(self, limit: int) -> list[ClaimedCommand]:
        """Claim up to `limit` due commands for this worker."""
        if limit <= 0:
            return []
        # One statement (FOR UPDATE SKIP LOCKED and the UPDATE in one CTE), atomic in autocommit:
        # BEGIN and COMMIT around it were two more round trips.
        self._counted("claim")
        rows = await self._sql.rows(_CLAIM, {"limit": limit, "owner": self.owner, "lease": self._lease})
        return [_claimed(r) for r in rows]

    async def prerequisite(self, command_id: uuid.UUID) -> PrerequisiteOutcome | None:
        """How a dependent's prerequisite stands (None: no such command)."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT id, command_type, status, error_code FROM outbox.commands WHERE id = :id"),
                    {"id": command_id},
                )
            ).first()
        return (
            None if row is None else PrerequisiteOutcome(row.id, row.command_type, row.status, row.error_code)
        )

    async def extend_leases(self, ids: list[uuid.UUID]) -> None:
        """Push the lease of in-flight commands forward (a heartbeat while the peer is slow)."""
        if not ids:
            return
        async with self._engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE outbox.commands SET lease_expires_at = now() + make_interval(secs => :lease)"
                    " WHERE id = ANY(:ids) AND lease_owner = :owner AND status IN ('PENDING', 'SUBMITTED')"
                ),
                {"lease": self._lease, "ids": ids, "owner": self.owner},
            )

    async def _update(
        self, command_id: uuid.UUID, sets: str, params: dict[str, Any], *, finishes: bool = False
    ) -> bool:
        # ONE statement in autocommit, which is atomic on its own: BEGIN and COMMIT around it were
        # two more round trips on each of a command's two or three updates (with 16 commands in
        # flight an update took ~25 ms and 0.75 ms of this process's CPU in a transaction block,
        # ~18 ms and 0.45 ms alone). A finishing update wakes the successors in the same statement.
        if finishes:
            statement = (
                f"WITH done AS (UPDATE outbox.commands SET {sets}, updated_at = now()"
                " WHERE id = %(id)s AND lease_owner = %(owner)s AND status IN ('PENDING', 'SUBMITTED') RETURNING id),"
                f" {_WAKE_SUCCESSORS}"
                " SELECT (SELECT count(*) FROM done) AS updated, (SELECT count(*) FROM woken) AS woken"
            )
        else:
            statement = (
                f"WITH done AS (UPDATE outbox.commands SET {sets}, updated_at = now()"
                " WHERE id = %(id)s AND lease_owner = %(owner)s AND status IN ('PENDING', 'SUBMITTED') RETURNING id)"
                " SELECT count(*) AS updated FROM done"
            )
        values = {"id": command_id, "owner": self.owner, **params}
        if finishes:
            values["channel"] = OUTBOX_NOTIFY_CHANNEL
        self._counted("update")
        (row,) = await self._sql.rows(statement, values)
        return int(row.updated) == 1

    async def record_endorsed(self, command_id: uuid.UUID, tx_id: str, envelope: bytes) -> bool:
        """Store the transaction id and signed envelope, after its first Submit and before its
        commit is awaited (outbox/processor.py, step 2).

        Grouped with the other envelopes submitted in the same moment (one statement); returns only
        once the statement has committed, so a commit status is awaited only for a stored one.

        Returns:
            False when the lease was lost; the caller then records nothing (the new owner's
            attempt is answered as a replay if this transaction committed).
        """
        return await self._store_envelopes.call((command_id, tx_id, envelope))

    async def _store_batch(self, batch: Sequence[tuple[uuid.UUID, str, bytes]]) -> list[bool]:
        ids, tx_ids, envelopes = zip(*batch, strict=True)
        params = {"ids": list(ids), "tx_ids": list(tx_ids), "envelopes": list(envelopes), "owner": self.owner}
        self._counted("store_envelopes")
        stored = {row.id for row in await self._sql.rows(_STORE_ENVELOPES, params)}
        return [command_id in stored for command_id in ids]

    async def record_committed(
        self, command_id: uuid.UUID, block_number: int, result_json: str | None, tx_id: str | None = None
    ) -> bool:
        """Mark the command COMMITTED (terminal) with its block and chaincode result.

        `tx_id` replaces the stored transaction id when another transaction applied the request
        (the stored one was a replay of it: outbox/replays.py); `block_number` is then that one's.
        Grouped with the other outcomes recorded in the same moment (the commits of one block
        come back together); the statement also wakes the workers when a successor was waiting.
        """
        return await self._record_commits.call((command_id, block_number, result_json, tx_id))

    async def _commit_batch(
        self, batch: Sequence[tuple[uuid.UUID, int, str | None, str | None]]
    ) -> list[bool]:
        ids, blocks, results, tx_ids = zip(*batch, strict=True)
        hand_over = self.hand_over
        params = {
            "ids": list(ids),
            "blocks": list(blocks),
            "results": list(results),
            "tx_ids": list(tx_ids),
            "owner": self.owner,
            "lease": self._lease,
            "handover": len(batch) if hand_over is not None else 0,
            "channel": OUTBOX_NOTIFY_CHANNEL,
        }
        self._counted("record_committed")
        rows = await self._sql.rows(_RECORD_COMMITTED, params)
        recorded = frozenset(row.id for row in rows if row.finished)
        # Each successor learns which commits freed it: a speculative endorsement made after the
        # last of them is one made on the state the successor needs (outbox/speculation.py).
        freed_at_block = max((b for i, b in zip(ids, blocks, strict=True) if i in recorded), default=0)
        successors = [
            replace(_claimed(row), freed_by=recorded, freed_at_block=freed_at_block)
            for row in rows
            if not row.finished
        ]
        if successors and hand_over is not None:
            hand_over(successors)
        return [command_id in recorded for command_id in ids]

    async def next_in_line(self, command_id: uuid.UUID) -> Successor | None:
        """The command `command_id`'s commit will most likely hand over, if one is queued behind it
        and was never endorsed; grouped with the other commands asking in the same moment."""
        return await self._peeks.call(command_id)

    async def _peek_batch(self, batch: Sequence[uuid.UUID]) -> list[Successor | None]:
        self._counted("next_in_line")
        rows = await self._sql.rows(_NEXT_IN_LINE, {"ids": list(batch)})
        found = {row.predecessor: Successor(row.id, row.command_type, row.payload_json) for row in rows}
        return [found.get(command_id) for command_id in batch]

    async def record_failed(
        self,
        command_id: uuid.UUID,
        error_code: str,
        error_message: str,
        *,
        validation_code: str | None = None,
        block_number: int | None = None,
        count_attempt: bool = True,
    ) -> bool:
        """Mark the command FAILED (terminal, dead-lettered) with a reason and message."""
        return await self._update(
            command_id,
            "status = 'FAILED', error_code = %(code)s, error_message = %(message)s,"
            " validation_code = COALESCE(%(vcode)s, validation_code),"
            " block_number = COALESCE(%(block)s, block_number),"
            " attempts = attempts + %(inc)s, lease_owner = NULL, lease_expires_at = NULL",
            {
                "code": error_code,
                "message": error_message[:2000],
                "vcode": validation_code,
                "block": block_number,
                "inc": 1 if count_attempt else 0,
            },
            finishes=True,
        )

    async def reschedule(
        self,
        command_id: uuid.UUID,
        delay: float,
        error_code: str,
        error_message: str,
        *,
        count_attempt: bool,
        forget_transaction: bool = False,
        validation_code: str | None = None,
    ) -> bool:
        """Give the command back with a backoff and the reason it must wait.

        Args:
            command_id: the command.
            delay: seconds until it is due again.
            error_code: why (kept for operators; the command is not failed).
            error_message: details.
            count_attempt: False for waits that are the peer's outage, not the command's
                fault (peer unreachable, breaker open): those never dead-letter a command.
            forget_transaction: True after an MVCC/phantom conflict, so the next attempt builds
                a new transaction; otherwise the stored envelope is kept and re-submitted.
            validation_code: the invalid commit's code, if that was the cause.
        """
        sets = (
            "next_attempt_at = now() + make_interval(secs => %(delay)s), error_code = %(code)s,"
            " error_message = %(message)s, attempts = attempts + %(inc)s,"
            " lease_owner = NULL, lease_expires_at = NULL,"
            " validation_code = COALESCE(%(vcode)s, validation_code)"
        )
        if forget_transaction:
            sets += ", status = 'PENDING', tx_id = NULL, envelope = NULL, block_number = NULL"
        updated = await self._update(
            command_id,
            sets,
            {
                "delay": max(0.0, delay),
                "code": error_code,
                "message": error_message[:2000],
                "inc": 1 if count_attempt else 0,
                "vcode": validation_code,
            },
        )
        if updated and self.on_reschedule is not None:
            self.on_reschedule(max(0.0, delay))
        return updated

    async def release(self, command_ids: list[uuid.UUID]) -> None:
        """Give up leases at once (on shutdown) so another worker need not wait them out."""
        if not command_ids:
            return
        async with self._engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE outbox.commands SET lease_owner = NULL, lease_expires_at = NULL"
                    " WHERE id = ANY(:ids) AND lease_owner = :owner"
                ),
                {"ids": command_ids, "owner": self.owner},
            )

    async def blocked_count(self) -> int:
        """Due commands that wait for an earlier command on one of their keys (or a prerequisite)."""
        async with self._engine.connect() as conn:
            return int((await conn.execute(_BLOCKED)).scalar_one())

    async def queue_stats(self) -> tuple[dict[str, int], float]:
        """Non-terminal commands per status and the age in seconds of the oldest one."""
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT status, count(*) AS n,"
                        " COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0) AS age"
                        " FROM outbox.commands WHERE status IN ('PENDING', 'SUBMITTED') GROUP BY status"
                    )
                )
            ).all()
        depth = {PENDING: 0, SUBMITTED: 0}
        oldest = 0.0
        for row in rows:
            depth[row.status] = int(row.n)
            oldest = max(oldest, float(row.age))
        return depth, oldest
