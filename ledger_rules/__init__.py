"""The GX ledger's pure rules: constants and integer functions with no state, clock or I/O.

The chaincode decides with them and the services pre-check with them, so the two cannot disagree.
This package imports only itself, the standard library and the generated `gx` messages: it deploys
with the chaincode to real Fabric. Its API is flat (``import ledger_rules as rules``), one module
per rule: `supply`, `parameters`, `fees`, `transfers`, `genesis`, `loans`, `governance`, `tax`;
the multisig approval rules stay a namespace of their own (``from ledger_rules import multisig``).
"""

from ledger_rules.errors import Rejection
from ledger_rules.fees import Party, fee_for
from ledger_rules.genesis import (
    AGE_OUT_OF_WINDOW,
    PHASES,
    PHASES_EXHAUSTED,
    TOTAL_SHARE_BPS,
    advance_phase,
    age_eligible,
    age_on,
    parse_date,
    phase_slots,
    tx_date,
)
from ledger_rules.governance import proposal_passes
from ledger_rules.loans import (
    AMOUNT_OUT_OF_RANGE,
    INITIAL_TRUST_SCORE,
    MAX_TRUST_SCORE,
    TRUST_PER_REPAID_LOAN,
    TRUST_TOO_LOW,
    USER_NOT_ACTIVE,
    Refusal,
    amount_refusal,
    standing_refusal,
    trust_after_repayment,
    trust_refusal,
)
from ledger_rules.parameters import (
    PARAMETER_OUT_OF_RANGE,
    PARAMETERS,
    UNKNOWN_PARAMETER,
    Parameter,
    check_parameter,
)
from ledger_rules.supply import (
    CHARITABLE_POOL,
    GOVT_GENESIS_POOL,
    GX_POOL,
    LOAN_POOL,
    OPERATIONS_FUND,
    POOLS,
    QIRAT_PER_GX,
    TOTAL_SUPPLY,
    USER_GENESIS_POOL,
)
from ledger_rules.tax import (
    DAY_SECONDS,
    TAX_BELOW_THRESHOLD,
    TAX_EXEMPT_ACCOUNT,
    TAX_NOT_DUE,
    TAX_TREASURY_PERCENT,
    VelocityTax,
    pays_velocity_tax,
    velocity_tax,
)
from ledger_rules.transfers import (
    INSUFFICIENT_FUNDS,
    INVALID_AMOUNT,
    RECIPIENT_NOT_ACTIVE,
    RECIPIENT_NOT_FOUND,
    SELF_TRANSFER,
    SYSTEM_PAUSED,
    WALLET_FROZEN,
    WALLET_NOT_ACTIVE,
    TransferSide,
    TransferVerdict,
    check_transfer,
)

__all__ = [
    "AGE_OUT_OF_WINDOW",
    "AMOUNT_OUT_OF_RANGE",
    "CHARITABLE_POOL",
    "DAY_SECONDS",
    "GOVT_GENESIS_POOL",
    "GX_POOL",
    "INITIAL_TRUST_SCORE",
    "INSUFFICIENT_FUNDS",
    "INVALID_AMOUNT",
    "LOAN_POOL",
    "MAX_TRUST_SCORE",
    "OPERATIONS_FUND",
    "PARAMETERS",
    "PARAMETER_OUT_OF_RANGE",
    "PHASES",
    "PHASES_EXHAUSTED",
    "POOLS",
    "QIRAT_PER_GX",
    "RECIPIENT_NOT_ACTIVE",
    "RECIPIENT_NOT_FOUND",
    "SELF_TRANSFER",
    "SYSTEM_PAUSED",
    "TAX_BELOW_THRESHOLD",
    "TAX_EXEMPT_ACCOUNT",
    "TAX_NOT_DUE",
    "TAX_TREASURY_PERCENT",
    "TOTAL_SHARE_BPS",
    "TOTAL_SUPPLY",
    "TRUST_PER_REPAID_LOAN",
    "TRUST_TOO_LOW",
    "UNKNOWN_PARAMETER",
    "USER_GENESIS_POOL",
    "USER_NOT_ACTIVE",
    "WALLET_FROZEN",
    "WALLET_NOT_ACTIVE",
    "Parameter",
    "Party",
    "Refusal",
    "Rejection",
    "TransferSide",
    "TransferVerdict",
    "VelocityTax",
    "advance_phase",
    "age_eligible",
    "age_on",
    "amount_refusal",
    "check_parameter",
    "check_transfer",
    "fee_for",
    "parse_date",
    "pays_velocity_tax",
    "phase_slots",
    "proposal_passes",
    "standing_refusal",
    "trust_after_repayment",
    "trust_refusal",
    "tx_date",
    "velocity_tax",
]
