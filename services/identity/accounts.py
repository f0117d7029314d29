"""Account security: email verification, forgotten password (reset by mail), change password.

Each write is one transaction holding its token row, its mail (the notifications outbox,
services.common.notify) and its audit row, so a token is never live without its mail and a mail
never leaves for a change that rolled back. Tokens are stored by hash only
(services.identity.account_tokens). Ending sessions uses the same two mechanisms as a freeze:
the refresh tokens are revoked in the database, and every access token issued up to the change
is denied through the shared revocation list (services.common.revocation), written inside the
transaction (nothing changes if it cannot be written) and once more after the commit.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from google.protobuf.message import Message
from gx.identity.v1 import identity_service_pb2 as svc
from redis.exceptions import RedisError
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common import notify
from services.common.client_address import pin_client_address
from services.common.db import Queryable
from services.common.errors import FieldViolation, InvalidArgument, ResourceExhausted
from services.common.idempotency import Idempotency
from services.common.logging import LogKey
from services.common.revocation import RevocationList
from services.identity import convert, errors, models, tables
from services.identity.account_tokens import (
    Purpose,
    TokenState,
    Verdict,
    hash_token,
    judge,
    looks_like,
    new_token,
)
from services.identity.limits import Limit, RequestLimiter, hashed
from services.identity.lockout import LoginLockout
from services.identity.passwords import PasswordHashing, check_password_rules
from services.identity.repository import IdentityRepository
from services.identity.sessions import SessionPolicy, SubjectRevoker, open_session
from services.identity.tokens import AccessTokenIssuer
from services.identity.usecases import Caller, Tokens, lock_user

log = logging.getLogger(__name__)

# Mail templates (notifier/templates/<name>.txt|.html).
VERIFICATION_TEMPLATE = "email_verification"
RESET_TEMPLATE = "password_reset"
CHANGED_TEMPLATE = "password_changed"

_tokens = tables.account_tokens

# What the password-changed notice says happened.
_HOW_TEXT = {"reset": "with a password reset link", "change": "in the app, with the old password"}

_RESEND_LIMIT = Limit(3, 3600)
_RESET_ADDRESS_LIMIT = Limit(10, 900)
_RESET_EMAIL_LIMIT = Limit(3, 3600)


class Mailer(Protocol):
    """Records one email in the caller's transaction (services.common.notify.enqueue_email)."""

    def __call__(
        self,
        db: Queryable,
        *,
        to_address: str | None,
        to_user_id: str | uuid.UUID | None,
        template: str,
        context: Mapping[str, Any],
        dedupe_key: str,
    ) -> Awaitable[uuid.UUID]:
        """See services.common.notify.enqueue_email."""
        ...


@dataclass(frozen=True)
class AccountPolicy:
    """Lifetimes, limits and links of account mails.

    Attributes:
        link_base: Where the app opens mailed links (`<base>/verify-email?code=…`,
            `<base>/reset-password?token=…`); the code or token is in the mail's text too.
        verify_ttl: How long a verification code works.
        reset_ttl: How long a reset token works (15 minutes).
        resend_limit: Verification mails a user may ask for (ResendVerificationEmail).
        reset_address_limit: Reset requests per client address; over it the request is
            refused, the same way for every email.
        reset_email_limit: Reset mails per email; over it no mail is sent, and the answer
            does not change (so it cannot tell whether the email exists).
    """

    link_base: str = "https://app.gx.example"
    verify_ttl: timedelta = timedelta(hours=24)
    reset_ttl: timedelta = timedelta(minutes=15)
    resend_limit: Limit = _RESEND_LIMIT
    reset_address_limit: Limit = _RESET_ADDRESS_LIMIT
    reset_email_limit: Limit = _RESET_EMAIL_LIMIT


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _code_invalid() -> InvalidArgument:
    return InvalidArgument(
        "the verification code is not valid; ask for a new one",
        reason="VERIFICATION_CODE_INVALID",
        violations=[FieldViolation("code", "is wrong, used, expired or superseded by a newer mail")],
    )


def _reset_invalid() -> InvalidArgument:
    # One answer for wrong, used and expired tokens: nothing about the account behind it.
    return InvalidArgument(
        "the reset token is not valid; ask for a new one",
        reason="RESET_TOKEN_INVALID",
        violations=[FieldViolation("token", "is wrong, used or expired")],
    )


