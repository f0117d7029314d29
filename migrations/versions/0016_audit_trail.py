"""The audit trail (issue 14 item 4): one append-only `audit.events` for the whole mesh.

Identity's `identity.audit_events` rows move into it (subject `users/<id>`, service `identity`)
and the old table goes: there is one trail, read by identity's ListAuditEvents.

Why a schema of its own rather than `platform`: migration 0011 gives gx_outbox every DML right
on whatever is created in `platform` (default privileges), which would let a process UPDATE or
DELETE history. Here the grants are exactly: the services (identity, wallet, licensing) INSERT
and SELECT, gx_reader SELECT; nobody else anything, and no role of 0011 may UPDATE, DELETE or
TRUNCATE. Only the migrating role (the owner) could, which is what DDL needs anyway.

Revision ID: 0016_audit_trail
Revises: 0015_partner_webhooks
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0016_audit_trail"
down_revision: str | None = "0015_partner_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = "audit"
_WRITERS = ("gx_identity", "gx_wallet", "gx_licensing")
_READERS = ("gx_reader",)
_UUID = pg.UUID(as_uuid=True)
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {_S}")
    op.create_table(
        "events",
        sa.Column("id", _UUID, primary_key=True),
        sa.Column("create_time", _TS, nullable=False, server_default=sa.text("now()")),
        sa.Column("service", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("actor", sa.Text),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("address", sa.Text),
        sa.Column("request_id", sa.Text),
        sa.Column("trace_id", sa.Text),
        sa.Column("details", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        schema=_S,
    )
    op.create_index("events_time_idx", "events", ["create_time", "id"], schema=_S)
    op.create_index("events_actor_idx", "events", ["actor", "create_time", "id"], schema=_S)
    op.create_index("events_subject_idx", "events", ["subject", "create_time", "id"], schema=_S)
    op.create_index("events_action_idx", "events", ["action", "create_time", "id"], schema=_S)
    op.execute(
        f"INSERT INTO {_S}.events (id, create_time, service, action, actor, subject, details)"
        " SELECT id, created_at, 'identity', action, actor_user_id::text, 'users/' || subject_user_id, detail"
        " FROM identity.audit_events"
    )
    op.drop_table("audit_events", schema="identity")
    roles = (*_WRITERS, *_READERS)
    op.execute(f"GRANT USAGE ON SCHEMA {_S} TO {', '.join(roles)}")
    op.execute(f"GRANT SELECT, INSERT ON TABLE {_S}.events TO {', '.join(_WRITERS)}")
    op.execute(f"GRANT SELECT ON TABLE {_S}.events TO {', '.join(_READERS)}")


def downgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", _UUID, primary_key=True),
        sa.Column("actor_user_id", _UUID),
        sa.Column("subject_user_id", _UUID, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("detail", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_at", _TS, nullable=False),
        schema="identity",
    )
    op.create_index(
        "audit_events_subject_idx", "audit_events", ["subject_user_id", "created_at"], schema="identity"
    )
    # Identity's own rows go back (actors that are not user ids had none there); the other
    # services' rows have no home before this revision.
    op.execute(
        "INSERT INTO identity.audit_events (id, actor_user_id, subject_user_id, action, detail, created_at)"
        f" SELECT id, CASE WHEN actor ~ '^[0-9a-f-]{{36}}$' THEN actor::uuid END,"
        f" substr(subject, 7)::uuid, action, details, create_time FROM {_S}.events"
        " WHERE service = 'identity' AND subject LIKE 'users/%'"
    )
    op.execute(f"DROP SCHEMA {_S} CASCADE")
