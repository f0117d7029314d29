"""Loans with a trust threshold, 14-day governance with quorum, and the velocity tax."""

from __future__ import annotations

import uuid

from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import queries_pb2 as qry
from gx.ledger.v1 import resources_pb2 as res

import ledger_rules as rules
from tests.chaincode.conftest import new_user, rid, transfer
from tests.chaincode.fake_ledger import FakeLedger
from tests.chaincode.projection import View, ledger_view, project

GX = rules.QIRAT_PER_GX
PA, AD = "gx_partner_api", "gx_admin"
HASH = "ab" * 32


async def _param(gx: FakeLedger, name: str, value: int) -> None:
    out = await gx.invoke(
        "UpdateSystemParameter",
        cmd.UpdateSystemParameterRequest(parameter=name, value=value, request_id=rid()),
    )
    assert out.ok, out.message


async def _admin(gx: FakeLedger) -> str:
    admin, other = await new_user(gx), await new_user(gx)
    out = await gx.invoke(
        "AppointAdmin", cmd.AppointAdminRequest(user_id=admin, appointed_by=other, request_id=rid())
    )
    assert out.ok, out.message
    return admin


async def _apply(gx: FakeLedger, borrower: str, amount: int):
    return await gx.invoke(
        "ApplyForLoan",
        cmd.ApplyForLoanRequest(
            borrower_id=borrower, amount_qirat=amount, collateral_hash=HASH, request_id=rid()
        ),
        role=PA,
    )


async def test_loans_need_trust_and_are_disbursed_and_repaid_interest_free(gx: FakeLedger) -> None:
    borrower, admin = await new_user(gx), await _admin(gx)
    low = await _apply(gx, borrower, 200 * GX)
    assert low.status == 400 and low.message.startswith("TRUST_TOO_LOW")  # new users have 10 < 75
    await _param(gx, "loan_min_trust_score", 10)
    assert (await _apply(gx, borrower, 99 * GX)).message.startswith("AMOUNT_OUT_OF_RANGE")
    bad_hash = cmd.ApplyForLoanRequest(
        borrower_id=borrower, amount_qirat=200 * GX, collateral_hash="xyz", request_id=rid()
    )
    assert (await gx.invoke("ApplyForLoan", bad_hash, role=PA)).message.startswith("INVALID_ARGUMENT")
    applied = await _apply(gx, borrower, 200 * GX)
    loan = applied.result(cmd.ApplyForLoanResult).loan
    assert loan.loan_id == applied.ledger_events().request_id  # the id is the request id
    assert loan.status == res.LOAN_STATUS_PENDING_APPROVAL

    own = cmd.ApproveLoanRequest(loan_id=loan.loan_id, approver_id=borrower, request_id=rid())
    assert (await gx.invoke("ApproveLoan", own, role=AD)).message.startswith("SELF_DEALING")
    not_admin = cmd.ApproveLoanRequest(loan_id=loan.loan_id, approver_id=await new_user(gx), request_id=rid())
    assert (await gx.invoke("ApproveLoan", not_admin, role=AD)).message.startswith("NOT_AN_ADMIN")
    pool_before, wallet_before = gx.balance(rules.LOAN_POOL), gx.balance(borrower)
    approved = await gx.invoke(
        "ApproveLoan",
        cmd.ApproveLoanRequest(loan_id=loan.loan_id, approver_id=admin, request_id=rid()),
        role=AD,
    )
    assert approved.result(cmd.ApproveLoanResult).loan.status == res.LOAN_STATUS_ACTIVE
    assert gx.balance(borrower) == wallet_before + 200 * GX
    assert gx.balance(rules.LOAN_POOL) == pool_before - 200 * GX
    assert approved.domain_events() == ["loan_approved"]

    repay = cmd.RepayLoanRequest(loan_id=loan.loan_id, amount_qirat=201 * GX, request_id=rid())
    assert (await gx.invoke("RepayLoan", repay, role=PA)).message.startswith("OVERPAYMENT")
    part = await gx.invoke(
        "RepayLoan",
        cmd.RepayLoanRequest(loan_id=loan.loan_id, amount_qirat=50 * GX, request_id=rid()),
        role=PA,
    )
    assert part.result(cmd.RepayLoanResult).loan.outstanding_qirat == 150 * GX
    rest = await gx.invoke(
        "RepayLoan",
        cmd.RepayLoanRequest(loan_id=loan.loan_id, amount_qirat=150 * GX, request_id=rid()),
        role=PA,
    )
    assert rest.result(cmd.RepayLoanResult).loan.status == res.LOAN_STATUS_REPAID
    assert rest.ledger_events().events[0].loan_repaid.trust_score == 15
    assert gx.balance(borrower) == wallet_before  # interest-free: exactly the principal went back
    assert gx.balance(rules.LOAN_POOL) == pool_before
    loans = (
        (await gx.invoke("ListLoans", qry.ListLoansRequest(borrower_id=borrower)))
        .result(qry.ListLoansResult)
        .loans
    )
    assert [x.loan_id for x in loans] == [loan.loan_id]


