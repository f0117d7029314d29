"""The `platform` schema's idempotency records, declared once as a SQLAlchemy Core table.

Written by `services.common.idempotency` in the same transaction as the domain rows, purged by
`services.common.idempotency_purge`. The migrations create the same table: `make schema-check`
(`alembic check`) fails when the two disagree.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, LargeBinary, MetaData, Table, Text, text

SCHEMA = "platform"

metadata = MetaData(schema=SCHEMA)

# One row per accepted mutating request (AIP-155): a stored response exists exactly when the
# effect does; the request hash tells an identical replay from a reused id.
idempotency_records = Table(
    "idempotency_records",
    metadata,
    Column("scope", Text, primary_key=True),
    Column("principal", Text, primary_key=True),
    Column("request_id", Text, primary_key=True),
    Column("request_hash", LargeBinary, nullable=False),
    Column("response_type", Text, nullable=False),
    Column("response", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    # Old records are purged by age; this index keeps that cheap.
    Index("idempotency_records_created_at_idx", "created_at"),
)
