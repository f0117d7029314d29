"""Every identity write is one transaction: failures leave nothing behind, races have one winner."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest
from gx.identity.v1 import identity_service_pb2 as svc
from sqlalchemy import text

from services.common import outbox
from services.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, Unauthenticated
from services.identity.kyc import KycDocumentInput, KycInput
from services.identity.usecases import Caller
from tests.integration.identity.conftest import Wired

PASSWORD = "Correct horse 42 battery"
ADMIN = Caller(str(uuid.uuid4()), frozenset({"USER", "ADMIN"}))


def _kyc(document: str | None = None) -> KycInput:
    """A KYC submission; its document is unique unless given (one person, one account)."""
    sha = document or uuid.uuid4().hex * 2
    return KycInput(
        "Ana", "Perera", "1990-04-01", "LK", (KycDocumentInput("KYC_DOCUMENT_TYPE_PASSPORT", sha),)
    )


# The audit rows a KYC review writes (the user's own EMAIL_VERIFIED row comes before).
_REVIEW_AUDITS = (
    "SELECT count(*) FROM audit.events WHERE subject = 'users/' || CAST(:u AS text) AND action LIKE 'KYC_%'"
)


def _email() -> str:
    return f"tx-{uuid.uuid4().hex[:12]}@example.com"


async def _user(wired: Wired) -> Caller:
    email = _email()
    response = await wired.usecases.register(svc.RegisterUserRequest(email=email, password=PASSWORD))
    caller = Caller(response.user.user_id, frozenset({"USER"}))
    await wired.verify_email(caller, email)
    return caller


async def _count(wired: Wired, sql: str, **params: object) -> int:
    async with wired.engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


async def test_failed_approval_leaves_kyc_user_audit_and_idempotency_untouched(wired: Wired) -> None:
    user = await _user(wired)
    await wired.usecases.submit_kyc(user, svc.SubmitKycRequest(user_id="me"), _kyc())
    # Take the ledger request id the approval derives, with another command: recording the
    # CREATE_USER command will fail inside the approval's transaction.
    derived = outbox.derive_request_id("identity.CreateUser", user.user_id)
    async with wired.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO outbox.commands (id, command_type, payload, request_id)"
                " VALUES (:id, 'PAUSE_SYSTEM', '{}'::jsonb, :rid)"
            ),
            {"id": uuid.uuid4(), "rid": derived},
        )
    request_id = str(uuid.uuid4())
    with pytest.raises(InvalidArgument):
        await wired.usecases.approve_kyc(
            ADMIN, svc.ApproveKycRequest(user_id=user.user_id, request_id=request_id)
        )
    uid = uuid.UUID(user.user_id)
    assert (
        await _count(
            wired,
            "SELECT count(*) FROM identity.kyc_submissions WHERE user_id = :u AND state = 'PENDING'",
            u=uid,
        )
        == 1
    )
    assert (
        await _count(
            wired, "SELECT count(*) FROM identity.users WHERE id = :u AND state = 'KYC_PENDING'", u=uid
        )
        == 1
    )
    assert await _count(wired, _REVIEW_AUDITS, u=uid) == 0
    assert (
        await _count(
            wired, "SELECT count(*) FROM platform.idempotency_records WHERE request_id = :r", r=request_id
        )
        == 0
    )


async def test_failed_kyc_submission_leaves_no_rows(wired: Wired) -> None:
    user = await _user(wired)
    await wired.usecases.submit_kyc(user, svc.SubmitKycRequest(user_id="me"), _kyc())
    with pytest.raises(FailedPrecondition):
        await wired.usecases.submit_kyc(user, svc.SubmitKycRequest(user_id="me"), _kyc())
    uid = uuid.UUID(user.user_id)
    assert await _count(wired, "SELECT count(*) FROM identity.kyc_submissions WHERE user_id = :u", u=uid) == 1
    assert (
        await _count(
            wired,
            "SELECT count(*) FROM identity.kyc_documents d JOIN identity.kyc_submissions s ON s.id = d.submission_id"
            " WHERE s.user_id = :u",
            u=uid,
        )
        == 1
    )


async def test_concurrent_registrations_of_one_email_have_one_winner(wired: Wired) -> None:
    email = _email()
    variants = [email, email.upper(), email.title(), email, email.upper()]
    results = await asyncio.gather(
        *(wired.usecases.register(svc.RegisterUserRequest(email=e, password=PASSWORD)) for e in variants),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, svc.RegisterUserResponse)]
    assert len(winners) == 1
    assert all(isinstance(r, AlreadyExists) for r in results if r not in winners)
    assert (
        await _count(wired, "SELECT count(*) FROM identity.users WHERE lower(email) = :e", e=email.lower())
        == 1
    )


async def test_concurrent_refresh_of_one_token_never_yields_two_live_sessions(wired: Wired) -> None:
    email = _email()
    await wired.usecases.register(svc.RegisterUserRequest(email=email, password=PASSWORD))
    tokens = await wired.usecases.login(email, PASSWORD, "192.0.2.10")
    results = await asyncio.gather(
        *(wired.usecases.refresh(tokens.refresh_token) for _ in range(4)), return_exceptions=True
    )
    successes = [r for r in results if not isinstance(r, BaseException)]
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(successes) <= 1
    assert failures and all(isinstance(f, Unauthenticated) for f in failures)
    # The row lock serialises the refreshes: the first rotates, the next ones see reuse and
    # revoke the family, so even the winner's new token is dead now.
    for success in successes:
        with pytest.raises(Unauthenticated):
            await wired.usecases.refresh(success.refresh_token)


async def test_concurrent_kyc_submissions_record_one(wired: Wired) -> None:
    user = await _user(wired)
    results = await asyncio.gather(
        *(wired.usecases.submit_kyc(user, svc.SubmitKycRequest(user_id="me"), _kyc()) for _ in range(4)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, svc.SubmitKycResponse) for r in results) == 1
    assert (
        await _count(
            wired,
            "SELECT count(*) FROM identity.kyc_submissions WHERE user_id = :u",
            u=uuid.UUID(user.user_id),
        )
        == 1
    )


async def test_refresh_tokens_are_stored_only_as_hashes(wired: Wired) -> None:
    email = _email()
    await wired.usecases.register(svc.RegisterUserRequest(email=email, password=PASSWORD))
    tokens = await wired.usecases.login(email, PASSWORD, None)
    assert (
        await _count(
            wired,
            "SELECT count(*) FROM identity.refresh_tokens WHERE token_hash = :t",
            t=tokens.refresh_token,
        )
        == 0
    )
    async with wired.engine.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT password_hash FROM identity.users WHERE email = :e"), {"e": email}
            )
        ).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and PASSWORD not in stored


async def test_approval_fixes_the_ledger_request_id_per_user(wired: Wired) -> None:
    user = await _user(wired)
    await wired.usecases.submit_kyc(user, svc.SubmitKycRequest(user_id="me"), _kyc())
    operation = await wired.usecases.approve_kyc(
        ADMIN, svc.ApproveKycRequest(user_id=user.user_id, request_id=str(uuid.uuid4()))
    )
    async with wired.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT request_id, payload FROM outbox.commands WHERE id = :i"),
                {"i": uuid.UUID(operation.name.removeprefix("operations/"))},
            )
        ).one()
    assert (
        row.request_id
        == outbox.derive_request_id("identity.CreateUser", user.user_id)
        == row.payload["requestId"]
    )
    assert date.fromisoformat(row.payload["dateOfBirth"]) == date(1990, 4, 1)
