"""Reserved for D (issue 13 item 4): the public id ↔ ledger id map, retention of finished commands. No-op until filled.

Revision ID: 0012_outbox_resource_ids
Revises: 0011_process_roles
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0012_outbox_resource_ids"
down_revision: str | None = "0011_process_roles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
