"""Applying a bounded batch of transactions in ONE database transaction, with the checkpoint.

`runner.apply_event` spends a dozen round trips on every transaction (lock the checkpoint, mark it
projected, probe its trace, each handler statement, the checkpoint, the commit): at ~0.3 ms each,
that was the projector's whole budget. A batch pays the bookkeeping once: one checkpoint lock, one
`unnest` insert into `projected_txs` that also says which transactions are new, one trace probe,
one checkpoint update, one commit, in three round trips. The handlers' statements run unchanged and in the same order,
but queued on psycopg's pipeline (sent without waiting for each answer), so a whole batch of
writes costs about one round trip.

Same rows as one by one (tests/workers/test_projector_batch.py proves it): the statements and their
order are those of `apply_event`; only when they are sent changes. A money mail names the balance
the read model shows after its transaction: that wallet is read at the transaction's place in the
pipeline and the mail recorded after the batch's writes (one insert each); mails recorded before,
as on a rebuild that replays young transactions, are found in bulk and skipped.

Any failure (a poison event, a handler or database error) rolls the whole batch back and raises
`BatchFailed`; the runner then applies the same transactions one by one with `apply_event`, which
finds the poison, records it and halts exactly as before.
"""

from __future__ import annotations

import collections
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol

from gx.ledger.v1 import events_pb2
from psycopg.rows import namedtuple_row
from sqlalchemy import Select, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from projector import balances, notifications, store
from projector.decode import PoisonEventError, command_type_name, decode, event_time
from projector.handlers import HANDLERS, SET_BASED, TxContext
from projector.metrics import ProjectorMetrics
from services.common import tracing
from services.common.logging import trace_var

_LOG = logging.getLogger(__name__)


class ChaincodeEvent(Protocol):
    """What the stream yields (fabric_client's ChaincodeEvent, a test's scripted event)."""

    @property
    def block_number(self) -> int: ...

    @property
    def tx_id(self) -> str: ...

    @property
    def event_name(self) -> str: ...

    @property
    def payload(self) -> bytes: ...


@dataclass(frozen=True)
class Received:
    """A stream event decoded as it arrived: the runner's reader decodes while a batch is written.

    Attributes:
        message: the decoded `LedgerEvents`, or None when `error` says why it is poison.
    """

    block_number: int
    tx_id: str
    event_name: str
    payload: bytes
    message: events_pb2.LedgerEvents | None
    error: PoisonEventError | None


def receive(event: ChaincodeEvent) -> Received:
    """Decode one stream event now (`decode`'s PoisonEventError is kept, raised when applied)."""
    try:
        message, error = decode(event.event_name, event.payload), None
    except PoisonEventError as poison:
        message, error = None, poison
    return Received(event.block_number, event.tx_id, event.event_name, event.payload, message, error)


class BatchFailed(Exception):
    """The batch was rolled back (nothing of it is written); apply its transactions one by one."""


@dataclass(frozen=True)
class _Tx:
    event: ChaincodeEvent
    message: events_pb2.LedgerEvents
    when: datetime | None


# Hand-written handler SQL (SQLAlchemy `:name` parameters) as psycopg runs it (`%(name)s`),
# compiled once per statement text by the connection's own dialect.
_PSYCOPG_SQL: dict[str, str] = {}


def _psycopg_sql(dialect: Dialect, sql: str) -> str:
    compiled = _PSYCOPG_SQL.get(sql)
    if compiled is None:
        compiled = _PSYCOPG_SQL[sql] = text(sql).compile(dialect=dialect).string
    return compiled


# A statement on the wallets otherwise than a balance change: the changes kept go before it.
_WALLETS = "ledger.wallets"

# The queries a batch reads in its pipeline (module constants), compiled once.
_COMPILED: dict[Select[Any], Any] = {}


