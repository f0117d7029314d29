"""The back office (admins): user search, the audit trail, and what an admin sees beside a profile.

The wallet summary comes from the ledger read model (`ledger.wallets`, `ledger.users`), read
through the projector's declared tables (identity's role may SELECT `ledger.*`, migration 0011):
identity never calls or imports the wallet service, and an admin's GetUser stays one round trip
to one database. The audit trail is the mesh-wide `audit.events` (services.common.audit_tables);
identity is the admin's home, so its one read API lives here.
"""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

from google.protobuf import struct_pb2
from gx.identity.v1 import identity_pb2
from gx.identity.v1 import identity_service_pb2 as svc
from sqlalchemy import ColumnElement, and_, any_, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from projector import tables as ledger_tables
from services.common import paging
from services.common.audit_tables import events
from services.common.errors import FieldViolation, InvalidArgument
from services.identity import convert, errors, models, tables

_DEFAULT_PAGE = 50
_LIKE_ESCAPE = "\\"
_KYC_STATE_UNSPECIFIED = int(identity_pb2.KYC_STATE_UNSPECIFIED)


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching strings that start with `prefix` literally (`%`, `_` escaped)."""
    escaped = prefix.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _bad(field: str, description: str) -> InvalidArgument:
    return InvalidArgument(description, violations=[FieldViolation(field, description)])


def _user_filters(request: svc.ListUsersRequest) -> tuple[list[ColumnElement[bool]], str]:
    """The WHERE clauses of a user search, and the filter key its page tokens are bound to."""
    users = tables.users
    where: list[ColumnElement[bool]] = []
    prefix = request.email_prefix.strip().lower()
    if prefix:
        where.append(func.lower(users.c.email).like(_like_prefix(prefix), escape=_LIKE_ESCAPE))
    state = ""
    if request.state:
        try:
            state = identity_pb2.UserState.Name(request.state).removeprefix("USER_STATE_")
        except ValueError:
            raise _bad("state", "not a user state") from None
        # FROZEN is a flag on top of the life cycle (see convert.user_state): the API shows a
        # frozen user as FROZEN, so the search does too.
        if state == "FROZEN":
            where.append(users.c.frozen.is_(True))
        else:
            where.append(and_(users.c.state == state, users.c.frozen.is_(False)))
    role = ""
    if request.role:
        role = convert.role_name(request.role) or ""
        if not role:
            raise _bad("role", "not a role users hold")
        where.append(literal(role) == any_(users.c.roles))
    if request.country_code:
        where.append(users.c.country_code == request.country_code)
    return where, f"users|{prefix}|{state}|{role}|{request.country_code}"


def _details(value: Any) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    if isinstance(value, dict):
        out.update(value)
    return out


def audit_event_message(row: Any) -> identity_pb2.AuditEvent:
    """An AuditEvent message from an `audit.events` row."""
    return identity_pb2.AuditEvent(
        event_id=str(row.id),
        create_time=convert.timestamp(row.create_time),
        service=row.service,
        action=row.action,
        actor=row.actor or "",
        subject=row.subject,
        address=row.address or "",
        request_id=row.request_id or "",
        trace_id=row.trace_id or "",
        details=_details(row.details),
    )


async def wallet_summary(session: AsyncSession, user_id: uuid.UUID) -> identity_pb2.WalletSummary | None:
    """The user's wallet as the ledger read model shows it, or None before it is on the ledger."""
    wallets, ledger_users = ledger_tables.wallets, ledger_tables.users
    row = (
        await session.execute(
            select(
                wallets.c.wallet_id,
                wallets.c.balance_qirat,
                wallets.c.frozen,
                wallets.c.frozen_reason,
                wallets.c.update_time,
                ledger_users.c.trust_score,
            )
            .select_from(wallets.outerjoin(ledger_users, ledger_users.c.user_id == wallets.c.user_id))
            .where(wallets.c.wallet_id == str(user_id), wallets.c.account_type == "USER")
        )
    ).first()
    if row is None:
        return None
    return identity_pb2.WalletSummary(
        wallet_id=row.wallet_id,
        balance_qirat=int(row.balance_qirat),
        frozen=bool(row.frozen),
        frozen_reason=row.frozen_reason or "",
        trust_score=int(row.trust_score or 0),
        update_time=convert.timestamp(row.update_time),
    )