async def test_loan_limits_per_borrower(gx: FakeLedger) -> None:
    borrower = await new_user(gx)
    await _param(gx, "loan_min_trust_score", 0)
    await _param(gx, "loan_max_active", 2)
    assert (await _apply(gx, borrower, 100 * GX)).ok
    assert (await _apply(gx, borrower, 100 * GX)).ok
    assert (await _apply(gx, borrower, 100 * GX)).message.startswith("TOO_MANY_LOANS")
    await _param(gx, "loan_max_active", 5)
    await _param(gx, "loan_max_total_qirat", 250 * GX)
    assert (await _apply(gx, borrower, 100 * GX)).message.startswith("LOAN_LIMIT")


async def test_governance_needs_the_window_quorum_and_majority(gx: FakeLedger) -> None:
    admin = await _admin(gx)
    voters = [await new_user(gx) for _ in range(5)]
    await _param(gx, "governance_quorum_votes", 4)
    submit = cmd.SubmitProposalRequest(
        parameter="velocity_tax_rate_bps", value=500, title="Raise tax", proposer_id=admin, request_id=rid()
    )
    not_admin = cmd.SubmitProposalRequest(
        parameter="velocity_tax_rate_bps", value=500, title="x", proposer_id=voters[0], request_id=rid()
    )
    assert (await gx.invoke("SubmitProposal", not_admin, role=AD)).message.startswith("NOT_AN_ADMIN")
    proposal = (await gx.invoke("SubmitProposal", submit, role=AD)).result(cmd.SubmitProposalResult).proposal
    assert proposal.voting_end_time.seconds - proposal.create_time.seconds == 14 * 86_400
    dup = cmd.SubmitProposalRequest(
        parameter="velocity_tax_rate_bps", value=400, title="Other", proposer_id=admin, request_id=rid()
    )
    assert (await gx.invoke("SubmitProposal", dup, role=AD)).message.startswith("PROPOSAL_ACTIVE")

    async def vote(voter: str, support: bool):
        return await gx.invoke(
            "CastVote",
            cmd.CastVoteRequest(
                proposal_id=proposal.proposal_id, voter_id=voter, support=support, request_id=rid()
            ),
            role=PA,
        )

    for voter, support in zip(voters, [True, True, True, False], strict=False):
        assert (await vote(voter, support)).ok
    assert (await vote(voters[0], False)).message.startswith("ALREADY_VOTED")
    execute = cmd.ExecuteProposalRequest(proposal_id=proposal.proposal_id, request_id=rid())
    assert (await gx.invoke("ExecuteProposal", execute, role=AD)).message.startswith("VOTING_OPEN")
    gx.advance(days=14)
    assert (await vote(voters[4], True)).message.startswith("VOTING_CLOSED")
    execute.request_id = rid()
    out = await gx.invoke("ExecuteProposal", execute, role=AD)
    assert (
        out.result(cmd.ExecuteProposalResult).proposal.status == res.PROPOSAL_STATUS_EXECUTED
    )  # 3/4 = 75% >= 60%
    assert out.domain_events() == ["proposal_executed", "system_parameter_updated"]
    status = (
        (await gx.invoke("GetSystemStatus", qry.GetSystemStatusRequest()))
        .result(qry.GetSystemStatusResult)
        .status
    )
    assert {p.name: p.value for p in status.parameters}["velocity_tax_rate_bps"] == 500


