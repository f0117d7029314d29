"""identity schema: users, refresh tokens, KYC submissions and documents, audit events.

Revision ID: 0002_identity
Revises: 0001_platform_outbox
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0002_identity"
down_revision: str | None = "0001_platform_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = "identity"
_TS = sa.DateTime(timezone=True)
_UUID = pg.UUID(as_uuid=True)


def upgrade() -> None:
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {_S}")
    op.create_table(
        "users",
        sa.Column("id", _UUID, primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("display_name", sa.Text, nullable=False, server_default=""),
        sa.Column("country_code", sa.Text, nullable=False, server_default=""),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("roles", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("frozen", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("frozen_reason", sa.Text),
        sa.Column("frozen_at", _TS),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(
            "state IN ('REGISTERED', 'KYC_PENDING', 'APPROVED_PENDING_ONCHAIN', 'ACTIVE', 'REJECTED')",
            name="users_state_check",
        ),
        sa.CheckConstraint(
            "roles <@ ARRAY['USER', 'ADMIN', 'SUPER_ADMIN', 'PARTNER']::text[]", name="users_roles_check"
        ),
        schema=_S,
    )
    # Emails are unique ignoring case; the index also serves login's lookup.
    op.create_index("users_email_lower_key", "users", [sa.text("lower(email)")], unique=True, schema=_S)

    op.create_table(
        "refresh_tokens",
        sa.Column("id", _UUID, primary_key=True),
        sa.Column("family_id", _UUID, nullable=False),
        sa.Column("user_id", _UUID, sa.ForeignKey(f"{_S}.users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("family_expires_at", _TS, nullable=False),
        sa.Column("rotated_at", _TS),
        sa.Column("revoked_at", _TS),
        sa.Column("revoke_reason", sa.Text),
        schema=_S,
    )
    op.create_index("refresh_tokens_family_idx", "refresh_tokens", ["family_id"], schema=_S)
    op.create_index("refresh_tokens_user_idx", "refresh_tokens", ["user_id"], schema=_S)

    op.create_table(
        "kyc_submissions",
        sa.Column("id", _UUID, primary_key=True),
        sa.Column("user_id", _UUID, sa.ForeignKey(f"{_S}.users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("first_name", sa.Text, nullable=False),
        sa.Column("last_name", sa.Text, nullable=False),
        sa.Column("date_of_birth", sa.Date, nullable=False),
        sa.Column("nationality", sa.Text, nullable=False),
        sa.Column("rejection_reason", sa.Text),
        sa.Column("reviewer_user_id", _UUID),
        sa.Column("submitted_at", _TS, nullable=False),
        sa.Column("reviewed_at", _TS),
        sa.Column("command_id", _UUID),
        sa.CheckConstraint(
            "state IN ('PENDING', 'APPROVED', 'REJECTED')", name="kyc_submissions_state_check"
        ),
        schema=_S,
    )
    op.create_index(
        "kyc_submissions_queue_idx", "kyc_submissions", ["state", "submitted_at", "id"], schema=_S
    )
    op.create_index("kyc_submissions_user_idx", "kyc_submissions", ["user_id", "submitted_at"], schema=_S)
    # One pending submission per user, enforced by the database against concurrent submits.
    op.create_index(
        "kyc_submissions_one_pending_key",
        "kyc_submissions",
        ["user_id"],
        unique=True,
        schema=_S,
        postgresql_where=sa.text("state = 'PENDING'"),
    )

    op.create_table(
        "kyc_documents",
        sa.Column(
            "submission_id",
            _UUID,
            sa.ForeignKey(f"{_S}.kyc_submissions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("doc_type", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="kyc_documents_sha256_check"),
        schema=_S,
    )

    op.create_table(
        "audit_events",
        sa.Column("id", _UUID, primary_key=True),
        sa.Column("actor_user_id", _UUID),
        sa.Column("subject_user_id", _UUID, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("detail", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_at", _TS, nullable=False),
        schema=_S,
    )
    op.create_index("audit_events_subject_idx", "audit_events", ["subject_user_id", "created_at"], schema=_S)


def downgrade() -> None:
    op.execute(f"DROP SCHEMA IF EXISTS {_S} CASCADE")
