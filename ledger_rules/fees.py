"""The transfer fee table: who pays what for moving value between two kinds of account."""

from __future__ import annotations

import dataclasses

from gx.ledger.v1 import resources_pb2 as res

from ledger_rules.supply import QIRAT_PER_GX

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


def fee_for(
    sender: Party, receiver: Party, amount: int, cap_bps: int
) -> tuple[res.TransferCategory, int, int]:
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