class AccountUseCases:
    """Email verification, password reset and password change; no gRPC knowledge."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        hashing: PasswordHashing,
        issuer: AccessTokenIssuer,
        lockout: LoginLockout,
        idempotency: Idempotency,
        revocations: RevocationList,
        limiter: RequestLimiter,
        policy: AccountPolicy | None = None,
        session_policy: SessionPolicy | None = None,
        clock: Callable[[], datetime] = _utcnow,
        mail: Mailer = notify.enqueue_email,
    ) -> None:
        """Wires the use cases.

        Args:
            sessions: The session factory of the service's engine.
            hashing: Argon2id hashing.
            issuer: Signs access tokens (a password change answers a new session).
            lockout: The login throttle; a wrong current password counts against it.
            idempotency: AIP-155 request_id handling.
            revocations: The access-token deny-list every service checks.
            limiter: Counts mail-sending requests.
            policy: Lifetimes, limits and links.
            session_policy: Refresh-token lifetimes, as for Login.
            clock: The time source.
            mail: Records an email in the caller's transaction.
        """
        self._sessions = sessions
        self._hashing = hashing
        self._issuer = issuer
        self._lockout = lockout
        self._idem = idempotency
        self._revoker = SubjectRevoker(revocations, clock)
        self._limiter = limiter
        self._policy = policy or AccountPolicy()
        self._session_policy = session_policy or SessionPolicy()
        self._now = clock
        self._mail = mail
        # Reset mails are prepared after the answer is sent (see request_password_reset);
        # kept here so they are not garbage-collected mid-flight and can be awaited.
        self._background: set[asyncio.Task[None]] = set()

    # Email verification

    async def on_registered(self, session: AsyncSession, user: models.User) -> None:
        """Registration's hook, inside its transaction: the first verification mail."""
        await self._send_verification(session, user.id, user.email, user.display_name, user.created_at)

    async def verify_email(self, caller: Caller, request: svc.VerifyEmailRequest) -> svc.VerifyEmailResponse:
        """Confirms the caller's address with a mailed code (see IdentityService.VerifyEmail)."""
        target = _own_account(caller, request.user_id)
        if not looks_like(request.code, Purpose.VERIFY_EMAIL):
            raise _code_invalid()
        digest = hash_token(request.code)
        now = self._now()

        async def work(session: AsyncSession) -> Message:
            repo = IdentityRepository(session)
            user = await lock_user(repo, target)
            row = await _token_by_hash(session, digest)
            if row is None or row.user_id != target or row.purpose != Purpose.VERIFY_EMAIL.value:
                raise _code_invalid()
            verdict = judge(TokenState(row.expires_at, row.used_at, row.revoked_at), now)
            # The code confirms the address it was sent to, not whatever the email is by now.
            if verdict is not Verdict.VALID or row.email.lower() != user.email.lower():
                log.info("verification code refused: %s", verdict.value, extra={LogKey.USER_ID: str(target)})
                raise _code_invalid()
            await session.execute(update(_tokens).where(_tokens.c.id == row.id).values(used_at=now))
            await _revoke_live(session, target, Purpose.VERIFY_EMAIL, now)
            user.email_verified_at = now
            user.updated_at = now
            await repo.audit(target, target, "EMAIL_VERIFIED", {"email": user.email}, now)
            await session.flush()
            return svc.VerifyEmailResponse(user=convert.user_message(user))

        response: svc.VerifyEmailResponse = await self._run("identity.VerifyEmail", caller, request, work)
        return response

    async def resend_verification(
        self, caller: Caller, request: svc.ResendVerificationEmailRequest
    ) -> svc.ResendVerificationEmailResponse:
        """A new verification mail; older codes stop working (IdentityService.ResendVerificationEmail)."""
        target = _own_account(caller, request.user_id)
        now = self._now()

        async def work(session: AsyncSession) -> Message:
            repo = IdentityRepository(session)
            user = await lock_user(repo, target)
            if user.email_verified_at is not None:
                raise errors.failed_precondition(
                    "EMAIL_ALREADY_VERIFIED", "this email address is verified already"
                )
            # Counted inside the transaction, after the checks: a replay (same request_id)
            # never gets here, and a refused resend writes nothing.
            wait = await self._count("verify-resend", str(target), self._policy.resend_limit, "VERIFICATION")
            if wait is not None:
                raise _limited("VERIFICATION_RESEND_LIMITED", "too many verification mails", wait)
            await self._send_verification(session, target, user.email, user.display_name, now)
            await repo.audit(target, target, "VERIFICATION_EMAIL_SENT", {}, now)
            return svc.ResendVerificationEmailResponse()

        response: svc.ResendVerificationEmailResponse = await self._run(
            "identity.ResendVerificationEmail", caller, request, work
        )
        return response

    async def _send_verification(
        self, session: AsyncSession, user_id: uuid.UUID, email: str, display_name: str, now: datetime
    ) -> None:
        await _revoke_live(session, user_id, Purpose.VERIFY_EMAIL, now)
        token_id, code = await self._add_token(session, user_id, email, Purpose.VERIFY_EMAIL, now)
        await self._mail(
            session,
            to_address=email,
            to_user_id=None,
            template=VERIFICATION_TEMPLATE,
            context=verification_context(self._policy, code, display_name),
            dedupe_key=f"identity:account-token:{token_id}",
        )

    # Forgotten password

    async def request_password_reset(self, email: str, client_ip: str | None) -> None:
        """Starts a reset (see IdentityService.RequestPasswordReset).

        The answer is decided before the email is looked up: only the per-address limit,
        which is the same for every email, can refuse it. The lookup, the token and the mail
        happen after the answer, in a task of their own, so neither the answer nor its
        timing depends on whether the account exists.

        Raises:
            ServiceError: RESOURCE_EXHAUSTED `PASSWORD_RESET_LIMITED` over the address's
                limit; UNAVAILABLE when the limiter cannot be asked.
        """
        if client_ip:
            wait = await self._count(
                "reset-address", client_ip, self._policy.reset_address_limit, "PASSWORD_RESET"
            )
            if wait is not None:
                raise _limited("PASSWORD_RESET_LIMITED", "too many password reset requests", wait)
        # The mail's audit row is written after this call has answered: its address is read now.
        pin_client_address()
        task = asyncio.get_running_loop().create_task(self._reset_mail(email.strip()))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Waits for the reset mails still being prepared (shutdown, tests)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def _reset_mail(self, email: str) -> None:
        # Never raises: nobody is waiting for it. Every outcome is logged without the email.
        try:
            if (
                await self._limiter.hit("reset-email", hashed(email), self._policy.reset_email_limit)
                is not None
            ):
                log.info("password reset mail not sent: the email's limit is reached")
                return
            now = self._now()
            async with self._sessions() as session, session.begin():
                repo = IdentityRepository(session)
                user = await repo.user_by_email(email)
                if user is None:
                    return
                await _revoke_live(session, user.id, Purpose.RESET_PASSWORD, now)
                token_id, token = await self._add_token(
                    session, user.id, user.email, Purpose.RESET_PASSWORD, now
                )
                await self._mail(
                    session,
                    to_address=user.email,
                    to_user_id=None,
                    template=RESET_TEMPLATE,
                    context=reset_context(self._policy, token, user.display_name),
                    dedupe_key=f"identity:account-token:{token_id}",
                )
                await repo.audit(None, user.id, "PASSWORD_RESET_REQUESTED", {}, now)
            log.info("password reset mail queued", extra={LogKey.USER_ID: str(user.id)})
        except Exception:
            log.exception("password reset mail could not be queued")

    async def reset_password(self, token: str, new_password: str) -> None:
        """Sets a new password with a mailed token and ends every session (IdentityService.ResetPassword)."""
        if not looks_like(token, Purpose.RESET_PASSWORD):
            raise _reset_invalid()
        digest = hash_token(token)
        async with self._sessions() as session:
            row = await _token_by_hash(session, digest)
        if row is None or row.purpose != Purpose.RESET_PASSWORD.value:
            raise _reset_invalid()
        if judge(TokenState(row.expires_at, row.used_at, row.revoked_at), self._now()) is not Verdict.VALID:
            raise _reset_invalid()
        problems = check_password_rules(new_password, row.email, field="new_password")
        if problems:
            raise errors.invalid(problems)
        # Argon2 before the transaction: tens of milliseconds of CPU must not hold a connection.
        password_hash = await self._hashing.hash(new_password)
        now = self._now()
        async with self._sessions() as session, session.begin():
            locked = await _token_by_hash(session, digest, for_update=True)
            # Judged again under the lock: two resets racing with one token, one wins.
            if locked is None or judge(
                TokenState(locked.expires_at, locked.used_at, locked.revoked_at), now
            ) is not (Verdict.VALID):
                raise _reset_invalid()
            repo = IdentityRepository(session)
            user = await repo.user_by_id(locked.user_id, for_update=True)
            if user is None:
                raise _reset_invalid()
            await session.execute(update(_tokens).where(_tokens.c.id == locked.id).values(used_at=now))
            await self._set_password(session, user, password_hash, "PASSWORD_RESET", now)
            await repo.audit(None, user.id, "PASSWORD_RESET", {}, now)
            await self._changed_mail(session, user, "reset", f"identity:password-changed:{locked.id}", now)
        await self._revoker.revoke_again(user.id)
        try:
            # The owner proved control of the mailbox: earlier failed logins (perhaps
            # someone else's guesses) no longer delay their login.
            await self._lockout.record_success(user.email, None)
        except RedisError:
            log.warning(
                "login throttle not reset after a password reset", extra={LogKey.USER_ID: str(user.id)}
            )
        log.info("password reset", extra={LogKey.USER_ID: str(user.id)})

    # Change password

    async def change_password(
        self, caller: Caller, request: svc.ChangePasswordRequest, client_ip: str | None
    ) -> Tokens:
        """Changes the caller's password and answers a new session (IdentityService.ChangePassword).

        Every session ends, the caller's too: revoking "all but this one" would need the
        refresh token of this one, which the request does not carry (the access token names
        its session, but a thief holding a copy of the same access token would keep that
        session). The caller gets a fresh session in the answer instead.
        """
        target = _own_account(caller, request.user_id)
        async with self._sessions() as session:
            user = await IdentityRepository(session).user_by_id(target)
        if user is None:
            raise errors.user_not_found()
        # The login throttle guards this password check too: a stolen access token must not
        # become a free password-guessing oracle.
        try:
            lock = await self._lockout.admit(user.email, client_ip)
        except RedisError:
            log.exception("password change throttle unavailable")
            raise errors.unavailable(
                "PASSWORD_CHANGE_UNAVAILABLE", "changing the password is unavailable right now; retry shortly"
            ) from None
        if lock is not None:
            raise errors.locked(lock.scope, lock.retry_after_seconds)
        if not await self._hashing.verify(user.password_hash, request.current_password):
            raise InvalidArgument(
                "the current password is wrong",
                reason="WRONG_PASSWORD",
                violations=[FieldViolation("current_password", "is not the account's password")],
            )
        try:
            await self._lockout.record_success(user.email, client_ip)
        except RedisError:
            log.warning(
                "login throttle not reset after a password check", extra={LogKey.USER_ID: str(target)}
            )
        problems = check_password_rules(request.new_password, user.email, field="new_password")
        if problems:
            raise errors.invalid(problems)
        password_hash = await self._hashing.hash(request.new_password)
        now = self._now()
        async with self._sessions() as session, session.begin():
            repo = IdentityRepository(session)
            locked = await lock_user(repo, target)
            if locked.frozen:
                raise errors.permission_denied("USER_FROZEN", "this account is frozen; contact support")
            await self._set_password(session, locked, password_hash, "PASSWORD_CHANGED", now)
            family, refresh = await open_session(repo, target, now, self._session_policy)
            await repo.audit(target, target, "PASSWORD_CHANGED", {}, now)
            await self._changed_mail(session, locked, "change", f"identity:password-changed:{family}", now)
            roles = list(locked.roles)
        cutoff = await self._revoker.revoke_again(target)
        access = self._issuer.issue(str(target), roles, self._now(), session_id=str(family), after_ms=cutoff)
        log.info("password changed", extra={LogKey.USER_ID: str(target)})
        return Tokens(access.token, refresh, access.expires_in)

    # Helpers

    async def _set_password(
        self, session: AsyncSession, user: models.User, password_hash: str, reason: str, now: datetime
    ) -> None:
        # The new password and the end of every session commit together, or neither does.
        user.password_hash = password_hash
        user.updated_at = now
        await session.flush()
        await IdentityRepository(session).revoke_user_tokens(user.id, now, reason)
        # A reset mail asked for before this change must not undo it.
        await _revoke_live(session, user.id, Purpose.RESET_PASSWORD, now)
        await self._revoker.revoke(user.id)

    async def _changed_mail(
        self, session: AsyncSession, user: models.User, how: str, dedupe: str, now: datetime
    ) -> None:
        await self._mail(
            session,
            to_address=user.email,
            to_user_id=None,
            template=CHANGED_TEMPLATE,
            context=changed_context(how, now, user.display_name),
            dedupe_key=dedupe,
        )

    async def _add_token(
        self, session: AsyncSession, user_id: uuid.UUID, email: str, purpose: Purpose, now: datetime
    ) -> tuple[uuid.UUID, str]:
        token, digest = new_token(purpose)
        token_id = uuid.uuid4()
        ttl = self._policy.verify_ttl if purpose is Purpose.VERIFY_EMAIL else self._policy.reset_ttl
        await session.execute(
            insert(_tokens).values(
                id=token_id,
                user_id=user_id,
                purpose=purpose.value,
                token_hash=digest,
                email=email,
                created_at=now,
                expires_at=now + ttl,
            )
        )
        return token_id, token

    async def _count(self, scope: str, subject: str, limit: Limit, what: str) -> int | None:
        try:
            return await self._limiter.hit(scope, subject, limit)
        except RedisError:
            # Unlimited mail sending would let anyone flood a mailbox: refuse instead.
            log.exception("request limiter unavailable")
            raise errors.unavailable(
                f"{what}_UNAVAILABLE", "this is unavailable right now; retry shortly"
            ) from None

    async def _run(
        self, scope: str, caller: Caller, request: Message, work: Callable[[AsyncSession], Awaitable[Message]]
    ) -> Message:
        result = await self._idem.run(
            scope=scope,
            principal=caller.user_id,
            request_id=getattr(request, "request_id", ""),
            request=request,
            handler=work,
        )
        return result.response


