"""Reserved for I (issue 14): the audit trail and back office. No-op until filled.

Revision ID: 0017_audit_trail
Revises: 0016_declared_tables
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0017_audit_trail"
down_revision: str | None = "0016_declared_tables"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
