"""Data access for the identity schema; callers own the transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit import record_audit
from services.identity.models import KycDocument, KycSubmission, RefreshToken, User


class EmailTaken(Exception):
    """The lower-cased email is already registered."""


class PendingKycExists(Exception):
    """The user already has a pending KYC submission."""


class IdentityRepository:
    """Reads and writes identity rows inside the caller's session and transaction."""

    def __init__(self, session: AsyncSession) -> None:
        """Wraps a session.

        Args:
            session: An AsyncSession with a transaction begun by the caller.
        """
        self._s = session

    # Users

    async def add_user(self, user: User) -> None:
        """Inserts a user.

        Raises:
            EmailTaken: If the email is registered already, ignoring case.
        """
        self._s.add(user)
        try:
            # A savepoint, so a unique violation leaves the outer transaction usable.
            async with self._s.begin_nested():
                await self._s.flush()
        except IntegrityError as exc:
            if "users_email_lower_key" in str(exc.orig):
                raise EmailTaken from exc
            raise

    async def user_by_id(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        """Finds a user by id, optionally locking the row."""
        stmt = select(User).where(User.id == user_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self._s.execute(stmt)).scalar_one_or_none()

    async def user_by_email(self, email: str) -> User | None:
        """Finds a user by email, ignoring case (uses the lower(email) index)."""
        stmt = select(User).where(func.lower(User.email) == email.strip().lower())
        return (await self._s.execute(stmt)).scalar_one_or_none()

    # Refresh tokens

    async def add_refresh_token(self, token: RefreshToken) -> None:
        """Inserts a refresh token row."""
        self._s.add(token)
        await self._s.flush()

    async def refresh_token_by_hash(self, token_hash: str) -> RefreshToken | None:
        """Finds a refresh token by hash and locks it, so two concurrent refreshes of the same
        token are serialised and the second one sees the first one's rotation."""
        stmt = select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
        return (await self._s.execute(stmt)).scalar_one_or_none()

    async def revoke_family(self, family_id: uuid.UUID, now: datetime, reason: str) -> int:
        """Revokes every token of a login session that is not revoked yet.

        Returns:
            How many tokens were revoked.
        """
        result = await self._s.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now, revoke_reason=reason)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def revoke_user_tokens(self, user_id: uuid.UUID, now: datetime, reason: str) -> int:
        """Revokes every session of a user (on freeze).

        Returns:
            How many tokens were revoked.
        """
        result = await self._s.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now, revoke_reason=reason)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # KYC

    async def add_kyc(self, submission: KycSubmission, documents: list[KycDocument]) -> None:
        """Inserts a submission with its documents.

        Raises:
            PendingKycExists: If the user has a pending submission already (a concurrent
                submit won the race).
        """
        submission.documents = documents
        self._s.add(submission)
        try:
            async with self._s.begin_nested():
                await self._s.flush()
        except IntegrityError as exc:
            if "kyc_submissions_one_pending_key" in str(exc.orig):
                raise PendingKycExists from exc
            raise

    async def identity_holder(self, submission_id: uuid.UUID, user_id: uuid.UUID) -> uuid.UUID | None:
        """Another user whose pending or approved KYC submission shares a document hash with
        this submission, or None.

        An approved submission belongs to a user who is approved (pending on chain) or
        active, frozen or not; a pending one to a user waiting for review. Rejected
        submissions do not count: a person may submit again under their own account.
        """
        mine = select(KycDocument.sha256).where(KycDocument.submission_id == submission_id)
        stmt = (
            select(KycSubmission.user_id)
            .join(KycDocument, KycDocument.submission_id == KycSubmission.id)
            .where(
                KycDocument.sha256.in_(mine),
                KycSubmission.user_id != user_id,
                KycSubmission.state.in_(("PENDING", "APPROVED")),
            )
            .order_by(KycSubmission.submitted_at)
            .limit(1)
        )
        return (await self._s.execute(stmt)).scalar_one_or_none()

    async def latest_kyc(self, user_id: uuid.UUID, *, for_update: bool = False) -> KycSubmission | None:
        """The user's most recent submission."""
        stmt = (
            select(KycSubmission)
            .where(KycSubmission.user_id == user_id)
            .order_by(KycSubmission.submitted_at.desc(), KycSubmission.id.desc())
            .limit(1)
        )
        if for_update:
            stmt = stmt.with_for_update()
        return (await self._s.execute(stmt)).scalar_one_or_none()

    async def list_kyc(
        self, state: str | None, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[KycSubmission]:
        """A page of submissions ordered by (submitted_at, id), keyset-paged.

        Args:
            state: Only this state, or every state when None.
            after: The (submitted_at, id) of the last row of the previous page.
            limit: The most rows to return.
        """
        stmt = select(KycSubmission)
        if state is not None:
            stmt = stmt.where(KycSubmission.state == state)
        if after is not None:
            stmt = stmt.where(
                (KycSubmission.submitted_at > after[0])
                | ((KycSubmission.submitted_at == after[0]) & (KycSubmission.id > after[1]))
            )
        stmt = stmt.order_by(KycSubmission.submitted_at, KycSubmission.id).limit(limit)
        return list((await self._s.execute(stmt)).scalars())

    # Audit

    async def audit(
        self,
        actor: uuid.UUID | None,
        subject: uuid.UUID,
        action: str,
        detail: dict[str, Any],
        now: datetime,
    ) -> None:
        """Records an administrative action on a user in the mesh-wide audit trail, in the same
        transaction as its effect (services.common.audit: address, request and trace from the RPC)."""
        await record_audit(
            self._s,
            action=action,
            subject=f"users/{subject}",
            details=detail,
            actor=str(actor) if actor is not None else None,
            service="identity",
            time=now,
        )
