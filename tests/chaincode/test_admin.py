"""Bootstrap, countries, parameters, pause/resume, admins and treasuries."""

from __future__ import annotations

from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import queries_pb2 as qry

import ledger_rules as rules
from tests.chaincode.conftest import new_user, rid, transfer
from tests.chaincode.fake_ledger import FakeLedger, stored_parameter

GX = rules.QIRAT_PER_GX


async def test_bootstrap_mints_the_fixed_supply_into_six_pools_once(ledger: FakeLedger) -> None:
    out = await ledger.invoke("BootstrapSystem", cmd.BootstrapSystemRequest(request_id=rid()))
    result = out.result(cmd.BootstrapSystemResult)
    assert result.total_supply_qirat == 1_250_000_000_000 * GX == 1_250_000_000_000_000_000
    assert {p.account_id: p.balance_qirat for p in result.pools} == dict(rules.POOLS)
    assert out.domain_events() == ["system_bootstrapped"]
    assert ledger.total_balances() == rules.TOTAL_SUPPLY
    bootstrapped = out.ledger_events().events[0].system_bootstrapped
    # Every parameter with its default, once each and in name order, so the read models start complete.
    assert [(p.name, p.value) for p in bootstrapped.parameters] == [
        (name, spec.default) for name, spec in sorted(rules.PARAMETERS.items())
    ]
    assert {p.account_id: p.balance_qirat for p in bootstrapped.pools} == dict(rules.POOLS)

    again = await ledger.invoke("BootstrapSystem", cmd.BootstrapSystemRequest(request_id=rid()))
    assert again.status == 400
    assert again.message.startswith("ALREADY_BOOTSTRAPPED")
    assert ledger.total_balances() == rules.TOTAL_SUPPLY


async def test_bootstrap_announces_and_pins_a_parameter_set_before_it(ledger: FakeLedger) -> None:
    # UpdateSystemParameter does not wait for bootstrap; the bootstrap event must carry the value
    # in force, not the default, or a projector replaying in order would overwrite the change.
    out = await ledger.invoke(
        "UpdateSystemParameter",
        cmd.UpdateSystemParameterRequest(parameter="loan_max_active", value=7, request_id=rid()),
    )
    assert out.ok, out.message
    out = await ledger.invoke("BootstrapSystem", cmd.BootstrapSystemRequest(request_id=rid()))
    assert out.ok, out.message
    announced = {p.name: p.value for p in out.ledger_events().events[0].system_bootstrapped.parameters}
    assert announced == {name: spec.default for name, spec in rules.PARAMETERS.items()} | {
        "loan_max_active": 7
    }

    status = (await ledger.invoke("GetSystemStatus", qry.GetSystemStatusRequest())).result(
        qry.GetSystemStatusResult
    )
    assert {p.name: p.value for p in status.status.parameters} == announced
    # Pinned: every parameter is stored on chain, not only implied by the code's defaults.
    assert {name: stored_parameter(ledger.world, name) for name in rules.PARAMETERS} == announced
    assert not [key for key in ledger.world if key.startswith("param~")]  # one key holds them all


async def test_bootstrap_needs_super_admin(ledger: FakeLedger) -> None:
    out = await ledger.invoke(
        "BootstrapSystem", cmd.BootstrapSystemRequest(request_id=rid()), role="gx_admin"
    )
    assert out.status == 403
    assert out.message.startswith("PERMISSION_DENIED")
    assert ledger.world == {}


async def test_countries_create_locked_treasuries_and_cap_shares(gx: FakeLedger) -> None:
    out = await gx.invoke("GetCountry", qry.GetCountryRequest(country_code="LK"))
    country = out.result(qry.GetCountryResult).country
    assert (country.share_bps, country.genesis_phase, country.treasury_account_id) == (5000, 1, "treasury_LK")
    treasury = (await gx.invoke("GetBalance", qry.GetBalanceRequest(account_id="treasury_LK"))).result(
        qry.GetBalanceResult
    )
    assert treasury.account.frozen

    too_much = cmd.InitializeCountriesRequest(request_id=rid())
    too_much.countries.add(country_code="FR", name="France", share_bps=1)
    out = await gx.invoke("InitializeCountries", too_much)
    assert out.status == 400 and out.message.startswith("SHARES_EXCEED_TOTAL")

    twice = cmd.InitializeCountriesRequest(request_id=rid())
    twice.countries.add(country_code="LK", name="Sri Lanka", share_bps=1)
    assert (await gx.invoke("InitializeCountries", twice)).message.startswith("COUNTRY_EXISTS")


