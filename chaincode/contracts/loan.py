"""Loan contract: interest-free loans from SYSTEM_LOAN_POOL with a trust threshold."""

from __future__ import annotations

import re

from fabric_chaincode_python.fabric_contract_api import TransactionContext
from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import events_pb2 as ev
from gx.ledger.v1 import queries_pb2 as qry
from gx.ledger.v1 import resources_pb2 as res

import ledger_rules as rules
from chaincode import ledger
from chaincode.contracts.base import (
    GxContract,
    check_amount,
    check_id,
    check_text,
    need,
    run_command,
    run_query,
)
from chaincode.errors import NotFound
from chaincode.tx import Tx
from ledger_rules.errors import Rejection

_HASH = re.compile(r"[0-9a-f]{64}")
_OPEN = (res.LOAN_STATUS_PENDING_APPROVAL, res.LOAN_STATUS_ACTIVE)


def _loan_key(loan_id: str) -> str:
    return f"loan~{loan_id}"


def _index_prefix(borrower_id: str) -> str:
    return f"loanidx~{borrower_id}~"


class LoanContract(GxContract):
    """Apply (borrower, via the backend), approve (admin), repay (borrower)."""

    Name = "loan"
    QUERIES = ("GetLoan", "ListLoans")

    async def ApplyForLoan(self, ctx: TransactionContext, request: str) -> str:
        """Applies for an interest-free loan: 100 to 1,000,000 GX, trust score at least..."""
        return await run_command(ctx, cmd.ApplyForLoanRequest, request, _apply)

    async def ApproveLoan(self, ctx: TransactionContext, request: str) -> str:
        """Approves a pending loan, re-checking the borrower, and disburses it from SYSTEM_LOAN_POOL."""
        return await run_command(ctx, cmd.ApproveLoanRequest, request, _approve)

    async def RepayLoan(self, ctx: TransactionContext, request: str) -> str:
        """Repays part or all of an active loan from the borrower's account to SYSTEM_LOAN_POOL (no fee)."""
        return await run_command(ctx, cmd.RepayLoanRequest, request, _repay)

    async def GetLoan(self, ctx: TransactionContext, request: str) -> str:
        """Reads one loan."""
        return await run_query(ctx, qry.GetLoanRequest, request, _get_loan)

    async def ListLoans(self, ctx: TransactionContext, request: str) -> str:
        """Lists a borrower's loans in id order."""
        return await run_query(ctx, qry.ListLoansRequest, request, _list_loans)


async def _require_loan(tx: Tx, loan_id: str) -> res.Loan:
    check_id(loan_id, "loan_id")
    loan = await tx.get_msg(_loan_key(loan_id), res.Loan)
    if loan is None:
        raise NotFound("loan", loan_id)
    return loan


async def _loans_of(tx: Tx, borrower_id: str) -> list[res.Loan]:
    prefix = _index_prefix(borrower_id)
    loans = []
    for key, _ in await tx.range(prefix, ledger.prefix_end(prefix)):
        loans.append(await _require_loan(tx, key[len(prefix) :]))
    return loans


def _refuse(refusal: rules.Refusal | None) -> None:
    """Raise a shared loan rule's refusal (ledger_rules.loans) as the chaincode's rejection."""
    if refusal is not None:
        raise Rejection(refusal.reason, refusal.detail)


async def _check_borrower(tx: Tx, borrower_id: str) -> tuple[res.User, res.Account]:
    user = await ledger.require_user(tx, borrower_id)
    acct = await ledger.require_account(tx, borrower_id)
    _refuse(
        rules.standing_refusal(borrower_id, active=user.status == res.USER_STATUS_ACTIVE, frozen=acct.frozen)
    )
    _refuse(rules.trust_refusal(user.trust_score, await ledger.param(tx, "loan_min_trust_score")))
    return user, acct


async def _apply(tx: Tx, request: cmd.ApplyForLoanRequest) -> cmd.ApplyForLoanResult:
    check_id(request.borrower_id, "borrower_id")
    check_amount(request.amount_qirat)
    need(
        bool(_HASH.fullmatch(request.collateral_hash)),
        "INVALID_ARGUMENT",
        "collateral_hash must be 64 lowercase hex characters (SHA-256)",
    )
    check_text(request.purpose, "purpose", 256, required=False)
    low, high = await ledger.param(tx, "loan_min_qirat"), await ledger.param(tx, "loan_max_qirat")
    _refuse(rules.amount_refusal(request.amount_qirat, low, high))
    await _check_borrower(tx, request.borrower_id)
    loan_id = request.request_id
    need(await tx.get(_loan_key(loan_id)) is None, "LOAN_EXISTS", f"loan {loan_id} exists")
    open_loans = [loan for loan in await _loans_of(tx, request.borrower_id) if loan.status in _OPEN]
    max_active = await ledger.param(tx, "loan_max_active")
    need(
        len(open_loans) < max_active,
        "TOO_MANY_LOANS",
        f"the borrower has {len(open_loans)} open loans (max {max_active})",
    )
    owed = sum(loan.outstanding_qirat for loan in open_loans)
    max_total = await ledger.param(tx, "loan_max_total_qirat")
    need(
        owed + request.amount_qirat <= max_total,
        "LOAN_LIMIT",
        f"{owed} Qirat owed plus {request.amount_qirat} exceeds the per-borrower limit {max_total}",
    )
    loan = res.Loan(
        loan_id=loan_id,
        borrower_id=request.borrower_id,
        amount_qirat=request.amount_qirat,
        outstanding_qirat=request.amount_qirat,
        collateral_hash=request.collateral_hash,
        purpose=request.purpose,
        status=res.LOAN_STATUS_PENDING_APPROVAL,
    )
    loan.create_time.CopyFrom(tx.time)
    tx.put_msg(_loan_key(loan_id), loan)
    tx.put(_index_prefix(request.borrower_id) + loan_id, "")
    tx.emit(loan_applied=ev.LoanApplied(loan=loan))
    return cmd.ApplyForLoanResult(loan=loan)


