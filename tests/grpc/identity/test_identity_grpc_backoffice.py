"""The back office over real gRPC and PostgreSQL: user search with each filter and paging, an
admin's view of a user (KYC state, wallet summary from the ledger read model), and the audit trail."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf import field_mask_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from gx.identity.v1 import identity_pb2
from gx.identity.v1 import identity_service_pb2 as svc
from gx.type.v1 import access_pb2
from sqlalchemy import text

from tests.grpc.identity.identity_harness import Identity, bearer, new_super_admin, new_user, register
from tests.grpc.wallet.wallet_harness import failure


def _tag() -> str:
    return uuid.uuid4().hex[:10]


async def _users(identity: Identity, tag: str, *countries: str) -> list[str]:
    """Registers one user per country with emails `bo<tag>-<i>@example.com`, in order."""
    ids = []
    for i, country in enumerate(countries):
        email = f"bo{tag}-{i}@example.com"
        ids.append((await register(identity, email, country_code=country)).user.user_id)
    return ids


def _ts(when: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(when)
    return ts


async def test_admins_search_users_by_email_prefix_newest_first_paged(identity: Identity) -> None:
    _, admin = await new_super_admin(identity)
    md = bearer(admin.access_token)
    tag = _tag()
    ids = await _users(identity, tag, "LK", "LK", "NP")
    first = await identity.stub.ListUsers(
        svc.ListUsersRequest(email_prefix=f"BO{tag}", page_size=2), metadata=md
    )
    assert [u.user_id for u in first.users] == [ids[2], ids[1]] and first.next_page_token
    rest = await identity.stub.ListUsers(
        svc.ListUsersRequest(email_prefix=f"BO{tag}", page_size=2, page_token=first.next_page_token),
        metadata=md,
    )
    assert [u.user_id for u in rest.users] == [ids[0]] and rest.next_page_token == ""
    # A token is bound to its filter.
    other = await failure(
        identity.stub.ListUsers(
            svc.ListUsersRequest(email_prefix=f"bo{tag}-1", page_token=first.next_page_token), metadata=md
        )
    )
    assert (other.code, other.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")


async def test_search_filters_by_country_state_and_role(identity: Identity) -> None:
    admin_id, admin = await new_super_admin(identity)
    md = bearer(admin.access_token)
    tag = _tag()
    lk, np_, frozen = await _users(identity, tag, "LK", "NP", "NP")
    prefix = f"bo{tag}"
    by_country = await identity.stub.ListUsers(
        svc.ListUsersRequest(email_prefix=prefix, country_code="NP"), metadata=md
    )
    assert {u.user_id for u in by_country.users} == {np_, frozen}

    await identity.stub.FreezeUser(svc.FreezeUserRequest(user_id=frozen, reason="review"), metadata=md)
    frozen_only = await identity.stub.ListUsers(
        svc.ListUsersRequest(email_prefix=prefix, state=identity_pb2.USER_STATE_FROZEN), metadata=md
    )
    assert [u.user_id for u in frozen_only.users] == [frozen]
    registered = await identity.stub.ListUsers(
        svc.ListUsersRequest(email_prefix=prefix, state=identity_pb2.USER_STATE_REGISTERED), metadata=md
    )
    assert {u.user_id for u in registered.users} == {lk, np_}

    await identity.stub.SetUserRoles(
        svc.SetUserRolesRequest(user_id=lk, roles=[access_pb2.ROLE_USER, access_pb2.ROLE_ADMIN]), metadata=md
    )
    admins = await identity.stub.ListUsers(
        svc.ListUsersRequest(email_prefix=prefix, role=access_pb2.ROLE_ADMIN), metadata=md
    )
    assert [u.user_id for u in admins.users] == [lk]
    # Filters combine.
    none = await identity.stub.ListUsers(
        svc.ListUsersRequest(email_prefix=prefix, role=access_pb2.ROLE_ADMIN, country_code="NP"), metadata=md
    )
    assert list(none.users) == []
    # A prefix is literal: `%` and `_` match only themselves.
    literal = await identity.stub.ListUsers(svc.ListUsersRequest(email_prefix=f"bo{tag[:4]}%"), metadata=md)
    assert list(literal.users) == []
    assert admin_id not in {u.user_id for u in by_country.users}


async def test_a_user_is_refused_the_back_office(identity: Identity) -> None:
    _, _, tokens = await new_user(identity, "plain")
    md = bearer(tokens.access_token)
    for call in (
        identity.stub.ListUsers(svc.ListUsersRequest(), metadata=md),
        identity.stub.ListAuditEvents(svc.ListAuditEventsRequest(), metadata=md),
    ):
        assert (await failure(call)).code == grpc.StatusCode.PERMISSION_DENIED


async def test_an_admin_sees_the_kyc_state_and_the_wallet_summary_a_user_does_not(identity: Identity) -> None:
    _, admin = await new_super_admin(identity)
    user_id, _, tokens = await new_user(identity, "wallet")
    documents = [
        identity_pb2.KycDocument(
            type=identity_pb2.KYC_DOCUMENT_TYPE_PASSPORT,
            sha256=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        )
    ]
    await identity.stub.SubmitKyc(
        svc.SubmitKycRequest(
            user_id="me",
            first_name="A",
            last_name="B",
            date_of_birth="1990-01-01",
            nationality="LK",
            documents=documents,
        ),
        metadata=bearer(tokens.access_token),
    )
    # The projector's rows for the user (identity only reads them).
    async with identity.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO ledger.users (user_id, country_code, status, trust_score, block_number, fabric_tx_id,"
                " create_time, update_time) VALUES (:u, 'LK', 'ACTIVE', 35, 2, 'tx', now(), now())"
            ),
            {"u": user_id},
        )
        await conn.execute(
            text(
                "INSERT INTO ledger.wallets (wallet_id, account_type, user_id, country_code, balance_qirat, frozen,"
                " frozen_reason, block_number, fabric_tx_id, create_time, update_time)"
                " VALUES (:u, 'USER', :u, 'LK', 1234500000, true, 'court order', 2, 'tx', now(), now())"
            ),
            {"u": user_id},
        )
    seen = await identity.stub.GetUser(
        svc.GetUserRequest(user_id=user_id), metadata=bearer(admin.access_token)
    )
    assert seen.kyc_state == identity_pb2.KYC_STATE_PENDING
    summary = seen.wallet_summary
    assert (
        summary.wallet_id,
        summary.balance_qirat,
        summary.frozen,
        summary.frozen_reason,
        summary.trust_score,
    ) == (
        user_id,
        1_234_500_000,
        True,
        "court order",
        35,
    )
    mine = await identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=bearer(tokens.access_token))
    assert not mine.HasField("wallet_summary") and mine.kyc_state == identity_pb2.KYC_STATE_UNSPECIFIED


async def test_a_user_not_on_the_ledger_has_no_wallet_summary(identity: Identity) -> None:
    _, admin = await new_super_admin(identity)
    user_id, _, _ = await new_user(identity, "offchain")
    seen = await identity.stub.GetUser(
        svc.GetUserRequest(user_id=user_id), metadata=bearer(admin.access_token)
    )
    assert not seen.HasField("wallet_summary") and seen.kyc_state == identity_pb2.KYC_STATE_UNSPECIFIED


async def test_admin_actions_are_in_the_audit_trail_by_actor_subject_action_and_time(
    identity: Identity,
) -> None:
    admin_id, admin = await new_super_admin(identity)
    md = bearer(admin.access_token)
    before = datetime.now(UTC) - timedelta(seconds=1)
    user_id, _, _ = await new_user(identity, "audited")
    request_id = f"req-{uuid.uuid4().hex}"
    await identity.stub.FreezeUser(
        svc.FreezeUserRequest(user_id=user_id, reason="chargebacks"),
        metadata=(*md, ("x-request-id", request_id)),
    )
    await identity.stub.UnfreezeUser(svc.UnfreezeUserRequest(user_id=user_id), metadata=md)
    subject = f"users/{user_id}"
    trail = await identity.stub.ListAuditEvents(svc.ListAuditEventsRequest(subject=subject), metadata=md)
    actions = [e.action for e in trail.audit_events]
    # Newest first: the user's own EMAIL_VERIFIED (registration) comes last.
    assert actions == ["USER_UNFROZEN", "USER_FROZEN", "EMAIL_VERIFIED"]
    frozen = trail.audit_events[1]
    assert (frozen.service, frozen.actor, frozen.subject) == ("identity", admin_id, subject)
    assert frozen.address == "127.0.0.1" and frozen.request_id == request_id and len(frozen.trace_id) == 32
    assert frozen.details["reason"] == "chargebacks"

    by_action = await identity.stub.ListAuditEvents(
        svc.ListAuditEventsRequest(actor=admin_id, action="USER_FROZEN"), metadata=md
    )
    assert [e.subject for e in by_action.audit_events] == [subject]
    paged = await identity.stub.ListAuditEvents(
        svc.ListAuditEventsRequest(subject=subject, page_size=2), metadata=md
    )
    assert len(paged.audit_events) == 2 and paged.next_page_token
    last = await identity.stub.ListAuditEvents(
        svc.ListAuditEventsRequest(subject=subject, page_size=2, page_token=paged.next_page_token),
        metadata=md,
    )
    assert [e.action for e in last.audit_events] == ["EMAIL_VERIFIED"] and not last.next_page_token

    in_window = await identity.stub.ListAuditEvents(
        svc.ListAuditEventsRequest(subject=subject, start_time=_ts(before)), metadata=md
    )
    assert len(in_window.audit_events) == 3
    future = await identity.stub.ListAuditEvents(
        svc.ListAuditEventsRequest(subject=subject, start_time=_ts(datetime.now(UTC) + timedelta(minutes=1))),
        metadata=md,
    )
    assert list(future.audit_events) == []
    past = await identity.stub.ListAuditEvents(
        svc.ListAuditEventsRequest(subject=subject, end_time=_ts(before)), metadata=md
    )
    assert list(past.audit_events) == []
    backwards = await failure(
        identity.stub.ListAuditEvents(
            svc.ListAuditEventsRequest(start_time=_ts(datetime.now(UTC)), end_time=_ts(before)), metadata=md
        )
    )
    assert backwards.code == grpc.StatusCode.INVALID_ARGUMENT and "end_time" in backwards.fields


def test_the_audit_trail_has_no_way_to_change_it() -> None:
    # The contract: the only audit RPC is a list; nothing updates or deletes an event.
    methods = svc.DESCRIPTOR.services_by_name["IdentityService"].methods_by_name
    assert [m for m in methods if "Audit" in m] == ["ListAuditEvents"]


async def test_an_admin_changing_someone_s_profile_is_audited_their_own_change_is_not(
    identity: Identity,
) -> None:
    admin_id, admin = await new_super_admin(identity)
    user_id, _, tokens = await new_user(identity, "profile")
    subject = f"users/{user_id}"
    await identity.stub.UpdateUser(
        svc.UpdateUserRequest(
            user=identity_pb2.User(user_id=user_id, display_name="Fixed by support"),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
        ),
        metadata=bearer(admin.access_token),
    )
    await identity.stub.UpdateUser(
        svc.UpdateUserRequest(
            user=identity_pb2.User(user_id="me", display_name="Mine"),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
        ),
        metadata=bearer(tokens.access_token),
    )
    trail = await identity.stub.ListAuditEvents(
        svc.ListAuditEventsRequest(subject=subject, action="USER_UPDATED"),
        metadata=bearer(admin.access_token),
    )
    assert [(e.actor, list(e.details["fields"])) for e in trail.audit_events] == [
        (admin_id, ["display_name"])
    ]
