"""The transfer fee as the chaincode computes it: the shared pure rule functions, fed from the read models.

Importing `ledger_rules` (pure integer functions, no state, no Fabric imports; the chaincode decides
with the same ones) rather than copying the fee table means a preview and the ledger can never
disagree about a fee.
"""

from __future__ import annotations

from dataclasses import dataclass

from gx.ledger.v1 import resources_pb2 as res

import ledger_rules as rules
from services.wallet.readmodels import Account


@dataclass(frozen=True)
class Fee:
    """A transfer's price.

    Attributes:
        fee_qirat: Paid by the sender on top of the amount.
        fee_bps: The rate applied.
        category: The ledger's TransferCategory number.
        cross_border: Whether the two sides are in different countries.
    """

    fee_qirat: int
    fee_bps: int
    category: int
    cross_border: bool


def default_fee_cap_bps() -> int:
    """The fee cap before governance or an operator changed it."""
    return rules.PARAMETERS["transfer_fee_cap_bps"].default


def _party(account: Account) -> rules.Party:
    account_type = res.AccountType.Value(f"ACCOUNT_TYPE_{account.account_type}")
    org_type = res.ORGANIZATION_TYPE_UNSPECIFIED
    if account.account_type == "ORGANIZATION":
        # The chaincode treats an organisation of unknown kind as a business; so do we.
        org_type = res.OrganizationType.Value(f"ORGANIZATION_TYPE_{account.org_type or 'BUSINESS'}")
    return rules.Party(account_type, account.country_code or "", org_type)


def transfer_side(account: Account) -> rules.TransferSide:
    """A read-model account as the chaincode's transfer rules see it (its known balance)."""
    return rules.TransferSide(
        account.wallet_id, _party(account), account.balance_qirat, account.frozen, account.active
    )


def check_transfer(
    sender: Account, receiver: Account | None, amount_qirat: int, *, paused: bool, cap_bps: int | None
) -> tuple[rules.TransferVerdict, Fee]:
    """The chaincode's own transfer decision (`rules.check_transfer`) over the read models.

    Returns:
        The verdict (its `refusal` is the reason the ledger would answer) and the price.
    """
    cap = default_fee_cap_bps() if cap_bps is None else cap_bps
    verdict = rules.check_transfer(
        transfer_side(sender),
        transfer_side(receiver) if receiver is not None else None,
        amount_qirat,
        paused=paused,
        fee_cap_bps=cap,
    )
    cross_border = receiver is not None and (sender.country_code or "") != (receiver.country_code or "")
    return verdict, Fee(verdict.fee_qirat, verdict.fee_bps, verdict.category, cross_border)


def transfer_fee(sender: Account, receiver: Account, amount_qirat: int, cap_bps: int | None) -> Fee:
    """The fee of sending `amount_qirat` from `sender` to `receiver` under the cap (None: default)."""
    cap = default_fee_cap_bps() if cap_bps is None else cap_bps
    category, bps, fee = rules.fee_for(_party(sender), _party(receiver), amount_qirat, cap)
    return Fee(fee, bps, category, (sender.country_code or "") != (receiver.country_code or ""))
