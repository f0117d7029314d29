"""The money itself: the Qirat unit, the six system pools and the fixed supply they hold."""

from __future__ import annotations

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
