"""The GX monetary rules as constants and pure integer functions (no state, no clock)."""

from __future__ import annotations

import dataclasses
import datetime

from gx.ledger.v1 import resources_pb2 as res

from chaincode.errors import Rejection

QIRAT_PER_GX = 1_000_000

# The six system pools and their share of the fixed supply (research: original-backend §8).
USER_GENESIS_POOL = "SYSTEM_USER_GENESIS_POOL"
LOAN_POOL = "SYSTEM_LOAN_POOL"
CHARITABLE_POOL = "SYSTEM_CHARITABLE_POOL"
GOVT_GENESIS_POOL = "SYSTEM_GOVT_GENESIS_POOL"
GX_POOL = "SYSTEM_GX_POOL"
OPERATIONS_FUND = "SYSTEM_OPERATIONS_FUND"
POOLS: tuple[tuple[str, int], ...] = (
    (USER_GENESIS_POOL, 577_500_000_000 * QIRAT_PER_GX),
    (LOAN_POOL, 312_500_000_000 * QIRAT_PER_GX),
    (CHARITABLE_POOL, 158_000_000_000 * QIRAT_PER_GX),
    (GOVT_GENESIS_POOL, 152_000_000_000 * QIRAT_PER_GX),
    (GX_POOL, 31_250_000_000 * QIRAT_PER_GX),
    (OPERATIONS_FUND, 18_750_000_000 * QIRAT_PER_GX),
)
TOTAL_SUPPLY = 1_250_000_000_000 * QIRAT_PER_GX
assert sum(amount for _, amount in POOLS) == TOTAL_SUPPLY

# Genesis phases: (global user limit, GX per user, GX per user to the country's treasury).
# A country's slots in a phase are the global limit times its population share.
PHASES: tuple[tuple[int, int, int], ...] = (
    (100_000_000, 500, 50),
    (200_000_000, 400, 50),
    (300_000_000, 300, 50),
    (400_000_000, 200, 50),
    (1_550_000_000, 100, 50),
    (2_450_000_000, 50, 10),
)
TOTAL_SHARE_BPS = 10_000
INITIAL_TRUST_SCORE = 10
TRUST_PER_REPAID_LOAN = 5
MAX_TRUST_SCORE = 100
TAX_TREASURY_PERCENT = 70  # the rest of the velocity tax goes to the charitable pool


@dataclasses.dataclass(frozen=True)
class Parameter:
    """A tunable rule value with its default and inclusive bounds."""

    default: int
    minimum: int
    maximum: int


PARAMETERS: dict[str, Parameter] = {
    # 10% is the hard ceiling the fee table may ever reach; governance may only lower it.
    "transfer_fee_cap_bps": Parameter(1_000, 0, 1_000),
    "velocity_tax_rate_bps": Parameter(300, 0, 600),
    "velocity_tax_threshold_qirat": Parameter(100 * QIRAT_PER_GX, 0, TOTAL_SUPPLY),
    "velocity_tax_period_days": Parameter(360, 1, 3_650),
    "loan_min_trust_score": Parameter(75, 0, MAX_TRUST_SCORE),
    "loan_min_qirat": Parameter(100 * QIRAT_PER_GX, 1, TOTAL_SUPPLY),
    "loan_max_qirat": Parameter(1_000_000 * QIRAT_PER_GX, 1, TOTAL_SUPPLY),
    "loan_max_active": Parameter(5, 1, 100),
    "loan_max_total_qirat": Parameter(10_000_000 * QIRAT_PER_GX, 1, TOTAL_SUPPLY),
    "governance_quorum_votes": Parameter(100, 1, 10_000_000_000),
    # Strictly more than half, so a proposal can never pass against a majority.
    "governance_approval_bps": Parameter(6_000, 5_001, 10_000),
    "voting_period_days": Parameter(14, 1, 90),
    "genesis_min_age": Parameter(18, 0, 150),
    "genesis_max_age": Parameter(65, 0, 150),
}


