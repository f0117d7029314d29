"""The fee preview's inputs map onto the chaincode's own fee rule for every kind of counterparty."""

from __future__ import annotations

import itertools

import pytest
from gx.ledger.v1 import resources_pb2 as res

import ledger_rules as rules
from services.wallet import fees
from services.wallet.readmodels import Account

GX = 1_000_000


def _account(kind: str, country: str = "LK", org_type: str | None = None) -> Account:
    return Account(
        wallet_id=f"{kind}-{country}",
        account_type=kind,
        user_id=None,
        country_code=country,
        balance_qirat=0,
        frozen=False,
        frozen_reason=None,
        user_status="ACTIVE" if kind == "USER" else None,
        genesis_received=False,
        org_type=org_type,
        org_status="ACTIVE" if kind == "ORGANIZATION" else None,
        block_number=1,
        create_time=None,
        update_time=None,
    )


_PARTIES = [
    ("USER", None, res.ORGANIZATION_TYPE_UNSPECIFIED),
    ("ORGANIZATION", "BUSINESS", res.ORGANIZATION_TYPE_BUSINESS),
    ("ORGANIZATION", "NGO", res.ORGANIZATION_TYPE_NGO),
    ("ORGANIZATION", "GOVERNMENT", res.ORGANIZATION_TYPE_GOVERNMENT),
    ("TREASURY", None, res.ORGANIZATION_TYPE_UNSPECIFIED),
]


@pytest.mark.parametrize(("sender", "receiver"), list(itertools.product(_PARTIES, repeat=2)))
@pytest.mark.parametrize("amount", [1, 3 * GX - 1, 3 * GX, 100 * GX, 100 * GX + 1, 10_000 * GX])
@pytest.mark.parametrize("receiver_country", ["LK", "IN"])
def test_preview_fee_equals_the_chaincode_rule(
    sender: tuple, receiver: tuple, amount: int, receiver_country: str
) -> None:
    a = _account(sender[0], "LK", sender[1])
    b = _account(receiver[0], receiver_country, receiver[1])
    fee = fees.transfer_fee(a, b, amount, None)
    expected = rules.fee_for(
        rules.Party(res.AccountType.Value(f"ACCOUNT_TYPE_{sender[0]}"), "LK", sender[2]),
        rules.Party(res.AccountType.Value(f"ACCOUNT_TYPE_{receiver[0]}"), receiver_country, receiver[2]),
        amount,
        rules.PARAMETERS["transfer_fee_cap_bps"].default,
    )
    assert (fee.category, fee.fee_bps, fee.fee_qirat) == expected
    assert fee.cross_border == (receiver_country != "LK")


def test_the_cap_applies_and_an_unknown_org_type_counts_as_a_business() -> None:
    user, shop = _account("USER"), _account("ORGANIZATION", org_type=None)
    assert fees.transfer_fee(user, shop, 100 * GX, None).fee_bps == 15
    capped = fees.transfer_fee(user, shop, 100 * GX, 4)
    assert (capped.fee_bps, capped.fee_qirat) == (4, 100 * GX * 4 // 10_000)
    assert fees.transfer_fee(user, shop, 100 * GX, 0).fee_qirat == 0