async def _approve(tx: Tx, request: cmd.ApproveLoanRequest) -> cmd.ApproveLoanResult:
    loan = await _require_loan(tx, request.loan_id)
    need(
        loan.status == res.LOAN_STATUS_PENDING_APPROVAL,
        "WRONG_STATUS",
        f"loan {loan.loan_id} is not pending approval",
    )
    check_id(request.approver_id, "approver_id")
    need(request.approver_id != loan.borrower_id, "SELF_DEALING", "a borrower cannot approve their own loan")
    approver = await ledger.require_user(tx, request.approver_id)
    need(approver.admin, "NOT_AN_ADMIN", f"{request.approver_id} is not an on-chain admin")
    await ledger.require_not_paused(tx)
    _, wallet = await _check_borrower(tx, loan.borrower_id)
    pool = await ledger.load_for_update(tx, rules.LOAN_POOL)
    borrower_credit = await ledger.move(tx, pool, wallet, loan.amount_qirat)
    loan.status = res.LOAN_STATUS_ACTIVE
    loan.approver_id = request.approver_id
    loan.approve_time.CopyFrom(tx.time)
    tx.put_msg(_loan_key(loan.loan_id), loan)
    approved = ev.LoanApproved(
        loan_id=loan.loan_id,
        borrower_id=loan.borrower_id,
        approver_id=request.approver_id,
        amount_qirat=loan.amount_qirat,
        pool_balance_qirat=pool.balance_qirat,
    )
    if borrower_credit is None:
        approved.borrower_balance_qirat = wallet.balance_qirat
        timer = ledger.holding_start(wallet)
        if timer is not None:
            approved.borrower_velocity_timer_start_time.CopyFrom(timer)
    else:
        # The disbursement is a credit: the borrower's balance afterwards is not read here.
        approved.borrower_credit.CopyFrom(borrower_credit)
    tx.emit(loan_approved=approved)
    return cmd.ApproveLoanResult(loan=loan, borrower_balance_qirat=approved.borrower_balance_qirat)


async def _repay(tx: Tx, request: cmd.RepayLoanRequest) -> cmd.RepayLoanResult:
    loan = await _require_loan(tx, request.loan_id)
    need(loan.status == res.LOAN_STATUS_ACTIVE, "WRONG_STATUS", f"loan {loan.loan_id} is not active")
    check_amount(request.amount_qirat)
    _refuse(rules.repayment_refusal(request.amount_qirat, loan.outstanding_qirat))
    # Repayment stays allowed while paused or frozen: it only lowers what the borrower owes.
    wallet = await ledger.load_for_update(tx, loan.borrower_id)
    pool = await ledger.require_account(tx, rules.LOAN_POOL)
    pool_credit = await ledger.move(tx, wallet, pool, request.amount_qirat)
    loan.outstanding_qirat -= request.amount_qirat
    user = await ledger.require_user(tx, loan.borrower_id)
    if loan.outstanding_qirat == 0:
        loan.status = res.LOAN_STATUS_REPAID
        user.trust_score = rules.trust_after_repayment(user.trust_score)
        ledger.save_user(tx, user)
    tx.put_msg(_loan_key(loan.loan_id), loan)
    repaid = ev.LoanRepaid(
        loan_id=loan.loan_id,
        borrower_id=loan.borrower_id,
        amount_qirat=request.amount_qirat,
        outstanding_qirat=loan.outstanding_qirat,
        status=loan.status,
        borrower_balance_qirat=wallet.balance_qirat,
        trust_score=user.trust_score,
        borrower_velocity_timer_start_time=ledger.holding_start(wallet),
    )
    if pool_credit is None:
        repaid.pool_balance_qirat = pool.balance_qirat
    else:
        repaid.pool_credit.CopyFrom(pool_credit)
    tx.emit(loan_repaid=repaid)
    return cmd.RepayLoanResult(loan=loan, borrower_balance_qirat=wallet.balance_qirat)


async def _get_loan(tx: Tx, request: qry.GetLoanRequest) -> qry.GetLoanResult:
    return qry.GetLoanResult(loan=await _require_loan(tx, request.loan_id))


async def _list_loans(tx: Tx, request: qry.ListLoansRequest) -> qry.ListLoansResult:
    check_id(request.borrower_id, "borrower_id")
    return qry.ListLoansResult(loans=await _loans_of(tx, request.borrower_id))
