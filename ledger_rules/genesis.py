"""Genesis eligibility: the six phases, a country's slots in them and the age window."""

from __future__ import annotations

import datetime

from ledger_rules.errors import Rejection

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
# Countries' population shares are basis points of the world; together at most this.
TOTAL_SHARE_BPS = 10_000
SHARES_EXCEED_TOTAL = "SHARES_EXCEED_TOTAL"

# Why a user got no genesis (the ledger's `GenesisSkipped.reason`); a paused system defers it
# with transfers.SYSTEM_PAUSED instead.
AGE_OUT_OF_WINDOW = "AGE_OUT_OF_WINDOW"
PHASES_EXHAUSTED = "PHASES_EXHAUSTED"


def phase_slots(phase: int, share_bps: int) -> int:
    """Users a country with *share_bps* may pay in genesis *phase* (1-based)."""
    return PHASES[phase - 1][0] * share_bps // TOTAL_SHARE_BPS


def shares_fit(total_share_bps: int) -> bool:
    """Whether the countries' population shares, summed, fit in the world (SHARES_EXCEED_TOTAL if not)."""
    return total_share_bps <= TOTAL_SHARE_BPS


def advance_phase(phase: int, phase_users: int, share_bps: int) -> tuple[int, int]:
    """Move a country past its full phases.

    Args:
        phase: The country's current phase (1-based).
        phase_users: Users it has paid in that phase.
        share_bps: Its population share.

    Returns:
        The phase it pays in now and its users there; a phase beyond `PHASES` (with 0 users)
        means every phase is used up.
    """
    while phase <= len(PHASES):
        if phase_users < phase_slots(phase, share_bps):
            return phase, phase_users
        phase, phase_users = phase + 1, 0
    return phase, phase_users


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


def age_eligible(date_of_birth: str, tx_seconds: int, min_age: int, max_age: int) -> bool:
    """Whether a user born on *date_of_birth* is within the genesis age window.

    The age is taken on the transaction's (UTC) date, never a server clock, so every endorser
    decides the same.

    Raises:
        Rejection: INVALID_ARGUMENT for a date of birth that is not YYYY-MM-DD.
    """
    age = age_on(parse_date(date_of_birth), tx_date(tx_seconds))
    return min_age <= age <= max_age
