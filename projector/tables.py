"""The read models of schema `ledger`, declared once as SQLAlchemy Core tables.

The projector is the only writer of these tables; services read them by importing this module
(the one projector module a service may import, so it imports nothing but SQLAlchemy). The
migrations create the same tables: `make schema-check` (`alembic check`) fails when the two
disagree. Times are the chain's transaction times; amounts are bigint Qirat.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Sequence,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

SCHEMA = "ledger"

metadata = MetaData(schema=SCHEMA)

# Views: declared so that queries (and the statement check) know their columns, but created by
# a migration's DDL; `migrations/env.py` leaves tables marked so out of `alembic check`.
views = MetaData(schema=SCHEMA)
VIEW = {"is_view": True}


def _ts(name: str, *, nullable: bool = True) -> Column[datetime]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


def _block() -> Column[int]:
    # The block of the last transaction that changed the row.
    return Column("block_number", BigInteger, nullable=False)


_FALSE = text("false")
_ZERO = text("0")
_EMPTY_JSON = text("'[]'::jsonb")

# -- bookkeeping ---------------------------------------------------------------------------------

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("name", Text, primary_key=True),
    Column("block_number", BigInteger),
    Column("tx_id", Text),
    # Bumped by every rebuild; a projector that sees it change starts over from block 0.
    Column("generation", Integer, nullable=False, server_default=_ZERO),
    Column("events_applied", BigInteger, nullable=False, server_default=_ZERO),
    _ts("last_event_time"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# One row per projected transaction: the projector's idempotency guard, and how an operation
# knows that its committed command is visible in the read models.
projected_txs = Table(
    "projected_txs",
    metadata,
    Column("tx_id", Text, primary_key=True),
    Column("block_number", BigInteger, nullable=False),
    Column("event_count", Integer, nullable=False),
    Column("request_id", Text),
    Column("command_type", Text),
    _ts("tx_time"),
)

poison_events = Table(
    "poison_events",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("tx_id", Text, nullable=False),
    Column("event_index", Integer),
    Column("event_name", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("error", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# -- accounts and history ------------------------------------------------------------------------

# Every on-chain account: user wallets (wallet_id = user_id), organisation accounts, system pools
# and country treasuries.
wallets = Table(
    "wallets",
    metadata,
    Column("wallet_id", Text, primary_key=True),
    Column("account_type", Text, nullable=False),
    Column("user_id", Text),
    Column("country_code", Text),
    Column("balance_qirat", BigInteger, nullable=False, server_default=_ZERO),
    Column("frozen", Boolean, nullable=False, server_default=_FALSE),
    Column("frozen_reason", Text),
    _block(),
    Column("fabric_tx_id", Text, nullable=False),
    _ts("create_time"),
    _ts("update_time"),
    # When a user's balance last rose above the velocity-tax threshold; NULL while no timer runs.
    _ts("velocity_timer_start_time"),
    CheckConstraint(
        "account_type IN ('USER', 'ORGANIZATION', 'SYSTEM_POOL', 'TREASURY')",
        name="wallets_account_type_check",
    ),
    Index("wallets_user_id_idx", "user_id", postgresql_where=text("user_id IS NOT NULL")),
)

users = Table(
    "users",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("country_code", Text, nullable=False),
    Column("date_of_birth", Text),
    Column("status", Text, nullable=False),
    Column("trust_score", Integer, nullable=False, server_default=_ZERO),
    Column("genesis_received", Boolean, nullable=False, server_default=_FALSE),
    Column("genesis_qirat", BigInteger, nullable=False, server_default=_ZERO),
    Column("genesis_phase", Integer),
    Column("genesis_skipped_reason", Text),
    Column("admin", Boolean, nullable=False, server_default=_FALSE),
    _block(),
    Column("fabric_tx_id", Text, nullable=False),
    _ts("create_time"),
    _ts("update_time"),
)

# One row per leg: a transfer is a SENT leg on the sender and a RECEIVED leg on the receiver.
# (fabric_tx_id, event_index, leg) is unique, so a replayed event adds nothing.
transactions = Table(
    "transactions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("fabric_tx_id", Text, nullable=False),
    Column("event_index", Integer, nullable=False),
    Column("leg", SmallInteger, nullable=False),
    Column("wallet_id", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("amount_qirat", BigInteger, nullable=False),
    Column("fee_qirat", BigInteger, nullable=False, server_default=_ZERO),
    Column("counterparty", Text),
    Column("remark", Text),
    Column("transfer_id", Text),
    Column("request_id", Text),
    Column("command_type", Text),
    _block(),
    _ts("time"),
    UniqueConstraint("fabric_tx_id", "event_index", "leg", name="transactions_event_leg_key"),
    # A wallet's history pages newest first by id, optionally by type.
    Index("transactions_wallet_idx", "wallet_id", text("id DESC")),
    Index("transactions_wallet_type_idx", "wallet_id", "type", text("id DESC")),
)

# A version of each wallet's history (migration 0020): taken from the sequence by triggers on
# `transactions` in the transaction of every change to the wallet's entries; no row while a wallet
# has none. Not a read model (the rebuild leaves it; its TRUNCATE of the entries takes new
# versions): the wallet answers a kept history page again while the version is unchanged.
history_versions = Sequence("history_versions", metadata=metadata, data_type=BigInteger)
wallet_history_versions = Table(
    "wallet_history_versions",
    metadata,
    Column("wallet_id", Text, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

# -- system, countries, treasuries ---------------------------------------------------------------

system_status = Table(
    "system_status",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("bootstrapped", Boolean, nullable=False, server_default=_FALSE),
    Column("paused", Boolean, nullable=False, server_default=_FALSE),
    Column("pause_reason", Text),
    Column("total_supply_qirat", BigInteger, nullable=False, server_default=_ZERO),
    _ts("bootstrap_time"),
    _block(),
    _ts("update_time"),
    # One row: the system.
    CheckConstraint("id = 1", name="system_status_id_check"),
)

system_parameters = Table(
    "system_parameters",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", BigInteger, nullable=False),
    Column("previous_value", BigInteger),
    Column("proposal_id", Text),
    _block(),
    _ts("update_time"),
)

admins = Table(
    "admins",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("appointed_by", Text),
    _block(),
    _ts("appoint_time"),
)

countries = Table(
    "countries",
    metadata,
    Column("country_code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("share_bps", Integer, nullable=False),
    Column("genesis_phase", Integer, nullable=False, server_default=text("1")),
    Column("genesis_user_count", BigInteger, nullable=False, server_default=_ZERO),
    Column("treasury_account_id", Text, nullable=False),
    Column("treasury_active", Boolean, nullable=False, server_default=_FALSE),
    _ts("activate_time"),
    _block(),
    _ts("update_time"),
)

# Treasuries are country rows joined with their accounts (a view, migration 0003).
treasuries = Table(
    "treasuries",
    views,
    Column("country_code", Text),
    Column("account_id", Text),
    Column("balance_qirat", BigInteger),
    Column("state", Text),
    _ts("activate_time"),
    info=VIEW,
)

# -- organisations and multisig ------------------------------------------------------------------

organizations = Table(
    "organizations",
    metadata,
    Column("org_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("country_code", Text),
    Column("status", Text, nullable=False),
    Column("stakeholder_ids", JSONB, nullable=False, server_default=_EMPTY_JSON),
    Column("endorser_ids", JSONB, nullable=False, server_default=_EMPTY_JSON),
    Column("auth_rules", JSONB, nullable=False, server_default=_EMPTY_JSON),
    _ts("create_time"),
    _ts("activate_time"),
    _block(),
    _ts("update_time"),
)

multisig_txs = Table(
    "multisig_txs",
    metadata,
    Column("multisig_tx_id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("to_account_id", Text, nullable=False),
    Column("amount_qirat", BigInteger, nullable=False),
    Column("remark", Text),
    Column("initiator_id", Text),
    Column("required_approvals", Integer, nullable=False),
    Column("approver_ids", JSONB, nullable=False, server_default=_EMPTY_JSON),
    Column("approval_ids", JSONB, nullable=False, server_default=_EMPTY_JSON),
    Column("status", Text, nullable=False),
    Column("transfer_id", Text),
    _ts("create_time"),
    _ts("execute_time"),
    _block(),
    _ts("update_time"),
    # The ledger's AuthRuleChange (proto JSON) for a rule-change proposal; NULL for a payment.
    Column("rule_change", JSONB),
    Index("multisig_txs_org_idx", "org_id", text("create_time DESC")),
)

# -- loans and governance ------------------------------------------------------------------------

loans = Table(
    "loans",
    metadata,
    Column("loan_id", Text, primary_key=True),
    Column("borrower_id", Text, nullable=False),
    Column("amount_qirat", BigInteger, nullable=False),
    Column("outstanding_qirat", BigInteger, nullable=False),
    Column("collateral_hash", Text),
    Column("purpose", Text),
    Column("status", Text, nullable=False),
    Column("approver_id", Text),
    _ts("create_time"),
    _ts("approve_time"),
    _ts("repay_time"),
    _block(),
    _ts("update_time"),
    Index("loans_borrower_idx", "borrower_id", text("create_time DESC")),
)

proposals = Table(
    "proposals",
    metadata,
    Column("proposal_id", Text, primary_key=True),
    Column("parameter", Text, nullable=False),
    Column("value", BigInteger, nullable=False),
    Column("title", Text),
    Column("description", Text),
    Column("proposer_id", Text),
    Column("votes_for", BigInteger, nullable=False, server_default=_ZERO),
    Column("votes_against", BigInteger, nullable=False, server_default=_ZERO),
    Column("status", Text, nullable=False),
    _ts("create_time"),
    _ts("voting_end_time"),
    _ts("close_time"),
    _block(),
    _ts("update_time"),
)

votes = Table(
    "votes",
    metadata,
    Column("proposal_id", Text, primary_key=True),
    Column("voter_id", Text, primary_key=True),
    Column("support", Boolean, nullable=False),
    _block(),
    _ts("time"),
)

# Every table the projector fills from events, in the order `rebuild` empties them. Bookkeeping
# that must survive a rebuild (checkpoints, which carries the generation; poison_events, the
# operators' record) is not here.
READ_MODELS: tuple[Table, ...] = (
    projected_txs,
    wallets,
    users,
    transactions,
    system_status,
    system_parameters,
    admins,
    countries,
    organizations,
    multisig_txs,
    loans,
    proposals,
    votes,
)
