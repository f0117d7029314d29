"""Velocity tax use cases: the preview from the read models with the chaincode's own rule, and applying it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from gx.ledger.v1 import commands_pb2 as ledger
from gx.ledger.v1 import resources_pb2 as res
from gx.type.v1 import command_pb2, operation_pb2
from gx.wallet.v1 import tax_service_pb2 as svc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import ledger_rules as rules
from services.common.auth import Principal
from services.wallet import errors, readmodels
from services.wallet.admin_audit import audited
from services.wallet.commands import CommandRecorder
from services.wallet.readmodels import Executor
from services.wallet.usecases import resolve_wallet_id

NOT_TAXABLE = "NOT_TAXABLE"

_THRESHOLD, _PERIOD, _RATE = (
    "velocity_tax_threshold_qirat",
    "velocity_tax_period_days",
    "velocity_tax_rate_bps",
)

# The account and the three parameters in one round trip; a parameter the read model has no row
# for is at its default, exactly as the chaincode reads it.
_VIEW = text(
    """
    SELECT w.wallet_id, w.account_type, w.user_id, w.balance_qirat, w.velocity_timer_start_time,
           (SELECT value FROM ledger.system_parameters WHERE name = :threshold) AS threshold_qirat,
           (SELECT value FROM ledger.system_parameters WHERE name = :period) AS period_days,
           (SELECT value FROM ledger.system_parameters WHERE name = :rate) AS rate_bps
      FROM ledger.wallets w
     WHERE w.wallet_id = :wallet_id
    """
)


@dataclass(frozen=True)
class TaxView:
    """What the velocity-tax rule needs of one account, as the read models know it.

    Attributes:
        wallet_id: The account id.
        account_type: USER, ORGANIZATION, SYSTEM_POOL or TREASURY.
        user_id: The owning user, for USER accounts.
        balance_qirat: The balance.
        holding_start: When the balance last rose above the threshold (chain time); None
            while no timer runs.
        threshold_qirat: `velocity_tax_threshold_qirat` in force.
        period_days: `velocity_tax_period_days` in force.
        rate_bps: `velocity_tax_rate_bps` in force.
    """

    wallet_id: str
    account_type: str
    user_id: str | None
    balance_qirat: int
    holding_start: datetime | None
    threshold_qirat: int
    period_days: int
    rate_bps: int


def _param(value: int | None, name: str) -> int:
    return int(value) if value is not None else rules.PARAMETERS[name].default


async def tax_view(db: Executor, wallet_id: str) -> TaxView | None:
    """The account's tax inputs, or None when the read models do not know the account."""
    row = (
        await db.execute(
            _VIEW, {"wallet_id": wallet_id, "threshold": _THRESHOLD, "period": _PERIOD, "rate": _RATE}
        )
    ).first()
    if row is None:
        return None
    return TaxView(
        wallet_id=row.wallet_id,
        account_type=row.account_type,
        user_id=row.user_id,
        balance_qirat=int(row.balance_qirat),
        holding_start=row.velocity_timer_start_time,
        threshold_qirat=_param(row.threshold_qirat, _THRESHOLD),
        period_days=_param(row.period_days, _PERIOD),
        rate_bps=_param(row.rate_bps, _RATE),
    )


def assess(view: TaxView, now_seconds: int) -> rules.VelocityTax:
    """The chaincode's own rule (`ledger_rules.velocity_tax`) on the read model's inputs."""
    return rules.velocity_tax(
        account_type=res.AccountType.Value(f"ACCOUNT_TYPE_{view.account_type}"),
        balance_qirat=view.balance_qirat,
        # Whole seconds: the chaincode compares the timestamps' seconds.
        holding_start_seconds=int(view.holding_start.timestamp()) if view.holding_start is not None else None,
        now_seconds=now_seconds,
        threshold_qirat=view.threshold_qirat,
        period_days=view.period_days,
        rate_bps=view.rate_bps,
    )


