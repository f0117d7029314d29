"""Schemas platform (idempotency records) and outbox (ledger commands).

Revision ID: 0001_platform_outbox
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0001_platform_outbox"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS platform")
    # One row per accepted mutating request (AIP-155). It is written in the same
    # transaction as the domain rows, so a stored response exists exactly when the
    # effect does; the request hash tells an identical replay from a reused id.
    op.execute(
        """
        CREATE TABLE platform.idempotency_records (
            scope          text        NOT NULL,
            principal      text        NOT NULL,
            request_id     text        NOT NULL,
            request_hash   bytea       NOT NULL,
            response_type  text        NOT NULL,
            response       bytea       NOT NULL,
            created_at     timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (scope, principal, request_id)
        )
        """
    )
    # Old records are purged by age; this index keeps that cheap.
    op.execute("CREATE INDEX idempotency_records_created_at_idx ON platform.idempotency_records (created_at)")

    op.execute("CREATE SCHEMA IF NOT EXISTS outbox")
    op.execute(
        """
        CREATE TABLE outbox.commands (
            id               uuid        PRIMARY KEY,
            tenant           text        NOT NULL DEFAULT 'gx',
            command_type     text        NOT NULL,
            payload          jsonb       NOT NULL,
            request_id       text        NOT NULL,
            principal_id     text,
            status           text        NOT NULL DEFAULT 'PENDING'
                             CHECK (status IN ('PENDING', 'SUBMITTED', 'COMMITTED', 'FAILED')),
            attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            next_attempt_at  timestamptz NOT NULL DEFAULT now(),
            lease_owner      text,
            lease_expires_at timestamptz,
            tx_id            text,
            envelope         bytea,
            block_number     bigint,
            validation_code  text,
            error_code       text,
            error_message    text,
            result_json      text,
            created_at       timestamptz NOT NULL DEFAULT now(),
            updated_at       timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT commands_tenant_request_id_key UNIQUE (tenant, request_id)
        )
        """
    )
    # The worker's claim query scans only live rows in due order; a partial index keeps
    # it small however many terminal rows accumulate.
    op.execute(
        "CREATE INDEX commands_due_idx ON outbox.commands (next_attempt_at, created_at)"
        " WHERE status IN ('PENDING', 'SUBMITTED')"
    )
    # Operators list by status (newest first); GetOperation checks the owner.
    op.execute("CREATE INDEX commands_status_created_idx ON outbox.commands (status, created_at DESC)")
    op.execute("CREATE INDEX commands_principal_idx ON outbox.commands (principal_id, created_at DESC)")
    # The projector finds a command by the Fabric transaction id it sees in a block.
    op.execute("CREATE INDEX commands_tx_id_idx ON outbox.commands (tx_id) WHERE tx_id IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP SCHEMA IF EXISTS outbox CASCADE")
    op.execute("DROP SCHEMA IF EXISTS platform CASCADE")