async def latest_kyc_state(session: AsyncSession, user_id: uuid.UUID) -> int:
    """The state of the user's latest KYC submission, or KYC_STATE_UNSPECIFIED if none."""
    kyc = tables.kyc_submissions
    state = (
        await session.execute(
            select(kyc.c.state).where(kyc.c.user_id == user_id).order_by(kyc.c.submitted_at.desc()).limit(1)
        )
    ).scalar_one_or_none()
    return int(identity_pb2.KycState.Value(f"KYC_STATE_{state}")) if state else _KYC_STATE_UNSPECIFIED


async def add_admin_view(session: AsyncSession, response: svc.GetUserResponse, user_id: uuid.UUID) -> None:
    """Adds what only an admin sees (KYC state, wallet summary) to a GetUser answer."""
    response.kyc_state = await latest_kyc_state(session, user_id)  # type: ignore[assignment]
    summary = await wallet_summary(session, user_id)
    if summary is not None:
        response.wallet_summary.CopyFrom(summary)


class BackOfficeUseCases:
    """ListUsers and ListAuditEvents (admins; the access rules in the proto admit no one else)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Args:
        sessions: The identity database's session factory.
        """
        self._sessions = sessions

    async def list_users(self, is_admin: bool, request: svc.ListUsersRequest) -> svc.ListUsersResponse:
        """A page of users matching every given filter, newest registration first."""
        _require_admin(is_admin)
        where, key = _user_filters(request)
        page = paging.request(request.page_size, request.page_token, key, default=_DEFAULT_PAGE)
        users = tables.users
        after = page.condition(users.c.created_at, users.c.id)
        if after is not None:
            where.append(after)
        stmt = (
            select(models.User)
            .where(*where)
            .order_by(users.c.created_at.desc(), users.c.id.desc())
            .limit(page.limit)
        )
        async with self._sessions() as session:
            rows = list((await session.execute(stmt)).scalars())
        found, token = page.finish(rows, _user_key)
        return svc.ListUsersResponse(users=[convert.user_message(u) for u in found], next_page_token=token)

    async def list_audit_events(
        self, is_admin: bool, request: svc.ListAuditEventsRequest
    ) -> svc.ListAuditEventsResponse:
        """A page of the audit trail matching every given filter, newest first."""
        _require_admin(is_admin)
        where: list[ColumnElement[bool]] = []
        if request.actor:
            where.append(events.c.actor == request.actor)
        if request.subject:
            where.append(events.c.subject == request.subject)
        if request.action:
            where.append(events.c.action == request.action)
        start = request.start_time.ToDatetime(tzinfo=UTC) if request.HasField("start_time") else None
        end = request.end_time.ToDatetime(tzinfo=UTC) if request.HasField("end_time") else None
        if start is not None and end is not None and end <= start:
            raise _bad("end_time", "must be after start_time")
        if start is not None:
            where.append(events.c.create_time >= start)
        if end is not None:
            where.append(events.c.create_time < end)
        key = "|".join(
            ("audit", request.actor, request.subject, request.action, str(start or ""), str(end or ""))
        )
        page = paging.request(request.page_size, request.page_token, key, default=_DEFAULT_PAGE)
        after = page.condition(events.c.create_time, events.c.id)
        if after is not None:
            where.append(after)
        stmt = (
            select(events)
            .where(*where)
            .order_by(events.c.create_time.desc(), events.c.id.desc())
            .limit(page.limit)
        )
        async with self._sessions() as session:
            rows = list((await session.execute(stmt)).all())
        found, token = page.finish(rows, _event_key)
        return svc.ListAuditEventsResponse(
            audit_events=[audit_event_message(r) for r in found], next_page_token=token
        )


def _require_admin(is_admin: bool) -> None:
    # The proto's access rule already admits only admins; checking again keeps the use cases
    # safe if they are ever called from elsewhere.
    if not is_admin:
        raise errors.permission_denied("ADMIN_REQUIRED", "this needs an admin")


def _user_key(user: models.User) -> tuple[Any, ...]:
    return (user.created_at, user.id)


def _event_key(row: Any) -> tuple[Any, ...]:
    return (row.create_time, row.id)
