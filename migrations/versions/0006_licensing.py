"""licensing schema: partners, licences, API keys (hashes only) and per-minute usage.

Revision ID: 0006_licensing
Revises: 0005_outbox_ordering
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0006_licensing"
down_revision: str | None = "0005_outbox_ordering"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = "licensing"
_TS = sa.DateTime(timezone=True)
_UUID = pg.UUID(as_uuid=True)


def upgrade() -> None:
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {_S}")
    op.create_table(
        "partners",
        sa.Column("id", _UUID, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("contact_person", sa.Text, nullable=False),
        sa.Column("country_code", sa.Text, nullable=False, server_default=""),
        sa.Column("state", sa.Text, nullable=False),
        # The signed-in applicant; on approval identity grants them ROLE_PARTNER and `me`
        # resolves to this partner for them.
        sa.Column("owner_user_id", _UUID),
        sa.Column("suspend_reason", sa.Text),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint("state IN ('PENDING', 'ACTIVE', 'SUSPENDED')", name="partners_state_check"),
        schema=_S,
    )
    # One live application per email (the contract's ALREADY_EXISTS), enforced against races.
    op.create_index(
        "partners_live_email_key",
        "partners",
        [sa.text("lower(email)")],
        unique=True,
        schema=_S,
        postgresql_where=sa.text("state IN ('PENDING', 'ACTIVE')"),
    )
    # A user is linked to at most one partner, so `partners/me` is never ambiguous.
    op.create_index("partners_owner_key", "partners", ["owner_user_id"], unique=True, schema=_S)
    op.create_index("partners_list_idx", "partners", ["created_at", "id"], schema=_S)
    op.create_index("partners_state_idx", "partners", ["state", "created_at", "id"], schema=_S)

    op.create_table(
        "licenses",
        sa.Column("id", _UUID, primary_key=True),
        sa.Column("partner_id", _UUID, sa.ForeignKey(f"{_S}.partners.id"), nullable=False),
        sa.Column("tier", sa.Text, nullable=False),
        # ACTIVE or SUSPENDED as set; EXPIRED is read from expire_at, so a licence expires
        # by itself without a job.
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("suspend_reason", sa.Text),
        sa.Column("expire_at", _TS, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint("tier IN ('FREE', 'BASIC', 'PREMIUM', 'ENTERPRISE')", name="licenses_tier_check"),
        sa.CheckConstraint("state IN ('ACTIVE', 'SUSPENDED')", name="licenses_state_check"),
        schema=_S,
    )
    op.create_index("licenses_partner_idx", "licenses", ["partner_id", "created_at", "id"], schema=_S)

    op.create_table(
        "api_keys",
        sa.Column("id", _UUID, primary_key=True),
        sa.Column("license_id", _UUID, sa.ForeignKey(f"{_S}.licenses.id"), nullable=False),
        sa.Column("partner_id", _UUID, sa.ForeignKey(f"{_S}.partners.id"), nullable=False),
        sa.Column("environment", sa.Text, nullable=False),
        # SHA-256 of the whole key: the key has >= 190 random bits, so a fast hash cannot be
        # reversed and lets the edge look a key up by equality. The secret itself is never stored.
        sa.Column("secret_hash", sa.LargeBinary, nullable=False, unique=True),
        sa.Column("display_prefix", sa.Text, nullable=False),
        sa.Column("display_name", sa.Text, nullable=False, server_default=""),
        # ACTIVE, ROTATING (works until expire_at) or REVOKED; a ROTATING key past expire_at
        # reads as REVOKED.
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("replaced_by", _UUID),
        sa.Column("expire_at", _TS),
        sa.Column("revoked_at", _TS),
        # Written in batches from Redis (services.licensing.lastused), never per request.
        sa.Column("last_used_at", _TS),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint("environment IN ('LIVE', 'TEST')", name="api_keys_environment_check"),
        sa.CheckConstraint("state IN ('ACTIVE', 'ROTATING', 'REVOKED')", name="api_keys_state_check"),
        sa.CheckConstraint("length(secret_hash) = 32", name="api_keys_secret_hash_check"),
        schema=_S,
    )
    op.create_index("api_keys_license_idx", "api_keys", ["license_id", "created_at", "id"], schema=_S)

    # Metering, per licence per minute; written in batches by the edge's meter (issue 8 part 3),
    # read by GetUsage in hour or day buckets.
    op.create_table(
        "usage_minutes",
        sa.Column("license_id", _UUID, sa.ForeignKey(f"{_S}.licenses.id"), primary_key=True),
        sa.Column("minute", _TS, primary_key=True),
        sa.Column("request_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("error_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("throttled_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("byte_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.CheckConstraint("minute = date_trunc('minute', minute)", name="usage_minutes_minute_check"),
        schema=_S,
    )


def downgrade() -> None:
    op.execute(f"DROP SCHEMA IF EXISTS {_S} CASCADE")
