"""KYC over gRPC: submit, review queue, approve (outbox command), reject, and the state machine."""

from __future__ import annotations

import hashlib
import json
import uuid

import grpc
import pytest
from gx.identity.v1 import identity_pb2
from gx.identity.v1 import identity_service_pb2 as svc
from gx.type.v1 import command_pb2, operation_pb2
from sqlalchemy import text

from tests.grpc.identity.identity_harness import Identity, bearer, new_super_admin, new_user, rich_error

PASSPORT = identity_pb2.KYC_DOCUMENT_TYPE_PASSPORT
SELFIE = identity_pb2.KYC_DOCUMENT_TYPE_SELFIE


def _sha(text_: str) -> str:
    return hashlib.sha256(text_.encode()).hexdigest()


def _submission(**over: object) -> svc.SubmitKycRequest:
    fields: dict[str, object] = {
        "user_id": "me",
        "first_name": "Ana",
        "last_name": "Perera",
        "date_of_birth": "1990-04-01",
        "nationality": "LK",
        "documents": [
            identity_pb2.KycDocument(type=PASSPORT, sha256=_sha(str(uuid.uuid4()))),
            identity_pb2.KycDocument(type=SELFIE, sha256=_sha(str(uuid.uuid4()))),
        ],
    }
    fields.update(over)
    return svc.SubmitKycRequest(**fields)  # type: ignore[arg-type]


async def _submitted_user(identity: Identity) -> tuple[str, str]:
    user_id, _, tokens = await new_user(identity, "kyc")
    await identity.stub.SubmitKyc(_submission(), metadata=bearer(tokens.access_token))
    return user_id, tokens.access_token


async def test_submit_then_admin_approves_and_the_outbox_holds_create_user(identity: Identity) -> None:
    _, admin = await new_super_admin(identity)
    user_id, _, tokens = await new_user(identity, "kyc")
    submitted = await identity.stub.SubmitKyc(_submission(), metadata=bearer(tokens.access_token))
    assert submitted.kyc.state == identity_pb2.KYC_STATE_PENDING and submitted.kyc.user_id == user_id
    me = await identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=bearer(tokens.access_token))
    assert me.user.state == identity_pb2.USER_STATE_KYC_PENDING

    queue = await identity.stub.ListKycSubmissions(
        svc.ListKycSubmissionsRequest(state=identity_pb2.KYC_STATE_PENDING, page_size=100),
        metadata=bearer(admin.access_token),
    )
    assert user_id in [k.user_id for k in queue.kyc_submissions]

    request_id = str(uuid.uuid4())
    call = identity.stub.ApproveKyc(
        svc.ApproveKycRequest(user_id=user_id, request_id=request_id), metadata=bearer(admin.access_token)
    )
    operation = await call
    assert ("x-http-status", "202") in tuple(await call.initial_metadata())
    assert operation.name.startswith("operations/")
    assert operation.command_type == command_pb2.COMMAND_TYPE_CREATE_USER
    assert operation.state == operation_pb2.OPERATION_STATE_PENDING and not operation.done

    command_id = uuid.UUID(operation.name.removeprefix("operations/"))
    async with identity.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT command_type, payload, request_id, principal_id, status FROM outbox.commands WHERE id = :id"
                ),
                {"id": command_id},
            )
        ).one()
    assert row.command_type == "CREATE_USER" and row.status == "PENDING"
    assert row.principal_id == user_id  # the user may follow their own onboarding
    assert row.payload == {
        "userId": user_id,
        "countryCode": "LK",
        "dateOfBirth": "1990-04-01",
        "requestId": row.request_id,
    }

    me = await identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=bearer(tokens.access_token))
    assert me.user.state == identity_pb2.USER_STATE_APPROVED_PENDING_ONCHAIN
    kyc = await identity.stub.GetKyc(svc.GetKycRequest(user_id="me"), metadata=bearer(tokens.access_token))
    assert kyc.kyc.state == identity_pb2.KYC_STATE_APPROVED and kyc.kyc.operation == operation.name

    # Replaying the approval answers the same operation and records nothing new.
    again = await identity.stub.ApproveKyc(
        svc.ApproveKycRequest(user_id=user_id, request_id=request_id), metadata=bearer(admin.access_token)
    )
    assert again.name == operation.name
    async with identity.engine.connect() as conn:
        count = (
            await conn.execute(
                text("SELECT count(*) FROM outbox.commands WHERE payload->>'userId' = :u"), {"u": user_id}
            )
        ).scalar_one()
    assert count == 1
    # A second approval with a new request id finds nothing pending.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await identity.stub.ApproveKyc(
            svc.ApproveKycRequest(user_id=user_id, request_id=str(uuid.uuid4())),
            metadata=bearer(admin.access_token),
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rich_error(err.value)[0].reason == "KYC_NOT_PENDING"  # type: ignore[union-attr]