def check_parameter(name: str, value: int) -> Parameter:
    """Return the parameter *name* after checking *value* is within its bounds.

    Raises:
        Rejection: UNKNOWN_PARAMETER or PARAMETER_OUT_OF_RANGE.
    """
    spec = PARAMETERS.get(name)
    if spec is None:
        raise Rejection(
            "UNKNOWN_PARAMETER", f"{name!r} is not a system parameter ({', '.join(sorted(PARAMETERS))})"
        )
    if not spec.minimum <= value <= spec.maximum:
        raise Rejection(
            "PARAMETER_OUT_OF_RANGE", f"{name} must be within [{spec.minimum}, {spec.maximum}], got {value}"
        )
    return spec


# Fee tiers in basis points: (local, cross-border) for each kind of counterparty pair.
_FEES = {
    "merchant": (15, 30, res.TRANSFER_CATEGORY_MERCHANT_LOCAL, res.TRANSFER_CATEGORY_MERCHANT_CROSS_BORDER),
    "government": (
        10,
        20,
        res.TRANSFER_CATEGORY_GOVERNMENT_LOCAL,
        res.TRANSFER_CATEGORY_GOVERNMENT_CROSS_BORDER,
    ),
    "b2b": (20, 40, res.TRANSFER_CATEGORY_B2B_LOCAL, res.TRANSFER_CATEGORY_B2B_CROSS_BORDER),
}
_EXEMPT_TYPES = (res.ACCOUNT_TYPE_SYSTEM_POOL, res.ACCOUNT_TYPE_TREASURY)


@dataclasses.dataclass(frozen=True)
class Party:
    """One side of a transfer as the fee table sees it."""

    account_type: int
    country_code: str
    organization_type: int = res.ORGANIZATION_TYPE_UNSPECIFIED


def fee_for(sender: Party, receiver: Party, amount: int, cap_bps: int) -> tuple[int, int, int]:
    """Return (category, fee bps, fee in Qirat) for a transfer of *amount* Qirat.

    The fee is paid by the sender on top of the amount, rounded down, and never above
    *cap_bps* (itself at most 10%).
    """
    if sender.account_type in _EXEMPT_TYPES or receiver.account_type in _EXEMPT_TYPES:
        return res.TRANSFER_CATEGORY_EXEMPT, 0, 0
    local = sender.country_code == receiver.country_code
    orgs = [
        p.organization_type for p in (sender, receiver) if p.account_type == res.ACCOUNT_TYPE_ORGANIZATION
    ]
    if not orgs:
        if local:
            if amount < 3 * QIRAT_PER_GX:
                category, bps = res.TRANSFER_CATEGORY_P2P_LOCAL, 0
            elif amount <= 100 * QIRAT_PER_GX:
                category, bps = res.TRANSFER_CATEGORY_P2P_LOCAL, 5
            else:
                category, bps = res.TRANSFER_CATEGORY_P2P_LOCAL, 10
        elif amount <= 100 * QIRAT_PER_GX:
            category, bps = res.TRANSFER_CATEGORY_P2P_CROSS_BORDER, 15
        else:
            category, bps = res.TRANSFER_CATEGORY_P2P_CROSS_BORDER, 25
    else:
        if res.ORGANIZATION_TYPE_GOVERNMENT in orgs:
            kind = "government"
        elif len(orgs) == 2:
            kind = "b2b"
        else:
            kind = "merchant"
        local_bps, cross_bps, local_cat, cross_cat = _FEES[kind]
        category, bps = (local_cat, local_bps) if local else (cross_cat, cross_bps)
    bps = min(bps, cap_bps)
    return category, bps, amount * bps // 10_000


# --- transfer rules: decided once, here; the chaincode's transfer and the wallet's pre-checks both
# call `check_transfer` with the facts each side knows (the ledger's state, or the read models).

# Why a transfer is refused. The names are the public contract's (protos/gx/wallet/v1/
# wallet_service.proto): a client sees the same reason whether the wallet refused the transfer
# up front or the ledger failed its operation.
INVALID_AMOUNT = "INVALID_AMOUNT"
RECIPIENT_NOT_FOUND = "RECIPIENT_NOT_FOUND"
SELF_TRANSFER = "SELF_TRANSFER"
SYSTEM_PAUSED = "SYSTEM_PAUSED"
WALLET_FROZEN = "WALLET_FROZEN"
WALLET_NOT_ACTIVE = "WALLET_NOT_ACTIVE"
RECIPIENT_NOT_ACTIVE = "RECIPIENT_NOT_ACTIVE"
INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"


