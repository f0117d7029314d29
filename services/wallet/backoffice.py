"""The wallet's back-office reads and the velocity-tax sweep.

- GetTrustScore: a user's trust score with the rules that raise it (ledger_rules' constants) and
  the loan minimum in force, so a TRUST_TOO_LOW refusal can be explained.
- ListVelocityTaxDue: user wallets due the velocity tax now, by the read model's holding timer and
  the chaincode's own rule (`ledger_rules.velocity_tax`).
- SweepVelocityTax: one APPLY_VELOCITY_TAX per due wallet in one transaction. A command's ledger
  request id derives from the wallet and its holding period (the timer's start): a second sweep in
  the same period finds the ids taken and records nothing; once the tax is taken the chaincode
  restarts the timer, so the next period has another id.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from gx.ledger.v1 import commands_pb2 as ledger
from gx.ledger.v1 import resources_pb2 as res
from gx.type.v1 import command_pb2
from gx.wallet.v1 import loan_service_pb2 as loan_svc
from gx.wallet.v1 import tax_service_pb2 as tax_svc
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import ledger_rules as rules
from projector.tables import system_parameters, users, wallets
from services.common import outbox, paging
from services.common.audit import record_audit
from services.common.auth import Principal
from services.common.errors import NotFound, PermissionDenied
from services.common.idempotency import Idempotency
from services.common.outbox_tables import operations
from services.wallet import errors, readmodels
from services.wallet.readmodels import Executor
from services.wallet.usecases import resolve_wallet_id

_MIN_TRUST = "loan_min_trust_score"
_THRESHOLD, _PERIOD, _RATE = (
    "velocity_tax_threshold_qirat",
    "velocity_tax_period_days",
    "velocity_tax_rate_bps",
)
_DUE_PAGE = 100
# One sweep records at most this many commands (one transaction); the rest wait for the next.
SWEEP_BATCH = 1000
# Due wallets read per round trip while sweeping.
_SCAN_PAGE = 500
_SWEEP_SCOPE = "wallet.SweepVelocityTax"


def repaid_loans_to(score: int, minimum: int) -> int:
    """Loans still to repay in full for `score` to reach `minimum` (0 when it does already)."""
    if score >= minimum:
        return 0
    return math.ceil((min(minimum, rules.MAX_TRUST_SCORE) - score) / rules.TRUST_PER_REPAID_LOAN)


def trust_response(user_id: str, score: int, minimum: int) -> loan_svc.GetTrustScoreResponse:
    """The GetTrustScore answer (pure: the rules come from ledger_rules, the chaincode's own)."""
    return loan_svc.GetTrustScoreResponse(
        user_id=user_id,
        trust_score=score,
        min_score_for_loan=minimum,
        loan_eligible=rules.trust_refusal(score, minimum) is None,
        initial_score=rules.INITIAL_TRUST_SCORE,
        per_repaid_loan=rules.TRUST_PER_REPAID_LOAN,
        max_score=rules.MAX_TRUST_SCORE,
        repaid_loans_to_minimum=repaid_loans_to(score, minimum),
        rules=[
            f"Every user starts with a trust score of {rules.INITIAL_TRUST_SCORE}.",
            f"Each loan repaid in full adds {rules.TRUST_PER_REPAID_LOAN}, up to {rules.MAX_TRUST_SCORE}.",
            f"A loan application needs a score of at least {minimum} (system parameter {_MIN_TRUST}).",
        ],
    )


async def _parameters(db: Executor, names: Sequence[str]) -> dict[str, int]:
    """Parameters in force: the read model's value, else the ledger's default (as the chaincode reads them)."""
    p = system_parameters.c
    found = {r.name: int(r.value) for r in await db.execute(select(p.name, p.value).where(p.name.in_(names)))}
    return {n: found.get(n, rules.PARAMETERS[n].default) for n in names}


def _stamp(seconds: int) -> Timestamp:
    return Timestamp(seconds=seconds)


def _due(row: Any, params: dict[str, int], now_seconds: int) -> rules.VelocityTax:
    return rules.velocity_tax(
        account_type=res.ACCOUNT_TYPE_USER,
        balance_qirat=int(row.balance_qirat),
        holding_start_seconds=int(row.velocity_timer_start_time.timestamp()),
        now_seconds=now_seconds,
        threshold_qirat=params[_THRESHOLD],
        period_days=params[_PERIOD],
        rate_bps=params[_RATE],
    )


def period_request_id(wallet_id: str, holding_start: datetime) -> str:
    """The ledger request id of a wallet's velocity tax for one holding period."""
    return outbox.derive_request_id(_SWEEP_SCOPE, wallet_id, str(int(holding_start.timestamp())))


async def _taken(session: AsyncSession, request_ids: Sequence[str]) -> set[str]:
    """Which of these ledger request ids a command holds, in the live queue or the archive."""
    if not request_ids:
        return set()
    found = await session.execute(
        select(operations.c.request_id).where(
            operations.c.tenant == outbox.DEFAULT_TENANT, operations.c.request_id.in_(request_ids)
        )
    )
    return set(found.scalars())


class BackOfficeUseCases:
    """GetTrustScore (users their own, admins anyone's), ListVelocityTaxDue and SweepVelocityTax (admins)."""

    def __init__(
        self, engine: AsyncEngine, idempotency: Idempotency, clock: Callable[[], float] = time.time
    ) -> None:
        """Wires the use cases.

        Args:
            engine: Reads the read models.
            idempotency: AIP-155 for the sweep's own request id.
            clock: Seconds since the epoch (the chaincode uses the transaction's time).
        """
        self._engine = engine
        self._idem = idempotency
        self._clock = clock

    async def trust_score(
        self, principal: Principal, request: loan_svc.GetTrustScoreRequest
    ) -> loan_svc.GetTrustScoreResponse:
        """The user's score and the rules behind it; another user's id is NOT_FOUND for non-admins."""
        user_id = resolve_wallet_id(principal, request.user_id)
        if not principal.is_admin and user_id != principal.user_id:
            raise _user_not_found()
        async with self._engine.connect() as conn:
            score = (
                await conn.execute(select(users.c.trust_score).where(users.c.user_id == user_id))
            ).scalar_one_or_none()
            if score is None:
                raise _user_not_found()
            minimum = (await _parameters(conn, [_MIN_TRUST]))[_MIN_TRUST]
        return trust_response(user_id, int(score), minimum)

    async def _due_rows(
        self, db: Executor, now_seconds: int, limit: int, page: paging.PageRequest | None = None
    ) -> tuple[list[Any], dict[str, int]]:
        """User wallets over the threshold whose holding period has run, oldest timer first
        (`limit` rows after the page's cursor; the rule's zero-tax case is the caller's to drop)."""
        params = await _parameters(db, [_THRESHOLD, _PERIOD, _RATE])
        w = wallets.c
        cutoff = datetime.fromtimestamp(now_seconds, UTC) - timedelta(days=params[_PERIOD])
        query = select(w.wallet_id, w.balance_qirat, w.velocity_timer_start_time).where(
            w.account_type == "USER",
            w.velocity_timer_start_time.is_not(None),
            w.velocity_timer_start_time <= cutoff,
            w.balance_qirat > params[_THRESHOLD],
        )
        after = page.condition(w.velocity_timer_start_time, w.wallet_id) if page is not None else None
        if after is not None:
            query = query.where(after)
        ordered = query.order_by(w.velocity_timer_start_time, w.wallet_id).limit(limit)
        return list((await db.execute(ordered)).all()), params

    async def list_due(
        self, principal: Principal, request: tax_svc.ListVelocityTaxDueRequest
    ) -> tax_svc.ListVelocityTaxDueResponse:
        """A page of wallets due the velocity tax now (admins)."""
        _require_admin(principal)
        page = paging.request(
            request.page_size, request.page_token, "velocity-tax-due", default=_DUE_PAGE, descending=False
        )
        now_seconds = int(self._clock())
        async with self._engine.connect() as conn:
            rows, params = await self._due_rows(conn, now_seconds, page.limit, page)
        rows, token = page.finish(rows, lambda r: (r.velocity_timer_start_time, r.wallet_id))
        out = tax_svc.ListVelocityTaxDueResponse(next_page_token=token)
        for row in rows:
            assessed = _due(row, params, now_seconds)
            # A zero tax (a tiny excess at a low rate) is not due, exactly as on the ledger; such a
            # page may be short, which AIP-158 allows.
            if not assessed.due:
                continue
            start = int(row.velocity_timer_start_time.timestamp())
            out.wallets.append(
                tax_svc.VelocityTaxDue(
                    wallet_id=row.wallet_id,
                    balance_qirat=int(row.balance_qirat),
                    tax_qirat=assessed.tax_qirat,
                    holding_start_time=_stamp(start),
                    due_time=_stamp(assessed.due_seconds or start),
                )
            )
        return out

    async def sweep(
        self, principal: Principal, request: tax_svc.SweepVelocityTaxRequest
    ) -> tax_svc.SweepVelocityTaxResponse:
        """One APPLY_VELOCITY_TAX per wallet due now whose period has none yet, in one transaction."""
        _require_admin(principal)

        async def work(session: AsyncSession) -> tax_svc.SweepVelocityTaxResponse:
            if (await readmodels.system_state(session)).paused:
                raise errors.precondition(errors.SYSTEM_PAUSED, "the system is paused")
            now_seconds = int(self._clock())
            out = tax_svc.SweepVelocityTaxResponse()
            # Scan the due wallets in keyset pages, skipping those whose period is recorded
            # already (still queued or on their way to the read models), until a batch of new
            # commands is recorded or none is due: a backlog of recorded ones never hides the rest.
            scan = paging.PageRequest(_SCAN_PAGE, None, "", descending=False)
            while len(out.operations) < SWEEP_BATCH:
                rows, params = await self._due_rows(session, now_seconds, _SCAN_PAGE, scan)
                due = [(r, period_request_id(r.wallet_id, r.velocity_timer_start_time)) for r in rows]
                due = [(r, rid) for r, rid in due if _due(r, params, now_seconds).due]
                taken = await _taken(session, [rid for _, rid in due])
                out.already_recorded_count += sum(1 for _, rid in due if rid in taken)
                for row, rid in due:
                    if rid in taken or len(out.operations) >= SWEEP_BATCH:
                        continue
                    operation = await outbox.record_command(
                        session,
                        command_pb2.COMMAND_TYPE_APPLY_VELOCITY_TAX,
                        ledger.ApplyVelocityTaxRequest(account_id=row.wallet_id, request_id=rid),
                        rid,
                        principal_id=principal.user_id,
                    )
                    out.operations.append(operation)
                if len(rows) < _SCAN_PAGE:
                    break
                last = rows[-1]
                scan = paging.PageRequest(
                    _SCAN_PAGE, (last.velocity_timer_start_time, last.wallet_id), "", descending=False
                )
            await record_audit(
                session,
                action="wallet.SweepVelocityTax",
                subject="system",
                details={
                    "recorded": [op.name for op in out.operations],
                    "already_recorded": out.already_recorded_count,
                },
            )
            return out

        result = await self._idem.run(
            scope=_SWEEP_SCOPE,
            principal=principal.user_id,
            request_id=request.request_id,
            request=request,
            handler=work,
        )
        return result.response


def _user_not_found() -> NotFound:
    # One answer for an unknown user and another user's id: ids cannot be probed.
    return NotFound("user not found", reason="USER_NOT_FOUND")


def _require_admin(principal: Principal) -> None:
    # The proto's access rule admits only admins; checked again in case of another caller.
    if not principal.is_admin:
        raise PermissionDenied("this needs an admin", reason="ADMIN_REQUIRED")
