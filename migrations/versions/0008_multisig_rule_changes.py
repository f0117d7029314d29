"""ledger.multisig_txs.rule_change: a multisig transaction may change the organisation's rules.

Revision ID: 0008_multisig_rule_changes
Revises: 0007_outbox_live_keys
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008_multisig_rule_changes"
down_revision: str | None = "0007_outbox_live_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The proposed change as the ledger's AuthRuleChange in proto JSON ({"setRule": {...}} or
    # {"removeThresholdQirat": "..."}); NULL for a payment. Nullable, so existing rows (all
    # payments) need no backfill.
    op.execute("ALTER TABLE ledger.multisig_txs ADD COLUMN rule_change jsonb")


def downgrade() -> None:
    op.execute("ALTER TABLE ledger.multisig_txs DROP COLUMN IF EXISTS rule_change")
