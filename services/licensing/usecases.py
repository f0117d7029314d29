"""Every licensing operation: partners, licences, API keys, usage. One transaction per write, no gRPC."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar

from google.protobuf.message import Message
from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.common import paging
from services.common.auth import ROLE_PARTNER, Principal, partner_of
from services.common.errors import AlreadyExists
from services.common.idempotency import Idempotency
from services.common.service_auth import service_of
from services.common.statement_batch import StatementBatch
from services.licensing import convert, errors, keys, own_partner, repository
from services.licensing.audit_trail import audited
from services.licensing.lastused import LastUsed
from services.licensing.roles import IdentityRoles

M = TypeVar("M", bound=Message)

MAX_GRACE: Final = timedelta(days=7)
MAX_USAGE_PERIOD: Final = timedelta(days=93)
# The server's choice of bucket when the client leaves it open (the contract: hours up to 7 days).
_HOURLY_UP_TO: Final = timedelta(days=7)
_MASKABLE: Final = frozenset({"tier", "expire_time"})


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Policy:
    """Configuration the use cases apply.

    Attributes:
        quotas: Requests per minute by tier name.
        default_grace: RotateApiKey's grace period when the request names none.
    """

    quotas: dict[str, int]
    default_grace: timedelta = timedelta(days=1)


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise errors.bad_fields((field, "must be a UUID")) from None


def _user_id(principal: Principal | None) -> uuid.UUID | None:
    """The caller's user id when the caller is a signed-in person (not a service)."""
    if principal is None or service_of(principal) is not None:
        return None
    try:
        return uuid.UUID(principal.user_id)
    except ValueError:
        return None