class PipelineWriter:
    """Sends the handlers' hand-written statements on the driver connection's pipeline.

    Nothing is awaited per statement: psycopg queues it and the server answers the whole
    pipeline at the next sync. An error surfaces at a later statement or at the sync, and fails
    the batch (which is then retried one by one, where errors are attributed to their event).
    """

    def __init__(self, dialect: Dialect, driver: Any) -> None:
        self._dialect = dialect
        self._driver = driver
        self._cursor = driver.cursor()
        self._entered: Any = None  # the pipeline() context manager, while in pipeline mode
        self._appends: dict[str, list[dict[str, Any]]] = {}
        self._changes: list[balances.Change] = []
        self._pipeline: Any = None

    async def run(self, sql: str, params: dict[str, Any]) -> None:
        """Queue one statement (see `handlers.StatementWriter`)."""
        if self._changes and _WALLETS in sql:
            await self.write_balances()
        await self._enter()
        await self._cursor.execute(_psycopg_sql(self._dialect, sql), params)

    async def balance(self, change: balances.Change) -> None:
        """Keep a balance change until a statement on the wallets otherwise, a query or the end."""
        self._changes.append(change)

    async def write_balances(self) -> None:
        """Queue the kept balance changes, folded per wallet (`projector.balances`)."""
        changes, self._changes = self._changes, []
        if not changes:
            return
        folded = balances.fold(changes)
        await self._enter()
        for sql, rows in ((balances.SET_MANY, folded.set_rows), (balances.ADD_MANY, folded.add_rows)):
            if rows:
                await self._cursor.execute(_psycopg_sql(self._dialect, sql), {"rows": store.json_rows(rows)})
        for change in folded.singles:
            await self._cursor.execute(_psycopg_sql(self._dialect, change.sql), change.params)

    async def append(self, sql: str, params: dict[str, Any]) -> None:
        """Keep an append-only insert for `flush` (one set-based statement per statement, in order)."""
        self._appends.setdefault(sql, []).append(params)

    async def flush(self) -> None:
        """Queue the kept append-only inserts: their rows in the order the handlers made them.

        Only history legs are appended: they go to `ledger.transactions`, which no handler or mail
        reads, so sending them after the batch's other statements changes no row. They go as ONE
        statement (`handlers.SET_BASED`: arrays of each parameter, unnested in order), so their
        order, and so the serial ids they get, stays that of one by one.
        """
        await self.write_balances()
        appends, self._appends = self._appends, {}
        for sql, rows in appends.items():
            await self._enter()
            many = SET_BASED.get(sql)
            if many is None:
                await self._cursor.executemany(_psycopg_sql(self._dialect, sql), rows)
            else:
                await self._cursor.execute(_psycopg_sql(self._dialect, many), {"rows": store.json_rows(rows)})

    async def query(self, statement: str | Select[Any], params: dict[str, Any]) -> Any:
        """Queue one query (SQL text or a Core select) at this place; returns its cursor, whose rows
        can be fetched after the next `sync` (or once the writer is closed)."""
        await self.write_balances()  # a query reads them where it stands
        await self._enter()
        if isinstance(statement, str):
            sql, values = _psycopg_sql(self._dialect, statement), params
        else:
            compiled = _COMPILED.get(statement)
            if compiled is None:
                compiled = _COMPILED[statement] = statement.compile(dialect=self._dialect)
            sql, values = compiled.string, {**compiled.params, **params}
        cursor = self._driver.cursor(row_factory=namedtuple_row)
        await cursor.execute(sql, values)
        return cursor

    async def sync(self) -> None:
        """Have the server run everything queued so far (raises the first error); stays pipelined."""
        if self._pipeline is not None:
            await self._pipeline.sync()

    async def _enter(self) -> None:
        if self._entered is None:
            entered = self._driver.pipeline()
            self._pipeline = await entered.__aenter__()
            self._entered = entered

    async def __aenter__(self) -> PipelineWriter:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        entered, self._entered, self._pipeline = self._entered, None, None
        if entered is not None:
            await entered.__aexit__(kind, error, tb)


class _GenerationChanged(Exception):
    """A rebuild reset the checkpoint: roll the batch back."""


# From this many transactions that may mail, a batch asks which mails are recorded before it
# writes (see apply_batch).
_PROBE_FIRST = 8
# The money mails already recorded among `:keys` (notify.messages' unique dedupe key).
_RECORDED_MAILS = "SELECT dedupe_key FROM notify.messages WHERE dedupe_key = ANY(CAST(:keys AS text[]))"


