"""notify schema: one queue of outgoing messages (email now, webhooks next), and the users' money-mail preference.

Revision ID: 0013_notifications
Revises: 0012_outbox_resource_ids
Create Date: 2026-12-06

A message is recorded in the transaction of the event that causes it (services/common/notify.py)
and sent by the notifier worker (notifier/). The table mirrors services/common/notify_tables.py.

Grants (see 0011): a new group role gx_notifier alone updates the queue; every service and the
projector may INSERT (and SELECT, to return the id of an already-recorded message) but not
change a row; gx_reader reads it. The notifier reads identity.users' id, email and
money_emails columns only (it resolves a user's address and preference at send time).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013_notifications"
down_revision: str | None = "0012_outbox_resource_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WRITERS = ("gx_identity", "gx_wallet", "gx_licensing", "gx_projector")
_DML = "SELECT, INSERT, UPDATE, DELETE"


def upgrade() -> None:
    op.execute(
        "DO $$ BEGIN CREATE ROLE gx_notifier NOLOGIN;"
        " EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    )
    op.execute("CREATE SCHEMA IF NOT EXISTS notify")
    op.execute(
        """
        CREATE TABLE notify.messages (
            id uuid PRIMARY KEY,
            channel text NOT NULL,
            dedupe_key text NOT NULL,
            destination text,
            to_user_id uuid,
            template text NOT NULL,
            payload jsonb NOT NULL DEFAULT '{}'::jsonb,
            status text NOT NULL DEFAULT 'PENDING',
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            last_error text,
            last_response text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            sent_at timestamptz,
            CONSTRAINT messages_dedupe_key_key UNIQUE (dedupe_key),
            CONSTRAINT messages_channel_check CHECK (channel IN ('email', 'webhook')),
            CONSTRAINT messages_status_check CHECK (status IN ('PENDING', 'SENT', 'FAILED', 'SKIPPED')),
            CONSTRAINT messages_recipient_check CHECK (destination IS NOT NULL OR to_user_id IS NOT NULL)
        )
        """
    )
    op.execute("CREATE INDEX messages_due_idx ON notify.messages (next_attempt_at) WHERE status = 'PENDING'")
    # On by default: a user who never touched the setting is told when money arrives.
    op.execute("ALTER TABLE identity.users ADD COLUMN money_emails boolean NOT NULL DEFAULT true")

    op.execute(f"GRANT USAGE ON SCHEMA notify TO gx_notifier, gx_reader, {', '.join(_WRITERS)}")
    op.execute(f"GRANT {_DML} ON ALL TABLES IN SCHEMA notify TO gx_notifier")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA notify GRANT {_DML} ON TABLES TO gx_notifier")
    op.execute("GRANT SELECT ON ALL TABLES IN SCHEMA notify TO gx_reader")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA notify GRANT SELECT ON TABLES TO gx_reader")
    op.execute(f"GRANT SELECT, INSERT ON TABLE notify.messages TO {', '.join(_WRITERS)}")
    op.execute("GRANT USAGE ON SCHEMA identity TO gx_notifier")
    op.execute("GRANT SELECT (id, email, money_emails) ON TABLE identity.users TO gx_notifier")


def downgrade() -> None:
    op.execute("REVOKE ALL ON TABLE identity.users FROM gx_notifier")
    op.execute("REVOKE USAGE ON SCHEMA identity FROM gx_notifier")
    op.execute("ALTER TABLE identity.users DROP COLUMN money_emails")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA notify REVOKE {_DML} ON TABLES FROM gx_notifier")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA notify REVOKE SELECT ON TABLES FROM gx_reader")
    op.execute("DROP SCHEMA notify CASCADE")
    # The role stays: it is cluster-wide and other databases of the cluster may use it.
