"""Reserved for F (issue 14): the notifications outbox. No-op until filled.

Revision ID: 0013_notifications
Revises: 0012_outbox_resource_ids
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0013_notifications"
down_revision: str | None = "0012_outbox_resource_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
