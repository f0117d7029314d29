"""The wallet's back office over real gRPC and PostgreSQL: trust score, velocity tax due list and
sweep (idempotent per period), and the audit rows of admin commands."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from gx.wallet.v1 import admin_service_pb2 as admin
from gx.wallet.v1 import governance_service_pb2 as gov
from gx.wallet.v1 import governance_service_pb2_grpc, loan_service_pb2_grpc, tax_service_pb2_grpc
from gx.wallet.v1 import loan_service_pb2 as loan
from gx.wallet.v1 import tax_service_pb2 as tax

import ledger_rules as rules
from services.wallet import backoffice
from tests.grpc.wallet.wallet_harness import GX, Wallet, failure

DAY = timedelta(days=1)


def _rid() -> str:
    return str(uuid.uuid4())


def _taxes(wallet: Wallet) -> tax_service_pb2_grpc.TaxServiceStub:
    return tax_service_pb2_grpc.TaxServiceStub(wallet.channel)


def _loans(wallet: Wallet) -> loan_service_pb2_grpc.LoanServiceStub:
    return loan_service_pb2_grpc.LoanServiceStub(wallet.channel)


def _admin(wallet: Wallet) -> tuple[str, tuple[tuple[str, str], ...]]:
    admin_id = str(uuid.uuid4())
    return admin_id, wallet.token(admin_id, "ADMIN")


async def _holding(wallet: Wallet, wallet_id: str, days_ago: float) -> datetime:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days_ago)
    await wallet.sql(
        "UPDATE ledger.wallets SET velocity_timer_start_time = :t WHERE wallet_id = :w", t=start, w=wallet_id
    )
    return start


async def _trust(wallet: Wallet, user_id: str, score: int) -> None:
    await wallet.sql("UPDATE ledger.users SET trust_score = :s WHERE user_id = :u", s=score, u=user_id)


async def _audit(wallet: Wallet, subject: str) -> list[Any]:
    rows: list[Any] = await wallet.sql(
        "SELECT service, action, actor, subject, address, request_id, trace_id, details FROM audit.events"
        " WHERE subject = :s ORDER BY create_time",
        s=subject,
    )
    return rows


# -- trust score -----------------------------------------------------------------------------------


async def test_a_user_sees_their_trust_score_the_loan_minimum_and_what_raises_it(wallet: Wallet) -> None:
    await wallet.system()
    alice = await wallet.user()
    await _trust(wallet, alice, 60)
    await wallet.sql(
        "INSERT INTO ledger.system_parameters (name, value, block_number) VALUES ('loan_min_trust_score', 70, 1)"
    )
    out = await _loans(wallet).GetTrustScore(
        loan.GetTrustScoreRequest(user_id="me"), metadata=wallet.token(alice)
    )
    assert (out.user_id, out.trust_score, out.min_score_for_loan, out.loan_eligible) == (alice, 60, 70, False)
    assert (out.initial_score, out.per_repaid_loan, out.max_score) == (
        rules.INITIAL_TRUST_SCORE,
        rules.TRUST_PER_REPAID_LOAN,
        rules.MAX_TRUST_SCORE,
    )
    assert out.repaid_loans_to_minimum == 2  # (70 - 60) / 5
    assert any("at least 70" in line for line in out.rules)


async def test_the_default_minimum_applies_and_an_eligible_user_needs_no_more_loans(wallet: Wallet) -> None:
    await wallet.system()
    bob = await wallet.user()
    await _trust(wallet, bob, 80)
    out = await _loans(wallet).GetTrustScore(
        loan.GetTrustScoreRequest(user_id=bob), metadata=wallet.token(bob)
    )
    assert out.min_score_for_loan == rules.PARAMETERS["loan_min_trust_score"].default
    assert (out.loan_eligible, out.repaid_loans_to_minimum) == (True, 0)


async def test_admins_read_anyone_s_trust_score_and_users_only_their_own(wallet: Wallet) -> None:
    await wallet.system()
    alice, bob = await wallet.user(), await wallet.user()
    await _trust(wallet, bob, 15)
    _, admin_md = _admin(wallet)
    got = await _loans(wallet).GetTrustScore(loan.GetTrustScoreRequest(user_id=bob), metadata=admin_md)
    assert got.trust_score == 15
    refused = await failure(
        _loans(wallet).GetTrustScore(loan.GetTrustScoreRequest(user_id=bob), metadata=wallet.token(alice))
    )
    assert (refused.code, refused.reason) == (grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")


# -- velocity tax: due list and sweep --------------------------------------------------------------


async def test_the_due_list_shows_only_wallets_due_now_oldest_holding_first_paged(wallet: Wallet) -> None:
    await wallet.system()
    old = await wallet.user(balance=500 * GX)
    older = await wallet.user(balance=300 * GX)
    young = await wallet.user(balance=500 * GX)  # holding, but not for the whole period yet
    poor = await wallet.user(balance=50 * GX)  # below the threshold (100 GX by default)
    await _holding(wallet, old, 400)
    await _holding(wallet, older, 500)
    await _holding(wallet, young, 10)
    await _holding(wallet, poor, 500)
    _, admin_md = _admin(wallet)
    first = await _taxes(wallet).ListVelocityTaxDue(
        tax.ListVelocityTaxDueRequest(page_size=1), metadata=admin_md
    )
    assert [w.wallet_id for w in first.wallets] == [older] and first.next_page_token
    assert first.wallets[0].tax_qirat == 200 * GX * 300 // 10_000
    second = await _taxes(wallet).ListVelocityTaxDue(
        tax.ListVelocityTaxDueRequest(page_size=1, page_token=first.next_page_token), metadata=admin_md
    )
    assert [w.wallet_id for w in second.wallets] == [old]
    assert second.wallets[0].due_time.seconds == second.wallets[0].holding_start_time.seconds + 360 * 86_400
    assert second.next_page_token == ""  # the young, the poor and the non-holding are not due


async def test_a_sweep_records_one_command_per_due_wallet_and_again_nothing_in_the_same_period(
    wallet: Wallet,
) -> None:
    await wallet.system()
    a, b = await wallet.user(balance=500 * GX), await wallet.user(balance=700 * GX)
    not_due = await wallet.user(balance=500 * GX)
    await _holding(wallet, a, 400)
    await _holding(wallet, b, 365)
    await _holding(wallet, not_due, 3)
    admin_id, admin_md = _admin(wallet)
    first = await _taxes(wallet).SweepVelocityTax(
        tax.SweepVelocityTaxRequest(request_id=_rid()), metadata=admin_md
    )
    assert len(first.operations) == 2 and first.already_recorded_count == 0
    commands = await wallet.commands("APPLY_VELOCITY_TAX")
    assert sorted(c.payload["accountId"] for c in commands) == sorted([a, b])
    assert {c.principal_id for c in commands} == {admin_id}

    # Another sweep (a new request) in the same period finds both recorded: nothing new.
    again = await _taxes(wallet).SweepVelocityTax(
        tax.SweepVelocityTaxRequest(request_id=_rid()), metadata=admin_md
    )
    assert list(again.operations) == [] and again.already_recorded_count == 2
    assert len(await wallet.commands("APPLY_VELOCITY_TAX")) == 2

    # Once the tax is taken the ledger restarts the timer: a new period is a new command.
    await _holding(wallet, a, 361)
    third = await _taxes(wallet).SweepVelocityTax(
        tax.SweepVelocityTaxRequest(request_id=_rid()), metadata=admin_md
    )
    assert len(third.operations) == 1 and third.already_recorded_count == 1
    assert len(await wallet.commands("APPLY_VELOCITY_TAX")) == 3

    sweeps = await wallet.sql(
        "SELECT actor, details FROM audit.events WHERE action = 'wallet.SweepVelocityTax' AND actor = :a"
        " ORDER BY create_time",
        a=admin_id,
    )
    assert [len(s.details["recorded"]) for s in sweeps] == [2, 0, 1]


async def test_a_replayed_sweep_answers_the_first_sweep(wallet: Wallet) -> None:
    await wallet.system()
    a = await wallet.user(balance=500 * GX)
    await _holding(wallet, a, 400)
    _, admin_md = _admin(wallet)
    rid = _rid()
    first = await _taxes(wallet).SweepVelocityTax(
        tax.SweepVelocityTaxRequest(request_id=rid), metadata=admin_md
    )
    replay = await _taxes(wallet).SweepVelocityTax(
        tax.SweepVelocityTaxRequest(request_id=rid), metadata=admin_md
    )
    assert [o.name for o in replay.operations] == [o.name for o in first.operations] and len(
        first.operations
    ) == 1
    assert len(await wallet.commands("APPLY_VELOCITY_TAX")) == 1


async def test_a_paused_system_is_not_swept(wallet: Wallet) -> None:
    await wallet.system(paused=True, reason="maintenance")
    a = await wallet.user(balance=500 * GX)
    await _holding(wallet, a, 400)
    _, admin_md = _admin(wallet)
    refused = await failure(
        _taxes(wallet).SweepVelocityTax(tax.SweepVelocityTaxRequest(request_id=_rid()), metadata=admin_md)
    )
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SYSTEM_PAUSED")
    assert await wallet.commands("APPLY_VELOCITY_TAX") == []


async def test_a_user_is_refused_every_back_office_rpc(wallet: Wallet) -> None:
    await wallet.system()
    alice = await wallet.user()
    md = wallet.token(alice)
    calls = [
        _taxes(wallet).ListVelocityTaxDue(tax.ListVelocityTaxDueRequest(), metadata=md),
        _taxes(wallet).SweepVelocityTax(tax.SweepVelocityTaxRequest(request_id=_rid()), metadata=md),
    ]
    for call in calls:
        assert (await failure(call)).code == grpc.StatusCode.PERMISSION_DENIED


# -- audit rows of admin commands -----------------------------------------------------------------


async def test_an_admin_command_leaves_an_audit_row_with_actor_subject_address_and_request(
    wallet: Wallet,
) -> None:
    await wallet.system()
    alice = await wallet.user()
    admin_id, admin_md = _admin(wallet)
    request_id = f"req-{uuid.uuid4().hex}"
    md = (*admin_md, ("x-request-id", request_id))
    await wallet.admin.FreezeWallet(
        admin.FreezeWalletRequest(wallet_id=alice, reason="fraud review", request_id=_rid()), metadata=md
    )
    rows = await _audit(wallet, f"wallets/{alice}")
    assert len(rows) == 1
    row = rows[0]
    assert (row.service, row.action, row.actor) == ("wallet", "wallet.FreezeWallet", admin_id)
    assert row.address == "127.0.0.1" and row.request_id == request_id and len(row.trace_id) == 32
    assert row.details["reason"] == "fraud review" and row.details["ledger_request_id"]


async def test_a_refused_admin_command_and_a_replay_leave_no_audit_row(wallet: Wallet) -> None:
    await wallet.system()
    alice = await wallet.user(frozen=True)
    _, admin_md = _admin(wallet)
    refused = await failure(
        wallet.admin.FreezeWallet(
            admin.FreezeWalletRequest(wallet_id=alice, reason="again", request_id=_rid()), metadata=admin_md
        )
    )
    assert refused.reason == "ALREADY_FROZEN"
    assert await _audit(wallet, f"wallets/{alice}") == []
    rid = _rid()
    for _ in range(2):
        await wallet.admin.UnfreezeWallet(
            admin.UnfreezeWalletRequest(wallet_id=alice, request_id=rid), metadata=admin_md
        )
    assert [r.action for r in await _audit(wallet, f"wallets/{alice}")] == ["wallet.UnfreezeWallet"]


async def test_a_parameter_change_is_audited_against_the_parameter(wallet: Wallet) -> None:
    await wallet.system()
    admin_id = str(uuid.uuid4())
    admin_md = wallet.token(admin_id, "SUPER_ADMIN")
    await wallet.admin.UpdateSystemParameter(
        admin.UpdateSystemParameterRequest(name="loan_min_trust_score", value="60", request_id=_rid()),
        metadata=admin_md,
    )
    rows = await _audit(wallet, "parameters/loan_min_trust_score")
    assert [(r.action, r.actor, r.details["value"]) for r in rows][-1] == (
        "wallet.UpdateSystemParameter",
        admin_id,
        "60",
    )


async def test_a_governance_proposal_by_an_admin_is_audited_against_its_parameter(wallet: Wallet) -> None:
    await wallet.system()
    admin_id = await wallet.user(admin=True)
    stub = governance_service_pb2_grpc.GovernanceServiceStub(wallet.channel)
    await stub.SubmitProposal(
        gov.SubmitProposalRequest(request_id=_rid(), parameter="voting_period_days", new_value="21"),
        metadata=wallet.token(admin_id, "ADMIN"),
    )
    rows = await _audit(wallet, "parameters/voting_period_days")
    assert [(r.action, r.actor, r.details["new_value"]) for r in rows if r.actor == admin_id] == [
        ("wallet.SubmitProposal", admin_id, "21")
    ]


async def test_a_backlog_of_recorded_periods_never_hides_the_wallets_behind_it(
    wallet: Wallet, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One command per sweep, one wallet per scan page: each sweep must look past the recorded ones.
    monkeypatch.setattr(backoffice, "SWEEP_BATCH", 1)
    monkeypatch.setattr(backoffice, "_SCAN_PAGE", 1)
    await wallet.system()
    oldest = await wallet.user(balance=500 * GX)
    middle = await wallet.user(balance=500 * GX)
    newest = await wallet.user(balance=500 * GX)
    await _holding(wallet, oldest, 500)
    await _holding(wallet, middle, 450)
    await _holding(wallet, newest, 400)
    _, admin_md = _admin(wallet)
    swept = []
    for _ in range(4):
        out = await _taxes(wallet).SweepVelocityTax(
            tax.SweepVelocityTaxRequest(request_id=_rid()), metadata=admin_md
        )
        swept.append((len(out.operations), out.already_recorded_count))
    assert swept == [(1, 0), (1, 1), (1, 2), (0, 3)]
    recorded = [c.payload["accountId"] for c in await wallet.commands("APPLY_VELOCITY_TAX")]
    assert recorded == [oldest, middle, newest]
