"""Reserved for G (issue 14): email verification, password reset tokens. No-op until filled.

Revision ID: 0014_identity_accounts
Revises: 0013_notifications
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0014_identity_accounts"
down_revision: str | None = "0013_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
