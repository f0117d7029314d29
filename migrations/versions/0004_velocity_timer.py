"""ledger.wallets.velocity_timer_start_time: the holding timer the velocity-tax preview needs.

Revision ID: 0004_velocity_timer
Revises: 0003_projector_readmodels
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_velocity_timer"
down_revision: str | None = "0003_projector_readmodels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # When a user's balance last rose above the velocity-tax threshold (chain time), as the
    # events that store the account carry it; NULL while no timer runs. Nullable, so existing
    # rows need no backfill: a rebuild from block 0 fills it from the events.
    op.execute("ALTER TABLE ledger.wallets ADD COLUMN velocity_timer_start_time timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE ledger.wallets DROP COLUMN IF EXISTS velocity_timer_start_time")