class LicensingUseCases:
    """The gx.licensing.v1 operations over PostgreSQL, Redis and identity."""

    def __init__(
        self,
        reads: AsyncEngine,
        idempotency: Idempotency,
        roles: IdentityRoles,
        last_used: LastUsed,
        policy: Policy,
        clock: Callable[[], datetime] = _utcnow,
        statements: AsyncConnectionPool | None = None,
    ) -> None:
        """Wires the use cases.

        Args:
            reads: An autocommit engine for reads (services.common.db.autocommit_reads).
            idempotency: Runs each write in one transaction with its AIP-155 record.
            roles: Identity's role grants (called as the licensing service).
            last_used: Pending last-used times of keys (Redis).
            policy: Tier quotas and defaults.
            clock: The time source (tests pass a fixed one).
            statements: Autocommit driver connections (`db.open_autocommit_pool`) for the read of
                one's own partner (`own_partner`); without them it takes the general path.
        """
        self._reads = reads
        # `GET /v1/partners/me`: one statement, sent together with the ones queued beside it.
        self._own_reads = (
            StatementBatch(statements, "licensing-own-partner") if statements is not None else None
        )
        self._idem = idempotency
        self._roles = roles
        self._last_used = last_used
        self._policy = policy
        self._now = clock

    # -- helpers ----------------------------------------------------------------------------------

    async def _write(
        self,
        scope: str,
        principal: Principal | None,
        request: Message,
        work: Callable[[AsyncSession], Awaitable[M]],
    ) -> M:
        result = await self._idem.run(
            scope="licensing." + scope,
            principal=principal.user_id if principal else None,
            request_id=getattr(request, "request_id", ""),
            request=request,
            # Every licensing write leaves its audit row in its own transaction.
            handler=audited(scope, request, work),
        )
        return result.response

    async def _partner_id(
        self, db: repository.Db, principal: Principal, value: str, field: str = "partner_id"
    ) -> uuid.UUID:
        """The partner a path names, as this caller may see it.

        `me` is the caller's linked partner. Admins see every partner; a partner user sees only
        their own, and another id answers NOT_FOUND exactly like a missing one.
        """
        bound = partner_of(principal)
        if bound is not None:
            # The partner principal (an API key alone): only its own partner, by id or `me`.
            if value not in ("me", bound):
                raise errors.partner_not_found()
            return uuid.UUID(bound)
        if value == "me":
            user = _user_id(principal)
            row = await repository.partner_by_owner(db, user) if user is not None else None
            if row is None:
                raise errors.partner_not_found()
            return uuid.UUID(str(row.id))
        partner_id = _uuid(value, field)
        if principal.is_admin:
            return partner_id
        user = _user_id(principal)
        row = await repository.partner_by_id(db, partner_id)
        if row is None or user is None or row.owner_user_id != user or not principal.has_any(ROLE_PARTNER):
            raise errors.partner_not_found()
        return partner_id

    # -- shared with the webhook use cases (services/licensing/webhooks.py) ----------------------

    async def write(
        self,
        scope: str,
        principal: Principal | None,
        request: Message,
        work: Callable[[AsyncSession], Awaitable[M]],
    ) -> M:
        """One write transaction with its AIP-155 record, scoped `licensing.<scope>`."""
        return await self._write(scope, principal, request, work)

    async def resolve_partner(
        self, db: repository.Db, principal: Principal, value: str, field: str = "partner_id"
    ) -> uuid.UUID:
        """The partner a path names (`me` or an id), as this caller may see it; NOT_FOUND otherwise."""
        return await self._partner_id(db, principal, value, field)

    async def _license(
        self, db: repository.Db, partner_id: uuid.UUID, license_id: str, *, for_update: bool = False
    ) -> Any:
        row = await repository.license_by_id(
            db, partner_id, _uuid(license_id, "license_id"), for_update=for_update
        )
        if row is None:
            raise errors.license_not_found()
        return row

    def _license_message(self, row: Any) -> pb.License:
        return convert.license(row, self._policy.quotas, self._now())

    def _future(self, ts: Any, field: str) -> datetime:
        when: datetime = ts.ToDatetime(tzinfo=UTC)
        if when <= self._now():
            raise errors.bad_fields((field, "must be in the future"))
        return when

    # -- partners ---------------------------------------------------------------------------------

    async def create_partner(
        self, principal: Principal | None, request: svc.CreatePartnerRequest
    ) -> svc.CreatePartnerResponse:
        """An application; a signed-in applicant becomes the owner."""
        owner = _user_id(principal)
        now = self._now()

        async def work(session: AsyncSession) -> svc.CreatePartnerResponse:
            row = await repository.insert_partner(
                session,
                name=request.name,
                email=request.email,
                contact_person=request.contact_person,
                country_code=request.country_code,
                owner=owner,
                now=now,
            )
            if row is None:
                # A unique rule refused it; say which, without revealing more than the caller sent.
                if await repository.live_partner_with_email(session, request.email):
                    raise AlreadyExists(
                        "a partner with this email is pending or active", reason=errors.PARTNER_EXISTS
                    )
                raise AlreadyExists(
                    "the signed-in user is already linked to a partner", reason=errors.PARTNER_OWNER_TAKEN
                )
            return svc.CreatePartnerResponse(partner=convert.partner(row))

        return await self._write("CreatePartner", principal, request, work)

    async def get_partner(
        self, principal: Principal, request: svc.GetPartnerRequest
    ) -> svc.GetPartnerResponse:
        """A partner, to admins and its own users."""
        if self._own_reads is not None and request.partner_id == "me":
            return await self._own_partner(self._own_reads, principal)
        async with self._reads.connect() as db:
            partner_id = await self._partner_id(db, principal, request.partner_id)
            row = await repository.partner_by_id(db, partner_id)
        if row is None:
            raise errors.partner_not_found()
        return svc.GetPartnerResponse(partner=convert.partner(row))

    @staticmethod
    async def _own_partner(reads: StatementBatch, principal: Principal) -> svc.GetPartnerResponse:
        """`me` as `_partner_id` resolves it, in one statement: the key's partner for a partner
        principal, else the partner the signed-in caller owns; PARTNER_NOT_FOUND otherwise."""
        bound = partner_of(principal)
        if bound is not None:
            row = await own_partner.partner_by_id(reads, uuid.UUID(bound))
        else:
            user = _user_id(principal)
            row = await own_partner.partner_of_owner(reads, user) if user is not None else None
        if row is None:
            raise errors.partner_not_found()
        response = svc.GetPartnerResponse()
        convert.set_partner(response.partner, row)
        return response

    async def list_partners(
        self, principal: Principal, request: svc.ListPartnersRequest
    ) -> svc.ListPartnersResponse:
        """Partners newest first (admins; the access rule already says so)."""
        state = convert.PARTNER_STATE_NAMES.get(request.state)
        page = paging.request(request.page_size, request.page_token, f"partners:{state}")
        async with self._reads.connect() as db:
            rows = await repository.list_partners(db, state, _after(page), page.limit)
        shown, token = page.finish(rows, _keyset)
        return svc.ListPartnersResponse(partners=[convert.partner(r) for r in shown], next_page_token=token)

    async def approve_partner(
        self, principal: Principal, request: svc.ApprovePartnerRequest
    ) -> svc.ApprovePartnerResponse:
        """PENDING (or SUSPENDED) → ACTIVE; the owner gains ROLE_PARTNER from identity first."""
        partner_id = _uuid(request.partner_id, "partner_id")

        async def work(session: AsyncSession) -> svc.ApprovePartnerResponse:
            row = await repository.partner_by_id(session, partner_id, for_update=True)
            if row is None:
                raise errors.partner_not_found()
            if row.state == "ACTIVE":
                raise errors.precondition(errors.PARTNER_NOT_PENDING, "the partner is already active")
            if row.owner_user_id is not None:
                # Inside the transaction, with the partner row locked: if identity cannot grant
                # the role the partner stays as it was, and a retry grants it (adding a held
                # role is a no-op there). Should the commit fail after the grant, the owner
                # holds a role whose `me` finds no active partner: harmless, and a retry heals it.
                await self._roles.grant_partner(row.owner_user_id)
            updated = await repository.set_partner_state(session, partner_id, "ACTIVE", None, self._now())
            return svc.ApprovePartnerResponse(partner=convert.partner(updated))

        return await self._write("ApprovePartner", principal, request, work)

    async def suspend_partner(
        self, principal: Principal, request: svc.SuspendPartnerRequest
    ) -> svc.SuspendPartnerResponse:
        """→ SUSPENDED with a reason (a pending application too: that is its refusal)."""
        partner_id = _uuid(request.partner_id, "partner_id")

        async def work(session: AsyncSession) -> svc.SuspendPartnerResponse:
            row = await repository.partner_by_id(session, partner_id, for_update=True)
            if row is None:
                raise errors.partner_not_found()
            if row.state != "SUSPENDED":
                row = await repository.set_partner_state(
                    session, partner_id, "SUSPENDED", request.reason, self._now()
                )
            return svc.SuspendPartnerResponse(partner=convert.partner(row))

        return await self._write("SuspendPartner", principal, request, work)

    # -- licences ---------------------------------------------------------------------------------

    async def issue_license(
        self, principal: Principal, request: svc.IssueLicenseRequest
    ) -> svc.IssueLicenseResponse:
        """A licence for an ACTIVE partner."""
        partner_id = _uuid(request.partner_id, "partner_id")
        expire_at = self._future(request.expire_time, "expire_time")
        tier = convert.TIER_NAMES[request.tier]

        async def work(session: AsyncSession) -> svc.IssueLicenseResponse:
            partner = await repository.partner_by_id(session, partner_id, for_update=True)
            if partner is None:
                raise errors.partner_not_found()
            if partner.state != "ACTIVE":
                raise errors.precondition(
                    errors.PARTNER_NOT_ACTIVE, "licences are issued to active partners only"
                )
            row = await repository.insert_license(session, partner_id, tier, expire_at, self._now())
            return svc.IssueLicenseResponse(license=self._license_message(row))

        return await self._write("IssueLicense", principal, request, work)

    async def update_license(
        self, principal: Principal, request: svc.UpdateLicenseRequest
    ) -> svc.UpdateLicenseResponse:
        """Changes tier and/or expiry (AIP-134 mask; empty = both)."""
        partner_id = _uuid(request.license.partner_id, "license.partner_id")
        license_id = _uuid(request.license.license_id, "license.license_id")
        paths = set(request.update_mask.paths) or set(_MASKABLE)
        unknown = sorted(paths - _MASKABLE)
        if unknown:
            raise errors.bad_fields(
                ("update_mask", f"only tier and expire_time can change, not {', '.join(unknown)}")
            )
        expire_at = (
            self._future(request.license.expire_time, "license.expire_time")
            if "expire_time" in paths
            else None
        )
        tier = convert.TIER_NAMES.get(request.license.tier) if "tier" in paths else None
        if "tier" in paths and tier is None:
            raise errors.bad_fields(("license.tier", "must be a defined tier"))

        async def work(session: AsyncSession) -> svc.UpdateLicenseResponse:
            row = await repository.license_by_id(session, partner_id, license_id, for_update=True)
            if row is None:
                raise errors.license_not_found()
            updated = await repository.update_license(
                session,
                license_id,
                tier=tier or row.tier,
                expire_at=expire_at or row.expire_at,
                state=row.state,
                reason=row.suspend_reason,
                now=self._now(),
            )
            return svc.UpdateLicenseResponse(license=self._license_message(updated))

        return await self._write("UpdateLicense", principal, request, work)

    async def suspend_license(
        self, principal: Principal, request: svc.SuspendLicenseRequest
    ) -> svc.SuspendLicenseResponse:
        """→ SUSPENDED with a reason; a suspended one is left as it is."""
        partner_id = _uuid(request.partner_id, "partner_id")

        async def work(session: AsyncSession) -> svc.SuspendLicenseResponse:
            row = await self._license(session, partner_id, request.license_id, for_update=True)
            if row.state != "SUSPENDED":
                row = await repository.update_license(
                    session,
                    row.id,
                    tier=row.tier,
                    expire_at=row.expire_at,
                    state="SUSPENDED",
                    reason=request.reason,
                    now=self._now(),
                )
            return svc.SuspendLicenseResponse(license=self._license_message(row))

        return await self._write("SuspendLicense", principal, request, work)

    async def get_license(
        self, principal: Principal, request: svc.GetLicenseRequest
    ) -> svc.GetLicenseResponse:
        """A licence, to admins and its partner's users."""
        async with self._reads.connect() as db:
            partner_id = await self._partner_id(db, principal, request.partner_id)
            row = await self._license(db, partner_id, request.license_id)
        return svc.GetLicenseResponse(license=self._license_message(row))

    async def list_licenses(
        self, principal: Principal, request: svc.ListLicensesRequest
    ) -> svc.ListLicensesResponse:
        """A partner's licences newest first."""
        async with self._reads.connect() as db:
            partner_id = await self._partner_id(db, principal, request.partner_id)
            page = paging.request(request.page_size, request.page_token, f"licenses:{partner_id}")
            rows = await repository.list_licenses(db, partner_id, _after(page), page.limit)
        shown, token = page.finish(rows, _keyset)
        return svc.ListLicensesResponse(
            licenses=[self._license_message(r) for r in shown], next_page_token=token
        )

    # -- API keys ---------------------------------------------------------------------------------

    async def _usable_license(self, session: AsyncSession, partner_id: uuid.UUID, license_id: str) -> Any:
        partner = await repository.partner_by_id(session, partner_id)
        if partner is None:
            raise errors.partner_not_found()
        if partner.state != "ACTIVE":
            raise errors.precondition(errors.PARTNER_NOT_ACTIVE, "the partner is not active")
        row = await self._license(session, partner_id, license_id, for_update=True)
        if convert.license_state(row, self._now()) != pb.LICENSE_STATE_ACTIVE:
            raise errors.precondition(errors.LICENSE_NOT_ACTIVE, "the licence is suspended or expired")
        return row

    async def create_api_key(
        self, principal: Principal, request: svc.CreateApiKeyRequest
    ) -> svc.CreateApiKeyResponse:
        """A new key; its secret is in this answer only (a replay answers the key without it)."""
        environment = convert.ENVIRONMENT_NAMES[request.environment]
        secret: list[str] = []

        async def work(session: AsyncSession) -> svc.CreateApiKeyResponse:
            partner_id = await self._partner_id(session, principal, request.partner_id)
            license = await self._usable_license(session, partner_id, request.license_id)
            new = keys.generate(environment)
            row = await repository.insert_key(
                session,
                key_id=uuid.uuid4(),
                license_id=license.id,
                partner_id=partner_id,
                environment=environment,
                secret_hash=new.secret_hash,
                display_prefix=new.display_prefix,
                display_name=request.display_name,
                now=self._now(),
            )
            secret.append(new.secret)
            # The stored idempotency record gets the answer without the secret: no table ever holds it.
            return svc.CreateApiKeyResponse(api_key=convert.api_key(row, self._now()))

        response = await self._write("CreateApiKey", principal, request, work)
        answer = svc.CreateApiKeyResponse()
        answer.CopyFrom(response)
        if secret:
            answer.secret = secret[0]
        return answer

    async def list_api_keys(
        self, principal: Principal, request: svc.ListApiKeysRequest
    ) -> svc.ListApiKeysResponse:
        """A licence's keys newest first, without secrets, with last use up to the minute."""
        async with self._reads.connect() as db:
            partner_id = await self._partner_id(db, principal, request.partner_id)
            license = await self._license(db, partner_id, request.license_id)
            page = paging.request(request.page_size, request.page_token, f"keys:{license.id}")
            rows = await repository.list_keys(db, license.id, _after(page), page.limit)
        shown, token = page.finish(rows, _keyset)
        pending = await self._last_used.pending(str(r.id) for r in shown)
        now = self._now()
        return svc.ListApiKeysResponse(
            api_keys=[convert.api_key(r, now, pending.get(str(r.id))) for r in shown],
            next_page_token=token,
        )

    async def revoke_api_key(
        self, principal: Principal, request: svc.RevokeApiKeyRequest
    ) -> svc.RevokeApiKeyResponse:
        """REVOKED at once; a revoked (or past-grace) key is left as it is."""

        async def work(session: AsyncSession) -> svc.RevokeApiKeyResponse:
            partner_id = await self._partner_id(session, principal, request.partner_id)
            license = await self._license(session, partner_id, request.license_id)
            row = await repository.key_by_id(
                session, license.id, _uuid(request.key_id, "key_id"), for_update=True
            )
            if row is None:
                raise errors.api_key_not_found()
            now = self._now()
            if convert.key_state(row, now) != pb.API_KEY_STATE_REVOKED:
                row = await repository.revoke_key(session, row.id, now)
            return svc.RevokeApiKeyResponse(api_key=convert.api_key(row, now))

        return await self._write("RevokeApiKey", principal, request, work)

    async def rotate_api_key(
        self, principal: Principal, request: svc.RotateApiKeyRequest
    ) -> svc.RotateApiKeyResponse:
        """A new key replaces an ACTIVE one, which keeps working for the grace period (0 s to 7 days)."""
        grace = self._policy.default_grace
        if request.HasField("grace_period"):
            grace = request.grace_period.ToTimedelta()
            if grace < timedelta(0) or grace > MAX_GRACE:
                raise errors.bad_fields(("grace_period", "must be between 0 seconds and 7 days"))
        secret: list[str] = []

        async def work(session: AsyncSession) -> svc.RotateApiKeyResponse:
            partner_id = await self._partner_id(session, principal, request.partner_id)
            license = await self._usable_license(session, partner_id, request.license_id)
            old = await repository.key_by_id(
                session, license.id, _uuid(request.key_id, "key_id"), for_update=True
            )
            if old is None:
                raise errors.api_key_not_found()
            now = self._now()
            if convert.key_state(old, now) != pb.API_KEY_STATE_ACTIVE:
                raise errors.precondition(errors.API_KEY_NOT_ACTIVE, "only an active key can be rotated")
            new = keys.generate(old.environment)
            new_id = uuid.uuid4()
            row = await repository.insert_key(
                session,
                key_id=new_id,
                license_id=license.id,
                partner_id=partner_id,
                environment=old.environment,
                secret_hash=new.secret_hash,
                display_prefix=new.display_prefix,
                display_name=old.display_name,
                now=now,
            )
            rotated = await repository.start_rotation(session, old.id, new_id, now + grace)
            secret.append(new.secret)
            return svc.RotateApiKeyResponse(
                old_api_key=convert.api_key(rotated, now), api_key=convert.api_key(row, now)
            )

        response = await self._write("RotateApiKey", principal, request, work)
        answer = svc.RotateApiKeyResponse()
        answer.CopyFrom(response)
        if secret:
            answer.secret = secret[0]
        return answer

    # -- usage ------------------------------------------------------------------------------------

    async def get_usage(self, principal: Principal, request: svc.GetUsageRequest) -> svc.GetUsageResponse:
        """Usage totals and zero-filled hour or day buckets over at most 93 days."""
        start = request.start_time.ToDatetime(tzinfo=UTC)
        end = request.end_time.ToDatetime(tzinfo=UTC)
        if end <= start:
            raise errors.bad_fields(("end_time", "must be after start_time"))
        if end - start > MAX_USAGE_PERIOD:
            raise errors.bad_fields(("end_time", "the period may be at most 93 days"))
        granularity = request.granularity or (
            pb.USAGE_GRANULARITY_HOUR if end - start <= _HOURLY_UP_TO else pb.USAGE_GRANULARITY_DAY
        )
        step = timedelta(hours=1) if granularity == pb.USAGE_GRANULARITY_HOUR else timedelta(days=1)
        first = _floor(start, step)
        async with self._reads.connect() as db:
            partner_id = await self._partner_id(db, principal, request.partner_id)
            license = await self._license(db, partner_id, request.license_id)
            rows = await repository.usage(
                db, license.id, first, end, "hour" if step == timedelta(hours=1) else "day"
            )
        by_bucket = {r.bucket: r for r in rows}
        usage = pb.Usage(
            license_id=str(license.id),
            start_time=convert.timestamp(first),
            end_time=convert.timestamp(end),
            granularity=granularity,
        )
        at = first
        while at < end:
            r = by_bucket.get(at)
            bucket = pb.UsageBucket(
                start_time=convert.timestamp(at),
                request_count=int(r.requests) if r else 0,
                error_count=int(r.errors) if r else 0,
                throttled_count=int(r.throttled) if r else 0,
            )
            usage.buckets.append(bucket)
            usage.request_count += bucket.request_count
            usage.error_count += bucket.error_count
            usage.throttled_count += bucket.throttled_count
            usage.byte_count += int(r.bytes) if r else 0
            at += step
        return svc.GetUsageResponse(usage=usage)


def _floor(when: datetime, step: timedelta) -> datetime:
    seconds = int(step.total_seconds())
    return datetime.fromtimestamp(int(when.timestamp()) // seconds * seconds, UTC)


def _after(page: paging.PageRequest) -> tuple[Any, Any] | None:
    """The (created_at, id) cursor of a licensing list (partners, licences, keys: all newest first)."""
    cursor = page.cursor(2)
    return (cursor[0], cursor[1]) if cursor is not None else None


def _keyset(row: Any) -> tuple[Any, Any]:
    return row.created_at, row.id