async def test_governance_without_quorum_is_rejected_and_changes_nothing(gx: FakeLedger) -> None:
    admin = await _admin(gx)
    voter = await new_user(gx)
    submit = cmd.SubmitProposalRequest(
        parameter="voting_period_days", value=7, title="Faster", proposer_id=admin, request_id=rid()
    )
    proposal = (await gx.invoke("SubmitProposal", submit, role=AD)).result(cmd.SubmitProposalResult).proposal
    assert (
        await gx.invoke(
            "CastVote",
            cmd.CastVoteRequest(
                proposal_id=proposal.proposal_id, voter_id=voter, support=True, request_id=rid()
            ),
            role=PA,
        )
    ).ok
    gx.advance(days=15)
    out = await gx.invoke(
        "ExecuteProposal",
        cmd.ExecuteProposalRequest(proposal_id=proposal.proposal_id, request_id=rid()),
        role=AD,
    )
    assert (
        out.result(cmd.ExecuteProposalResult).proposal.status == res.PROPOSAL_STATUS_REJECTED
    )  # 1 vote < quorum 100
    assert out.domain_events() == ["proposal_executed"]
    # Bootstrap pinned the default on chain (in the system record); a rejected proposal does not write it.
    assert "sys~state" not in out.writes
    again = cmd.SubmitProposalRequest(
        parameter="voting_period_days", value=7, title="Again", proposer_id=admin, request_id=rid()
    )
    assert (await gx.invoke("SubmitProposal", again, role=AD)).ok  # the parameter is free again


async def test_velocity_tax_takes_the_rate_above_the_threshold_after_the_period(gx: FakeLedger) -> None:
    hoarder = await new_user(gx, "LK")
    assert gx.balance(hoarder) == 500 * GX  # above the 100 GX threshold since genesis
    apply = cmd.ApplyVelocityTaxRequest(account_id=hoarder, request_id=rid())
    early = (await gx.invoke("ApplyVelocityTax", apply, role=AD)).result(cmd.ApplyVelocityTaxResult)
    assert (early.taxed, early.skip_reason) == (False, "NOT_DUE")
    gx.advance(days=360)
    apply.request_id = rid()
    treasury_before, charity_before = gx.balance("treasury_LK"), gx.balance(rules.CHARITABLE_POOL)
    out = await gx.invoke("ApplyVelocityTax", apply, role=AD)
    result = out.result(cmd.ApplyVelocityTaxResult)
    tax = 400 * GX * 300 // 10_000  # 3% of the 400 GX above the threshold
    assert (result.taxed, result.tax_qirat, result.treasury_qirat, result.charity_qirat) == (
        True,
        tax,
        tax * 70 // 100,
        tax - tax * 70 // 100,
    )
    assert gx.balance(hoarder) == 500 * GX - tax
    assert gx.balance("treasury_LK") == treasury_before + result.treasury_qirat
    assert gx.balance(rules.CHARITABLE_POOL) == charity_before + result.charity_qirat
    assert out.domain_events() == ["velocity_tax_applied"]
    # Still above the threshold, so the period restarts now, and the event says so.
    applied = out.ledger_events()
    assert applied.events[0].velocity_tax_applied.velocity_timer_start_time == applied.time
    apply.request_id = rid()
    again = (await gx.invoke("ApplyVelocityTax", apply, role=AD)).result(cmd.ApplyVelocityTaxResult)
    assert again.skip_reason == "NOT_DUE"  # the period restarted


async def test_velocity_timer_stops_when_the_balance_falls_to_the_threshold(gx: FakeLedger) -> None:
    spender, friend = await new_user(gx), await new_user(gx)
    assert (await transfer(gx, spender, friend, 401 * GX)).ok  # leaves < 100 GX
    gx.advance(days=400)
    out = await gx.invoke(
        "ApplyVelocityTax", cmd.ApplyVelocityTaxRequest(account_id=spender, request_id=rid()), role=AD
    )
    assert out.result(cmd.ApplyVelocityTaxResult).skip_reason == "BELOW_THRESHOLD"


async def test_velocity_tax_event_has_no_timer_once_the_tax_takes_the_balance_to_the_threshold(
    gx: FakeLedger,
) -> None:
    hoarder = await new_user(gx, "LK")
    await _param(gx, "velocity_tax_rate_bps", 600)
    await _param(gx, "velocity_tax_threshold_qirat", 499 * GX)  # 1 GX above: 6% of it is due
    gx.advance(days=360)
    out = await gx.invoke(
        "ApplyVelocityTax", cmd.ApplyVelocityTaxRequest(account_id=hoarder, request_id=rid()), role=AD
    )
    assert out.result(cmd.ApplyVelocityTaxResult).tax_qirat == GX * 600 // 10_000
    event = out.ledger_events().events[0].velocity_tax_applied
    assert event.balance_qirat == 500 * GX - GX * 600 // 10_000
    # The balance is still above 499 GX: the timer restarts at the tax.
    assert event.HasField("velocity_timer_start_time")
    await _param(gx, "velocity_tax_threshold_qirat", 500 * GX)
    gx.advance(days=360)
    # Now at or below the threshold: nothing due, and the timer is gone after the next store.
    below = await gx.invoke(
        "ApplyVelocityTax", cmd.ApplyVelocityTaxRequest(account_id=hoarder, request_id=rid()), role=AD
    )
    assert below.result(cmd.ApplyVelocityTaxResult).skip_reason == "BELOW_THRESHOLD"


