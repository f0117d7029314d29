"""The velocity-tax preview decides exactly as the chaincode does, at the boundaries of the rule.

Each case builds a ledger state with the real chaincode (in-memory peer), previews from the
account and parameters as the read models hold them, then lets the chaincode apply the tax at
the same instant and compares.
"""

from __future__ import annotations

import json

import pytest
from google.protobuf import timestamp_pb2
from gx.ledger.v1 import commands_pb2 as cmd
from gx.wallet.v1 import tax_service_pb2 as svc

import ledger_rules as rules
from services.wallet.tax import TaxView, preview_response
from tests.chaincode.conftest import COUNTRIES, new_user, rid, transfer
from tests.chaincode.fake_ledger import FakeLedger, stored_parameter
from tests.chaincode.projection import ledger_view

GX = rules.QIRAT_PER_GX
AD = "gx_admin"


@pytest.fixture
async def gx() -> FakeLedger:
    ledger = FakeLedger()
    assert (await ledger.invoke("BootstrapSystem", cmd.BootstrapSystemRequest(request_id=rid()))).ok
    request = cmd.InitializeCountriesRequest(request_id=rid())
    for code, name, share in COUNTRIES:
        request.countries.add(country_code=code, name=name, share_bps=share)
    assert (await ledger.invoke("InitializeCountries", request)).ok
    return ledger


async def _param(gx: FakeLedger, name: str, value: int) -> None:
    out = await gx.invoke(
        "UpdateSystemParameter",
        cmd.UpdateSystemParameterRequest(parameter=name, value=value, request_id=rid()),
    )
    assert out.ok, out.message


def _view(gx: FakeLedger, account_id: str) -> TaxView:
    """The account and parameters exactly as the projector stores them from the events."""
    account = json.loads(gx.world[f"acct~{account_id}"])
    # Balance and timer include the account's pending credits (accrual keys), as the read model does.
    balance, timer = ledger_view(gx.world)[account_id]
    start = None
    if timer is not None:
        stamp = timestamp_pb2.Timestamp()
        stamp.FromJsonString(timer)
        start = stamp.ToDatetime(tzinfo=gx.now.tzinfo)

    def param(name: str) -> int:
        stored = stored_parameter(gx.world, name)  # bootstrap pins every parameter on chain
        assert stored is not None, name
        return stored

    return TaxView(
        wallet_id=account_id,
        account_type=account["type"].removeprefix("ACCOUNT_TYPE_"),
        user_id=account_id if account["type"] == "ACCOUNT_TYPE_USER" else None,
        balance_qirat=balance,
        holding_start=start,
        threshold_qirat=param("velocity_tax_threshold_qirat"),
        period_days=param("velocity_tax_period_days"),
        rate_bps=param("velocity_tax_rate_bps"),
    )


async def _preview_then_apply(
    gx: FakeLedger, account_id: str
) -> tuple[svc.PreviewVelocityTaxResponse, cmd.ApplyVelocityTaxResult | None]:
    preview = preview_response(_view(gx, account_id), int(gx.now.timestamp()))
    out = await gx.invoke(
        "ApplyVelocityTax", cmd.ApplyVelocityTaxRequest(account_id=account_id, request_id=rid()), role=AD
    )
    if out.status == 400:  # the chaincode refuses accounts that never pay the tax
        assert out.message.startswith("INVALID_ARGUMENT"), out.message
        return preview, None
    result = out.result(cmd.ApplyVelocityTaxResult)
    # The preview and the ledger agree on whether and how much, to the Qirat.
    assert (
        preview.taxable,
        preview.tax_qirat,
        preview.treasury_share_qirat,
        preview.charity_share_qirat,
    ) == (
        result.taxed,
        result.tax_qirat,
        result.treasury_qirat,
        result.charity_qirat,
    )
    assert preview.balance_qirat == result.balance_qirat + result.tax_qirat
    return preview, result


async def test_below_the_threshold_nothing_is_due(gx: FakeLedger) -> None:
    spender, friend = await new_user(gx), await new_user(gx)
    assert (await transfer(gx, spender, friend, 450 * GX)).ok
    gx.advance(days=400)
    preview, result = await _preview_then_apply(gx, spender)
    assert result is not None and result.skip_reason == rules.TAX_BELOW_THRESHOLD
    assert (preview.taxable_balance_qirat, preview.HasField("holding_start_time")) == (0, False)


