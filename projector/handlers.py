"""Read-model updates, one function per `gx.ledger.v1` domain event; all run in the projector's transaction."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from google.protobuf import json_format
from google.protobuf.message import Message
from gx.ledger.v1 import events_pb2, resources_pb2
from sqlalchemy import ClauseElement, Executable, Table, bindparam, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from projector import balances, tables
from projector.tables import system_status

# The accounts the chaincode moves value through; named here only to label history rows.
OPERATIONS_FUND = "SYSTEM_OPERATIONS_FUND"
USER_GENESIS_POOL = "SYSTEM_USER_GENESIS_POOL"
GOVT_GENESIS_POOL = "SYSTEM_GOVT_GENESIS_POOL"
LOAN_POOL = "SYSTEM_LOAN_POOL"
CHARITABLE_POOL = "SYSTEM_CHARITABLE_POOL"


@dataclass(frozen=True)
class TxContext:
    """The transaction whose events are being applied.

    Attributes:
        conn: the projector's connection, inside the transaction that also moves the checkpoint.
        tx_id: the Fabric transaction id.
        block_number: its block.
        time: the transaction timestamp (the chain's clock), used for every time column.
        request_id: the command's request id.
        command_type: the command type's short name.
    """

    conn: AsyncConnection
    tx_id: str
    block_number: int
    time: datetime | None
    request_id: str
    command_type: str
    # In a batch (projector/batch.py) the hand-written statements are queued on the connection's
    # pipeline instead of awaited one by one; None executes each at once, as `apply_event` does.
    writer: StatementWriter | None = None

    async def run(self, sql: str, **params: Any) -> None:
        """Execute one statement with the common parameters (`:tx`, `:block`, `:time`) available."""
        values = {"tx": self.tx_id, "block": self.block_number, "time": self.time, **params}
        if self.writer is not None:
            await self.writer.run(sql, values)
        else:
            await self.conn.execute(text(sql), values)

    async def append(self, sql: str, **params: Any) -> None:
        """`run` for an insert into an append-only table nothing in the projection reads back (the
        history legs): a batch sends all of them after its other statements, in the same order."""
        values = {"tx": self.tx_id, "block": self.block_number, "time": self.time, **params}
        if self.writer is not None:
            await self.writer.append(sql, values)
        else:
            await self.conn.execute(text(sql), values)

    async def balance(self, kind: str, sql: str, **params: Any) -> None:
        """`run` for a balance change (`projector.balances`): a batch folds a run of them per wallet."""
        values = {"tx": self.tx_id, "block": self.block_number, "time": self.time, **params}
        if self.writer is not None:
            await self.writer.balance(balances.Change(kind, sql, values))
        else:
            await self.conn.execute(text(sql), values)

    async def execute(self, statement: Executable) -> None:
        """Execute one Core statement that returns nothing (also inside a batch's pipeline)."""
        if self.writer is not None:
            await self.writer.write_balances()  # it may read what they change
        await self.conn.execute(statement)


class StatementWriter(Protocol):
    """Where a batch sends the hand-written statements (`projector.batch.PipelineWriter`)."""

    async def run(self, sql: str, params: dict[str, Any]) -> None:
        """Queue one statement (SQLAlchemy `:name` parameters) in order; its errors surface later."""

    async def append(self, sql: str, params: dict[str, Any]) -> None:
        """Queue an append-only insert (`TxContext.append`), sent after the others, in order."""

    async def balance(self, change: balances.Change) -> None:
        """Keep a balance change; a run of them is written folded (`projector.balances`)."""

    async def write_balances(self) -> None:
        """Write the balance changes kept so far (before a statement that may read them)."""


Handler = Callable[[TxContext, int, Any], Awaitable[None]]


def _enum(enum_type: Any, value: int, prefix: str) -> str:
    return str(enum_type.Name(value)).removeprefix(prefix)


def _ts(message: Message, field: str) -> datetime | None:
    if not message.HasField(field):
        return None
    stamp: datetime = getattr(message, field).ToDatetime(tzinfo=UTC)
    return stamp


# One history leg (`_leg`), and the same insert for many legs at once, in the order given (a batch
# sends all of its legs as one statement: the arrays become rows, ids follow their order).
LEG = (
    "INSERT INTO ledger.transactions (fabric_tx_id, event_index, leg, wallet_id, type, amount_qirat, fee_qirat,"
    " counterparty, remark, transfer_id, request_id, command_type, block_number, time)"
    " VALUES (:tx, :idx, :leg, :wallet, :kind, :amount, :fee, :cp, :remark, :tid, :rid, :ctype, :block, :time)"
    " ON CONFLICT (fabric_tx_id, event_index, leg) DO NOTHING"
)
LEGS = (
    "INSERT INTO ledger.transactions (fabric_tx_id, event_index, leg, wallet_id, type, amount_qirat, fee_qirat,"
    " counterparty, remark, transfer_id, request_id, command_type, block_number, time)"
    " SELECT l.r->>'tx', CAST(l.r->>'idx' AS integer), CAST(l.r->>'leg' AS smallint), l.r->>'wallet', l.r->>'kind',"
    "  CAST(l.r->>'amount' AS bigint), CAST(l.r->>'fee' AS bigint), l.r->>'cp', l.r->>'remark', l.r->>'tid',"
    "  l.r->>'rid', l.r->>'ctype', CAST(l.r->>'block' AS bigint), CAST(l.r->>'time' AS timestamptz)"
    " FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS l(r, n)"
    " ORDER BY l.n ON CONFLICT (fabric_tx_id, event_index, leg) DO NOTHING"
)
# Appended statements (`TxContext.append`) a batch sends as one set-based statement: its rows, each
# the parameters `LEG` would take, as one JSON array `:rows` (one text parameter: psycopg's array
# dumping inspected every element of every list, which cost more than the insert).
SET_BASED: dict[str, str] = {LEG: LEGS}


async def _leg(
    ctx: TxContext,
    index: int,
    leg: int,
    wallet_id: str,
    kind: str,
    amount: int,
    *,
    fee: int = 0,
    counterparty: str | None = None,
    remark: str | None = None,
    transfer_id: str | None = None,
) -> None:
    await ctx.append(
        LEG,
        idx=index,
        leg=leg,
        wallet=wallet_id,
        kind=kind,
        amount=amount,
        fee=fee,
        cp=counterparty,
        remark=remark,
        tid=transfer_id,
        rid=ctx.request_id,
        ctype=ctx.command_type,
    )


SET_BALANCE = (
    "INSERT INTO ledger.wallets (wallet_id, account_type, balance_qirat, velocity_timer_start_time, block_number,"
    " fabric_tx_id, create_time, update_time)"
    " VALUES (:w, :atype, :bal, :timer, :block, :tx, :time, :time)"
    " ON CONFLICT (wallet_id) DO UPDATE SET balance_qirat = EXCLUDED.balance_qirat,"
    " velocity_timer_start_time = EXCLUDED.velocity_timer_start_time,"
    " block_number = EXCLUDED.block_number, fabric_tx_id = EXCLUDED.fabric_tx_id, update_time = EXCLUDED.update_time"
)


async def _set_balance(ctx: TxContext, wallet_id: str, balance: int, timer: datetime | None = None) -> None:
    # Events carry the balance AFTER the event, so setting it (not adding) is idempotent and
    # self-correcting. An account the read model has not seen yet is created on the fly, so
    # no event order within a transaction can lose a balance. The velocity-tax holding timer
    # travels with a user's balance (None: no timer runs; the chaincode keeps none on pools,
    # treasuries or organisations, so None is right for them too).
    await ctx.balance(
        balances.SET, SET_BALANCE, w=wallet_id, atype=_guess_type(wallet_id), bal=balance, timer=timer
    )


ADD_CREDIT = (
    "INSERT INTO ledger.wallets (wallet_id, account_type, balance_qirat, velocity_timer_start_time, block_number,"
    " fabric_tx_id, create_time, update_time)"
    " VALUES (:w, :atype, CAST(:amount AS bigint),"
    "  CASE WHEN CAST(:timed AS boolean) AND CAST(:amount AS bigint) > CAST(:threshold AS bigint)"
    "  THEN CAST(:time AS timestamptz) END, :block, :tx, :time, :time)"
    " ON CONFLICT (wallet_id) DO UPDATE SET balance_qirat = ledger.wallets.balance_qirat + EXCLUDED.balance_qirat,"
    " velocity_timer_start_time = CASE WHEN NOT CAST(:timed AS boolean) THEN ledger.wallets.velocity_timer_start_time"
    "  WHEN ledger.wallets.balance_qirat + EXCLUDED.balance_qirat > CAST(:threshold AS bigint)"
    "  THEN COALESCE(ledger.wallets.velocity_timer_start_time, CAST(:time AS timestamptz)) END,"
    " block_number = EXCLUDED.block_number, fabric_tx_id = EXCLUDED.fabric_tx_id, update_time = EXCLUDED.update_time"
)


async def _add_credit(ctx: TxContext, wallet_id: str, credit: events_pb2.AccruedCredit) -> None:
    # The chaincode wrote this credit to a key of its own without reading the receiver's balance
    # (so concurrent credits to one account never conflict), and so could not report the balance
    # afterwards: add the amount. For a user account apply the velocity-timer rule the ledger's fold
    # applies, with the threshold the credit carries: above it a timer starts at this transaction if
    # none runs; at or below it, none runs. Adding is safe because the whole transaction is applied
    # at most once (ledger.projected_txs). `projector.balances` applies the same rule to a batch.
    await ctx.balance(
        balances.CREDIT,
        ADD_CREDIT,
        w=wallet_id,
        atype=_guess_type(wallet_id),
        amount=credit.amount_qirat,
        timed=credit.velocity_timer,
        threshold=credit.velocity_tax_threshold_qirat,
    )


async def _receive(
    ctx: TxContext, event: Message, wallet_id: str, credit: str, balance: str, timer: str | None = None
) -> None:
    """A receiving party of *event*: credited (field *credit* set: add it) or reported with its
    balance afterwards (field *balance*, and its velocity timer field *timer*: set them)."""
    if event.HasField(credit):
        await _add_credit(ctx, wallet_id, getattr(event, credit))
    else:
        await _set_balance(ctx, wallet_id, getattr(event, balance), _ts(event, timer) if timer else None)


def _guess_type(account_id: str) -> str:
    if account_id.startswith("SYSTEM_"):
        return "SYSTEM_POOL"
    if account_id.startswith("treasury_"):
        return "TREASURY"
    return "USER"


async def _upsert_account(ctx: TxContext, account: Any, user_id: str | None = None) -> None:
    await ctx.run(
        "INSERT INTO ledger.wallets (wallet_id, account_type, user_id, country_code, balance_qirat, frozen,"
        " block_number, fabric_tx_id, create_time, update_time)"
        " VALUES (:w, :atype, :uid, :cc, :bal, :frozen, :block, :tx, :time, :time)"
        " ON CONFLICT (wallet_id) DO UPDATE SET account_type = EXCLUDED.account_type,"
        " user_id = COALESCE(EXCLUDED.user_id, ledger.wallets.user_id),"
        " country_code = COALESCE(EXCLUDED.country_code, ledger.wallets.country_code),"
        " balance_qirat = EXCLUDED.balance_qirat, frozen = EXCLUDED.frozen, block_number = EXCLUDED.block_number,"
        " fabric_tx_id = EXCLUDED.fabric_tx_id, update_time = EXCLUDED.update_time",
        w=account.account_id,
        atype=_enum(resources_pb2.AccountType, account.type, "ACCOUNT_TYPE_"),
        uid=user_id,
        cc=account.country_code or None,
        bal=account.balance_qirat,
        frozen=account.frozen,
    )


async def _touch_system(ctx: TxContext, **values: Any) -> None:
    """Set columns of the one system_status row (created on first use), stamped with this transaction."""
    await _insert_new(ctx, system_status, id=1, block_number=ctx.block_number, update_time=ctx.time)
    await _update(ctx, system_status, 1, **values)


# The SQL of `_update` and `_insert_new` per (table, columns): Core statements over `tables`,
# compiled once. Compiling one per call (SQLAlchemy's cache key alone) cost more than running it.
# PostgreSQL's base dialect: no casts rendered (the psycopg dialect's `:x::BIGINT` is no `:name`
# parameter for text()); the server types each parameter from its column, as for the hand-written SQL.
_NAMED: Dialect = postgresql.base.PGDialect(paramstyle="named")  # type: ignore[no-untyped-call]
_CORE_SQL: dict[tuple[str, str, tuple[str, ...]], str] = {}


def _core_sql(kind: str, table: Table, names: tuple[str, ...]) -> str:
    """`UPDATE table SET <names> WHERE pk = :v__key` or `INSERT <names> ... ON CONFLICT (pk) DO NOTHING`,
    with each value's parameter named `v_<column>`, as SQL text (SQLAlchemy `:name` parameters)."""
    key = (kind, table.fullname, names)
    sql = _CORE_SQL.get(key)
    if sql is None:
        params: dict[Any, Any] = {table.c[name]: bindparam(f"v_{name}") for name in names}
        if kind == "update":
            (pk,) = table.primary_key.columns
            statement: ClauseElement = update(table).where(pk == bindparam("v__key")).values(params)
        else:
            index = [column.name for column in table.primary_key.columns]
            statement = insert(table).values(params).on_conflict_do_nothing(index_elements=index)
        sql = _CORE_SQL[key] = str(statement.compile(dialect=_NAMED))
    return sql


async def _update(ctx: TxContext, table: Table, key: object, **values: Any) -> None:
    """Set columns of the row of `table` whose (one-column) primary key is `key`, stamped with
    this transaction's block and time. A row the read model lacks is left alone, as by UPDATE."""
    values = {**values, "block_number": ctx.block_number, "update_time": ctx.time}
    if any(isinstance(value, ClauseElement) for value in values.values()):
        # A value computed from the row (a counter): a statement of its own, compiled each time.
        (pk,) = table.primary_key.columns
        await ctx.execute(update(table).where(pk == key).values(**values))
        return
    sql = _core_sql("update", table, tuple(values))
    await ctx.run(sql, v__key=key, **{f"v_{name}": value for name, value in values.items()})


async def _insert_new(ctx: TxContext, table: Table, **values: Any) -> None:
    """Insert a row unless its primary key exists: a replayed creation changes nothing."""
    sql = _core_sql("insert", table, tuple(values))
    await ctx.run(sql, **{f"v_{name}": value for name, value in values.items()})


# -- system -------------------------------------------------------------------------------------


async def system_bootstrapped(ctx: TxContext, index: int, e: events_pb2.SystemBootstrapped) -> None:
    await _touch_system(
        ctx, bootstrapped=True, total_supply_qirat=e.total_supply_qirat, bootstrap_time=ctx.time
    )
    for pool in e.pools:
        await _upsert_account(ctx, pool)
    # The values in force at bootstrap. A row can exist already only from a change made before
    # bootstrap, which the event's value then already reflects: keep that row's history unless
    # it disagrees, so a replay leaves the table as it was.
    for parameter in e.parameters:
        await ctx.run(
            "INSERT INTO ledger.system_parameters (name, value, block_number, update_time)"
            " VALUES (:name, :value, :block, :time)"
            " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, previous_value = NULL, proposal_id = NULL,"
            " block_number = EXCLUDED.block_number, update_time = EXCLUDED.update_time"
            " WHERE ledger.system_parameters.value IS DISTINCT FROM EXCLUDED.value",
            name=parameter.name,
            value=parameter.value,
        )


async def country_initialized(ctx: TxContext, index: int, e: events_pb2.CountryInitialized) -> None:
    await ctx.run(
        "INSERT INTO ledger.countries (country_code, name, share_bps, treasury_account_id, block_number, update_time)"
        " VALUES (:cc, :name, :share, :treasury, :block, :time)"
        " ON CONFLICT (country_code) DO UPDATE SET name = EXCLUDED.name, share_bps = EXCLUDED.share_bps,"
        " treasury_account_id = EXCLUDED.treasury_account_id, block_number = EXCLUDED.block_number,"
        " update_time = EXCLUDED.update_time",
        cc=e.country_code,
        name=e.name,
        share=e.share_bps,
        treasury=e.treasury_account_id,
    )
    await ctx.run(
        "INSERT INTO ledger.wallets (wallet_id, account_type, country_code, block_number, fabric_tx_id, create_time,"
        " update_time) VALUES (:w, 'TREASURY', :cc, :block, :tx, :time, :time) ON CONFLICT (wallet_id) DO NOTHING",
        w=e.treasury_account_id,
        cc=e.country_code,
    )


async def system_parameter_updated(ctx: TxContext, index: int, e: events_pb2.SystemParameterUpdated) -> None:
    await ctx.run(
        "INSERT INTO ledger.system_parameters (name, value, previous_value, proposal_id, block_number, update_time)"
        " VALUES (:name, :value, :prev, :pid, :block, :time)"
        " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, previous_value = EXCLUDED.previous_value,"
        " proposal_id = EXCLUDED.proposal_id, block_number = EXCLUDED.block_number, update_time = EXCLUDED.update_time",
        name=e.parameter,
        value=e.value,
        prev=e.previous_value,
        pid=e.proposal_id or None,
    )


async def system_paused(ctx: TxContext, index: int, e: events_pb2.SystemPaused) -> None:
    await _touch_system(ctx, paused=True, pause_reason=e.reason)


async def system_resumed(ctx: TxContext, index: int, e: events_pb2.SystemResumed) -> None:
    await _touch_system(ctx, paused=False, pause_reason=None)


async def admin_appointed(ctx: TxContext, index: int, e: events_pb2.AdminAppointed) -> None:
    await _insert_new(
        ctx,
        tables.admins,
        user_id=e.user_id,
        appointed_by=e.appointed_by,
        block_number=ctx.block_number,
        appoint_time=ctx.time,
    )
    await _update(ctx, tables.users, e.user_id, admin=True, fabric_tx_id=ctx.tx_id)


async def treasury_activated(ctx: TxContext, index: int, e: events_pb2.TreasuryActivated) -> None:
    await _update(ctx, tables.countries, e.country_code, treasury_active=True, activate_time=ctx.time)


# -- users and value ----------------------------------------------------------------------------


async def user_created(ctx: TxContext, index: int, e: events_pb2.UserCreated) -> None:
    await _insert_new(
        ctx,
        tables.users,
        user_id=e.user_id,
        country_code=e.country_code,
        date_of_birth=e.date_of_birth,
        status="ACTIVE",
        trust_score=e.trust_score,
        block_number=ctx.block_number,
        fabric_tx_id=ctx.tx_id,
        create_time=ctx.time,
        update_time=ctx.time,
    )
    await ctx.run(
        "INSERT INTO ledger.wallets (wallet_id, account_type, user_id, country_code, block_number, fabric_tx_id,"
        " create_time, update_time) VALUES (:u, 'USER', :u, :cc, :block, :tx, :time, :time)"
        " ON CONFLICT (wallet_id) DO UPDATE SET user_id = EXCLUDED.user_id, country_code = EXCLUDED.country_code",
        u=e.user_id,
        cc=e.country_code,
    )


async def genesis_distributed(ctx: TxContext, index: int, e: events_pb2.GenesisDistributed) -> None:
    await _update(
        ctx,
        tables.users,
        e.user_id,
        genesis_received=True,
        genesis_qirat=e.user_qirat,
        genesis_phase=e.phase,
        fabric_tx_id=ctx.tx_id,
    )
    # Counted in SQL (a Core expression would be compiled again for every genesis).
    await ctx.run(
        "UPDATE ledger.countries SET genesis_user_count = genesis_user_count + 1, genesis_phase = :phase,"
        " block_number = :block, update_time = :time WHERE country_code = :cc",
        cc=e.country_code,
        phase=e.phase,
    )
    await _receive(ctx, e, e.user_id, "user_credit", "user_balance_qirat", "user_velocity_timer_start_time")
    await _receive(ctx, e, e.treasury_account_id, "treasury_credit", "treasury_balance_qirat")
    await _set_balance(ctx, USER_GENESIS_POOL, e.user_pool_balance_qirat)
    await _set_balance(ctx, GOVT_GENESIS_POOL, e.govt_pool_balance_qirat)
    await _leg(ctx, index, 0, e.user_id, "GENESIS", e.user_qirat, counterparty=USER_GENESIS_POOL)
    await _leg(ctx, index, 1, USER_GENESIS_POOL, "GENESIS", e.user_qirat, counterparty=e.user_id)
    if e.treasury_qirat:
        await _leg(
            ctx, index, 2, e.treasury_account_id, "GENESIS", e.treasury_qirat, counterparty=GOVT_GENESIS_POOL
        )
        await _leg(
            ctx, index, 3, GOVT_GENESIS_POOL, "GENESIS", e.treasury_qirat, counterparty=e.treasury_account_id
        )


async def genesis_skipped(ctx: TxContext, index: int, e: events_pb2.GenesisSkipped) -> None:
    await _update(ctx, tables.users, e.user_id, genesis_skipped_reason=e.reason, fabric_tx_id=ctx.tx_id)


async def transfer_completed(ctx: TxContext, index: int, e: events_pb2.TransferCompleted) -> None:
    await _set_balance(ctx, e.from_account_id, e.from_balance_qirat, _ts(e, "from_velocity_timer_start_time"))
    await _receive(ctx, e, e.to_account_id, "to_credit", "to_balance_qirat", "to_velocity_timer_start_time")
    org = bool(e.multisig_tx_id)
    await _leg(
        ctx,
        index,
        0,
        e.from_account_id,
        "ORG_TRANSFER" if org else "SENT",
        e.amount_qirat,
        fee=e.fee_qirat,
        counterparty=e.to_account_id,
        remark=e.remark,
        transfer_id=e.transfer_id,
    )
    await _leg(
        ctx,
        index,
        1,
        e.to_account_id,
        "ORG_TRANSFER" if org else "RECEIVED",
        e.amount_qirat,
        counterparty=e.from_account_id,
        remark=e.remark,
        transfer_id=e.transfer_id,
    )


ADD_FEE = (
    "INSERT INTO ledger.wallets (wallet_id, account_type, balance_qirat, block_number, fabric_tx_id, create_time,"
    " update_time) VALUES (:w, :atype, :fee, :block, :tx, :time, :time)"
    " ON CONFLICT (wallet_id) DO UPDATE SET balance_qirat = ledger.wallets.balance_qirat + EXCLUDED.balance_qirat,"
    " block_number = EXCLUDED.block_number, fabric_tx_id = EXCLUDED.fabric_tx_id, update_time = EXCLUDED.update_time"
)


async def fee_collected(ctx: TxContext, index: int, e: events_pb2.FeeCollected) -> None:
    # The chaincode credits the fund with blind writes (no read, so concurrent transfers do
    # not conflict on it) and therefore cannot report its balance: add the fee here. Safe to
    # add because the whole transaction is applied at most once (ledger.projected_txs).
    collector = e.collector_account_id or OPERATIONS_FUND
    await ctx.balance(balances.FEE, ADD_FEE, w=collector, atype="SYSTEM_POOL", fee=e.fee_qirat)
    await _leg(
        ctx,
        index,
        0,
        e.payer_account_id,
        "FEE",
        e.fee_qirat,
        counterparty=collector,
        transfer_id=e.transfer_id,
    )
    await _leg(
        ctx,
        index,
        1,
        collector,
        "FEE",
        e.fee_qirat,
        counterparty=e.payer_account_id,
        transfer_id=e.transfer_id,
    )


async def wallet_frozen(ctx: TxContext, index: int, e: events_pb2.WalletFrozen) -> None:
    await _update(
        ctx,
        tables.wallets,
        e.account_id,
        frozen=True,
        frozen_reason=e.reason,
        velocity_timer_start_time=_ts(e, "velocity_timer_start_time"),
        fabric_tx_id=ctx.tx_id,
    )
    await _update(ctx, tables.users, e.account_id, status="FROZEN", fabric_tx_id=ctx.tx_id)


async def wallet_unfrozen(ctx: TxContext, index: int, e: events_pb2.WalletUnfrozen) -> None:
    await _update(
        ctx,
        tables.wallets,
        e.account_id,
        frozen=False,
        frozen_reason=None,
        velocity_timer_start_time=_ts(e, "velocity_timer_start_time"),
        fabric_tx_id=ctx.tx_id,
    )
    await _update(ctx, tables.users, e.account_id, status="ACTIVE", fabric_tx_id=ctx.tx_id)


async def velocity_tax_applied(ctx: TxContext, index: int, e: events_pb2.VelocityTaxApplied) -> None:
    await _set_balance(ctx, e.account_id, e.balance_qirat, _ts(e, "velocity_timer_start_time"))
    await _receive(ctx, e, e.treasury_account_id, "treasury_credit", "treasury_balance_qirat")
    await _receive(ctx, e, CHARITABLE_POOL, "charity_credit", "charity_balance_qirat")
    await _leg(ctx, index, 0, e.account_id, "TAX", e.tax_qirat, counterparty=e.treasury_account_id)
    # The split rounds the treasury's 70% down, so a 1-Qirat tax gives it nothing: history legs are
    # positive amounts, so a zero share gets no leg (as genesis does for a zero treasury payment).
    if e.treasury_qirat:
        await _leg(ctx, index, 1, e.treasury_account_id, "TAX", e.treasury_qirat, counterparty=e.account_id)
    if e.charity_qirat:
        await _leg(ctx, index, 2, CHARITABLE_POOL, "TAX", e.charity_qirat, counterparty=e.account_id)


# -- organisations and multisig -----------------------------------------------------------------


def _rules_json(rules: Any) -> str:
    return json.dumps(
        [
            {
                "amountThresholdQirat": r.amount_threshold_qirat,
                "requiredApprovals": r.required_approvals,
                "approverIds": list(r.approver_ids),
            }
            for r in rules
        ]
    )


async def organization_proposed(ctx: TxContext, index: int, e: events_pb2.OrganizationProposed) -> None:
    o = e.organization
    await ctx.run(
        "INSERT INTO ledger.organizations (org_id, name, type, country_code, status, stakeholder_ids, endorser_ids,"
        " auth_rules, create_time, block_number, update_time)"
        " VALUES (:id, :name, :type, :cc, :status, CAST(:stake AS jsonb), CAST(:endorsers AS jsonb),"
        " CAST(:rules AS jsonb), :ctime, :block, :time) ON CONFLICT (org_id) DO NOTHING",
        id=o.organization_id,
        name=o.name,
        type=_enum(resources_pb2.OrganizationType, o.type, "ORGANIZATION_TYPE_"),
        cc=o.country_code or None,
        status=_enum(resources_pb2.OrganizationStatus, o.status, "ORGANIZATION_STATUS_"),
        stake=json.dumps(list(o.stakeholder_ids)),
        endorsers=json.dumps(list(o.endorser_ids)),
        rules=_rules_json(o.auth_rules),
        ctime=_ts(o, "create_time") or ctx.time,
    )


async def membership_endorsed(ctx: TxContext, index: int, e: events_pb2.MembershipEndorsed) -> None:
    await ctx.run(
        "UPDATE ledger.organizations SET endorser_ids = CASE WHEN endorser_ids @> CAST(:one AS jsonb) THEN endorser_ids"
        " ELSE endorser_ids || CAST(:one AS jsonb) END, status = :status, block_number = :block, update_time = :time"
        " WHERE org_id = :id",
        id=e.organization_id,
        one=json.dumps([e.stakeholder_id]),
        status=_enum(resources_pb2.OrganizationStatus, e.status, "ORGANIZATION_STATUS_"),
    )


async def organization_activated(ctx: TxContext, index: int, e: events_pb2.OrganizationActivated) -> None:
    await _update(ctx, tables.organizations, e.organization_id, status="ACTIVE", activate_time=ctx.time)
    if e.HasField("account"):
        await _upsert_account(ctx, e.account)


async def auth_rule_defined(ctx: TxContext, index: int, e: events_pb2.AuthRuleDefined) -> None:
    # An approved rule change (the proposal's MultisigTxExecuted follows). A tier with the same
    # threshold replaces the old one; tiers stay sorted by threshold.
    rule = json.loads(_rules_json([e.rule]))[0]
    if e.multisig_tx_id:
        # The proposal that enacted it names the rule (the API's rule_id is its operation id).
        rule["ruleId"] = e.multisig_tx_id
    await ctx.run(
        "UPDATE ledger.organizations SET auth_rules = ("
        " SELECT COALESCE(jsonb_agg(r ORDER BY (r->>'amountThresholdQirat')::bigint), '[]'::jsonb) FROM ("
        "  SELECT r FROM jsonb_array_elements(auth_rules) AS r"
        "   WHERE (r->>'amountThresholdQirat')::bigint <> :threshold"
        "  UNION ALL SELECT CAST(:rule AS jsonb)) AS t),"
        " block_number = :block, update_time = :time WHERE org_id = :id",
        id=e.organization_id,
        threshold=e.rule.amount_threshold_qirat,
        rule=json.dumps(rule),
    )


async def auth_rule_removed(ctx: TxContext, index: int, e: events_pb2.AuthRuleRemoved) -> None:
    # An approved rule change removed the tier with this threshold.
    await ctx.run(
        "UPDATE ledger.organizations SET auth_rules = ("
        " SELECT COALESCE(jsonb_agg(r ORDER BY (r->>'amountThresholdQirat')::bigint), '[]'::jsonb)"
        "  FROM jsonb_array_elements(auth_rules) AS r WHERE (r->>'amountThresholdQirat')::bigint <> :threshold),"
        " block_number = :block, update_time = :time WHERE org_id = :id",
        id=e.organization_id,
        threshold=e.amount_threshold_qirat,
    )


async def multisig_tx_initiated(ctx: TxContext, index: int, e: events_pb2.MultisigTxInitiated) -> None:
    m = e.multisig_tx
    # A rule-change proposal carries its change (proto JSON); a payment has none.
    change = json_format.MessageToJson(m.rule_change, indent=None) if m.HasField("rule_change") else None
    await ctx.run(
        "INSERT INTO ledger.multisig_txs (multisig_tx_id, org_id, to_account_id, amount_qirat, remark, initiator_id,"
        " required_approvals, approver_ids, approval_ids, status, create_time, block_number, update_time, rule_change)"
        " VALUES (:id, :org, :to, :amount, :remark, :init, :req, CAST(:approvers AS jsonb), CAST(:approvals AS jsonb),"
        " :status, :ctime, :block, :time, CAST(:change AS jsonb)) ON CONFLICT (multisig_tx_id) DO NOTHING",
        change=change,
        id=m.multisig_tx_id,
        org=m.organization_id,
        to=m.to_account_id,
        amount=m.amount_qirat,
        remark=m.remark,
        init=m.initiator_id,
        req=m.required_approvals,
        approvers=json.dumps(list(m.approver_ids)),
        approvals=json.dumps(list(m.approval_ids)),
        status=_enum(resources_pb2.MultisigTxStatus, m.status, "MULTISIG_TX_STATUS_"),
        ctime=_ts(m, "create_time") or ctx.time,
    )


async def multisig_tx_approved(ctx: TxContext, index: int, e: events_pb2.MultisigTxApproved) -> None:
    await ctx.run(
        "UPDATE ledger.multisig_txs SET approval_ids = CASE WHEN approval_ids @> CAST(:one AS jsonb) THEN approval_ids"
        " ELSE approval_ids || CAST(:one AS jsonb) END, required_approvals = :req, status = :status,"
        " block_number = :block, update_time = :time WHERE multisig_tx_id = :id",
        id=e.multisig_tx_id,
        one=json.dumps([e.approver_id]),
        req=e.required_approvals,
        status=_enum(resources_pb2.MultisigTxStatus, e.status, "MULTISIG_TX_STATUS_"),
    )


async def multisig_tx_executed(ctx: TxContext, index: int, e: events_pb2.MultisigTxExecuted) -> None:
    await _update(
        ctx,
        tables.multisig_txs,
        e.multisig_tx_id,
        status="EXECUTED",
        # A rule change moves no money: no transfer.
        transfer_id=e.transfer_id or None,
        execute_time=ctx.time,
    )


# -- loans and governance -----------------------------------------------------------------------


async def loan_applied(ctx: TxContext, index: int, e: events_pb2.LoanApplied) -> None:
    loan = e.loan
    await _insert_new(
        ctx,
        tables.loans,
        loan_id=loan.loan_id,
        borrower_id=loan.borrower_id,
        amount_qirat=loan.amount_qirat,
        outstanding_qirat=loan.outstanding_qirat,
        collateral_hash=loan.collateral_hash,
        purpose=loan.purpose,
        status=_enum(resources_pb2.LoanStatus, loan.status, "LOAN_STATUS_"),
        create_time=_ts(loan, "create_time") or ctx.time,
        block_number=ctx.block_number,
        update_time=ctx.time,
    )


async def loan_approved(ctx: TxContext, index: int, e: events_pb2.LoanApproved) -> None:
    await _update(
        ctx, tables.loans, e.loan_id, status="ACTIVE", approver_id=e.approver_id, approve_time=ctx.time
    )
    await _receive(
        ctx,
        e,
        e.borrower_id,
        "borrower_credit",
        "borrower_balance_qirat",
        "borrower_velocity_timer_start_time",
    )
    await _set_balance(ctx, LOAN_POOL, e.pool_balance_qirat)
    await _leg(ctx, index, 0, e.borrower_id, "LOAN_DISBURSEMENT", e.amount_qirat, counterparty=LOAN_POOL)
    await _leg(ctx, index, 1, LOAN_POOL, "LOAN_DISBURSEMENT", e.amount_qirat, counterparty=e.borrower_id)


async def loan_repaid(ctx: TxContext, index: int, e: events_pb2.LoanRepaid) -> None:
    status = _enum(resources_pb2.LoanStatus, e.status, "LOAN_STATUS_")
    loans = tables.loans
    await _update(
        ctx,
        loans,
        e.loan_id,
        outstanding_qirat=e.outstanding_qirat,
        status=status,
        # Set once, by the repayment that clears the loan.
        repay_time=ctx.time if status == "REPAID" else loans.c.repay_time,
    )
    await _update(ctx, tables.users, e.borrower_id, trust_score=e.trust_score)
    await _set_balance(
        ctx, e.borrower_id, e.borrower_balance_qirat, _ts(e, "borrower_velocity_timer_start_time")
    )
    await _receive(ctx, e, LOAN_POOL, "pool_credit", "pool_balance_qirat")
    await _leg(ctx, index, 0, e.borrower_id, "LOAN_REPAYMENT", e.amount_qirat, counterparty=LOAN_POOL)
    await _leg(ctx, index, 1, LOAN_POOL, "LOAN_REPAYMENT", e.amount_qirat, counterparty=e.borrower_id)


async def proposal_submitted(ctx: TxContext, index: int, e: events_pb2.ProposalSubmitted) -> None:
    p = e.proposal
    await _insert_new(
        ctx,
        tables.proposals,
        proposal_id=p.proposal_id,
        parameter=p.parameter,
        value=p.value,
        title=p.title,
        description=p.description,
        proposer_id=p.proposer_id,
        votes_for=p.votes_for,
        votes_against=p.votes_against,
        status=_enum(resources_pb2.ProposalStatus, p.status, "PROPOSAL_STATUS_"),
        create_time=_ts(p, "create_time") or ctx.time,
        voting_end_time=_ts(p, "voting_end_time"),
        block_number=ctx.block_number,
        update_time=ctx.time,
    )


async def vote_cast(ctx: TxContext, index: int, e: events_pb2.VoteCast) -> None:
    await _insert_new(
        ctx,
        tables.votes,
        proposal_id=e.proposal_id,
        voter_id=e.voter_id,
        support=e.support,
        block_number=ctx.block_number,
        time=ctx.time,
    )
    await _update(ctx, tables.proposals, e.proposal_id, votes_for=e.votes_for, votes_against=e.votes_against)


async def proposal_executed(ctx: TxContext, index: int, e: events_pb2.ProposalExecuted) -> None:
    await _update(
        ctx,
        tables.proposals,
        e.proposal_id,
        status=_enum(resources_pb2.ProposalStatus, e.status, "PROPOSAL_STATUS_"),
        votes_for=e.votes_for,
        votes_against=e.votes_against,
        close_time=ctx.time,
    )


# Every member of the LedgerEvent oneof must be here; `projector.decode` refuses (as poison)
# any event whose kind has no handler, so a new event type can never be skipped in silence.
HANDLERS: dict[str, Handler] = {
    "system_bootstrapped": system_bootstrapped,
    "country_initialized": country_initialized,
    "user_created": user_created,
    "genesis_distributed": genesis_distributed,
    "genesis_skipped": genesis_skipped,
    "transfer_completed": transfer_completed,
    "fee_collected": fee_collected,
    "wallet_frozen": wallet_frozen,
    "wallet_unfrozen": wallet_unfrozen,
    "organization_proposed": organization_proposed,
    "membership_endorsed": membership_endorsed,
    "organization_activated": organization_activated,
    "auth_rule_defined": auth_rule_defined,
    "auth_rule_removed": auth_rule_removed,
    "multisig_tx_initiated": multisig_tx_initiated,
    "multisig_tx_approved": multisig_tx_approved,
    "multisig_tx_executed": multisig_tx_executed,
    "loan_applied": loan_applied,
    "loan_approved": loan_approved,
    "loan_repaid": loan_repaid,
    "proposal_submitted": proposal_submitted,
    "vote_cast": vote_cast,
    "proposal_executed": proposal_executed,
    "system_parameter_updated": system_parameter_updated,
    "system_paused": system_paused,
    "system_resumed": system_resumed,
    "admin_appointed": admin_appointed,
    "treasury_activated": treasury_activated,
    "velocity_tax_applied": velocity_tax_applied,
}