async def apply_batch(
    conn: AsyncConnection,
    name: str,
    generation: int,
    events: Sequence[ChaincodeEvent],
    metrics: ProjectorMetrics | None = None,
) -> bool:
    """Apply `events` (stream order) and move the checkpoint past the last one, in ONE transaction.

    Two round trips whatever the batch's size: everything in one pipeline (checkpoint lock, projected
    marks, traces, every write, the checkpoint), then the commit. A batch of many young transactions
    that credit users first reads which of their money mails are recorded (one more; a few are
    checked in the pipeline), and records the others after its writes (one insert each). The writes are queued before their transactions are known to be new: a
    transaction already projected (never one streamed from the checkpoint; a replayed delivery) fails
    the batch, which the runner then applies one by one, where it is skipped.

    Returns:
        False when a rebuild changed the generation (nothing written: restart the stream).

    Raises:
        BatchFailed: anything went wrong, or a transaction was applied already; nothing was written.
    """
    try:
        txs = [_decode(event) for event in events]
        first: dict[str, _Tx] = {}
        for tx in txs:
            first.setdefault(tx.event.tx_id, tx)
        async with conn.begin():
            raw = await conn.get_raw_connection()
            async with PipelineWriter(conn.dialect, raw.driver_connection) as writer:
                # Locked first, so a rebuild's reset waits for this transaction or has already happened.
                locked = await writer.query(store.LOCK_GENERATION, {"name": name})
                marked = await writer.query(store.MARK_PROJECTED_MANY, _mark_params(first.values()))
                traced = await writer.query(store.COMMAND_TRACEPARENTS, {"txs": list(first)})
                wanted = _mail_keys(first.values())
                every = sorted(set().union(*wanted.values()))
                recorded = await writer.query(_RECORDED_MAILS, {"keys": every}) if every else None
                if recorded is not None and len(wanted) >= _PROBE_FIRST:
                    # A mail reads its wallet at its transaction's place, and a rebuild replaying
                    # young transactions finds their mails recorded: for many, learning which
                    # first (one round trip) spares a wallet read per credit. A live block's few
                    # are read in the pipeline and the recorded ones dropped afterwards.
                    await writer.sync()
                    wanted = _unrecorded(wanted, await recorded.fetchall())
                    recorded = None
                mails = await _apply(conn, writer, list(first.values()), wanted)
                await writer.flush()
                last = events[-1]
                when = next((tx.when for tx in reversed(txs) if tx.when is not None), None)
                await writer.run(
                    store.SAVE_CHECKPOINT,
                    store.save_checkpoint_params(name, last.block_number, last.tx_id, len(events), when),
                )
                await writer.sync()
                row = await locked.fetchone()
                if row is None or row.generation != generation:
                    raise _GenerationChanged()
                new = {r.tx_id for r in await marked.fetchall()}
                if len(new) != len(first):
                    raise BatchFailed(f"{len(first) - len(new)} of {len(first)} transactions applied already")
                parents = {r.tx_id: r.traceparent for r in await traced.fetchall()}
                if recorded is not None:
                    unrecorded = _unrecorded(wanted, await recorded.fetchall())
                    mails = [mail for mail in mails if mail[0] in unrecorded]
            await _record_mails(conn, first.values(), parents, mails)
    except _GenerationChanged:
        return False
    except BatchFailed:
        raise
    except Exception as error:
        raise BatchFailed(f"{type(error).__name__}: {error}") from error
    if metrics is not None:
        _count(metrics, txs, first.values())
    return True


def _unrecorded(wanted: dict[str, set[str]], rows: Sequence[Any]) -> dict[str, set[str]]:
    """The transactions of `wanted` with a mail not recorded yet (`rows`: `_RECORDED_MAILS`)."""
    done = {row.dedupe_key for row in rows}
    return {tx_id: keys for tx_id, keys in wanted.items() if not keys <= done}


def _mark_params(txs: Iterable[_Tx]) -> dict[str, str]:
    return store.mark_projected_params(
        [
            store.Projected(
                tx.event.tx_id,
                tx.event.block_number,
                len(tx.message.events),
                tx.message.request_id or None,
                command_type_name(tx.message) or None,
                tx.when,
            )
            for tx in txs
        ]
    )


def _decode(event: ChaincodeEvent) -> _Tx:
    if isinstance(event, Received):
        if event.message is None:
            raise event.error or PoisonEventError("undecoded event")
        message = event.message
    else:
        message = decode(event.event_name, event.payload)
    return _Tx(event, message, event_time(message))


# A money mail to record: its transaction id, the credit, and the cursor of its wallet's row.
_Mail = tuple[str, notifications.Credit, Any]


