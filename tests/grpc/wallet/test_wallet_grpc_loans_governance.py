"""Loans, governance and the velocity tax over real gRPC: checks, recorded commands, public ids, reads."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import grpc
from gx.wallet.v1 import governance_service_pb2 as gov
from gx.wallet.v1 import governance_service_pb2_grpc, loan_service_pb2_grpc, tax_service_pb2_grpc, wallet_pb2
from gx.wallet.v1 import loan_service_pb2 as loan
from gx.wallet.v1 import tax_service_pb2 as tax

from tests.grpc.wallet.wallet_harness import GX, Wallet, failure, now

_HASH = hashlib.sha256(b"deed").hexdigest()


def _rid() -> str:
    return str(uuid.uuid4())


def _stubs(
    wallet: Wallet,
) -> tuple[loan_service_pb2_grpc.LoanServiceStub, governance_service_pb2_grpc.GovernanceServiceStub]:
    return loan_service_pb2_grpc.LoanServiceStub(
        wallet.channel
    ), governance_service_pb2_grpc.GovernanceServiceStub(wallet.channel)


async def _trusted(wallet: Wallet, **kw: object) -> str:
    uid = await wallet.user(**kw)  # type: ignore[arg-type]
    await wallet.sql("UPDATE ledger.users SET trust_score = 80 WHERE user_id = :u", u=uid)
    return uid


async def _project_loan(
    wallet: Wallet, ledger_id: str, borrower: str, status: str = "PENDING_APPROVAL"
) -> None:
    await wallet.sql(
        "INSERT INTO ledger.loans (loan_id, borrower_id, amount_qirat, outstanding_qirat, collateral_hash, status,"
        " create_time, block_number) VALUES (:id, :b, :a, :a, :h, :s, now(), 9)",
        id=ledger_id,
        b=borrower,
        a=200 * GX,
        h=_HASH,
        s=status,
    )


async def test_apply_records_the_borrower_and_the_loan_is_known_by_its_operation_id(wallet: Wallet) -> None:
    loans, _ = _stubs(wallet)
    await wallet.system()
    alice = await _trusted(wallet)
    op = await loans.ApplyForLoan(
        loan.ApplyForLoanRequest(request_id=_rid(), amount_qirat=200 * GX, collateral_hash=_HASH),
        metadata=wallet.token(alice),
    )
    (row,) = await wallet.commands()
    assert row.command_type == "APPLY_FOR_LOAN" and row.payload["borrowerId"] == alice
    # The projector makes the loan under its ledger id (the command's request id) ...
    await _project_loan(wallet, row.request_id, alice)
    # ... and the API names it by the operation that created it.
    public = op.name.removeprefix("operations/")
    got = (await loans.GetLoan(loan.GetLoanRequest(loan_id=public), metadata=wallet.token(alice))).loan
    assert (got.loan_id, got.borrower_user_id, got.state) == (
        public,
        alice,
        wallet_pb2.LOAN_STATE_PENDING_APPROVAL,
    )
    listed = await loans.ListLoans(loan.ListLoansRequest(), metadata=wallet.token(alice))
    assert [x.loan_id for x in listed.loans] == [public]
    other = await failure(
        loans.GetLoan(loan.GetLoanRequest(loan_id=public), metadata=wallet.token(str(uuid.uuid4())))
    )
    assert other.code == grpc.StatusCode.NOT_FOUND
    assert (
        await loans.ListLoans(loan.ListLoansRequest(), metadata=wallet.token(str(uuid.uuid4())))
    ).loans == []


async def test_apply_checks_trust_and_the_amount_bounds(wallet: Wallet) -> None:
    loans, _ = _stubs(wallet)
    await wallet.system()
    novice = await wallet.user()  # trust score 0
    bad = await failure(
        loans.ApplyForLoan(
            loan.ApplyForLoanRequest(request_id=_rid(), amount_qirat=200 * GX, collateral_hash=_HASH),
            metadata=wallet.token(novice),
        )
    )
    assert (bad.code, bad.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "TRUST_TOO_LOW")
    trusted = await _trusted(wallet)
    bad = await failure(
        loans.ApplyForLoan(
            loan.ApplyForLoanRequest(request_id=_rid(), amount_qirat=99 * GX, collateral_hash=_HASH),
            metadata=wallet.token(trusted),
        )
    )
    assert bad.reason == "AMOUNT_OUT_OF_RANGE" and "amount_qirat" in bad.fields
    bad = await failure(
        loans.ApplyForLoan(
            loan.ApplyForLoanRequest(request_id=_rid(), amount_qirat=200 * GX, collateral_hash="XYZ"),
            metadata=wallet.token(trusted),
        )
    )
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT and "collateral_hash" in bad.fields
    assert await wallet.commands() == []


async def test_apply_refuses_a_borrower_without_standing_before_looking_at_the_amount(wallet: Wallet) -> None:
    # The ledger's loan rules (ledger_rules.loans) in this API's order and words: the ledger's
    # USER_NOT_ACTIVE is WALLET_NOT_ACTIVE here, and standing is judged before the amount.
    loans, _ = _stubs(wallet)
    await wallet.system()
    too_small = loan.ApplyForLoanRequest(request_id=_rid(), amount_qirat=99 * GX, collateral_hash=_HASH)
    stranger = str(uuid.uuid4())  # no user on the ledger
    bad = await failure(loans.ApplyForLoan(too_small, metadata=wallet.token(stranger)))
    assert (bad.code, bad.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "WALLET_NOT_ACTIVE")
    frozen = await _trusted(wallet, frozen=True)
    bad = await failure(loans.ApplyForLoan(too_small, metadata=wallet.token(frozen)))
    assert (bad.code, bad.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "WALLET_FROZEN")
    assert await wallet.commands() == []


async def test_approve_needs_an_onchain_admin_other_than_the_borrower(wallet: Wallet) -> None:
    loans, _ = _stubs(wallet)
    await wallet.system()
    alice = await _trusted(wallet)
    lid = str(uuid.uuid4())
    await _project_loan(wallet, lid, alice)
    offchain_admin = wallet.token(str(uuid.uuid4()), "ADMIN")
    bad = await failure(
        loans.ApproveLoan(loan.ApproveLoanRequest(request_id=_rid(), loan_id=lid), metadata=offchain_admin)
    )
    assert bad.reason == "NOT_AN_ONCHAIN_ADMIN"
    bad = await failure(
        loans.ApproveLoan(
            loan.ApproveLoanRequest(request_id=_rid(), loan_id=lid), metadata=wallet.token(alice, "ADMIN")
        )
    )
    assert (bad.code, bad.reason) == (grpc.StatusCode.PERMISSION_DENIED, "SELF_DEALING")
    admin = await wallet.user(admin=True)
    await loans.ApproveLoan(
        loan.ApproveLoanRequest(request_id=_rid(), loan_id=lid), metadata=wallet.token(admin, "ADMIN")
    )
    (row,) = await wallet.commands()
    assert (row.command_type, row.payload["loanId"], row.payload["approverId"]) == (
        "APPROVE_LOAN",
        lid,
        admin,
    )
    user = await failure(
        loans.ApproveLoan(
            loan.ApproveLoanRequest(request_id=_rid(), loan_id=lid), metadata=wallet.token(alice)
        )
    )
    assert user.code == grpc.StatusCode.PERMISSION_DENIED


async def test_repay_is_the_borrowers_and_bounded_by_what_is_outstanding(wallet: Wallet) -> None:
    loans, _ = _stubs(wallet)
    await wallet.system()
    alice = await _trusted(wallet, balance=1_000 * GX)
    lid = str(uuid.uuid4())
    await _project_loan(wallet, lid, alice, status="ACTIVE")
    bad = await failure(
        loans.RepayLoan(
            loan.RepayLoanRequest(request_id=_rid(), loan_id=lid, amount_qirat=201 * GX),
            metadata=wallet.token(alice),
        )
    )
    assert (bad.reason, "amount_qirat" in bad.fields) == ("REPAYMENT_EXCEEDS_OUTSTANDING", True)
    stranger = await failure(
        loans.RepayLoan(
            loan.RepayLoanRequest(request_id=_rid(), loan_id=lid, amount_qirat=GX),
            metadata=wallet.token(str(uuid.uuid4())),
        )
    )
    assert stranger.code == grpc.StatusCode.NOT_FOUND
    await loans.RepayLoan(
        loan.RepayLoanRequest(request_id=_rid(), loan_id=lid, amount_qirat=50 * GX),
        metadata=wallet.token(alice),
    )
    (row,) = await wallet.commands()
    assert (row.command_type, row.payload["amountQirat"]) == ("REPAY_LOAN", str(50 * GX))


async def _proposal(wallet: Wallet, *, ends_in: timedelta, status: str = "ACTIVE") -> str:
    pid = str(uuid.uuid4())
    await wallet.sql(
        "INSERT INTO ledger.proposals (proposal_id, parameter, value, proposer_id, status, create_time, voting_end_time,"
        " block_number) VALUES (:p, 'voting_period_days', 21, 'x', :s, now(), :end, 4)",
        p=pid,
        s=status,
        end=now() + ends_in,
    )
    return pid


async def test_submit_checks_the_parameter_and_an_onchain_proposer(wallet: Wallet) -> None:
    _, govs = _stubs(wallet)
    admin = await wallet.user(admin=True)
    token = wallet.token(admin, "ADMIN")
    bad = await failure(
        govs.SubmitProposal(
            gov.SubmitProposalRequest(request_id=_rid(), parameter="nope", new_value="1"), metadata=token
        )
    )
    assert (bad.code, bad.reason) == (grpc.StatusCode.NOT_FOUND, "PARAMETER_NOT_FOUND")
    bad = await failure(
        govs.SubmitProposal(
            gov.SubmitProposalRequest(
                request_id=_rid(), parameter="governance_approval_bps", new_value="5000"
            ),
            metadata=token,
        )
    )
    assert bad.reason == "PARAMETER_OUT_OF_RANGE" and "new_value" in bad.fields
    offchain = await failure(
        govs.SubmitProposal(
            gov.SubmitProposalRequest(request_id=_rid(), parameter="voting_period_days", new_value="21"),
            metadata=wallet.token(str(uuid.uuid4()), "ADMIN"),
        )
    )
    assert offchain.reason == "NOT_AN_ONCHAIN_ADMIN"
    await govs.SubmitProposal(
        gov.SubmitProposalRequest(request_id=_rid(), parameter="voting_period_days", new_value="21"),
        metadata=token,
    )
    (row,) = await wallet.commands()
    assert row.payload["parameter"] == "voting_period_days" and row.payload["value"] == "21"
    assert row.payload["proposerId"] == admin and row.payload["title"]


async def test_votes_once_while_open_and_execution_after_the_close(wallet: Wallet) -> None:
    _, govs = _stubs(wallet)
    voter = await wallet.user()
    open_id = await _proposal(wallet, ends_in=timedelta(days=1))
    await govs.CastVote(
        gov.CastVoteRequest(request_id=_rid(), proposal_id=open_id, support=True),
        metadata=wallet.token(voter),
    )
    (row,) = await wallet.commands()
    assert (row.payload["proposalId"], row.payload["voterId"], row.payload["support"]) == (
        open_id,
        voter,
        True,
    )
    await wallet.sql(
        "INSERT INTO ledger.votes (proposal_id, voter_id, support, block_number, time) VALUES (:p, :v, true, 5, now())",
        p=open_id,
        v=voter,
    )
    again = await failure(
        govs.CastVote(
            gov.CastVoteRequest(request_id=_rid(), proposal_id=open_id, support=False),
            metadata=wallet.token(voter),
        )
    )
    assert again.reason == "ALREADY_VOTED"
    got = await govs.GetProposal(gov.GetProposalRequest(proposal_id=open_id), metadata=wallet.token(voter))
    assert got.proposal.state == wallet_pb2.PROPOSAL_STATE_OPEN and got.my_vote.support
    votes = await govs.ListVotes(gov.ListVotesRequest(proposal_id=open_id), metadata=wallet.token(voter))
    assert [v.voter_user_id for v in votes.votes] == [voter]
    admin = wallet.token(str(uuid.uuid4()), "ADMIN")
    early = await failure(
        govs.ExecuteProposal(
            gov.ExecuteProposalRequest(request_id=_rid(), proposal_id=open_id), metadata=admin
        )
    )
    assert early.reason == "VOTING_OPEN"
    closed_id = await _proposal(wallet, ends_in=-timedelta(minutes=1))
    late = await failure(
        govs.CastVote(
            gov.CastVoteRequest(request_id=_rid(), proposal_id=closed_id, support=True),
            metadata=wallet.token(voter),
        )
    )
    assert late.reason == "VOTING_CLOSED"
    await govs.ExecuteProposal(
        gov.ExecuteProposalRequest(request_id=_rid(), proposal_id=closed_id), metadata=admin
    )
    assert [r.command_type for r in await wallet.commands()] == ["CAST_VOTE", "EXECUTE_PROPOSAL"]
    listed = await govs.ListProposals(
        gov.ListProposalsRequest(state=wallet_pb2.PROPOSAL_STATE_OPEN, page_size=1),
        metadata=wallet.token(voter),
    )
    assert len(listed.proposals) == 1 and listed.next_page_token
    rest = await govs.ListProposals(
        gov.ListProposalsRequest(
            state=wallet_pb2.PROPOSAL_STATE_OPEN, page_size=1, page_token=listed.next_page_token
        ),
        metadata=wallet.token(voter),
    )
    assert len(rest.proposals) == 1 and not rest.next_page_token
    assert {listed.proposals[0].proposal_id, rest.proposals[0].proposal_id} == {open_id, closed_id}


async def test_apply_velocity_tax_is_an_admin_command_on_user_wallets(wallet: Wallet) -> None:
    stub = tax_service_pb2_grpc.TaxServiceStub(wallet.channel)
    await wallet.system()
    alice = await wallet.user()
    user = await failure(
        stub.ApplyVelocityTax(
            tax.ApplyVelocityTaxRequest(request_id=_rid(), wallet_id=alice), metadata=wallet.token(alice)
        )
    )
    assert user.code == grpc.StatusCode.PERMISSION_DENIED
    admin = wallet.token(str(uuid.uuid4()), "ADMIN")
    missing = await failure(
        stub.ApplyVelocityTax(
            tax.ApplyVelocityTaxRequest(request_id=_rid(), wallet_id=str(uuid.uuid4())), metadata=admin
        )
    )
    assert missing.code == grpc.StatusCode.NOT_FOUND
    # Held above the threshold for the whole period: taxable, so the command is recorded.
    await wallet.sql(
        "UPDATE ledger.wallets SET velocity_timer_start_time = now() - interval '361 days' WHERE wallet_id = :w",
        w=alice,
    )
    await stub.ApplyVelocityTax(
        tax.ApplyVelocityTaxRequest(request_id=_rid(), wallet_id=alice), metadata=admin
    )
    (row,) = await wallet.commands()
    assert (row.command_type, row.payload["accountId"]) == ("APPLY_VELOCITY_TAX", alice)
