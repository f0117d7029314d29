"""Declared tables (issue 13 item 3): nothing to align, a no-op kept as its link of the chain.

When every table was declared once as SQLAlchemy Core (migrations/declared.py lists the owners),
`make schema-check` (alembic check) found the migrations at head already agreeing with the
declarations, so no DDL was needed here.

Revision ID: 0016_declared_tables
Revises: 0015_partner_webhooks
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0016_declared_tables"
down_revision: str | None = "0015_partner_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
