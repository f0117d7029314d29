"""One person, one account: KYC approval refuses a document another live user already presented."""

from __future__ import annotations

import uuid

import pytest
from gx.identity.v1 import identity_service_pb2 as svc
from sqlalchemy import text

from services.common import outbox
from services.common.errors import FailedPrecondition
from services.identity.kyc import KycDocumentInput, KycInput
from services.identity.usecases import Caller
from tests.integration.identity.conftest import Wired

PASSWORD = "Correct horse 42 battery"
ADMIN = Caller(str(uuid.uuid4()), frozenset({"USER", "ADMIN"}))


def _kyc(*hashes: str) -> KycInput:
    docs = tuple(KycDocumentInput("KYC_DOCUMENT_TYPE_PASSPORT", h) for h in hashes)
    return KycInput("Ana", "Perera", "1990-04-01", "LK", docs)


def _sha() -> str:
    return uuid.uuid4().hex * 2


async def _submitted(wired: Wired, *hashes: str) -> Caller:
    email = f"dup-{uuid.uuid4().hex[:12]}@example.com"
    user = (await wired.usecases.register(svc.RegisterUserRequest(email=email, password=PASSWORD))).user
    caller = Caller(user.user_id, frozenset({"USER"}))
    await wired.verify_email(caller, email)
    await wired.usecases.submit_kyc(caller, svc.SubmitKycRequest(user_id="me"), _kyc(*hashes))
    return caller


async def _approve(wired: Wired, user: Caller) -> None:
    await wired.usecases.approve_kyc(
        ADMIN, svc.ApproveKycRequest(user_id=user.user_id, request_id=str(uuid.uuid4()))
    )


async def _scalar(wired: Wired, sql: str, **params: object) -> object:
    async with wired.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar_one()


async def test_a_second_email_with_an_approved_users_passport_is_refused_and_nothing_is_recorded(
    wired: Wired,
) -> None:
    passport = _sha()
    first = await _submitted(wired, passport)
    await _approve(wired, first)
    second = await _submitted(wired, _sha(), passport)  # the same passport among other documents
    request_id = str(uuid.uuid4())
    with pytest.raises(FailedPrecondition) as refused:
        await wired.usecases.approve_kyc(
            ADMIN, svc.ApproveKycRequest(user_id=second.user_id, request_id=request_id)
        )
    assert refused.value.reason == "DUPLICATE_IDENTITY"
    assert refused.value.metadata["other_user_id"] == first.user_id
    uid = uuid.UUID(second.user_id)
    assert await _scalar(wired, "SELECT state FROM identity.users WHERE id = :u", u=uid) == "KYC_PENDING"
    assert (
        await _scalar(wired, "SELECT state FROM identity.kyc_submissions WHERE user_id = :u", u=uid)
        == "PENDING"
    )
    derived = outbox.derive_request_id("identity.CreateUser", second.user_id)
    assert await _scalar(wired, "SELECT count(*) FROM outbox.commands WHERE request_id = :r", r=derived) == 0
    # The user's own EMAIL_VERIFIED row aside, the refused approval audited nothing.
    assert (
        await _scalar(
            wired,
            "SELECT count(*) FROM audit.events WHERE subject = 'users/' || CAST(:u AS text) AND action LIKE 'KYC_%'",
            u=uid,
        )
        == 0
    )
    assert (
        await _scalar(
            wired, "SELECT count(*) FROM platform.idempotency_records WHERE request_id = :r", r=request_id
        )
        == 0
    )


async def test_two_pending_users_with_one_document_block_each_other_until_one_is_rejected(
    wired: Wired,
) -> None:
    shared = _sha()
    a, b = await _submitted(wired, shared), await _submitted(wired, shared)
    for user in (a, b):
        with pytest.raises(FailedPrecondition) as refused:
            await _approve(wired, user)
        assert refused.value.reason == "DUPLICATE_IDENTITY"
    await wired.usecases.reject_kyc(
        ADMIN, svc.RejectKycRequest(user_id=a.user_id, reason="duplicate account")
    )
    await _approve(wired, b)  # the rejected submission no longer holds the document


async def test_the_same_user_may_resubmit_their_own_document_after_a_rejection(wired: Wired) -> None:
    passport = _sha()
    user = await _submitted(wired, passport)
    await wired.usecases.reject_kyc(ADMIN, svc.RejectKycRequest(user_id=user.user_id, reason="blurry"))
    await wired.usecases.submit_kyc(user, svc.SubmitKycRequest(user_id="me"), _kyc(passport))
    await _approve(wired, user)
