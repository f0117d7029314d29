"""Identity use cases: registration, sessions, profiles, KYC review and user administration."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from google.protobuf.message import Message
from gx.identity.v1 import identity_pb2
from gx.identity.v1 import identity_service_pb2 as svc
from gx.type.v1 import command_pb2, operation_pb2
from psycopg_pool import AsyncConnectionPool
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common import outbox, paging
from services.common.auth import PARTNER_ID_CLAIM, PARTNER_SUBJECT_PREFIX
from services.common.errors import FailedPrecondition
from services.common.idempotency import Idempotency
from services.common.logging import LogKey
from services.common.operations import fetch_command, operation_from_command
from services.common.revocation import RevocationList
from services.common.statement_batch import StatementBatch
from services.identity import backoffice, convert, errors, ledger, models, profiles
from services.identity.keys import KeyStore
from services.identity.kyc import KycInput, check_kyc, is_country_code, parse_birth_date
from services.identity.lockout import Lock, LoginLockout
from services.identity.passwords import PasswordHashing, RuleViolation, check_password_rules
from services.identity.repository import EmailTaken, IdentityRepository, PendingKycExists
from services.identity.sessions import SessionPolicy, SubjectRevoker, open_session, revocation_unavailable
from services.identity.tokens import (
    AccessTokenIssuer,
    RefreshState,
    RefreshVerdict,
    hash_refresh_token,
    judge_refresh,
    looks_like_refresh_token,
    new_refresh_token,
    successor_expiry,
)

log = logging.getLogger(__name__)

_ADMIN_ROLES = frozenset({"ADMIN", "SUPER_ADMIN"})
# An empty update mask replaces these (AIP-134). The notification settings are booleans whose
# proto default (false) would switch mail off for a client that never heard of them, so they
# change only when the mask names them.
_DEFAULT_MASK = ("display_name", "country_code")
_MONEY_EMAILS = "notification_settings.money_received_email"
_UPDATABLE = (*_DEFAULT_MASK, _MONEY_EMAILS, "notification_settings")
_DEFAULT_PAGE = 50
_MAX_DISPLAY_NAME = 100

# What a use case answers; `_run` hands back the same type (stored or fresh).
_Response = TypeVar("_Response", bound=Message)


@dataclass(frozen=True)
class Caller:
    """Who is calling, as the auth interceptor established it.

    Attributes:
        user_id: The token's `sub`.
        roles: Short role names from the token.
    """

    user_id: str
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        """True for ADMIN and SUPER_ADMIN."""
        return bool(self.roles & _ADMIN_ROLES)

    @property
    def is_super_admin(self) -> bool:
        """True for SUPER_ADMIN."""
        return "SUPER_ADMIN" in self.roles


@dataclass(frozen=True)
class Tokens:
    """A session's tokens as Login and RefreshToken answer them.

    Attributes:
        access_token: The ES256 JWT.
        refresh_token: The opaque refresh token.
        expires_in: Seconds until the access token expires.
    """

    access_token: str
    refresh_token: str
    expires_in: int


def _utcnow() -> datetime:
    return datetime.now(UTC)


class IdentityUseCases:
    """Every identity operation; one transaction per write, no gRPC knowledge."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        hashing: PasswordHashing,
        keys: KeyStore,
        issuer: AccessTokenIssuer,
        lockout: LoginLockout,
        idempotency: Idempotency,
        revocations: RevocationList,
        policy: SessionPolicy | None = None,
        clock: Callable[[], datetime] = _utcnow,
        on_throttled: Callable[[Lock], None] | None = None,
        service_grants: Mapping[str, Iterable[str]] | None = None,
        partner_token_services: Iterable[str] = (),
        on_registered: Callable[[AsyncSession, models.User], Awaitable[None]] | None = None,
        statements: AsyncConnectionPool | None = None,
    ) -> None:
        """Wires the use cases.

        Args:
            sessions: The session factory of the service's engine.
            hashing: Argon2id hashing.
            keys: The signing keys (for JWKS).
            issuer: Signs access tokens.
            lockout: Failed-login counters.
            idempotency: AIP-155 request_id handling (services.common.idempotency).
            revocations: The access-token deny-list every service checks.
            policy: Refresh-token lifetimes.
            clock: The time source (tests pass a fixed one).
            on_throttled: Told of every login attempt refused before password work (metrics).
            service_grants: The roles each service may add with AddUserRole (`licensing` →
                `PARTNER`); a service not named here may add none.
            partner_token_services: The services that may mint partner principal tokens
                (IssuePartnerToken); a service not named here may mint none.
            on_registered: Runs in registration's transaction after the user row is added
                (services.identity.accounts: the verification mail commits with the user).
            statements: Autocommit driver connections (`db.open_autocommit_pool`) for a user's
                read of their own profile in one statement (`profiles`); without them every
                GetUser takes the transactional path.
        """
        self._sessions = sessions
        self._hashing = hashing
        self._keys = keys
        self._issuer = issuer
        self._lockout = lockout
        self._idem = idempotency
        self._revocations = revocations
        self._revoker = SubjectRevoker(revocations, clock)
        self._policy = policy or SessionPolicy()
        self._now = clock
        self._on_throttled = on_throttled
        self._service_grants = {k: frozenset(v) for k, v in (service_grants or {}).items()}
        self._partner_token_services = frozenset(partner_token_services)
        self._on_registered = on_registered
        # A user's reads of their own profile: sent together when they queue up.
        self._own_reads = (
            StatementBatch(statements, "identity-own-profile") if statements is not None else None
        )

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """The session factory (the back office's reads share it: services.identity.backoffice)."""
        return self._sessions

    # Registration and sessions

    async def register(self, request: svc.RegisterUserRequest) -> svc.RegisterUserResponse:
        """Creates an account (see IdentityService.RegisterUser)."""
        email = request.email.strip()
        problems = check_password_rules(request.password, email)
        if request.country_code and not is_country_code(request.country_code):
            problems.append(
                RuleViolation("country_code", "must be an ISO 3166-1 alpha-2 country code, upper case")
            )
        if problems:
            raise errors.invalid(problems)
        # The fingerprint leaves the password out: the idempotency table must not hold a
        # fast hash of it. A retry with the same request_id replays the first answer.
        fingerprint = svc.RegisterUserRequest()
        fingerprint.CopyFrom(request)
        fingerprint.ClearField("password")
        # A taken email is answered before any Argon2 work, so registering known emails
        # costs no CPU. Otherwise hash before the transaction opens: tens of milliseconds of
        # CPU must not hold a database connection. (A replay of a finished registration finds
        # its email taken too, and is answered from its record without hashing.)
        async with self._sessions() as session:
            taken = await IdentityRepository(session).user_by_email(email) is not None
        password_hash = None if taken else await self._hashing.hash(request.password)
        now = self._now()

        async def work(session: AsyncSession) -> Message:
            if password_hash is None:
                raise _email_taken()
            repo = IdentityRepository(session)
            user = models.User(
                id=uuid.uuid4(),
                email=email,
                display_name=request.display_name.strip(),
                country_code=request.country_code,
                password_hash=password_hash,
                roles=["USER"],
                state="REGISTERED",
                frozen=False,
                created_at=now,
                updated_at=now,
            )
            try:
                await repo.add_user(user)
            except EmailTaken:
                raise _email_taken() from None
            if self._on_registered is not None:
                await self._on_registered(session, user)
            return svc.RegisterUserResponse(user=convert.user_message(user))

        # The fingerprint carries the request's request_id, so it keys the record too.
        response: svc.RegisterUserResponse = await self._run("identity.RegisterUser", None, fingerprint, work)
        log.info("user registered", extra={LogKey.USER_ID: response.user.user_id})
        return response

    async def login(self, email: str, password: str, client_ip: str | None) -> Tokens:
        """Checks credentials and opens a session (see IdentityService.Login).

        The attempt is counted before the password is verified (services.identity.lockout),
        so however many arrive at once, only the admitted ones cost an Argon2 verify.
        """
        try:
            lock = await self._lockout.admit(email, client_ip)
        except RedisError:
            # Unthrottled logins would be a free password-guessing oracle: refuse them.
            log.exception("login throttle unavailable")
            raise errors.unavailable(
                "LOGIN_UNAVAILABLE", "login is unavailable right now; retry shortly"
            ) from None
        if lock is not None:
            if self._on_throttled is not None:
                self._on_throttled(lock)
            raise errors.locked(lock.scope, lock.retry_after_seconds)
        async with self._sessions() as session:
            user = await IdentityRepository(session).user_by_email(email)
        # Verify even when the user is unknown (against a dummy hash), so both failures
        # take the same time.
        ok = await self._hashing.verify(user.password_hash if user else None, password)
        if not ok or user is None:
            raise errors.unauthenticated("INVALID_CREDENTIALS", "wrong email or password")
        try:
            await self._lockout.record_success(email, client_ip)
        except RedisError:
            # The password was right; a stale counter only delays this account's next failure.
            log.warning("login throttle not reset after a success", extra={LogKey.USER_ID: str(user.id)})
        if user.frozen:
            raise errors.permission_denied("USER_FROZEN", "this account is frozen; contact support")
        new_hash = (
            await self._hashing.hash(password) if self._hashing.needs_rehash(user.password_hash) else None
        )
        now = self._now()
        async with self._sessions() as session, session.begin():
            repo = IdentityRepository(session)
            if new_hash is not None:
                # Parameters were raised since this hash was made; upgrade it while the
                # plain password is at hand.
                locked = await repo.user_by_id(user.id, for_update=True)
                if locked is not None:
                    locked.password_hash = new_hash
            family, token = await open_session(repo, user.id, now, self._policy)
        access = self._issuer.issue(
            str(user.id),
            user.roles,
            now,
            session_id=str(family),
            after_ms=await self._revoker.cutoff(user.id),
        )
        log.info("user logged in", extra={LogKey.USER_ID: str(user.id)})
        return Tokens(access.token, token, access.expires_in)

    async def refresh(self, refresh_token: str) -> Tokens:
        """Rotates a refresh token (see IdentityService.RefreshToken)."""
        if not looks_like_refresh_token(refresh_token):
            raise errors.unauthenticated("INVALID_REFRESH_TOKEN", "the refresh token is not valid")
        now = self._now()
        failure: errors.ServiceError | None = None
        issued: tuple[str, list[str], uuid.UUID] | None = None
        new_token = ""
        async with self._sessions() as session, session.begin():
            repo = IdentityRepository(session)
            row = await repo.refresh_token_by_hash(hash_refresh_token(refresh_token))
            if row is None:
                raise errors.unauthenticated("INVALID_REFRESH_TOKEN", "the refresh token is not valid")
            verdict = judge_refresh(
                RefreshState(row.expires_at, row.family_expires_at, row.rotated_at, row.revoked_at), now
            )
            user = await repo.user_by_id(row.user_id)
            if verdict is RefreshVerdict.REUSED:
                # The revocation must commit even though the call fails, so the error is
                # raised after the transaction, not inside it.
                await repo.revoke_family(row.family_id, now, "REUSE_DETECTED")
                log.warning(
                    "refresh token reused; session revoked",
                    extra={LogKey.USER_ID: str(row.user_id)},
                )
                failure = errors.unauthenticated(
                    "REFRESH_TOKEN_REUSED",
                    "this refresh token was already used; the session has been revoked",
                )
            elif verdict is RefreshVerdict.REVOKED:
                failure = errors.unauthenticated(
                    "REFRESH_TOKEN_REVOKED", "the session has ended; log in again"
                )
            elif verdict is RefreshVerdict.EXPIRED:
                failure = errors.unauthenticated(
                    "REFRESH_TOKEN_EXPIRED", "the session has expired; log in again"
                )
            elif user is None or user.frozen:
                await repo.revoke_family(row.family_id, now, "USER_FROZEN")
                failure = errors.permission_denied("USER_FROZEN", "this account is frozen; contact support")
            else:
                row.rotated_at = now
                new_token, digest = new_refresh_token()
                await repo.add_refresh_token(
                    models.RefreshToken(
                        id=uuid.uuid4(),
                        family_id=row.family_id,
                        user_id=row.user_id,
                        token_hash=digest,
                        created_at=now,
                        expires_at=successor_expiry(now, self._policy.refresh_idle, row.family_expires_at),
                        family_expires_at=row.family_expires_at,
                    )
                )
                issued = (str(row.user_id), list(user.roles), row.family_id)
        if failure is not None:
            raise failure
        assert issued is not None
        access = self._issuer.issue(
            issued[0],
            issued[1],
            now,
            session_id=str(issued[2]),
            after_ms=await self._revoker.cutoff(uuid.UUID(issued[0])),
        )
        return Tokens(access.token, new_token, access.expires_in)

    async def logout(self, refresh_token: str, presented: tuple[str, str] | None = None) -> None:
        """Ends the session of a refresh token; unknown or spent tokens succeed too, so
        logout neither fails on a retry nor tells whether a token ever existed.

        Every access token of the session (`sid`) is revoked, and the access token the call
        presented (`presented`: its subject and `jti`, verified by the interceptor), so they
        stop working everywhere within seconds, not when they expire.

        Raises:
            ServiceError: UNAVAILABLE when the deny-list cannot be written; the refresh
                tokens are revoked already, and a retry finishes the job.
        """
        ended: tuple[uuid.UUID, uuid.UUID] | None = None
        if looks_like_refresh_token(refresh_token):
            now = self._now()
            async with self._sessions() as session, session.begin():
                repo = IdentityRepository(session)
                row = await repo.refresh_token_by_hash(hash_refresh_token(refresh_token))
                if row is not None:
                    await repo.revoke_family(row.family_id, now, "LOGOUT")
                    ended = (row.user_id, row.family_id)
        try:
            if ended is not None:
                await self._revocations.revoke_session(str(ended[0]), str(ended[1]))
            if presented is not None:
                await self._revocations.revoke_token(*presented)
        except RedisError:
            log.exception("logout: the access-token deny-list could not be written")
            raise revocation_unavailable() from None

    def jwks_json(self) -> bytes:
        """The JWKS document of every published key (re-read from disk at most every 10 s,
        so a key rotated in by another process is published well before it signs)."""
        self._keys.reload_if_older_than(10.0)
        return self._keys.jwks_json()

    # Profiles

    async def get_user(self, caller: Caller, user_id: str) -> svc.GetUserResponse:
        """Reads a profile: one's own, or anyone's for admins."""
        target = self._target(caller, user_id)
        if self._own_reads is not None and not caller.is_admin:
            # The common case, a user reading their own profile: one statement, no transaction.
            own = await self._own_profile(self._own_reads, caller, target)
            if own is not None:
                return own
        async with self._sessions() as session, session.begin():
            user = await self._visible_user(session, caller, target)
            await self._promote_if_committed(session, user)
            response = svc.GetUserResponse(user=convert.user_message(user))
            if caller.is_admin:
                await backoffice.add_admin_view(session, response, target)
            return response

    async def update_user(self, caller: Caller, request: svc.UpdateUserRequest) -> svc.UpdateUserResponse:
        """Changes profile fields named in the mask."""
        target = self._target(caller, request.user.user_id, field="user.user_id")
        paths = list(request.update_mask.paths) or list(_DEFAULT_MASK)
        problems = [
            RuleViolation("update_mask", f"cannot update {p!r}; updatable fields: {', '.join(_UPDATABLE)}")
            for p in paths
            if p not in _UPDATABLE
        ]
        if "display_name" in paths and len(request.user.display_name.strip()) > _MAX_DISPLAY_NAME:
            problems.append(
                RuleViolation("user.display_name", f"must be at most {_MAX_DISPLAY_NAME} characters")
            )
        if (
            "country_code" in paths
            and request.user.country_code
            and not is_country_code(request.user.country_code)
        ):
            problems.append(
                RuleViolation("user.country_code", "must be an ISO 3166-1 alpha-2 country code, upper case")
            )
        if problems:
            raise errors.invalid(problems)
        now = self._now()

        async def work(session: AsyncSession) -> Message:
            user = await self._visible_user(session, caller, target, for_update=True)
            if "display_name" in paths:
                user.display_name = request.user.display_name.strip()
            if "country_code" in paths:
                user.country_code = request.user.country_code
            if _MONEY_EMAILS in paths or "notification_settings" in paths:
                user.money_emails = request.user.notification_settings.money_received_email
            user.updated_at = now
            await session.flush()
            if str(target) != caller.user_id:
                # An admin changing someone else's profile is an administrative action.
                await IdentityRepository(session).audit(
                    uuid.UUID(caller.user_id), target, "USER_UPDATED", {"fields": sorted(paths)}, now
                )
            return svc.UpdateUserResponse(user=convert.user_message(user))

        return await self._run("identity.UpdateUser", caller.user_id, request, work)

    # KYC

    async def submit_kyc(
        self, caller: Caller, request: svc.SubmitKycRequest, data: KycInput
    ) -> svc.SubmitKycResponse:
        """Records a KYC submission for the caller and moves them to KYC_PENDING."""
        target = self._target(caller, request.user_id)
        if str(target) != caller.user_id:
            if caller.is_admin:
                raise errors.permission_denied("KYC_SELF_ONLY", "users submit KYC only for themselves")
            raise errors.user_not_found()
        today = self._now().date()
        problems = check_kyc(data, today, convert.document_type_names())
        if problems:
            raise errors.invalid(problems)
        birth, _ = parse_birth_date(data.date_of_birth, today)
        assert birth is not None
        now = self._now()

        async def work(session: AsyncSession) -> Message:
            repo = IdentityRepository(session)
            user = await lock_user(repo, target)
            if user.frozen:
                raise errors.failed_precondition("USER_FROZEN", "this account is frozen")
            if user.email_verified_at is None:
                # KYC ties a person to an address we can reach (services.identity.accounts).
                raise errors.failed_precondition(
                    "EMAIL_NOT_VERIFIED",
                    "verify your email address first (VerifyEmail, with the mailed code)",
                )
            if user.state == "KYC_PENDING":
                raise errors.failed_precondition(
                    "KYC_ALREADY_PENDING", "a KYC submission is already waiting for review"
                )
            if user.state not in ("REGISTERED", "REJECTED"):
                raise errors.failed_precondition("KYC_ALREADY_APPROVED", "KYC is already approved")
            submission = models.KycSubmission(
                id=uuid.uuid4(),
                user_id=target,
                state="PENDING",
                first_name=data.first_name.strip(),
                last_name=data.last_name.strip(),
                date_of_birth=birth,
                nationality=data.nationality,
                submitted_at=now,
            )
            documents = [
                models.KycDocument(
                    submission_id=submission.id, position=i, doc_type=d.doc_type, sha256=d.sha256
                )
                for i, d in enumerate(data.documents)
            ]
            try:
                await repo.add_kyc(submission, documents)
            except PendingKycExists:
                raise errors.failed_precondition(
                    "KYC_ALREADY_PENDING", "a KYC submission is already waiting for review"
                ) from None
            user.state = "KYC_PENDING"
            user.updated_at = now
            await session.flush()
            return svc.SubmitKycResponse(kyc=convert.kyc_message(submission))

        return await self._run("identity.SubmitKyc", caller.user_id, request, work)

    async def get_kyc(self, caller: Caller, user_id: str) -> svc.GetKycResponse:
        """Reads a user's latest KYC submission."""
        target = self._target(caller, user_id)
        async with self._sessions() as session, session.begin():
            await self._visible_user(session, caller, target)
            kyc = await IdentityRepository(session).latest_kyc(target)
            if kyc is None:
                raise errors.not_found("KYC_NOT_FOUND", "no KYC submission yet")
            return svc.GetKycResponse(kyc=convert.kyc_message(kyc))

    async def list_kyc(
        self, caller: Caller, request: svc.ListKycSubmissionsRequest
    ) -> svc.ListKycSubmissionsResponse:
        """Pages through KYC submissions, oldest first (admins)."""
        self._require_admin(caller)
        state = None
        if request.state:
            state = identity_pb2.KycState.Name(request.state).removeprefix("KYC_STATE_")
        page = paging.request(
            request.page_size,
            request.page_token,
            f"kyc|{state or ''}",
            default=_DEFAULT_PAGE,
            descending=False,
        )
        cursor = page.cursor(2)
        after = (cursor[0], cursor[1]) if cursor is not None else None
        async with self._sessions() as session, session.begin():
            rows = await IdentityRepository(session).list_kyc(state, after, page.limit)
        rows, token = page.finish(rows, lambda r: (r.submitted_at, r.id))
        return svc.ListKycSubmissionsResponse(
            kyc_submissions=[convert.kyc_message(r) for r in rows], next_page_token=token
        )

    def _review_target(self, caller: Caller, user_id: str) -> uuid.UUID:
        """The user whose KYC an admin reviews; nobody reviews their own."""
        self._require_admin(caller)
        target = _parse_uuid(user_id, "user_id")
        if str(target) == caller.user_id:
            raise errors.permission_denied("SELF_REVIEW", "admins cannot review their own KYC")
        return target

    async def approve_kyc(self, caller: Caller, request: svc.ApproveKycRequest) -> operation_pb2.Operation:
        """Approves a pending submission and records the CREATE_USER ledger command, in one
        transaction, answering the command's operation."""
        target = self._review_target(caller, request.user_id)
        now = self._now()

        async def work(session: AsyncSession) -> Message:
            repo = IdentityRepository(session)
            user, kyc = await _lock_pending_review(repo, target)
            if user.frozen:
                raise errors.failed_precondition(
                    "USER_FROZEN", "unfreeze the user before approving their KYC"
                )
            holder = await repo.identity_holder(kyc.id, user.id)
            if holder is not None:
                # One person, one account: otherwise two emails would collect genesis twice.
                raise FailedPrecondition(
                    "a document of this submission is already used by another pending, approved or active user",
                    reason="DUPLICATE_IDENTITY",
                    metadata={"other_user_id": str(holder)},
                )
            # Derived from the user id, so however often approval is retried or replayed,
            # the ledger sees one request id per user and creates the user once.
            ledger_request_id = outbox.derive_request_id("identity.CreateUser", str(user.id))
            payload = ledger.create_user_request(
                user_id=str(user.id),
                country_code=kyc.nationality,
                date_of_birth=kyc.date_of_birth,
                request_id=ledger_request_id,
            )
            # The user owns the operation, so they can follow their own onboarding.
            operation = await outbox.record_command(
                session,
                command_pb2.COMMAND_TYPE_CREATE_USER,
                payload,
                ledger_request_id,
                principal_id=str(user.id),
            )
            kyc.state = "APPROVED"
            kyc.reviewer_user_id = uuid.UUID(caller.user_id)
            kyc.reviewed_at = now
            kyc.command_id = uuid.UUID(operation.name.removeprefix("operations/"))
            user.state = "APPROVED_PENDING_ONCHAIN"
            user.updated_at = now
            await repo.audit(
                uuid.UUID(caller.user_id),
                target,
                "KYC_APPROVED",
                {"submission_id": str(kyc.id), "operation": operation.name},
                now,
            )
            return operation

        operation: operation_pb2.Operation = await self._run(
            "identity.ApproveKyc", caller.user_id, request, work
        )
        log.info("kyc approved", extra={LogKey.USER_ID: str(target), LogKey.COMMAND_ID: operation.name})
        return operation

    async def reject_kyc(self, caller: Caller, request: svc.RejectKycRequest) -> svc.RejectKycResponse:
        """Rejects a pending submission with a reason; the user moves to REJECTED."""
        target = self._review_target(caller, request.user_id)
        now = self._now()

        async def work(session: AsyncSession) -> Message:
            repo = IdentityRepository(session)
            user, kyc = await _lock_pending_review(repo, target)
            kyc.state = "REJECTED"
            kyc.rejection_reason = request.reason.strip()
            kyc.reviewer_user_id = uuid.UUID(caller.user_id)
            kyc.reviewed_at = now
            user.state = "REJECTED"
            user.updated_at = now
            await repo.audit(
                uuid.UUID(caller.user_id), target, "KYC_REJECTED", {"submission_id": str(kyc.id)}, now
            )
            return svc.RejectKycResponse(kyc=convert.kyc_message(kyc))

        return await self._run("identity.RejectKyc", caller.user_id, request, work)

    # Administration

    async def freeze(self, caller: Caller, request: svc.FreezeUserRequest) -> svc.FreezeUserResponse:
        """Freezes a user and revokes all their sessions."""
        return svc.FreezeUserResponse(
            user=await self._set_frozen(caller, request, True, request.reason.strip())
        )

    async def unfreeze(self, caller: Caller, request: svc.UnfreezeUserRequest) -> svc.UnfreezeUserResponse:
        """Unfreezes a user; they return to their lifecycle state."""
        return svc.UnfreezeUserResponse(user=await self._set_frozen(caller, request, False, ""))

    async def _set_frozen(
        self,
        caller: Caller,
        request: svc.FreezeUserRequest | svc.UnfreezeUserRequest,
        frozen: bool,
        reason: str,
    ) -> identity_pb2.User:
        self._require_admin(caller)
        target = _parse_uuid(request.user_id, "user_id")
        if str(target) == caller.user_id:
            raise errors.permission_denied("SELF_FREEZE", "admins cannot freeze or unfreeze themselves")
        method = "FreezeUser" if frozen else "UnfreezeUser"
        now = self._now()

        async def work(session: AsyncSession) -> svc.FreezeUserResponse | svc.UnfreezeUserResponse:
            repo = IdentityRepository(session)
            user = await lock_user(repo, target)
            if set(user.roles) & _ADMIN_ROLES and not caller.is_super_admin:
                raise errors.permission_denied(
                    "ADMIN_TARGET", "only a super-admin may freeze or unfreeze an admin"
                )
            if user.frozen != frozen:
                user.frozen = frozen
                user.frozen_reason = reason or None
                user.frozen_at = now if frozen else None
                user.updated_at = now
                if frozen:
                    await repo.revoke_user_tokens(target, now, "USER_FROZEN")
                    await self._revoker.revoke(target)
                await repo.audit(
                    uuid.UUID(caller.user_id),
                    target,
                    "USER_FROZEN" if frozen else "USER_UNFROZEN",
                    {"reason": reason},
                    now,
                )
                await session.flush()
            message = convert.user_message(user)
            return svc.FreezeUserResponse(user=message) if frozen else svc.UnfreezeUserResponse(user=message)

        response = await self._run("identity." + method, caller.user_id, request, work)
        if frozen:
            await self._revoker.revoke_again(target)
        return response.user

    async def set_roles(self, caller: Caller, request: svc.SetUserRolesRequest) -> svc.SetUserRolesResponse:
        """Replaces a user's roles (super-admins); USER is always kept."""
        if not caller.is_super_admin:
            raise errors.permission_denied("SUPER_ADMIN_REQUIRED", "only a super-admin may change roles")
        target = _parse_uuid(request.user_id, "user_id")
        names = []
        problems = []
        for i, role in enumerate(request.roles):
            name = convert.role_name(role)
            if name is None:
                problems.append(RuleViolation(f"roles[{i}]", "must be a defined role"))
            else:
                names.append(name)
        if problems:
            raise errors.invalid(problems)
        new_roles = sorted(set(names) | {"USER"})
        if str(target) == caller.user_id and "SUPER_ADMIN" not in new_roles:
            raise errors.failed_precondition(
                "SUPER_ADMIN_SELF_DEMOTION", "a super-admin cannot take the super-admin role from themselves"
            )
        now = self._now()

        async def work(session: AsyncSession) -> Message:
            repo = IdentityRepository(session)
            user = await lock_user(repo, target)
            before = sorted(user.roles)
            if before != new_roles:
                user.roles = new_roles
                user.updated_at = now
                await repo.audit(
                    uuid.UUID(caller.user_id),
                    target,
                    "ROLES_SET",
                    {"before": before, "after": new_roles},
                    now,
                )
                await session.flush()
                # Tokens carry their roles: the old ones must stop working, up or down.
                await self._revoker.revoke(target)
                changed.append(True)
            return svc.SetUserRolesResponse(user=convert.user_message(user))

        changed: list[bool] = []
        response: svc.SetUserRolesResponse = await self._run(
            "identity.SetUserRoles", caller.user_id, request, work
        )
        if changed:
            await self._revoker.revoke_again(target)
        return response

    async def add_role(self, caller: Caller, request: svc.AddUserRoleRequest) -> svc.AddUserRoleResponse:
        """Adds one role (a service within its grants, or a super-admin); the others are kept."""
        name = convert.role_name(request.role)
        if name is None:
            raise errors.invalid([RuleViolation("role", "must be a defined role")])
        service = caller.user_id.removeprefix("service:") if "SERVICE" in caller.roles else None
        if service is not None:
            # Least privilege: licensing may make partners, never admins.
            if name not in self._service_grants.get(service, frozenset()):
                raise errors.permission_denied(
                    "ROLE_NOT_GRANTABLE", f"service {service} may not grant {name}"
                )
        elif not caller.is_super_admin:
            raise errors.permission_denied("SUPER_ADMIN_REQUIRED", "only a super-admin may change roles")
        target = _parse_uuid(request.user_id, "user_id")
        actor = None if service is not None else uuid.UUID(caller.user_id)
        now = self._now()

        async def work(session: AsyncSession) -> Message:
            repo = IdentityRepository(session)
            user = await lock_user(repo, target)
            if name not in user.roles:
                before = sorted(user.roles)
                user.roles = sorted({*user.roles, name})
                user.updated_at = now
                await repo.audit(
                    actor, target, "ROLE_ADDED", {"role": name, "by": caller.user_id, "before": before}, now
                )
                await session.flush()
                # Tokens carry their roles: the old ones end so the next refresh carries the new one.
                await self._revoker.revoke(target)
                changed.append(True)
            return svc.AddUserRoleResponse(user=convert.user_message(user))

        changed: list[bool] = []
        response: svc.AddUserRoleResponse = await self._run(
            "identity.AddUserRole", caller.user_id, request, work
        )
        if changed:
            await self._revoker.revoke_again(target)
        return response

    async def issue_partner_token(
        self, caller: Caller, request: svc.IssuePartnerTokenRequest
    ) -> svc.IssuePartnerTokenResponse:
        """A short-lived token whose caller is the partner itself (the edge's key-only requests).

        Identity signs it like any access token, so every service verifies it the same way; it
        carries ROLE_PARTNER only and `sub = partner:<id>`, which no user id can equal, so it
        never acts as the partner's owner or any other user. Licensing has checked the key,
        its licence and its partner before asking: identity knows nothing of partners.
        """
        service = caller.user_id.removeprefix("service:") if "SERVICE" in caller.roles else None
        if service is None or service not in self._partner_token_services:
            raise errors.permission_denied(
                "PARTNER_TOKEN_NOT_GRANTED", "only the licensing service mints partner tokens"
            )
        partner_id = str(_parse_uuid(request.partner_id, "partner_id"))
        issued = self._issuer.issue(
            PARTNER_SUBJECT_PREFIX + partner_id,
            ["PARTNER"],
            self._now(),
            extra={PARTNER_ID_CLAIM: partner_id},
        )
        return svc.IssuePartnerTokenResponse(access_token=issued.token, expires_in=issued.expires_in)

    # Helpers

    async def _run(
        self,
        scope: str,
        principal: str | None,
        request: Message,
        work: Callable[[AsyncSession], Awaitable[_Response]],
    ) -> _Response:
        # One transaction for the domain rows and the idempotency record (AIP-155).
        result = await self._idem.run(
            scope=scope,
            principal=principal,
            request_id=getattr(request, "request_id", ""),
            request=request,
            handler=work,
        )
        return result.response

    def _target(self, caller: Caller, user_id: str, field: str = "user_id") -> uuid.UUID:
        if user_id == "me":
            return uuid.UUID(caller.user_id)
        return _parse_uuid(user_id, field)

    def _require_admin(self, caller: Caller) -> None:
        # The access rule in the proto already admits only admins; checking again here keeps
        # the use cases safe if they are ever called from elsewhere.
        if not caller.is_admin:
            raise errors.permission_denied("ADMIN_REQUIRED", "this needs an admin")

    async def _visible_user(
        self, session: AsyncSession, caller: Caller, target: uuid.UUID, *, for_update: bool = False
    ) -> models.User:
        # Another user's id answers NOT_FOUND, exactly like an id that does not exist, so
        # ids cannot be probed.
        if str(target) != caller.user_id and not caller.is_admin:
            raise errors.user_not_found()
        user = await IdentityRepository(session).user_by_id(target, for_update=for_update)
        if user is None:
            raise errors.user_not_found()
        return user

    async def _own_profile(
        self, reads: StatementBatch, caller: Caller, target: uuid.UUID
    ) -> svc.GetUserResponse | None:
        """A non-admin's profile read on the driver, or None when the transactional path must answer.

        The same refusals as `_visible_user`, in the same order: another user's id is NOT_FOUND
        before anything is read, like an id that does not exist. A user waiting for their
        CREATE_USER command goes back to the transactional path (None), which may promote them.
        """
        own_id = str(target)
        if own_id != caller.user_id:
            raise errors.user_not_found()
        row = await profiles.own_profile(reads, own_id)
        if row is None:
            raise errors.user_not_found()
        if row[profiles.STATE] == profiles.PENDING_STATE:
            return None
        response = svc.GetUserResponse()
        convert.set_user(response.user, row)
        return response

    async def _promote_if_committed(self, session: AsyncSession, user: models.User) -> None:
        # The user becomes ACTIVE once their CREATE_USER command is committed on the
        # ledger. Identity learns it from the command's operation state rather than from
        # another process writing its tables.
        if user.state != "APPROVED_PENDING_ONCHAIN":
            return
        kyc = await IdentityRepository(session).latest_kyc(user.id)
        if kyc is None or kyc.command_id is None:
            return
        row = await fetch_command(await session.connection(), kyc.command_id)
        if row is not None and operation_from_command(row).state == operation_pb2.OPERATION_STATE_COMMITTED:
            user.state = "ACTIVE"
            user.updated_at = self._now()
            await session.flush()


