"""The `licensing` schema, declared once as SQLAlchemy Core tables.

The migrations create the same tables: `make schema-check` (`alembic check`) fails when the two
disagree. New licensing tables go here, beside their migration.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

SCHEMA = "licensing"

metadata = MetaData(schema=SCHEMA)

_UUID = UUID(as_uuid=True)
_TS = DateTime(timezone=True)
_ZERO = text("0")

partners = Table(
    "partners",
    metadata,
    Column("id", _UUID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("contact_person", Text, nullable=False),
    Column("country_code", Text, nullable=False, server_default=""),
    Column("state", Text, nullable=False),
    # The signed-in applicant; on approval identity grants them ROLE_PARTNER and `me` resolves
    # to this partner for them.
    Column("owner_user_id", _UUID),
    Column("suspend_reason", Text),
    Column("created_at", _TS, nullable=False),
    Column("updated_at", _TS, nullable=False),
    CheckConstraint("state IN ('PENDING', 'ACTIVE', 'SUSPENDED')", name="partners_state_check"),
    # One live application per email (the contract's ALREADY_EXISTS), enforced against races.
    Index(
        "partners_live_email_key",
        func.lower(text("email")),
        unique=True,
        postgresql_where=text("state IN ('PENDING', 'ACTIVE')"),
    ),
    # A user is linked to at most one partner, so `partners/me` is never ambiguous.
    Index("partners_owner_key", "owner_user_id", unique=True),
    Index("partners_list_idx", "created_at", "id"),
    Index("partners_state_idx", "state", "created_at", "id"),
)

licenses = Table(
    "licenses",
    metadata,
    Column("id", _UUID, primary_key=True),
    Column("partner_id", _UUID, ForeignKey(f"{SCHEMA}.partners.id"), nullable=False),
    Column("tier", Text, nullable=False),
    # ACTIVE or SUSPENDED as set; EXPIRED is read from expire_at, so a licence expires by itself
    # without a job.
    Column("state", Text, nullable=False),
    Column("suspend_reason", Text),
    Column("expire_at", _TS, nullable=False),
    Column("created_at", _TS, nullable=False),
    Column("updated_at", _TS, nullable=False),
    CheckConstraint("tier IN ('FREE', 'BASIC', 'PREMIUM', 'ENTERPRISE')", name="licenses_tier_check"),
    CheckConstraint("state IN ('ACTIVE', 'SUSPENDED')", name="licenses_state_check"),
    Index("licenses_partner_idx", "partner_id", "created_at", "id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", _UUID, primary_key=True),
    Column("license_id", _UUID, ForeignKey(f"{SCHEMA}.licenses.id"), nullable=False),
    Column("partner_id", _UUID, ForeignKey(f"{SCHEMA}.partners.id"), nullable=False),
    Column("environment", Text, nullable=False),
    # SHA-256 of the whole key: the key has >= 190 random bits, so a fast hash cannot be reversed
    # and lets the edge look a key up by equality. The secret itself is never stored.
    Column("secret_hash", LargeBinary, nullable=False, unique=True),
    Column("display_prefix", Text, nullable=False),
    Column("display_name", Text, nullable=False, server_default=""),
    # ACTIVE, ROTATING (works until expire_at) or REVOKED; a ROTATING key past expire_at reads
    # as REVOKED.
    Column("state", Text, nullable=False),
    Column("replaced_by", _UUID),
    Column("expire_at", _TS),
    Column("revoked_at", _TS),
    # Written in batches from Redis (services.licensing.lastused), never per request.
    Column("last_used_at", _TS),
    Column("created_at", _TS, nullable=False),
    CheckConstraint("environment IN ('LIVE', 'TEST')", name="api_keys_environment_check"),
    CheckConstraint("state IN ('ACTIVE', 'ROTATING', 'REVOKED')", name="api_keys_state_check"),
    CheckConstraint("length(secret_hash) = 32", name="api_keys_secret_hash_check"),
    Index("api_keys_license_idx", "license_id", "created_at", "id"),
)

# Metering per licence per minute, written in batches by the edge's meter and read by GetUsage
# in hour or day buckets.
usage_minutes = Table(
    "usage_minutes",
    metadata,
    Column("license_id", _UUID, ForeignKey(f"{SCHEMA}.licenses.id"), primary_key=True),
    Column("minute", _TS, primary_key=True),
    Column("request_count", BigInteger, nullable=False, server_default=_ZERO),
    Column("error_count", BigInteger, nullable=False, server_default=_ZERO),
    Column("throttled_count", BigInteger, nullable=False, server_default=_ZERO),
    Column("byte_count", BigInteger, nullable=False, server_default=_ZERO),
    CheckConstraint("minute = date_trunc('minute', minute)", name="usage_minutes_minute_check"),
)

# -- partner webhooks (migration 0015_partner_webhooks) -------------------------------------------

# A partner's endpoint. The secret is kept as given out: the HMAC needs the key itself, so it
# cannot be hashed like an API key. No API returns it after creation; only licensing and the
# notifier's role can read the column (migration 0015).
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", _UUID, primary_key=True),
    Column("partner_id", _UUID, ForeignKey(f"{SCHEMA}.partners.id"), nullable=False),
    Column("url", Text, nullable=False),
    # Dotted event names (`operation.committed`), the wire spelling, so the trigger that records
    # events matches them without a mapping.
    Column("event_types", ARRAY(Text), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("state", Text, nullable=False),
    Column("secret", Text, nullable=False),
    Column("secret_prefix", Text, nullable=False),
    # After a roll, the old secret signs too until this time, so the receiver can switch over.
    Column("previous_secret", Text),
    Column("previous_secret_expire_at", _TS),
    Column("created_at", _TS, nullable=False),
    Column("updated_at", _TS, nullable=False),
    CheckConstraint("state IN ('ENABLED', 'DISABLED')", name="webhook_endpoints_state_check"),
    CheckConstraint("cardinality(event_types) > 0", name="webhook_endpoints_event_types_check"),
    Index("webhook_endpoints_partner_idx", "partner_id", "created_at", "id"),
)

# One event per (operation, type), written by the trigger on outbox.commands in the outbox's own
# transaction. `operation` is a snapshot of the command row as it became terminal, so every
# delivery and re-send of the event carries the same body however the command row changes or is
# archived later. No foreign key to partners: a missing partner must never fail the outbox.
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", _UUID, primary_key=True),
    Column("partner_id", _UUID, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("operation_id", _UUID, nullable=False),
    Column("operation", JSONB, nullable=False),
    Column("created_at", _TS, nullable=False, server_default=func.now()),
    UniqueConstraint("operation_id", "event_type", name="webhook_events_operation_key"),
    Index("webhook_events_partner_idx", "partner_id", "created_at"),
)
