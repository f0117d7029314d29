"""The velocity (hoarding) tax: who pays it, when it falls due, how much, and where it goes."""

from __future__ import annotations

import dataclasses

from gx.ledger.v1 import resources_pb2 as res

TAX_TREASURY_PERCENT = 70  # the rest of the velocity tax goes to the charitable pool
DAY_SECONDS = 86_400
# Why a velocity-tax assessment found nothing due (the ledger's `skip_reason`).
TAX_BELOW_THRESHOLD = "BELOW_THRESHOLD"
TAX_NOT_DUE = "NOT_DUE"
TAX_EXEMPT_ACCOUNT = "EXEMPT_ACCOUNT"


def pays_velocity_tax(account_type: int) -> bool:
    """Only user accounts carry a holding timer and pay the velocity tax; pools, treasuries and
    organisations are exempt."""
    return account_type == res.ACCOUNT_TYPE_USER


@dataclasses.dataclass(frozen=True)
class VelocityTax:
    """One velocity-tax assessment.

    Attributes:
        due: Whether tax is taken now.
        skip_reason: Why not ("" when due): BELOW_THRESHOLD, NOT_DUE or EXEMPT_ACCOUNT.
        taxable_qirat: The part of the balance above the threshold (0 at or below it).
        rate_bps: The rate applied.
        tax_qirat: The tax (0 when not due).
        treasury_qirat: Its share for the country's treasury.
        charity_qirat: Its share for the charitable pool.
        due_seconds: When the tax falls due if nothing changes (holding start + period), or
            None when no holding timer runs.
    """

    due: bool
    skip_reason: str
    taxable_qirat: int
    rate_bps: int
    tax_qirat: int = 0
    treasury_qirat: int = 0
    charity_qirat: int = 0
    due_seconds: int | None = None


def velocity_tax(
    *,
    account_type: int,
    balance_qirat: int,
    holding_start_seconds: int | None,
    now_seconds: int,
    threshold_qirat: int,
    period_days: int,
    rate_bps: int,
) -> VelocityTax:
    """Assess the velocity (hoarding) tax of an account at *now_seconds*.

    Due when a user's balance is above the threshold and has been since at least
    *period_days* ago (*holding_start_seconds*: when it rose above; None while no timer runs).
    Only the part above the threshold is taxed, so crossing it by one Qirat costs one Qirat's
    tax; the tax rounds down and a zero tax is not due.
    """
    taxable = max(balance_qirat - threshold_qirat, 0)
    if not pays_velocity_tax(account_type):
        return VelocityTax(False, TAX_EXEMPT_ACCOUNT, taxable, rate_bps)
    if balance_qirat <= threshold_qirat:
        return VelocityTax(False, TAX_BELOW_THRESHOLD, 0, rate_bps)
    if holding_start_seconds is None:
        return VelocityTax(False, TAX_NOT_DUE, taxable, rate_bps)
    due_at = holding_start_seconds + period_days * DAY_SECONDS
    tax = taxable * rate_bps // 10_000
    if now_seconds < due_at or tax == 0:
        return VelocityTax(False, TAX_NOT_DUE, taxable, rate_bps, due_seconds=due_at)
    treasury = tax * TAX_TREASURY_PERCENT // 100
    return VelocityTax(True, "", taxable, rate_bps, tax, treasury, tax - treasury, due_at)
