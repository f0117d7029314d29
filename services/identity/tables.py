"""The `identity` schema, declared once as SQLAlchemy Core tables (the ORM models map onto them).

The migrations create the same tables: `make schema-check` (`alembic check`) fails when the two
disagree. New identity tables go here, beside their migration.
"""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

SCHEMA = "identity"

# The lifecycle states stored in users.state. FROZEN is not among them: freezing is a flag
# on top of the lifecycle state, so unfreezing returns the user to where they were.
LIFECYCLE_STATES = ("REGISTERED", "KYC_PENDING", "APPROVED_PENDING_ONCHAIN", "ACTIVE", "REJECTED")
KYC_STATES = ("PENDING", "APPROVED", "REJECTED")
ROLE_NAMES = ("USER", "ADMIN", "SUPER_ADMIN", "PARTNER")

metadata = MetaData(schema=SCHEMA)

_UUID = UUID(as_uuid=True)
_TS = DateTime(timezone=True)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


users = Table(
    "users",
    metadata,
    Column("id", _UUID, primary_key=True),
    Column("email", Text, nullable=False),
    Column("display_name", Text, nullable=False, server_default=""),
    Column("country_code", Text, nullable=False, server_default=""),
    Column("password_hash", Text, nullable=False),
    Column("roles", ARRAY(Text), nullable=False),
    Column("state", Text, nullable=False),
    Column("frozen", Boolean, nullable=False, server_default=text("false")),
    Column("frozen_reason", Text),
    Column("frozen_at", _TS),
    Column("created_at", _TS, nullable=False),
    Column("updated_at", _TS, nullable=False),
    # When the user confirmed their email with a verification mail's code (migration 0014);
    # KYC submission needs it. NULL: not verified.
    Column("email_verified_at", _TS),
    # Whether the user gets an email when money arrives (migration 0013; UpdateUser's
    # notification_settings). The notifier reads it at send time.
    Column("money_emails", Boolean, nullable=False, server_default=text("true")),
    CheckConstraint(_in("state", LIFECYCLE_STATES), name="users_state_check"),
    CheckConstraint(
        f"roles <@ ARRAY[{', '.join(repr(r) for r in ROLE_NAMES)}]::text[]", name="users_roles_check"
    ),
    # Case-insensitive uniqueness lives in the database so two concurrent registrations of
    # Ana@x and ana@x cannot both succeed; the index also serves login's lookup.
    Index("users_email_lower_key", func.lower(text("email")), unique=True),
)

# One refresh token, stored by hash; the tokens of one login share a family.
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", _UUID, primary_key=True),
    Column("family_id", _UUID, nullable=False),
    Column("user_id", _UUID, ForeignKey(f"{SCHEMA}.users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("created_at", _TS, nullable=False),
    Column("expires_at", _TS, nullable=False),
    Column("family_expires_at", _TS, nullable=False),
    Column("rotated_at", _TS),
    Column("revoked_at", _TS),
    Column("revoke_reason", Text),
    Index("refresh_tokens_family_idx", "family_id"),
    Index("refresh_tokens_user_idx", "user_id"),
)

kyc_submissions = Table(
    "kyc_submissions",
    metadata,
    Column("id", _UUID, primary_key=True),
    Column("user_id", _UUID, ForeignKey(f"{SCHEMA}.users.id", ondelete="CASCADE"), nullable=False),
    Column("state", Text, nullable=False),
    Column("first_name", Text, nullable=False),
    Column("last_name", Text, nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("nationality", Text, nullable=False),
    Column("rejection_reason", Text),
    Column("reviewer_user_id", _UUID),
    Column("submitted_at", _TS, nullable=False),
    Column("reviewed_at", _TS),
    # The outbox command created on approval (its operation is `operations/<command_id>`).
    Column("command_id", _UUID),
    CheckConstraint(_in("state", KYC_STATES), name="kyc_submissions_state_check"),
    # The review queue pages by (submitted_at, id) within a state.
    Index("kyc_submissions_queue_idx", "state", "submitted_at", "id"),
    Index("kyc_submissions_user_idx", "user_id", "submitted_at"),
    # At most one pending submission per user, even under concurrent submits.
    Index(
        "kyc_submissions_one_pending_key", "user_id", unique=True, postgresql_where=text("state = 'PENDING'")
    ),
)

kyc_documents = Table(
    "kyc_documents",
    metadata,
    Column(
        "submission_id",
        _UUID,
        ForeignKey(f"{SCHEMA}.kyc_submissions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("doc_type", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="kyc_documents_sha256_check"),
    # The DUPLICATE_IDENTITY check looks documents up by hash (migration 0009).
    Index("kyc_documents_sha256_idx", "sha256"),
)

# Administrative actions are in the mesh-wide audit trail (services.common.audit_tables,
# migration 0016 moved identity's rows there).

# --- Accounts (migration 0014): email verification codes and password reset tokens ---

# What a token is for: VERIFY_EMAIL confirms the address it was mailed to; RESET_PASSWORD sets
# a new password without the old one.
ACCOUNT_TOKEN_PURPOSES = ("VERIFY_EMAIL", "RESET_PASSWORD")

# One single-use token sent by mail, stored by hash only (services.identity.account_tokens).
# A token is live while used_at and revoked_at are NULL and expires_at is ahead; a newer token
# of the same purpose, or a password change, revokes the older live ones.
account_tokens = Table(
    "account_tokens",
    metadata,
    Column("id", _UUID, primary_key=True),
    Column("user_id", _UUID, ForeignKey(f"{SCHEMA}.users.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("token_hash", Text, nullable=False, unique=True),
    # The address the token was mailed to: verifying confirms this address, not whatever
    # the account's email is by then.
    Column("email", Text, nullable=False),
    Column("created_at", _TS, nullable=False),
    Column("expires_at", _TS, nullable=False),
    Column("used_at", _TS),
    Column("revoked_at", _TS),
    CheckConstraint(_in("purpose", ACCOUNT_TOKEN_PURPOSES), name="account_tokens_purpose_check"),
    # Superseding finds a user's live tokens of one purpose.
    Index(
        "account_tokens_live_idx",
        "user_id",
        "purpose",
        postgresql_where=text("used_at IS NULL AND revoked_at IS NULL"),
    ),
)