async def _apply(
    conn: AsyncConnection, writer: PipelineWriter, txs: list[_Tx], wanted: dict[str, set[str]]
) -> list[_Mail]:
    """Queue every handler statement of the transactions, in order; the money mails they may record.

    A money mail names the balance after its transaction: that wallet is read at the transaction's
    place in the pipeline, and the mails are recorded once the writes have run.
    """
    mails: list[_Mail] = []
    for tx in txs:
        tx_id = tx.event.tx_id
        ctx = TxContext(
            conn,
            tx_id,
            tx.event.block_number,
            tx.when,
            tx.message.request_id,
            command_type_name(tx.message),
            writer,
        )
        for index, event in enumerate(tx.message.events):
            kind = event.WhichOneof("event")
            assert kind is not None  # decode refuses an event without a kind
            await HANDLERS[kind](ctx, index, getattr(event, kind))
        if tx_id in wanted:
            for credit in notifications.credits_of(tx.message):
                wallet = await writer.query(notifications.WALLET_OF_CREDIT, {"wallet_id": credit.wallet_id})
                mails.append((tx_id, credit, wallet))
    return mails


async def _record_mails(
    conn: AsyncConnection, txs: Iterable[_Tx], parents: dict[str, str], mails: list[_Mail]
) -> None:
    """Log each applied transaction in the trace of the request that caused it (as `apply_event`
    does) and record its money mails (`notifications.record_money_notifications`, with the rows
    read in the pipeline)."""
    by_tx: dict[str, list[_Mail]] = {}
    for mail in mails:
        by_tx.setdefault(mail[0], []).append(mail)
    for tx in txs:
        tx_id = tx.event.tx_id
        span = tracing.start_span(
            "projector.apply", parents.get(tx_id), kind="consumer", **{"gx.tx_id": tx_id}
        )
        token = trace_var.set(span.trace)
        error: BaseException | None = None
        try:
            _LOG.info(
                "applying transaction %s (block %d, %s, %d events)",
                tx_id,
                tx.event.block_number,
                command_type_name(tx.message) or "no command",
                len(tx.message.events),
            )
            seen: set[str] = set()
            for _, credit, wallet in by_tx.get(tx_id, ()):
                await notifications.record_credit(conn, tx_id, credit, await wallet.fetchone(), seen)
        except BaseException as exc:
            error = exc
            raise
        finally:
            trace_var.reset(token)
            span.end(error)


def _mail_keys(txs: Iterable[_Tx]) -> dict[str, set[str]]:
    """Per transaction, the dedupe keys of the money mails `record_money_notifications` might record.

    A transaction whose keys are all recorded already (a rebuild replaying young transactions)
    is skipped: that function would record nothing for it. So are transactions past the horizon.
    A credit to a wallet whose id is not a UUID never mails: a wallet's `user_id` is NULL or its
    own id (handlers.user_created), and mails go to identity's UUIDs only.
    """
    oldest = datetime.now(UTC) - notifications.HORIZON
    wanted: dict[str, set[str]] = {}
    for tx in txs:
        if tx.when is not None and tx.when < oldest:
            continue
        keys = set()
        for credit in notifications.credits_of(tx.message):
            try:
                keys.add(notifications.dedupe_key(tx.event.tx_id, uuid.UUID(credit.wallet_id)))
            except ValueError:
                continue
        if keys:
            wanted[tx.event.tx_id] = keys
    return wanted


def _count(metrics: ProjectorMetrics, txs: list[_Tx], applied: Iterable[_Tx]) -> None:
    """The batch's outcomes and domain events, counted once per label (a label look-up per
    transaction was a visible share of a replay)."""
    new = {id(tx) for tx in applied}
    now = datetime.now(UTC)
    outcomes: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    for tx in txs:
        fresh = id(tx) in new
        outcomes["replayed" if tx.message.replayed else "applied" if fresh else "duplicate"] += 1
        if fresh:
            kinds.update(str(event.WhichOneof("event")) for event in tx.message.events)
            if tx.when is not None:
                metrics.event_delay.observe(max(0.0, (now - tx.when).total_seconds()))
    for outcome, n in outcomes.items():
        metrics.transactions.labels(outcome).inc(n)
    for kind, n in kinds.items():
        metrics.domain_events.labels(kind).inc(n)
