"""Reads of the projector's read models (schema `ledger`); the wallet never writes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text

from projector.tables import (
    checkpoints,
    countries,
    system_parameters,
    system_status,
    treasuries,
    users,
    wallets,
)
from services.common.db import Fetchable, Queryable, fetch_all, fetch_tuples
from services.common.statement_batch import StatementBatch

# What the read-model queries run on: a session or a connection (the shared runtime's type).
Executor = Queryable


@dataclass(frozen=True)
class Account:
    """A ledger account as the read models know it, with its owner's standing.

    Attributes:
        wallet_id: The account id (a user's wallet id is their user id).
        account_type: USER, ORGANIZATION, SYSTEM_POOL or TREASURY.
        user_id: The owning user, for USER accounts.
        country_code: Its country, which decides local or cross-border fees.
        balance_qirat: The balance as of `block_number`.
        frozen: Whether an admin froze it.
        frozen_reason: Why.
        user_status: The owner's ledger status (ACTIVE, FROZEN...), for USER accounts.
        genesis_received: Whether the owner received genesis.
        org_type: BUSINESS, NGO or GOVERNMENT, for ORGANIZATION accounts.
        org_status: The organisation's status, for ORGANIZATION accounts.
        block_number: The last block that changed it.
        create_time: When it was created on the ledger.
        update_time: When it last changed.
    """

    wallet_id: str
    account_type: str
    user_id: str | None
    country_code: str | None
    balance_qirat: int
    frozen: bool
    frozen_reason: str | None
    user_status: str | None
    genesis_received: bool
    org_type: str | None
    org_status: str | None
    block_number: int
    create_time: datetime | None
    update_time: datetime | None

    @property
    def active(self) -> bool:
        """Whether the account may take part in a transfer (its owner is active on the ledger)."""
        if self.account_type == "USER":
            return self.user_status == "ACTIVE"
        if self.account_type == "ORGANIZATION":
            return self.org_status == "ACTIVE"
        return False


# psycopg syntax: these run straight on the driver (db.fetch_all), every GetWallet and
# transfer reads them.
_ACCOUNT_FROM = """
    SELECT w.wallet_id, w.account_type, w.user_id, w.country_code, w.balance_qirat, w.frozen, w.frozen_reason,
           u.status AS user_status, COALESCE(u.genesis_received, false) AS genesis_received,
           o.type AS org_type, o.status AS org_status, w.block_number, w.create_time, w.update_time
      FROM ledger.wallets w
      LEFT JOIN ledger.users u ON u.user_id = w.user_id
      LEFT JOIN ledger.organizations o ON o.org_id = w.wallet_id
    """
_ACCOUNTS = _ACCOUNT_FROM + " WHERE w.wallet_id = ANY(%(ids)s)"
# One account by equality, not `= ANY(array)`: PostgreSQL re-plans the ANY form on every
# execution (its generic plan guesses an array of unknown length and loses to a custom plan, so
# the prepared statement never switches), about 0.05-0.1 ms of its CPU per balance read; an
# equality on the key gets the generic plan after five executions and is never planned again.
_ACCOUNT = _ACCOUNT_FROM + " WHERE w.wallet_id = %(id)s"


async def accounts(db: Fetchable, wallet_ids: Sequence[str]) -> dict[str, Account]:
    """The accounts among `wallet_ids` that exist, by id (one round trip)."""
    rows = await fetch_all(db, _ACCOUNTS, {"ids": list(wallet_ids)})
    return {row.wallet_id: Account(**row._asdict()) for row in rows}


async def account(db: Fetchable, wallet_id: str) -> Account | None:
    """One account, or None (a statement PostgreSQL plans once per connection, see `_ACCOUNT`).

    The hottest read (every balance read and transfer): a binary tuple row, built into the
    Account by position (`_ACCOUNT_FROM` lists the columns in the Account's field order), not a
    named tuple and a dict: psycopg's named-tuple rows read the 14 column names from the result
    on every execution (a test holds the order against the named read).
    """
    rows = await fetch_tuples(db, _ACCOUNT, {"id": wallet_id})
    return Account(*rows[0]) if rows else None


# A user's balance read of their own wallet: exactly the Wallet resource's fields in its order,
# shaped by PostgreSQL (NULLs blanked, the frozen reason only while frozen, times as epoch
# microseconds), the ownership in the WHERE, no organisation join. `convert.set_wallet` writes it
# into the response in place: no Account, no datetimes, no Wallet built and copied (the row to
# the response: 65.6k -> 25.4k instructions under callgrind).
_OWNED_WALLET = """
    SELECT w.wallet_id, COALESCE(w.user_id, ''), w.balance_qirat, w.frozen,
           CASE WHEN w.frozen THEN COALESCE(w.frozen_reason, '') ELSE '' END, COALESCE(w.country_code, ''),
           COALESCE(u.genesis_received, false), w.block_number,
           (extract(epoch FROM w.create_time) * 1000000)::int8, (extract(epoch FROM w.update_time) * 1000000)::int8
      FROM ledger.wallets w
      LEFT JOIN ledger.users u ON u.user_id = w.user_id
     WHERE w.wallet_id = %(id)s AND w.user_id = %(owner)s
    """


async def owned_wallet(db: Fetchable | StatementBatch, wallet_id: str, owner: str) -> tuple[Any, ...] | None:
    """The Wallet fields of `wallet_id` if it is `owner`'s, else None (missing or someone else's:
    the caller answers WALLET_NOT_FOUND either way). One statement, planned once per connection."""
    rows = await _binary_tuples(db, _OWNED_WALLET, {"id": wallet_id, "owner": owner})
    return rows[0] if rows else None


async def _binary_tuples(
    db: Fetchable | StatementBatch, sql: str, params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """One hot statement's rows in binary as plain tuples: batched with the reads queued beside it
    (a StatementBatch), or on the connection given."""
    if isinstance(db, StatementBatch):
        return await db.fetch_all(sql, params)
    return await fetch_tuples(db, sql, params)


@dataclass(frozen=True)
class SystemState:
    """What user-facing checks need of the system: bootstrapped, paused, the fee cap."""

    bootstrapped: bool
    paused: bool
    pause_reason: str
    fee_cap_bps: int | None


_SYSTEM_SQL = """
    SELECT COALESCE(s.bootstrapped, false) AS bootstrapped, COALESCE(s.paused, false) AS paused,
           COALESCE(s.pause_reason, '') AS pause_reason, p.value AS fee_cap_bps
      FROM (SELECT 1) one
      LEFT JOIN ledger.system_status s ON s.id = 1
      LEFT JOIN ledger.system_parameters p ON p.name = 'transfer_fee_cap_bps'
    """
_SYSTEM = text(_SYSTEM_SQL)


async def system_state(db: Executor) -> SystemState:
    """The system's bootstrap and pause state and the fee cap parameter (None: the default)."""
    row = (await db.execute(_SYSTEM)).one()
    return SystemState(bool(row.bootstrapped), bool(row.paused), row.pause_reason, row.fee_cap_bps)


# The pair by `IN (a, b)`, not `= ANY(array)`: as for `_ACCOUNT`, once `ledger.wallets` has
# statistics (3,000+ analysed rows) PostgreSQL planned the ANY form again on every transfer (0
# generic plans in 9,145: 0.21 vs 0.04 ms of its CPU per execution); two parameters get the generic
# plan after five runs. (A bench's 17 unanalysed wallets do not show it: both forms go generic.)
_TRANSFER_VIEW = f"""
    SELECT s.bootstrapped, s.paused, s.pause_reason, s.fee_cap_bps, a.*
      FROM ({_SYSTEM_SQL}) s
      LEFT JOIN ({_ACCOUNT_FROM} WHERE w.wallet_id IN (%(sender)s, %(receiver)s)) a ON true
    """
# The account columns (`a.*`) follow the four system columns.
_SYSTEM_WIDTH = 4


async def transfer_view(
    db: Fetchable, sender_id: str, receiver_id: str
) -> tuple[SystemState, dict[str, Account]]:
    """The system state and the accounts among the sender and the receiver, in ONE round trip.

    A transfer's checks need both on every request; one statement instead of two is a
    measurable share of an accept's cost.
    """
    rows = await fetch_all(db, _TRANSFER_VIEW, {"sender": sender_id, "receiver": receiver_id})
    first = rows[0]
    system = SystemState(bool(first.bootstrapped), bool(first.paused), first.pause_reason, first.fee_cap_bps)
    found = {
        row.wallet_id: Account(**dict(zip(row._fields[_SYSTEM_WIDTH:], row[_SYSTEM_WIDTH:], strict=True)))
        for row in rows
        if row.wallet_id is not None
    }
    return system, found


@dataclass(frozen=True)
class TransactionFilter:
    """What ListTransactions asks for.

    Attributes:
        wallet_id: The wallet.
        types: Read-model type names (SENT, FEE...); empty means all.
        start_time: Inclusive lower bound, or None.
        end_time: Exclusive upper bound, or None.
    """

    wallet_id: str
    types: tuple[str, ...] = ()
    start_time: datetime | None = None
    end_time: datetime | None = None


# A history row as the API shows it (`convert.add_transactions` reads it by position): the entry's
# strings made and its NULLs blanked by PostgreSQL, its time as microseconds since the epoch (exact:
# `extract` is numeric), so a page's 50 rows cost Python one tuple and one `add` each, not a named
# tuple, two f-strings, a datetime and its conversion (a 20-row page: 555k -> 306k instructions).
# The operation is a correlated subquery, not a LEFT JOIN of the outbox view: its plan is then a
# probe of each table's (tenant, request_id) key per row whatever the statistics say. Joined, an
# outbox grown since its last ANALYZE made the generic plan scan every 'gx' command for every row
# (random_page_cost 4, 5,593 commands: 3.5 ms of PostgreSQL CPU per 20-row page; this form 61 us
# there, 36 us with the dev cluster's random_page_cost 1.1, the same as the join once analyzed).
# LIMIT 1: a request id archived while still listed must not fail the read.
_ENTRY_COLUMNS = (
    "t.id, t.fabric_tx_id || ':' || t.event_index AS tx_id, t.wallet_id, t.type, t.amount_qirat,"
    " CASE WHEN t.type = 'SENT' THEN t.fee_qirat ELSE 0 END AS fee_qirat,"
    " COALESCE(t.counterparty, '') AS counterparty, COALESCE(t.remark, '') AS remark, t.block_number,"
    " t.fabric_tx_id, COALESCE((SELECT 'operations/' || c.id FROM outbox.operations c"
    " WHERE c.tenant = 'gx' AND c.request_id = t.request_id LIMIT 1), '') AS operation,"
    " (extract(epoch FROM t.time) * 1000000)::int8 AS time_us"
)


def _page(
    flt: TransactionFilter, after_id: int | None, limit: int, extra: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The page query of `transactions` and its parameters (psycopg syntax); `extra`: one more condition."""
    clauses = ["t.wallet_id = %(wallet)s"] if extra is None else [extra, "t.wallet_id = %(wallet)s"]
    params: dict[str, Any] = {"wallet": flt.wallet_id, "limit": limit}
    if flt.types:
        clauses.append("t.type = ANY(%(types)s)")
        params["types"] = list(flt.types)
    if flt.start_time is not None:
        clauses.append("t.time >= %(start)s")
        params["start"] = flt.start_time
    if flt.end_time is not None:
        clauses.append("t.time < %(end)s")
        params["end"] = flt.end_time
    if after_id is not None:
        clauses.append("t.id < %(after)s")
        params["after"] = after_id
    sql = (
        f"SELECT {_ENTRY_COLUMNS}"
        " FROM ledger.transactions t"
        f" WHERE {' AND '.join(clauses)} ORDER BY t.id DESC LIMIT %(limit)s"
    )
    return sql, params


async def transactions(db: Fetchable, flt: TransactionFilter, after_id: int | None, limit: int) -> list[Any]:
    """A page of a wallet's history, newest first (by the projector's insertion order), rows in
    `_ENTRY_COLUMNS`' order.

    The cursor is the last row's id: keyset paging stays fast and stable while new rows
    arrive at the top. The operation that caused each entry comes from the outbox, looked
    up by the command's request id. psycopg syntax: it runs straight on the driver (db.fetch_all).
    """
    sql, params = _page(flt, after_id, limit)
    return await fetch_all(db, sql, params)


@dataclass(frozen=True, slots=True)
class OwnedHistory:
    """A page of a user's own history, or word that it is unchanged.

    Attributes:
        version: The wallet's history version (`ledger.wallet_history_versions`) when the statement
            read it; 0 for a wallet that has had no entry.
        rows: The page's rows in `_ENTRY_COLUMNS`' order, possibly empty; None when `version` is
            the version the caller already knew (the page was not read: it is the same).
    """

    version: int
    rows: list[tuple[Any, ...]] | None


# What a caller that keeps no page passes: never a version. The sequence starts at 1, and a wallet
# that has had no entry has no row in ledger.wallet_history_versions and reads as 0 (its row, once
# taken, is never removed: a rebuild's TRUNCATE of the entries takes new versions instead).
NO_VERSION = -1


async def owned_history(
    db: Fetchable | StatementBatch,
    flt: TransactionFilter,
    owner: str,
    after_id: int | None,
    limit: int,
    known_version: int = NO_VERSION,
) -> OwnedHistory | None:
    """`transactions`, only if the wallet exists and is `owner`'s, and only if its history changed
    since `known_version`: a user's history read in ONE round trip.

    Returns None when the wallet does not exist or belongs to someone else (the caller answers
    WALLET_NOT_FOUND, as a separate account read would); otherwise the wallet's history version
    and the page, possibly empty, or no page when the version is `known_version`. The ownership
    test and the version ride along as a one-row subquery (no account columns repeated on every
    row), and the page's own condition on the version skips its scan when unchanged. Every change
    to a wallet's entries takes a new version in its own transaction (migration 0020; a wallet
    without entries reads 0), so an unchanged version means the page the caller built
    at that version is the page this statement would read. Rows come in binary as plain tuples in
    `_ENTRY_COLUMNS`' order (no integer parsed from text, no named tuple: a page is 50 rows).
    """
    page, params = _page(flt, after_id, limit, extra="a.history_version <> %(known)s")
    sql = (
        "SELECT p.*, a.history_version FROM (SELECT COALESCE(v.version, 0) AS history_version"
        " FROM ledger.wallets w LEFT JOIN ledger.wallet_history_versions v ON v.wallet_id = w.wallet_id"
        " WHERE w.wallet_id = %(wallet)s AND w.user_id = %(owner)s) a"
        f" LEFT JOIN LATERAL ({page}) p ON true"
    )
    rows = await _binary_tuples(db, sql, {**params, "owner": owner, "known": known_version})
    if not rows:
        return None
    version = rows[0][-1]
    if version == known_version:
        return OwnedHistory(version, None)
    return OwnedHistory(version, [row[:-1] for row in rows if row[0] is not None])


async def user(db: Executor, user_id: str) -> Any | None:
    """The ledger user row (status, admin, genesis), or None."""
    u = users.c
    query = select(u.user_id, u.country_code, u.status, u.admin, u.genesis_received, u.genesis_skipped_reason)
    return (await db.execute(query.where(u.user_id == user_id))).first()


async def country(db: Executor, country_code: str) -> Any | None:
    """A country row joined with its treasury (view `ledger.treasuries`), or None."""
    c, t = countries.c, treasuries.c
    query = (
        select(
            c.country_code,
            c.name,
            c.share_bps,
            c.genesis_user_count,
            c.genesis_phase,
            c.treasury_active,
            t.account_id,
            t.balance_qirat,
            t.state,
            t.activate_time,
        )
        .join_from(countries, treasuries, t.country_code == c.country_code)
        .where(c.country_code == country_code)
    )
    return (await db.execute(query)).first()


async def country_shares(db: Executor) -> dict[str, int]:
    """Every initialised country's share in basis points."""
    rows = (await db.execute(select(countries.c.country_code, countries.c.share_bps))).all()
    return {r.country_code: int(r.share_bps) for r in rows}


