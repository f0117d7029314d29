"""ORM classes of the `identity` schema, mapped onto the Core tables of `services.identity.tables`.

The tables are declared once, there; these classes only give the repository and the use cases
typed rows. Annotations without `mapped_column` take each attribute from the same-named column.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from services.identity import tables
from services.identity.tables import KYC_STATES, LIFECYCLE_STATES, ROLE_NAMES, SCHEMA

__all__ = [
    "KYC_STATES",
    "LIFECYCLE_STATES",
    "ROLE_NAMES",
    "SCHEMA",
    "Base",
    "KycDocument",
    "KycSubmission",
    "RefreshToken",
    "User",
]


class Base(DeclarativeBase):
    """Declarative base over the identity tables' metadata."""

    metadata = tables.metadata


class User(Base):
    """An account: login identity, profile, roles and onboarding state."""

    __table__ = tables.users

    id: Mapped[uuid.UUID]
    email: Mapped[str]
    display_name: Mapped[str]
    country_code: Mapped[str]
    password_hash: Mapped[str]
    roles: Mapped[list[str]]
    state: Mapped[str]
    frozen: Mapped[bool]
    frozen_reason: Mapped[str | None]
    frozen_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    email_verified_at: Mapped[datetime | None]
    money_emails: Mapped[bool]


class RefreshToken(Base):
    """One refresh token, stored by hash; tokens of one login share a family."""

    __table__ = tables.refresh_tokens

    id: Mapped[uuid.UUID]
    family_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    token_hash: Mapped[str]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    family_expires_at: Mapped[datetime]
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None]


class KycSubmission(Base):
    """One KYC submission and its review."""

    __table__ = tables.kyc_submissions

    id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    state: Mapped[str]
    first_name: Mapped[str]
    last_name: Mapped[str]
    date_of_birth: Mapped[date]
    nationality: Mapped[str]
    rejection_reason: Mapped[str | None]
    reviewer_user_id: Mapped[uuid.UUID | None]
    submitted_at: Mapped[datetime]
    reviewed_at: Mapped[datetime | None]
    command_id: Mapped[uuid.UUID | None]

    documents: Mapped[list[KycDocument]] = relationship(
        order_by="KycDocument.position", lazy="selectin", cascade="all, delete-orphan"
    )


class KycDocument(Base):
    """A document of a submission, by hash."""

    __table__ = tables.kyc_documents

    submission_id: Mapped[uuid.UUID]
    position: Mapped[int]
    doc_type: Mapped[str]
    sha256: Mapped[str]