async def test_parameters_are_bounded_and_recorded(gx: FakeLedger) -> None:
    out = await gx.invoke(
        "UpdateSystemParameter",
        cmd.UpdateSystemParameterRequest(parameter="transfer_fee_cap_bps", value=1001, request_id=rid()),
    )
    assert out.status == 400 and out.message.startswith("PARAMETER_OUT_OF_RANGE")
    out = await gx.invoke(
        "UpdateSystemParameter",
        cmd.UpdateSystemParameterRequest(parameter="no_such", value=1, request_id=rid()),
    )
    assert out.message.startswith("UNKNOWN_PARAMETER")
    out = await gx.invoke(
        "UpdateSystemParameter",
        cmd.UpdateSystemParameterRequest(parameter="transfer_fee_cap_bps", value=7, request_id=rid()),
    )
    result = out.result(cmd.UpdateSystemParameterResult)
    assert (result.parameter.value, result.previous_value) == (7, 1000)
    status = (
        (await gx.invoke("GetSystemStatus", qry.GetSystemStatusRequest()))
        .result(qry.GetSystemStatusResult)
        .status
    )
    assert {p.name: p.value for p in status.parameters}["transfer_fee_cap_bps"] == 7
    assert status.bootstrapped and status.country_count == 3 and status.total_share_bps == 10_000


async def test_pause_blocks_transfers_until_resumed(gx: FakeLedger) -> None:
    alice, bob = await new_user(gx), await new_user(gx)
    out = await gx.invoke("PauseSystem", cmd.PauseSystemRequest(reason="incident 42", request_id=rid()))
    assert out.ok and out.domain_events() == ["system_paused"]
    assert (
        await gx.invoke("PauseSystem", cmd.PauseSystemRequest(reason="x", request_id=rid()))
    ).message.startswith("ALREADY_PAUSED")
    refused = await transfer(gx, alice, bob, GX)
    assert refused.status == 400 and refused.message.startswith("SYSTEM_PAUSED")
    assert (await gx.invoke("ResumeSystem", cmd.ResumeSystemRequest(request_id=rid()))).ok
    assert (await transfer(gx, alice, bob, GX)).ok
    assert (await gx.invoke("ResumeSystem", cmd.ResumeSystemRequest(request_id=rid()))).message.startswith(
        "NOT_PAUSED"
    )


async def test_appoint_admin_refuses_self_appointment(gx: FakeLedger) -> None:
    alice, bob = await new_user(gx), await new_user(gx)
    out = await gx.invoke(
        "AppointAdmin", cmd.AppointAdminRequest(user_id=alice, appointed_by=alice, request_id=rid())
    )
    assert out.status == 400 and out.message.startswith("SELF_APPOINTMENT")
    out = await gx.invoke(
        "AppointAdmin", cmd.AppointAdminRequest(user_id=alice, appointed_by=bob, request_id=rid())
    )
    assert out.result(cmd.AppointAdminResult).user.admin
    assert out.domain_events() == ["admin_appointed"]


async def test_active_treasury_sends_only_for_admins(gx: FakeLedger) -> None:
    alice = await new_user(gx)
    refused = await transfer(gx, "treasury_LK", alice, GX)
    assert refused.status == 403  # the partner API identity may not move public money at all
    locked = await gx.invoke(
        "TransferTokens",
        cmd.TransferTokensRequest(
            from_account_id="treasury_LK", to_account_id=alice, amount_qirat=GX, request_id=rid()
        ),
        role="gx_admin",
    )
    assert locked.status == 400 and locked.message.startswith("WALLET_FROZEN")
    out = await gx.invoke(
        "ActivateTreasury", cmd.ActivateTreasuryRequest(country_code="LK", request_id=rid()), role="gx_admin"
    )
    assert out.ok and not out.result(cmd.ActivateTreasuryResult).account.frozen
    assert (await transfer(gx, "treasury_LK", alice, GX)).message.startswith("PERMISSION_DENIED")
    before = gx.balance(alice)
    sent = await gx.invoke(
        "TransferTokens",
        cmd.TransferTokensRequest(
            from_account_id="treasury_LK", to_account_id=alice, amount_qirat=GX, request_id=rid()
        ),
        role="gx_admin",
    )
    result = sent.result(cmd.TransferTokensResult)
    assert result.fee_qirat == 0  # treasuries are fee-exempt
    assert gx.balance(alice) == before + GX
