"""outbox.commands.traceparent: the W3C trace of the request that recorded a command.

Revision ID: 0010_outbox_traceparent
Revises: 0009_kyc_document_hash_index
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010_outbox_traceparent"
down_revision: str | None = "0009_kyc_document_hash_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # One trace per ledger command across the async boundary: the worker that submits the
    # command and the projector that applies its transaction log under the trace of the request
    # that recorded it. Nullable (commands recorded outside a request, and rows from before this
    # revision, have none); a plain ADD COLUMN without a default rewrites nothing.
    op.execute("ALTER TABLE outbox.commands ADD COLUMN traceparent text")


def downgrade() -> None:
    op.execute("ALTER TABLE outbox.commands DROP COLUMN traceparent")