async def test_exactly_at_the_threshold_nothing_is_due_even_with_an_old_timer(gx: FakeLedger) -> None:
    holder = await new_user(gx)  # 500 GX since genesis, timer running
    await _param(gx, "velocity_tax_threshold_qirat", 500 * GX)  # now exactly at it
    gx.advance(days=400)
    assert _view(gx, holder).holding_start is not None  # the timer is only cleared at the next store
    preview, result = await _preview_then_apply(gx, holder)
    assert result is not None and result.skip_reason == rules.TAX_BELOW_THRESHOLD
    assert not preview.HasField("holding_start_time")


async def test_one_second_before_the_holding_period_ends_it_is_not_due(gx: FakeLedger) -> None:
    holder = await new_user(gx)
    gx.advance(days=360, seconds=-1)
    preview, result = await _preview_then_apply(gx, holder)
    assert result is not None and result.skip_reason == rules.TAX_NOT_DUE
    assert preview.taxable_time.seconds == preview.holding_start_time.seconds + 360 * rules.DAY_SECONDS


async def test_exactly_at_the_holding_period_it_is_due(gx: FakeLedger) -> None:
    holder = await new_user(gx)
    gx.advance(days=360)
    preview, result = await _preview_then_apply(gx, holder)
    assert result is not None and result.taxed
    assert preview.tax_qirat == 400 * GX * 300 // 10_000
    assert not preview.HasField("taxable_time")


async def test_above_the_threshold_one_qirat_pays_the_tax_on_one_qirat(gx: FakeLedger) -> None:
    holder = await new_user(gx)
    await _param(gx, "velocity_tax_rate_bps", 600)
    await _param(gx, "velocity_tax_threshold_qirat", 500 * GX - 20)  # 20 Qirat above: 6% rounds to 1
    gx.advance(days=361)
    preview, result = await _preview_then_apply(gx, holder)
    assert result is not None and result.taxed
    assert (preview.taxable_balance_qirat, preview.tax_qirat, preview.treasury_share_qirat) == (20, 1, 0)


async def test_a_tax_that_rounds_to_zero_is_not_due(gx: FakeLedger) -> None:
    holder = await new_user(gx)
    await _param(gx, "velocity_tax_threshold_qirat", 500 * GX - 10)  # 3% of 10 Qirat rounds to 0
    gx.advance(days=361)
    preview, result = await _preview_then_apply(gx, holder)
    assert result is not None and result.skip_reason == rules.TAX_NOT_DUE
    assert not preview.HasField("taxable_time")  # the period passed; only a balance change can make it due


async def test_a_lowered_threshold_starts_no_timer_until_the_account_moves(gx: FakeLedger) -> None:
    sender, receiver = await new_user(gx), await new_user(gx)
    assert (await transfer(gx, sender, receiver, 450 * GX)).ok  # sender: under 100 GX, no timer
    await _param(gx, "velocity_tax_threshold_qirat", 10 * GX)
    gx.advance(days=400)
    preview, result = await _preview_then_apply(gx, sender)
    assert result is not None and result.skip_reason == rules.TAX_NOT_DUE
    assert preview.taxable_balance_qirat > 0 and not preview.HasField("holding_start_time")


async def test_the_period_restarts_after_the_tax(gx: FakeLedger) -> None:
    holder = await new_user(gx)
    gx.advance(days=365)
    assert (await _preview_then_apply(gx, holder))[1].taxed  # type: ignore[union-attr]
    gx.advance(days=359)
    _, result = await _preview_then_apply(gx, holder)
    assert result is not None and result.skip_reason == rules.TAX_NOT_DUE
    gx.advance(days=1)
    assert (await _preview_then_apply(gx, holder))[1].taxed  # type: ignore[union-attr]


@pytest.mark.parametrize("account_id", [rules.CHARITABLE_POOL, rules.USER_GENESIS_POOL, "treasury_LK"])
async def test_system_pools_and_treasuries_are_exempt(gx: FakeLedger, account_id: str) -> None:
    await new_user(gx, "LK")  # genesis gives the treasury a balance too
    gx.advance(days=4000)
    preview, result = await _preview_then_apply(gx, account_id)
    assert result is None  # the chaincode refuses them outright
    assert (preview.taxable, preview.tax_qirat, preview.HasField("holding_start_time")) == (False, 0, False)
    assert preview.balance_qirat > 0


def test_the_rule_is_the_chaincodes_own_function() -> None:
    """The preview imports the rule; it never keeps a copy that could drift."""
    from services.wallet import tax

    assert tax.rules.velocity_tax is rules.velocity_tax
