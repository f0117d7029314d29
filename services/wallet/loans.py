"""Loan use cases: apply, approve, repay (ledger commands) and the loan read models."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message
from gx.ledger.v1 import commands_pb2 as ledger
from gx.type.v1 import command_pb2, operation_pb2
from gx.wallet.v1 import loan_service_pb2 as svc
from gx.wallet.v1 import wallet_pb2
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import ledger_rules as rules
from projector.tables import loans
from services.common import paging
from services.common.auth import Principal
from services.common.errors import NotFound, PermissionDenied
from services.wallet import convert, errors, ids, readmodels
from services.wallet.admin_audit import audited
from services.wallet.commands import CommandRecorder

_COMMAND = "APPLY_FOR_LOAN"
_DEFAULT_PAGE = 50
_ROW = tuple(
    loans.c[name]
    for name in (
        "loan_id",
        "borrower_id",
        "amount_qirat",
        "outstanding_qirat",
        "collateral_hash",
        "status",
        "approver_id",
        "create_time",
        "approve_time",
        "repay_time",
    )
)
_COLUMNS = ", ".join(column.name for column in _ROW)


# A borrower-standing refusal as this API answers it: the ledger's USER_NOT_ACTIVE is the wallet's
# WALLET_NOT_ACTIVE (the caller's wallet is what they know of); WALLET_FROZEN is the same name.
_STANDING = {
    rules.USER_NOT_ACTIVE: (errors.WALLET_NOT_ACTIVE, "your wallet is not active on the ledger"),
    rules.WALLET_FROZEN: (errors.WALLET_FROZEN, "your wallet is frozen"),
}


def _loan_not_found() -> NotFound:
    return NotFound("loan not found", reason="LOAN_NOT_FOUND")


def _loan(row: Any, public_id: str) -> wallet_pb2.Loan:
    out = wallet_pb2.Loan(
        loan_id=public_id,
        borrower_user_id=row.borrower_id,
        amount_qirat=row.amount_qirat,
        outstanding_qirat=row.outstanding_qirat,
        collateral_hash=row.collateral_hash or "",
        state=wallet_pb2.LoanState.Value(f"LOAN_STATE_{row.status}"),
        approver_user_id=row.approver_id or "",
    )
    for field in ("create_time", "approve_time", "repay_time"):
        ts = convert.timestamp(getattr(row, field))
        if ts is not None:
            getattr(out, field).CopyFrom(ts)
    return out


async def _find(db: readmodels.Executor, public_id: str) -> Any | None:
    lid = await ids.ledger_id(db, public_id, _COMMAND)
    return (await db.execute(select(*_ROW).where(loans.c.loan_id == lid))).first()


class LoanUseCases:
    """ApplyForLoan, ApproveLoan, RepayLoan, GetLoan, ListLoans."""

    def __init__(self, engine: AsyncEngine, recorder: CommandRecorder) -> None:
        """Wires the use cases over the engine and the command recorder."""
        self._engine = engine
        self._recorder = recorder

    async def apply(self, principal: Principal, request: svc.ApplyForLoanRequest) -> operation_pb2.Operation:
        """APPLY_FOR_LOAN for the caller, after the ledger's borrower rules as the read models know them."""

        async def build(session: AsyncSession, rid: str) -> Message:
            # The ledger's own loan rules (ledger_rules.loans) on the read models, in this API's order
            # (standing, amount, trust) and with its words; only the reasons' names are shared.
            borrower = await readmodels.ledger_user(session, principal.user_id)
            standing = rules.standing_refusal(
                principal.user_id,
                active=borrower is not None and borrower.status == "ACTIVE",
                frozen=borrower is not None and bool(borrower.frozen),
            )
            if standing is not None:
                raise errors.precondition(*_STANDING[standing.reason])
            assert borrower is not None  # standing_refusal refuses a borrower who is not active
            low = await readmodels.parameter(session, "loan_min_qirat")
            high = await readmodels.parameter(session, "loan_max_qirat")
            amount = rules.amount_refusal(request.amount_qirat, low, high)
            if amount is not None:
                raise errors.bad_field(
                    "amount_qirat", f"a loan must be within [{low}, {high}] Qirat", amount.reason
                )
            minimum = await readmodels.parameter(session, "loan_min_trust_score")
            trust = rules.trust_refusal(borrower.trust_score, minimum)
            if trust is not None:
                raise errors.precondition(
                    trust.reason, f"a trust score of {minimum} is needed; yours is {borrower.trust_score}"
                )
            return ledger.ApplyForLoanRequest(
                borrower_id=principal.user_id,
                amount_qirat=request.amount_qirat,
                collateral_hash=request.collateral_hash,
                request_id=rid,
            )

        return await self._recorder.record(
            scope="wallet.ApplyForLoan",
            principal=principal,
            request=request,
            request_id=request.request_id,
            command_type=command_pb2.COMMAND_TYPE_APPLY_FOR_LOAN,
            build=build,
        )

    async def approve(self, principal: Principal, request: svc.ApproveLoanRequest) -> operation_pb2.Operation:
        """APPROVE_LOAN of a pending loan by an on-chain admin who is not its borrower."""

        async def build(session: AsyncSession, rid: str) -> Message:
            loan = await _find(session, request.loan_id)
            if loan is None:
                raise _loan_not_found()
            if loan.status != "PENDING_APPROVAL":
                raise errors.precondition("LOAN_NOT_PENDING", "the loan is not waiting for approval")
            if loan.borrower_id == principal.user_id:
                raise PermissionDenied("a borrower cannot approve their own loan", reason="SELF_DEALING")
            approver = await readmodels.user(session, principal.user_id)
            if approver is None or not approver.admin:
                raise errors.precondition(
                    "NOT_AN_ONCHAIN_ADMIN", "approving needs an admin appointed on the ledger"
                )
            if (await readmodels.system_state(session)).paused:
                raise errors.precondition(errors.SYSTEM_PAUSED, "the system is paused")
            return ledger.ApproveLoanRequest(
                loan_id=loan.loan_id, approver_id=principal.user_id, request_id=rid
            )

        return await self._recorder.record(
            scope="wallet.ApproveLoan",
            principal=principal,
            request=request,
            request_id=request.request_id,
            command_type=command_pb2.COMMAND_TYPE_APPROVE_LOAN,
            build=audited("wallet.ApproveLoan", request, build),
        )

    async def repay(self, principal: Principal, request: svc.RepayLoanRequest) -> operation_pb2.Operation:
        """REPAY_LOAN by the borrower, at most what is outstanding and what the wallet holds."""

        async def build(session: AsyncSession, rid: str) -> Message:
            loan = await _find(session, request.loan_id)
            if loan is None or loan.borrower_id != principal.user_id:
                raise _loan_not_found()
            if loan.status != "ACTIVE":
                raise errors.precondition("LOAN_NOT_ACTIVE", "only an active loan can be repaid")
            if rules.repayment_refusal(request.amount_qirat, loan.outstanding_qirat) is not None:
                raise errors.bad_field(
                    "amount_qirat",
                    f"only {loan.outstanding_qirat} Qirat is outstanding",
                    "REPAYMENT_EXCEEDS_OUTSTANDING",
                )
            wallet = await readmodels.account(session, principal.user_id)
            if wallet is None or wallet.balance_qirat < request.amount_qirat:
                raise errors.precondition(
                    errors.INSUFFICIENT_FUNDS, "the balance does not cover the repayment"
                )
            return ledger.RepayLoanRequest(
                loan_id=loan.loan_id, amount_qirat=request.amount_qirat, request_id=rid
            )

        return await self._recorder.record(
            scope="wallet.RepayLoan",
            principal=principal,
            request=request,
            request_id=request.request_id,
            command_type=command_pb2.COMMAND_TYPE_REPAY_LOAN,
            build=build,
        )

    async def get(self, principal: Principal, loan_id: str) -> svc.GetLoanResponse:
        """A loan for its borrower or an admin; NOT_FOUND for anyone else."""
        async with self._engine.connect() as conn:
            loan = await _find(conn, loan_id)
            if loan is None or not (principal.is_admin or loan.borrower_id == principal.user_id):
                raise _loan_not_found()
            public = await ids.public_ids(conn, [loan.loan_id], _COMMAND)
        return svc.GetLoanResponse(loan=_loan(loan, public[loan.loan_id]))

    async def list(self, principal: Principal, request: svc.ListLoansRequest) -> svc.ListLoansResponse:
        """Loans newest first: a user's own, or (for admins) anyone's, optionally one borrower's and one state."""
        borrower = request.borrower_user_id.lower()
        if borrower == "me" or not principal.is_admin:
            borrower = principal.user_id
        state = (
            ""
            if request.state == wallet_pb2.LOAN_STATE_UNSPECIFIED
            else wallet_pb2.LoanState.Name(request.state)
        )
        status = state.removeprefix("LOAN_STATE_")
        page = paging.request(
            request.page_size, request.page_token, f"loans|{borrower}|{status}", default=_DEFAULT_PAGE
        )
        clauses: list[str] = ["true"]
        params: dict[str, Any] = {"limit": page.limit}
        if borrower:
            clauses.append("borrower_id = :b")
            params["b"] = borrower
        if status:
            clauses.append("status = :s")
            params["s"] = status
        if (after := page.after_clause("create_time, loan_id", params)) is not None:
            clauses.append(after)
        sql = f"SELECT {_COLUMNS} FROM ledger.loans WHERE {' AND '.join(clauses)} ORDER BY create_time DESC, loan_id DESC LIMIT :limit"
        async with self._engine.connect() as conn:
            rows, token = page.finish(
                (await conn.execute(text(sql), params)).all(), lambda r: (r.create_time, r.loan_id)
            )
            public = await ids.public_ids(conn, [r.loan_id for r in rows], _COMMAND)
        return svc.ListLoansResponse(
            loans=[_loan(r, public[r.loan_id]) for r in rows],
            next_page_token=token,
        )
