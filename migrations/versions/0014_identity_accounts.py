"""identity accounts: verified emails, and single-use mailed tokens (email verification, password reset).

Revision ID: 0014_identity_accounts
Revises: 0013_notifications
Create Date: 2026-12-06

`identity.users.email_verified_at` records when a user confirmed their address (KYC needs it).
Accounts that exist before this revision start unverified: nothing proves their addresses, and
ResendVerificationEmail sends them a code. `identity.account_tokens` holds the verification
codes and reset tokens by SHA-256 only (services/identity/tables.py declares the same table).

Grants: 0011's default privileges already give gx_identity DML on new identity tables; the
explicit GRANT below says so where a reader of this file looks, and costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0014_identity_accounts"
down_revision: str | None = "0013_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = "identity"
_TS = sa.DateTime(timezone=True)
_UUID = pg.UUID(as_uuid=True)


def upgrade() -> None:
    op.add_column("users", sa.Column("email_verified_at", _TS), schema=_S)
    op.create_table(
        "account_tokens",
        sa.Column("id", _UUID, primary_key=True),
        sa.Column("user_id", _UUID, sa.ForeignKey(f"{_S}.users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("used_at", _TS),
        sa.Column("revoked_at", _TS),
        sa.CheckConstraint(
            "purpose IN ('VERIFY_EMAIL', 'RESET_PASSWORD')", name="account_tokens_purpose_check"
        ),
        schema=_S,
    )
    op.create_index(
        "account_tokens_live_idx",
        "account_tokens",
        ["user_id", "purpose"],
        schema=_S,
        postgresql_where=sa.text("used_at IS NULL AND revoked_at IS NULL"),
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {_S}.account_tokens TO gx_identity")


def downgrade() -> None:
    op.drop_table("account_tokens", schema=_S)
    op.drop_column("users", "email_verified_at", schema=_S)