async def test_user_becomes_active_once_the_command_is_committed_and_projected(identity: Identity) -> None:
    _, admin = await new_super_admin(identity)
    user_id, token = await _submitted_user(identity)
    operation = await identity.stub.ApproveKyc(
        svc.ApproveKycRequest(user_id=user_id, request_id=str(uuid.uuid4())),
        metadata=bearer(admin.access_token),
    )
    command_id = uuid.UUID(operation.name.removeprefix("operations/"))
    tx_id = uuid.uuid4().hex
    async with identity.engine.begin() as conn:
        # What the outbox worker and the projector record once the ledger committed it.
        await conn.execute(
            text(
                "UPDATE outbox.commands SET status = 'COMMITTED', tx_id = :tx, block_number = 7 WHERE id = :id"
            ),
            {"tx": tx_id, "id": command_id},
        )
    # Committed but not yet in the read models: the wallet is not usable yet.
    pending = await identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=bearer(token))
    assert pending.user.state == identity_pb2.USER_STATE_APPROVED_PENDING_ONCHAIN
    async with identity.engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO ledger.projected_txs (tx_id, block_number, event_count) VALUES (:tx, 7, 1)"),
            {"tx": tx_id},
        )
    before = await identity.stub.GetKyc(svc.GetKycRequest(user_id="me"), metadata=bearer(token))
    assert before.kyc.operation == operation.name
    me = await identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=bearer(token))
    assert me.user.state == identity_pb2.USER_STATE_ACTIVE


async def test_reject_with_reason_then_resubmit(identity: Identity) -> None:
    _, admin = await new_super_admin(identity)
    user_id, token = await _submitted_user(identity)
    rejected = await identity.stub.RejectKyc(
        svc.RejectKycRequest(user_id=user_id, reason="The passport photo is blurred"),
        metadata=bearer(admin.access_token),
    )
    assert rejected.kyc.state == identity_pb2.KYC_STATE_REJECTED
    assert rejected.kyc.rejection_reason == "The passport photo is blurred"
    mine = await identity.stub.GetKyc(svc.GetKycRequest(user_id="me"), metadata=bearer(token))
    assert mine.kyc.rejection_reason == "The passport photo is blurred"
    me = await identity.stub.GetUser(svc.GetUserRequest(user_id="me"), metadata=bearer(token))
    assert me.user.state == identity_pb2.USER_STATE_REJECTED
    again = await identity.stub.SubmitKyc(_submission(), metadata=bearer(token))
    assert (
        again.kyc.state == identity_pb2.KYC_STATE_PENDING
        and again.kyc.submission_id != rejected.kyc.submission_id
    )


async def test_second_submission_while_pending_is_refused(identity: Identity) -> None:
    _, token = await _submitted_user(identity)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await identity.stub.SubmitKyc(_submission(), metadata=bearer(token))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rich_error(err.value)[0].reason == "KYC_ALREADY_PENDING"  # type: ignore[union-attr]