@dataclasses.dataclass(frozen=True)
class TransferSide:
    """One account of a transfer, as far as the transfer rules look at it.

    Attributes:
        account_id: The ledger account id.
        party: What the fee table looks at.
        balance_qirat: The spendable balance (the sender's; pending credits folded in).
        frozen: Whether it may not send. A frozen account still receives (FreezeWallet).
        active: Whether its owner is active: on the ledger any existing user account and any
            organisation account (opened at activation) is; the read models say so per row.
    """

    account_id: str
    party: Party
    balance_qirat: int
    frozen: bool
    active: bool = True


@dataclasses.dataclass(frozen=True)
class TransferVerdict:
    """What `check_transfer` decided: a refusal reason (None: allowed) and the price."""

    refusal: str | None
    detail: str = ""
    category: int = res.TRANSFER_CATEGORY_UNSPECIFIED
    fee_bps: int = 0
    fee_qirat: int = 0


def check_transfer(
    sender: TransferSide, receiver: TransferSide | None, amount: int, *, paused: bool, fee_cap_bps: int
) -> TransferVerdict:
    """Decide a transfer of *amount* Qirat (the receiver gets it; the sender pays the fee on top).

    The checks run in this order and the first that fails is the answer: a positive amount, an
    existing recipient, not to oneself, the system not paused, the sender neither frozen nor
    inactive, the recipient active (frozen or not), amount + fee within the sender's balance.

    Args:
        sender: The sending account.
        receiver: The receiving account, or None when it does not exist.
        amount: The amount in Qirat.
        paused: Whether value movement is paused.
        fee_cap_bps: The `transfer_fee_cap_bps` parameter in force.
    """
    if amount <= 0:
        return TransferVerdict(INVALID_AMOUNT, f"amount_qirat must be positive, got {amount}")
    if receiver is None:
        return TransferVerdict(RECIPIENT_NOT_FOUND, "the recipient does not exist on the ledger")
    if receiver.account_id == sender.account_id:
        return TransferVerdict(SELF_TRANSFER, "a wallet cannot send to itself")
    if paused:
        return TransferVerdict(SYSTEM_PAUSED, "value movement is paused")
    if sender.frozen:
        return TransferVerdict(WALLET_FROZEN, f"account {sender.account_id} is frozen and cannot send")
    if not sender.active:
        return TransferVerdict(WALLET_NOT_ACTIVE, f"account {sender.account_id} is not active")
    if not receiver.active:
        return TransferVerdict(RECIPIENT_NOT_ACTIVE, f"account {receiver.account_id} is not active")
    category, bps, fee = fee_for(sender.party, receiver.party, amount, fee_cap_bps)
    if sender.balance_qirat < amount + fee:
        return TransferVerdict(
            INSUFFICIENT_FUNDS,
            f"account {sender.account_id} has {sender.balance_qirat} Qirat, needs {amount} + fee {fee}",
            category,
            bps,
            fee,
        )
    return TransferVerdict(None, "", category, bps, fee)


def phase_slots(phase: int, share_bps: int) -> int:
    """Users a country with *share_bps* may pay in genesis *phase* (1-based)."""
    return PHASES[phase - 1][0] * share_bps // TOTAL_SHARE_BPS


def parse_date(text: str) -> datetime.date:
    """Parse YYYY-MM-DD.

    Raises:
        Rejection: INVALID_ARGUMENT if it is not a real calendar date in that form.
    """
    try:
        if len(text) != 10:
            raise ValueError("expected YYYY-MM-DD")
        return datetime.date.fromisoformat(text)
    except ValueError as exc:
        raise Rejection("INVALID_ARGUMENT", f"date_of_birth {text!r} is not a YYYY-MM-DD date") from exc


def age_on(birth: datetime.date, day: datetime.date) -> int:
    """Whole years from *birth* to *day*."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def tx_date(seconds: int) -> datetime.date:
    """The UTC calendar date of a transaction timestamp."""
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC).date()


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
