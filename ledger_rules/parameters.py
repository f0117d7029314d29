"""The tunable rule values (system parameters): their defaults and the bounds governance must respect."""

from __future__ import annotations

import dataclasses

from ledger_rules.errors import Rejection
from ledger_rules.loans import MAX_TRUST_SCORE
from ledger_rules.supply import QIRAT_PER_GX, TOTAL_SUPPLY

UNKNOWN_PARAMETER = "UNKNOWN_PARAMETER"
PARAMETER_OUT_OF_RANGE = "PARAMETER_OUT_OF_RANGE"


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
            UNKNOWN_PARAMETER, f"{name!r} is not a system parameter ({', '.join(sorted(PARAMETERS))})"
        )
    if not spec.minimum <= value <= spec.maximum:
        raise Rejection(
            PARAMETER_OUT_OF_RANGE, f"{name} must be within [{spec.minimum}, {spec.maximum}], got {value}"
        )
    return spec
