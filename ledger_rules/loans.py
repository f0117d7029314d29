"""Loan eligibility: the amount window, the borrower's standing and trust, and trust earned by repaying."""

from __future__ import annotations

import dataclasses

from ledger_rules.transfers import WALLET_FROZEN

INITIAL_TRUST_SCORE = 10
TRUST_PER_REPAID_LOAN = 5
MAX_TRUST_SCORE = 100

# Why a loan application is refused (a frozen borrower is WALLET_FROZEN, as a frozen sender is).
# The wallet answers WALLET_NOT_ACTIVE (its public name) where the ledger answers USER_NOT_ACTIVE;
# the other names are the same on both sides.
AMOUNT_OUT_OF_RANGE = "AMOUNT_OUT_OF_RANGE"
USER_NOT_ACTIVE = "USER_NOT_ACTIVE"
TRUST_TOO_LOW = "TRUST_TOO_LOW"
# A repayment above what is owed; the wallet names it REPAYMENT_EXCEEDS_OUTSTANDING.
OVERPAYMENT = "OVERPAYMENT"


@dataclasses.dataclass(frozen=True)
class Refusal:
    """Why a loan rule says no: a stable reason and a human-readable detail."""

    reason: str
    detail: str


def amount_refusal(amount_qirat: int, min_qirat: int, max_qirat: int) -> Refusal | None:
    """AMOUNT_OUT_OF_RANGE unless *amount_qirat* is within the `loan_min_qirat`/`loan_max_qirat` window."""
    if min_qirat <= amount_qirat <= max_qirat:
        return None
    return Refusal(
        AMOUNT_OUT_OF_RANGE, f"a loan must be within [{min_qirat}, {max_qirat}] Qirat, got {amount_qirat}"
    )


def standing_refusal(borrower_id: str, *, active: bool, frozen: bool) -> Refusal | None:
    """USER_NOT_ACTIVE or WALLET_FROZEN (in that order) unless the borrower may take on a loan."""
    if not active:
        return Refusal(USER_NOT_ACTIVE, f"user {borrower_id} is not active")
    if frozen:
        return Refusal(WALLET_FROZEN, f"account {borrower_id} is frozen")
    return None


def trust_refusal(trust_score: int, min_trust_score: int) -> Refusal | None:
    """TRUST_TOO_LOW when *trust_score* is below `loan_min_trust_score`."""
    if trust_score >= min_trust_score:
        return None
    return Refusal(TRUST_TOO_LOW, f"trust score {trust_score} is below the required {min_trust_score}")


def repayment_refusal(amount_qirat: int, outstanding_qirat: int) -> Refusal | None:
    """OVERPAYMENT when a repayment is more than the loan's outstanding amount."""
    if amount_qirat <= outstanding_qirat:
        return None
    return Refusal(OVERPAYMENT, f"only {outstanding_qirat} Qirat is outstanding")


def trust_after_repayment(trust_score: int) -> int:
    """The borrower's trust score once a loan is repaid in full (capped at MAX_TRUST_SCORE)."""
    return min(MAX_TRUST_SCORE, trust_score + TRUST_PER_REPAID_LOAN)
