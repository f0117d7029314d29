"""SQLAlchemy models of the `identity` schema (the migration creates the same tables)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SCHEMA = "identity"

# The lifecycle states stored in users.state. FROZEN is not among them: freezing is a flag
# on top of the lifecycle state, so unfreezing returns the user to where they were.
LIFECYCLE_STATES = ("REGISTERED", "KYC_PENDING", "APPROVED_PENDING_ONCHAIN", "ACTIVE", "REJECTED")
KYC_STATES = ("PENDING", "APPROVED", "REJECTED")
ROLE_NAMES = ("USER", "ADMIN", "SUPER_ADMIN", "PARTNER")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    """Declarative base bound to the `identity` schema."""

    metadata = MetaData(schema=SCHEMA)


class User(Base):
    """An account: login identity, profile, roles and onboarding state."""

    __tablename__ = "users"
    __table_args__ = (
        # Case-insensitive uniqueness lives in the database so two concurrent
        # registrations of Ana@x and ana@x cannot both succeed.
        Index("users_email_lower_key", func.lower(text("email")), unique=True),
        CheckConstraint(_in("state", LIFECYCLE_STATES), name="users_state_check"),
        CheckConstraint(f"roles <@ ARRAY[{', '.join(repr(r) for r in ROLE_NAMES)}]::text[]", name="users_roles_check"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    email: Mapped[str] = mapped_column(Text, nullable=False)
    display_name: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    country_code: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    roles: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    state: Mapped[str] = mapped_column(Text, nullable=False)
    frozen: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    frozen_reason: Mapped[str | None] = mapped_column(Text)
    frozen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class RefreshToken(Base):
    """One refresh token, stored by hash; tokens of one login share a family."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        Index("refresh_tokens_family_idx", "family_id"),
        Index("refresh_tokens_user_idx", "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    family_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{SCHEMA}.users.id", ondelete="CASCADE"), nullable=False
    )
    token_hash: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    family_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoke_reason: Mapped[str | None] = mapped_column(Text)


class KycSubmission(Base):
    """One KYC submission and its review."""

    __tablename__ = "kyc_submissions"
    __table_args__ = (
        CheckConstraint(_in("state", KYC_STATES), name="kyc_submissions_state_check"),
        # The review queue pages by (submitted_at, id) within a state.
        Index("kyc_submissions_queue_idx", "state", "submitted_at", "id"),
        Index("kyc_submissions_user_idx", "user_id", "submitted_at"),
        # At most one pending submission per user, even under concurrent submits.
        Index(
            "kyc_submissions_one_pending_key",
            "user_id",
            unique=True,
            postgresql_where=text("state = 'PENDING'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{SCHEMA}.users.id", ondelete="CASCADE"), nullable=False
    )
    state: Mapped[str] = mapped_column(Text, nullable=False)
    first_name: Mapped[str] = mapped_column(Text, nullable=False)
    last_name: Mapped[str] = mapped_column(Text, nullable=False)
    date_of_birth: Mapped[date] = mapped_column(Date, nullable=False)
    nationality: Mapped[str] = mapped_column(Text, nullable=False)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    reviewer_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The outbox command created on approval (its operation is `operations/<command_id>`).
    command_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))

    documents: Mapped[list[KycDocument]] = relationship(
        order_by="KycDocument.position", lazy="selectin", cascade="all, delete-orphan"
    )


class KycDocument(Base):
    """A document of a submission, by hash."""

    __tablename__ = "kyc_documents"
    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="kyc_documents_sha256_check"),
        # The DUPLICATE_IDENTITY check looks documents up by hash (migration 0009).
        Index("kyc_documents_sha256_idx", "sha256"),
    )

    submission_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{SCHEMA}.kyc_submissions.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_type: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str] = mapped_column(Text, nullable=False)


class AuditEvent(Base):
    """An administrative action on a user (freeze, roles, KYC review), for accountability."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("audit_events_subject_idx", "subject_user_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    subject_user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    action: Mapped[str] = mapped_column(Text, nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