async def test_bad_kyc_fields_come_back_as_field_violations(identity: Identity) -> None:
    _, _, tokens = await new_user(identity, "kyc")
    bad = _submission(
        date_of_birth="2020-02-30",
        nationality="ZZ",
        documents=[identity_pb2.KycDocument(type=PASSPORT, sha256="A" * 64)],
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await identity.stub.SubmitKyc(bad, metadata=bearer(tokens.access_token))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = {v.field for v in rich_error(err.value)[1].field_violations}  # type: ignore[union-attr]
    assert fields == {"date_of_birth", "nationality", "documents[0].sha256"}
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await identity.stub.SubmitKyc(
            svc.SubmitKycRequest(user_id="me"), metadata=bearer(tokens.access_token)
        )
    fields = {v.field for v in rich_error(missing.value)[1].field_violations}  # type: ignore[union-attr]
    assert {"first_name", "last_name", "date_of_birth", "nationality", "documents"} <= fields


async def test_users_cannot_submit_or_read_kyc_of_others(identity: Identity) -> None:
    other, _ = await _submitted_user(identity)
    _, _, tokens = await new_user(identity, "kyc")
    for call in (
        identity.stub.SubmitKyc(_submission(user_id=other), metadata=bearer(tokens.access_token)),
        identity.stub.GetKyc(svc.GetKycRequest(user_id=other), metadata=bearer(tokens.access_token)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call
        assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_admin_cannot_approve_their_own_kyc(identity: Identity) -> None:
    admin_id, admin = await new_super_admin(identity)
    await identity.stub.SubmitKyc(_submission(), metadata=bearer(admin.access_token))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await identity.stub.ApproveKyc(
            svc.ApproveKycRequest(user_id=admin_id, request_id=str(uuid.uuid4())),
            metadata=bearer(admin.access_token),
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_review_queue_pages_oldest_first_without_gaps(identity: Identity) -> None:
    _, admin = await new_super_admin(identity)
    for _ in range(3):
        await _submitted_user(identity)
    seen: list[str] = []
    token = ""
    while True:
        page = await identity.stub.ListKycSubmissions(
            svc.ListKycSubmissionsRequest(
                state=identity_pb2.KYC_STATE_PENDING, page_size=2, page_token=token
            ),
            metadata=bearer(admin.access_token),
        )
        assert len(page.kyc_submissions) <= 2
        seen += [k.submission_id for k in page.kyc_submissions]
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) >= 3
    times = []
    async with identity.engine.connect() as conn:
        for sid in seen:
            times.append(
                (
                    await conn.execute(
                        text("SELECT submitted_at FROM identity.kyc_submissions WHERE id = :i"), {"i": sid}
                    )
                ).scalar_one()
            )
    assert times == sorted(times)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await identity.stub.ListKycSubmissions(
            svc.ListKycSubmissionsRequest(page_token="garbage"), metadata=bearer(admin.access_token)
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_approval_in_json_is_the_canonical_ledger_message(identity: Identity) -> None:
    # The payload is exactly gx.ledger.v1.CreateUserRequest's proto JSON, so the chaincode can parse it.
    from google.protobuf import json_format
    from gx.ledger.v1 import commands_pb2

    _, admin = await new_super_admin(identity)
    user_id, _ = await _submitted_user(identity)
    operation = await identity.stub.ApproveKyc(
        svc.ApproveKycRequest(user_id=user_id, request_id=str(uuid.uuid4())),
        metadata=bearer(admin.access_token),
    )
    async with identity.engine.connect() as conn:
        payload = (
            await conn.execute(
                text("SELECT payload::text FROM outbox.commands WHERE id = :id"),
                {"id": uuid.UUID(operation.name.removeprefix("operations/"))},
            )
        ).scalar_one()
    parsed = json_format.Parse(payload, commands_pb2.CreateUserRequest())
    assert parsed.user_id == user_id and parsed.country_code == "LK" and parsed.date_of_birth == "1990-04-01"
    assert uuid.UUID(parsed.request_id)
    assert json.loads(payload)["userId"] == user_id