async def create_super_admin(
    sessions: async_sessionmaker[AsyncSession],
    hashing: PasswordHashing,
    email: str,
    password: str,
    now: datetime,
) -> tuple[models.User, bool]:
    """Creates a super-admin directly, or grants the roles to an existing account.

    Used by `gx identity create-admin` to bootstrap the first operator: the API never
    creates admins, and SetUserRoles needs a super-admin to exist already.

    Args:
        sessions: The session factory.
        hashing: Argon2id hashing.
        email: The admin's login email.
        password: Their password; the normal password rules apply.
        now: The current time.

    Returns:
        The user and whether it was newly created.

    Raises:
        ServiceError: INVALID_ARGUMENT when the password breaks the rules.
    """
    email = email.strip()
    problems = check_password_rules(password, email)
    if problems:
        raise errors.invalid(problems)
    password_hash = await hashing.hash(password)
    roles = ["ADMIN", "SUPER_ADMIN", "USER"]
    async with sessions() as session, session.begin():
        repo = IdentityRepository(session)
        existing = await repo.user_by_email(email)
        if existing is not None:
            existing.roles = sorted(set(existing.roles) | set(roles))
            existing.password_hash = password_hash
            existing.updated_at = now
            await repo.audit(
                None, existing.id, "ROLES_SET", {"by": "create-admin", "after": existing.roles}, now
            )
            return existing, False
        user = models.User(
            id=uuid.uuid4(),
            email=email,
            display_name="",
            country_code="",
            password_hash=password_hash,
            roles=roles,
            state="REGISTERED",
            frozen=False,
            created_at=now,
            updated_at=now,
            # The operator who runs create-admin vouches for the address they typed.
            email_verified_at=now,
        )
        await repo.add_user(user)
        await repo.audit(None, user.id, "ADMIN_CREATED", {"by": "create-admin"}, now)
        return user, True


def _email_taken() -> errors.ServiceError:
    return errors.already_exists("EMAIL_TAKEN", "an account with this email already exists")


def _parse_uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise errors.invalid([RuleViolation(field, "must be a UUID")]) from None


async def lock_user(repo: IdentityRepository, user_id: uuid.UUID) -> models.User:
    """Lock a user's row for the caller's write; NOT_FOUND `USER_NOT_FOUND` when there is none."""
    user = await repo.user_by_id(user_id, for_update=True)
    if user is None:
        raise errors.user_not_found()
    return user


async def _lock_pending_review(
    repo: IdentityRepository, target: uuid.UUID
) -> tuple[models.User, models.KycSubmission]:
    """Lock the user and their latest KYC submission, which must be waiting for review."""
    user = await lock_user(repo, target)
    kyc = await repo.latest_kyc(target, for_update=True)
    if kyc is None or kyc.state != "PENDING":
        raise errors.failed_precondition(
            "KYC_NOT_PENDING", "this user has no KYC submission waiting for review"
        )
    return user, kyc