def _project_timers(out, view: View) -> None:
    """What the projector does (tests.chaincode.projection): balances afterwards are set, credits are
    added under their timer rule; *view* is updated in place."""
    view.update(project(view, out.ledger_events()))


async def test_events_carry_every_change_of_a_users_velocity_timer(gx: FakeLedger) -> None:
    """A read model fed only by the events holds the same holding timers as the chain."""
    view: View = dict(ledger_view(gx.world))
    users = []
    for _ in range(3):
        user_id = str(uuid.uuid4())
        out = await gx.invoke(
            "CreateUser",
            cmd.CreateUserRequest(
                user_id=user_id, country_code="LK", date_of_birth="1990-05-01", request_id=rid()
            ),
            role=AD,
        )
        _project_timers(out, view)
        users.append(user_id)
    a, b, c = users
    admin = await _admin(gx)
    assert view[a][1] is not None  # genesis paid 500 GX > 100 GX: the timer runs from then

    async def step(function: str, request, role: str = PA) -> None:
        out = await gx.invoke(function, request, role=role)
        assert out.ok, out.message
        _project_timers(out, view)

    gx.advance(days=1)
    await step(
        "TransferTokens",
        cmd.TransferTokensRequest(
            from_account_id=a, to_account_id=b, amount_qirat=450 * GX, request_id=rid()
        ),
    )
    assert view[a][1] is None and view[b][1] is not None  # a fell below, b was above already
    gx.advance(days=1)
    await step(
        "TransferTokens",
        cmd.TransferTokensRequest(
            from_account_id=b, to_account_id=a, amount_qirat=200 * GX, request_id=rid()
        ),
    )
    # A lowered threshold reaches a quiet account only when it is next stored: by a freeze.
    await _param(gx, "velocity_tax_threshold_qirat", 10 * GX)
    gx.advance(days=1)
    await step("FreezeWallet", cmd.FreezeWalletRequest(account_id=c, reason="check", request_id=rid()), AD)
    await _param(gx, "velocity_tax_threshold_qirat", 600 * GX)
    gx.advance(days=1)
    await step("UnfreezeWallet", cmd.UnfreezeWalletRequest(account_id=c, request_id=rid()), AD)
    assert view[c][1] is None
    await _param(gx, "velocity_tax_threshold_qirat", 100 * GX)
    await _param(gx, "loan_min_trust_score", 0)
    loan = (await _apply(gx, c, 200 * GX)).result(cmd.ApplyForLoanResult).loan
    gx.advance(days=1)
    await step(
        "ApproveLoan", cmd.ApproveLoanRequest(loan_id=loan.loan_id, approver_id=admin, request_id=rid()), AD
    )
    gx.advance(days=1)
    await step(
        "RepayLoan", cmd.RepayLoanRequest(loan_id=loan.loan_id, amount_qirat=200 * GX, request_id=rid())
    )
    gx.advance(days=400)
    await step("ApplyVelocityTax", cmd.ApplyVelocityTaxRequest(account_id=b, request_id=rid()), AD)
    for user_id in (a, b, c):
        assert view[user_id] == ledger_view(gx.world)[user_id], user_id
    assert {view[a][1] is None, view[b][1] is None} == {False}


async def test_a_frozen_borrower_is_refused_with_the_reason_the_wallet_answers(gx: FakeLedger) -> None:
    borrower = await new_user(gx)
    await _param(gx, "loan_min_trust_score", 10)
    frozen = await gx.invoke(
        "FreezeWallet",
        cmd.FreezeWalletRequest(account_id=borrower, reason="review", request_id=rid()),
        role=AD,
    )
    assert frozen.ok, frozen.message
    refused = await _apply(gx, borrower, 200 * GX)
    # The same reason as a frozen sender (rules.check_transfer) and the wallet's loan pre-check.
    assert refused.status == 400 and refused.message.startswith(rules.WALLET_FROZEN)
    assert not refused.writes  # nothing recorded, not even the request id
