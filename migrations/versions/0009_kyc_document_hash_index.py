"""identity.kyc_documents: an index on the document hash, for the DUPLICATE_IDENTITY check.

Revision ID: 0009_kyc_document_hash_index
Revises: 0008_multisig_rule_changes
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009_kyc_document_hash_index"
down_revision: str | None = "0008_multisig_rule_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every KYC approval looks for another user's submission holding the same document hash
    # (services/identity/repository.py identity_holder); without an index that is a scan of
    # every document ever submitted, inside the approval's transaction.
    op.create_index("kyc_documents_sha256_idx", "kyc_documents", ["sha256"], schema="identity")


def downgrade() -> None:
    op.drop_index("kyc_documents_sha256_idx", table_name="kyc_documents", schema="identity")
