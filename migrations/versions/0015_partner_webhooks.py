"""Reserved for H (issue 14): partner webhook endpoints and deliveries. No-op until filled.

Revision ID: 0015_partner_webhooks
Revises: 0014_identity_accounts
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0015_partner_webhooks"
down_revision: str | None = "0014_identity_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