def _stamp(seconds: int) -> Timestamp:
    return Timestamp(seconds=seconds)


def preview_response(view: TaxView, now_seconds: int) -> svc.PreviewVelocityTaxResponse:
    """The PreviewVelocityTax answer for `view` at `now_seconds` (pure: no I/O, no clock)."""
    assessed = assess(view, now_seconds)
    out = svc.PreviewVelocityTaxResponse(
        taxable=assessed.due,
        balance_qirat=view.balance_qirat,
        taxable_balance_qirat=assessed.taxable_qirat,
        tax_qirat=assessed.tax_qirat,
        treasury_share_qirat=assessed.treasury_qirat,
        charity_share_qirat=assessed.charity_qirat,
        rate_bps=assessed.rate_bps,
    )
    # Only a user above the threshold holds: a timer left over from a higher balance (after the
    # threshold was raised) means nothing, and the chaincode clears it at the account's next store.
    holding = assessed.skip_reason in ("", rules.TAX_NOT_DUE)
    if holding and view.holding_start is not None:
        out.holding_start_time.CopyFrom(_stamp(int(view.holding_start.timestamp())))
        # Only a future due time is news; a period that passed without tax (a zero tax) has none.
        if not assessed.due and assessed.due_seconds is not None and assessed.due_seconds > now_seconds:
            out.taxable_time.CopyFrom(_stamp(assessed.due_seconds))
    return out


class TaxUseCases:
    """PreviewVelocityTax (users their own wallet, admins any) and ApplyVelocityTax (admins)."""

    def __init__(
        self, recorder: CommandRecorder, engine: AsyncEngine, clock: Callable[[], float] = time.time
    ) -> None:
        """Wires the use cases.

        Args:
            recorder: Records the ledger command.
            engine: Reads the read models.
            clock: Seconds since the epoch; the chaincode uses the transaction's time instead,
                so a preview is exact for a transaction committed at the same second.
        """
        self._recorder = recorder
        self._engine = engine
        self._clock = clock

    async def preview(
        self, principal: Principal, request: svc.PreviewVelocityTaxRequest
    ) -> svc.PreviewVelocityTaxResponse:
        """Whether the wallet is taxable now and what the tax would be; records nothing."""
        wallet_id = resolve_wallet_id(principal, request.wallet_id)
        async with self._engine.connect() as conn:
            view = await tax_view(conn, wallet_id)
        if view is None or not (
            principal.is_admin or (view.user_id is not None and view.user_id == principal.user_id)
        ):
            raise errors.wallet_not_found()
        return preview_response(view, int(self._clock()))

    async def apply(
        self, principal: Principal, request: svc.ApplyVelocityTaxRequest
    ) -> operation_pb2.Operation:
        """APPLY_VELOCITY_TAX to a user wallet that the read models show taxable now.

        The ledger decides again with the balance and time at commit; a skip there is a success.
        """
        wallet_id = request.wallet_id.lower()

        async def build(session: AsyncSession, rid: str) -> Message:
            view = await tax_view(session, wallet_id)
            if view is None or view.account_type != "USER":
                raise errors.wallet_not_found()
            if (await readmodels.system_state(session)).paused:
                raise errors.precondition(errors.SYSTEM_PAUSED, "the system is paused")
            assessed = assess(view, int(self._clock()))
            if not assessed.due:
                raise errors.precondition(
                    NOT_TAXABLE, "the wallet is not taxable now", skip_reason=assessed.skip_reason
                )
            return ledger.ApplyVelocityTaxRequest(account_id=wallet_id, request_id=rid)

        return await self._recorder.record(
            scope="wallet.ApplyVelocityTax",
            principal=principal,
            request=request,
            request_id=request.request_id,
            command_type=command_pb2.COMMAND_TYPE_APPLY_VELOCITY_TAX,
            build=audited("wallet.ApplyVelocityTax", request, build),
        )
