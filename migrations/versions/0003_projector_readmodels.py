"""ledger schema: the projector's read models and bookkeeping; outbox.retries (operator retry links).

Revision ID: 0003_projector_readmodels
Revises: 0002_identity
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003_projector_readmodels"
down_revision: str | None = "0002_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Only the projector writes to schema `ledger`; services read it. Times in the read models
# are the transaction timestamps from the chain (never the projector's clock), so a rebuild
# from block 0 reproduces the tables exactly. Amounts are bigint Qirat.
_TABLES = [
    # -- bookkeeping ---------------------------------------------------------------------------
    """
    CREATE TABLE ledger.checkpoints (
        name            text        PRIMARY KEY,
        block_number    bigint,
        tx_id           text,
        generation      integer     NOT NULL DEFAULT 0,
        events_applied  bigint      NOT NULL DEFAULT 0,
        last_event_time timestamptz,
        updated_at      timestamptz NOT NULL DEFAULT now()
    )
    """,
    # One row per projected transaction: the idempotency guard of the projector, and how
    # GetOperation knows that a committed command is visible in the read models.
    """
    CREATE TABLE ledger.projected_txs (
        tx_id        text        PRIMARY KEY,
        block_number bigint      NOT NULL,
        event_count  integer     NOT NULL,
        request_id   text,
        command_type text,
        tx_time      timestamptz
    )
    """,
    """
    CREATE TABLE ledger.poison_events (
        id           bigserial   PRIMARY KEY,
        name         text        NOT NULL,
        block_number bigint      NOT NULL,
        tx_id        text        NOT NULL,
        event_index  integer,
        event_name   text        NOT NULL,
        payload      bytea       NOT NULL,
        error        text        NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now()
    )
    """,
    # -- accounts and history ------------------------------------------------------------------
    # Every on-chain account: user wallets (wallet_id = user_id), organisation accounts,
    # system pools and country treasuries.
    """
    CREATE TABLE ledger.wallets (
        wallet_id     text        PRIMARY KEY,
        account_type  text        NOT NULL CHECK (account_type IN ('USER', 'ORGANIZATION', 'SYSTEM_POOL', 'TREASURY')),
        user_id       text,
        country_code  text,
        balance_qirat bigint      NOT NULL DEFAULT 0,
        frozen        boolean     NOT NULL DEFAULT false,
        frozen_reason text,
        block_number  bigint      NOT NULL,
        fabric_tx_id  text        NOT NULL,
        create_time   timestamptz,
        update_time   timestamptz
    )
    """,
    "CREATE INDEX wallets_user_id_idx ON ledger.wallets (user_id) WHERE user_id IS NOT NULL",
    """
    CREATE TABLE ledger.users (
        user_id                text        PRIMARY KEY,
        country_code           text        NOT NULL,
        date_of_birth          text,
        status                 text        NOT NULL,
        trust_score            integer     NOT NULL DEFAULT 0,
        genesis_received       boolean     NOT NULL DEFAULT false,
        genesis_qirat          bigint      NOT NULL DEFAULT 0,
        genesis_phase          integer,
        genesis_skipped_reason text,
        admin                  boolean     NOT NULL DEFAULT false,
        block_number           bigint      NOT NULL,
        fabric_tx_id           text        NOT NULL,
        create_time            timestamptz,
        update_time            timestamptz
    )
    """,
    # One row per leg: a transfer is a SENT leg on the sender and a RECEIVED leg on the
    # receiver. (fabric_tx_id, event_index, leg) is unique, so a replayed event adds nothing.
    """
    CREATE TABLE ledger.transactions (
        id            bigserial   PRIMARY KEY,
        fabric_tx_id  text        NOT NULL,
        event_index   integer     NOT NULL,
        leg           smallint    NOT NULL,
        wallet_id     text        NOT NULL,
        type          text        NOT NULL,
        amount_qirat  bigint      NOT NULL,
        fee_qirat     bigint      NOT NULL DEFAULT 0,
        counterparty  text,
        remark        text,
        transfer_id   text,
        request_id    text,
        command_type  text,
        block_number  bigint      NOT NULL,
        time          timestamptz,
        CONSTRAINT transactions_event_leg_key UNIQUE (fabric_tx_id, event_index, leg)
    )
    """,
    "CREATE INDEX transactions_wallet_idx ON ledger.transactions (wallet_id, id DESC)",
    "CREATE INDEX transactions_wallet_type_idx ON ledger.transactions (wallet_id, type, id DESC)",
    # -- system, countries, treasuries ---------------------------------------------------------
    """
    CREATE TABLE ledger.system_status (
        id                 smallint    PRIMARY KEY CHECK (id = 1),
        bootstrapped       boolean     NOT NULL DEFAULT false,
        paused             boolean     NOT NULL DEFAULT false,
        pause_reason       text,
        total_supply_qirat bigint      NOT NULL DEFAULT 0,
        bootstrap_time     timestamptz,
        block_number       bigint      NOT NULL,
        update_time        timestamptz
    )
    """,
    """
    CREATE TABLE ledger.system_parameters (
        name           text        PRIMARY KEY,
        value          bigint      NOT NULL,
        previous_value bigint,
        proposal_id    text,
        block_number   bigint      NOT NULL,
        update_time    timestamptz
    )
    """,
    """
    CREATE TABLE ledger.admins (
        user_id      text        PRIMARY KEY,
        appointed_by text,
        block_number bigint      NOT NULL,
        appoint_time timestamptz
    )
    """,
    """
    CREATE TABLE ledger.countries (
        country_code        text        PRIMARY KEY,
        name                text        NOT NULL,
        share_bps           integer     NOT NULL,
        genesis_phase       integer     NOT NULL DEFAULT 1,
        genesis_user_count  bigint      NOT NULL DEFAULT 0,
        treasury_account_id text        NOT NULL,
        treasury_active     boolean     NOT NULL DEFAULT false,
        activate_time       timestamptz,
        block_number        bigint      NOT NULL,
        update_time         timestamptz
    )
    """,
    # -- organisations and multisig ------------------------------------------------------------
    """
    CREATE TABLE ledger.organizations (
        org_id        text        PRIMARY KEY,
        name          text        NOT NULL,
        type          text        NOT NULL,
        country_code  text,
        status        text        NOT NULL,
        stakeholder_ids jsonb     NOT NULL DEFAULT '[]',
        endorser_ids  jsonb       NOT NULL DEFAULT '[]',
        auth_rules    jsonb       NOT NULL DEFAULT '[]',
        create_time   timestamptz,
        activate_time timestamptz,
        block_number  bigint      NOT NULL,
        update_time   timestamptz
    )
    """,
    """
    CREATE TABLE ledger.multisig_txs (
        multisig_tx_id     text        PRIMARY KEY,
        org_id             text        NOT NULL,
        to_account_id      text        NOT NULL,
        amount_qirat       bigint      NOT NULL,
        remark             text,
        initiator_id       text,
        required_approvals integer     NOT NULL,
        approver_ids       jsonb       NOT NULL DEFAULT '[]',
        approval_ids       jsonb       NOT NULL DEFAULT '[]',
        status             text        NOT NULL,
        transfer_id        text,
        create_time        timestamptz,
        execute_time       timestamptz,
        block_number       bigint      NOT NULL,
        update_time        timestamptz
    )
    """,
    "CREATE INDEX multisig_txs_org_idx ON ledger.multisig_txs (org_id, create_time DESC)",
    # -- loans and governance ------------------------------------------------------------------
    """
    CREATE TABLE ledger.loans (
        loan_id           text        PRIMARY KEY,
        borrower_id       text        NOT NULL,
        amount_qirat      bigint      NOT NULL,
        outstanding_qirat bigint      NOT NULL,
        collateral_hash   text,
        purpose           text,
        status            text        NOT NULL,
        approver_id       text,
        create_time       timestamptz,
        approve_time      timestamptz,
        repay_time        timestamptz,
        block_number      bigint      NOT NULL,
        update_time       timestamptz
    )
    """,
    "CREATE INDEX loans_borrower_idx ON ledger.loans (borrower_id, create_time DESC)",
    """
    CREATE TABLE ledger.proposals (
        proposal_id     text        PRIMARY KEY,
        parameter       text        NOT NULL,
        value           bigint      NOT NULL,
        title           text,
        description     text,
        proposer_id     text,
        votes_for       bigint      NOT NULL DEFAULT 0,
        votes_against   bigint      NOT NULL DEFAULT 0,
        status          text        NOT NULL,
        create_time     timestamptz,
        voting_end_time timestamptz,
        close_time      timestamptz,
        block_number    bigint      NOT NULL,
        update_time     timestamptz
    )
    """,
    """
    CREATE TABLE ledger.votes (
        proposal_id  text        NOT NULL,
        voter_id     text        NOT NULL,
        support      boolean     NOT NULL,
        block_number bigint      NOT NULL,
        time         timestamptz,
        PRIMARY KEY (proposal_id, voter_id)
    )
    """,
    # Treasuries are country rows joined with their accounts.
    """
    CREATE VIEW ledger.treasuries AS
    SELECT c.country_code, c.treasury_account_id AS account_id,
           COALESCE(w.balance_qirat, 0) AS balance_qirat,
           CASE WHEN c.treasury_active THEN 'ACTIVE' ELSE 'LOCKED' END AS state,
           c.activate_time
      FROM ledger.countries c LEFT JOIN ledger.wallets w ON w.wallet_id = c.treasury_account_id
    """,
    # -- outbox: operator retries --------------------------------------------------------------
    # A dead-lettered command never changes; an operator retry records a new command and this
    # link from it to the failed one (kept here, beside the worker's other tables, rather than
    # as a column the services' outbox code would have to know about).
    """
    CREATE TABLE outbox.retries (
        command_id    uuid        PRIMARY KEY REFERENCES outbox.commands (id),
        retry_of      uuid        NOT NULL REFERENCES outbox.commands (id),
        requested_by  text,
        created_at    timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX retries_retry_of_idx ON outbox.retries (retry_of)",
    # The projector's lag looks only at committed commands at or after its checkpoint block.
    "CREATE INDEX commands_committed_block_idx ON outbox.commands (block_number) WHERE status = 'COMMITTED'",
]


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS ledger")
    for statement in _TABLES:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS outbox.commands_committed_block_idx")
    op.execute("DROP TABLE IF EXISTS outbox.retries")
    op.execute("DROP SCHEMA IF EXISTS ledger CASCADE")