def verification_context(policy: AccountPolicy, code: str, display_name: str) -> dict[str, Any]:
    """The `email_verification` template's values."""
    return {
        "display_name": display_name,
        "code": code,
        "link": f"{policy.link_base.rstrip('/')}/verify-email?code={code}",
        "expires_hours": int(policy.verify_ttl.total_seconds() // 3600),
    }


def reset_context(policy: AccountPolicy, token: str, display_name: str) -> dict[str, Any]:
    """The `password_reset` template's values."""
    return {
        "display_name": display_name,
        "token": token,
        "link": f"{policy.link_base.rstrip('/')}/reset-password?token={token}",
        "expires_minutes": int(policy.reset_ttl.total_seconds() // 60),
    }


def changed_context(how: str, now: datetime, display_name: str) -> dict[str, Any]:
    """The `password_changed` template's values; `how` is `reset` or `change`."""
    return {
        "display_name": display_name,
        "how": how,
        "how_text": _HOW_TEXT[how],
        "time": now.strftime("%Y-%m-%d %H:%M"),
    }


def _own_account(caller: Caller, user_id: str) -> uuid.UUID:
    # Only one's own account: another user's id answers NOT_FOUND as everywhere, so ids
    # cannot be probed; admins get a clear refusal (they act on others through admin RPCs).
    if user_id == "me" or user_id == caller.user_id:
        return uuid.UUID(caller.user_id)
    if caller.is_admin:
        raise errors.permission_denied("SELF_ONLY", "this acts on the caller's own account only")
    raise errors.user_not_found()


def _limited(reason: str, message: str, wait: int) -> ResourceExhausted:
    return ResourceExhausted(
        f"{message}; try again in {wait} seconds",
        reason=reason,
        metadata={"retry_after_seconds": str(wait)},
        retry_after=float(wait),
    )


async def _token_by_hash(session: AsyncSession, digest: str, *, for_update: bool = False) -> Any:
    stmt = select(_tokens).where(_tokens.c.token_hash == digest)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).one_or_none()


async def _revoke_live(session: AsyncSession, user_id: uuid.UUID, purpose: Purpose, now: datetime) -> None:
    await session.execute(
        update(_tokens)
        .where(
            _tokens.c.user_id == user_id,
            _tokens.c.purpose == purpose.value,
            _tokens.c.used_at.is_(None),
            _tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