async def countries_page(db: Executor, after_code: str | None, limit: int) -> list[Any]:
    """A page of countries ordered by code, after `after_code`."""
    c = countries.c
    query = select(
        c.country_code, c.name, c.share_bps, c.genesis_user_count, c.genesis_phase, c.treasury_active
    )
    if after_code is not None:
        query = query.where(c.country_code > after_code)
    return list((await db.execute(query.order_by(c.country_code).limit(limit))).all())


async def system_overview(db: Executor) -> dict[str, Any]:
    """Everything GetSystemStatus shows, in one round trip per table group."""
    s, p, w, k = system_status.c, system_parameters.c, wallets.c, checkpoints.c
    status = (
        await db.execute(
            select(
                s.bootstrapped,
                s.paused,
                func.coalesce(s.pause_reason, "").label("pause_reason"),
                s.total_supply_qirat,
            ).where(s.id == 1)
        )
    ).first()
    parameters = (await db.execute(select(p.name, p.value, p.update_time).order_by(p.name))).all()
    pools = (
        await db.execute(
            select(w.wallet_id, w.balance_qirat).where(w.account_type == "SYSTEM_POOL").order_by(w.wallet_id)
        )
    ).all()
    counts = (
        await db.execute(
            select(
                select(func.count()).select_from(countries).scalar_subquery().label("countries"),
                select(func.count()).select_from(users).scalar_subquery().label("users"),
                select(func.coalesce(func.sum(w.balance_qirat), 0))
                .where(w.account_type != "SYSTEM_POOL")
                .scalar_subquery()
                .label("circulating"),
                select(func.max(k.block_number)).scalar_subquery().label("block_number"),
                select(func.max(k.updated_at)).scalar_subquery().label("update_time"),
            )
        )
    ).one()
    return {"status": status, "parameters": parameters, "pools": pools, "counts": counts}


async def parameter(db: Executor, name: str) -> int:
    """A system parameter's current value: the read model's, else the ledger's default."""
    import ledger_rules as rules

    p = system_parameters.c
    row = (await db.execute(select(p.value).where(p.name == name))).first()
    return int(row.value) if row is not None else rules.PARAMETERS[name].default


async def ledger_user(db: Executor, user_id: str) -> Any | None:
    """The ledger user with trust score and wallet standing, or None."""
    u, w = users.c, wallets.c
    query = (
        select(u.user_id, u.status, u.trust_score, u.admin, w.frozen, w.balance_qirat)
        .join_from(users, wallets, w.wallet_id == u.user_id, isouter=True)
        .where(u.user_id == user_id)
    )
    return (await db.execute(query)).first()
