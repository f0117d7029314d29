"""System administration over real gRPC: roles, read-model preconditions, the recorded commands, reads."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import grpc
import pytest
from gx.type.v1 import command_pb2
from gx.wallet.v1 import admin_service_pb2 as adm
from gx.wallet.v1 import (
    wallet_pb2,
)

from tests.grpc.wallet.wallet_harness import GX, Wallet, failure

_SHIPPED = json.loads((Path(__file__).resolve().parents[3] / "data" / "countries.json").read_text())[
    "countries"
]


def _rid() -> str:
    return str(uuid.uuid4())


def _root(wallet: Wallet) -> tuple[tuple[str, str], ...]:
    return wallet.token(str(uuid.uuid4()), "SUPER_ADMIN", "ADMIN", "USER")


async def test_bootstrap_is_for_super_admins_and_recorded_once(wallet: Wallet) -> None:
    for roles in (("USER",), ("ADMIN",)):
        bad = await failure(
            wallet.admin.BootstrapSystem(
                adm.BootstrapSystemRequest(request_id=_rid()), metadata=wallet.token("u", *roles)
            )
        )
        assert bad.code == grpc.StatusCode.PERMISSION_DENIED
    root = _root(wallet)
    call = wallet.admin.BootstrapSystem(adm.BootstrapSystemRequest(request_id=_rid()), metadata=root)
    op = await call
    assert dict(await call.initial_metadata())["x-http-status"] == "202"
    assert op.command_type == command_pb2.COMMAND_TYPE_BOOTSTRAP_SYSTEM
    (row,) = await wallet.commands()
    assert row.command_type == "BOOTSTRAP_SYSTEM" and row.payload == {"requestId": row.request_id}
    await wallet.system(bootstrapped=True)
    again = await failure(
        wallet.admin.BootstrapSystem(adm.BootstrapSystemRequest(request_id=_rid()), metadata=root)
    )
    assert (again.code, again.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_BOOTSTRAPPED")
    assert len(await wallet.commands()) == 1


async def test_initialize_countries_with_no_list_uses_the_shipped_file(wallet: Wallet) -> None:
    await wallet.system()
    await wallet.admin.InitializeCountries(
        adm.InitializeCountriesRequest(request_id=_rid()), metadata=_root(wallet)
    )
    (row,) = await wallet.commands("INITIALIZE_COUNTRY")
    assert row.payload["countries"] == _SHIPPED
    assert sum(c["shareBps"] for c in row.payload["countries"]) == 10_000


async def test_initialize_countries_checks_duplicates_existing_and_total(wallet: Wallet) -> None:
    await wallet.system()
    root = _root(wallet)
    dup = adm.InitializeCountriesRequest(
        request_id=_rid(),
        countries=[
            adm.CountryShare(country_code="LK", population_share_bps=30),
            adm.CountryShare(country_code="LK", population_share_bps=30),
        ],
    )
    bad = await failure(wallet.admin.InitializeCountries(dup, metadata=root))
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT and "countries[1].country_code" in bad.fields
    await wallet.sql(
        "INSERT INTO ledger.countries (country_code, name, share_bps, treasury_account_id, block_number)"
        " VALUES ('LK', 'Sri Lanka', 9990, 'treasury_LK', 2)"
    )
    taken = adm.InitializeCountriesRequest(
        request_id=_rid(), countries=[adm.CountryShare(country_code="LK", population_share_bps=1)]
    )
    bad = await failure(wallet.admin.InitializeCountries(taken, metadata=root))
    assert (bad.code, bad.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "COUNTRY_EXISTS")
    over = adm.InitializeCountriesRequest(
        request_id=_rid(), countries=[adm.CountryShare(country_code="IN", population_share_bps=11)]
    )
    bad = await failure(wallet.admin.InitializeCountries(over, metadata=root))
    assert bad.reason == "SHARES_EXCEED_TOTAL"
    ok = adm.InitializeCountriesRequest(
        request_id=_rid(), countries=[adm.CountryShare(country_code="IN", population_share_bps=10)]
    )
    await wallet.admin.InitializeCountries(ok, metadata=root)
    (row,) = await wallet.commands()
    # The ledger needs a name: the shipped table supplies it.
    assert row.payload["countries"] == [{"countryCode": "IN", "name": "India", "shareBps": 10}]


@pytest.mark.parametrize(
    ("name", "value", "code", "reason", "field"),
    [
        ("no_such_parameter", "5", grpc.StatusCode.NOT_FOUND, "PARAMETER_NOT_FOUND", None),
        ("transfer_fee_cap_bps", "1001", grpc.StatusCode.INVALID_ARGUMENT, "PARAMETER_OUT_OF_RANGE", "value"),
        ("transfer_fee_cap_bps", "1.5", grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", "value"),
    ],
)
async def test_update_parameter_checks_name_and_bounds_first(
    wallet: Wallet, name: str, value: str, code: grpc.StatusCode, reason: str, field: str | None
) -> None:
    request = adm.UpdateSystemParameterRequest(name=name, value=value, request_id=_rid())
    bad = await failure(wallet.admin.UpdateSystemParameter(request, metadata=_root(wallet)))
    assert (bad.code, bad.reason) == (code, reason)
    if field:
        assert field in bad.fields
    assert await wallet.commands() == []


async def test_update_parameter_is_for_super_admins_and_records_the_integer_value(wallet: Wallet) -> None:
    request = adm.UpdateSystemParameterRequest(name="transfer_fee_cap_bps", value="500", request_id=_rid())
    # The ledger submits UPDATE_SYSTEM_PARAMETER as gx_super_admin, so an ADMIN is refused up front.
    bad = await failure(wallet.admin.UpdateSystemParameter(request, metadata=wallet.token("a", "ADMIN")))
    assert (bad.code, bad.reason) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED")
    assert await wallet.commands() == []
    await wallet.admin.UpdateSystemParameter(request, metadata=_root(wallet))
    (row,) = await wallet.commands()
    assert row.payload["parameter"] == "transfer_fee_cap_bps" and row.payload["value"] == "500"


async def test_pause_and_resume_follow_the_read_model_state(wallet: Wallet) -> None:
    root = _root(wallet)
    await wallet.system(paused=False)
    bad = await failure(wallet.admin.ResumeSystem(adm.ResumeSystemRequest(request_id=_rid()), metadata=root))
    assert bad.reason == "NOT_PAUSED"
    await wallet.admin.PauseSystem(adm.PauseSystemRequest(request_id=_rid(), reason="upgrade"), metadata=root)
    (row,) = await wallet.commands()
    assert (row.command_type, row.payload["reason"]) == ("PAUSE_SYSTEM", "upgrade")
    await wallet.system(paused=True, reason="upgrade")
    bad = await failure(
        wallet.admin.PauseSystem(adm.PauseSystemRequest(request_id=_rid(), reason="again"), metadata=root)
    )
    assert bad.reason == "ALREADY_PAUSED"
    await wallet.admin.ResumeSystem(adm.ResumeSystemRequest(request_id=_rid()), metadata=root)
    assert [r.command_type for r in await wallet.commands()] == ["PAUSE_SYSTEM", "RESUME_SYSTEM"]
    missing_reason = await failure(
        wallet.admin.PauseSystem(adm.PauseSystemRequest(request_id=_rid()), metadata=root)
    )
    assert missing_reason.code == grpc.StatusCode.INVALID_ARGUMENT and "reason" in missing_reason.fields


async def test_appoint_admin_refuses_self_unknown_and_existing_admins(wallet: Wallet) -> None:
    me = str(uuid.uuid4())
    root = wallet.token(me, "SUPER_ADMIN")
    bad = await failure(
        wallet.admin.AppointAdmin(adm.AppointAdminRequest(request_id=_rid(), user_id=me), metadata=root)
    )
    assert (bad.code, bad.reason) == (grpc.StatusCode.PERMISSION_DENIED, "SELF_APPOINTMENT")
    bad = await failure(
        wallet.admin.AppointAdmin(
            adm.AppointAdminRequest(request_id=_rid(), user_id=str(uuid.uuid4())), metadata=root
        )
    )
    assert (bad.code, bad.reason) == (grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    already = await wallet.user(admin=True)
    bad = await failure(
        wallet.admin.AppointAdmin(adm.AppointAdminRequest(request_id=_rid(), user_id=already), metadata=root)
    )
    assert bad.reason == "ALREADY_ADMIN"
    bob = await wallet.user()
    await wallet.admin.AppointAdmin(adm.AppointAdminRequest(request_id=_rid(), user_id=bob), metadata=root)
    (row,) = await wallet.commands()
    assert row.payload["userId"] == bob and row.payload["appointedBy"] == me


async def test_treasury_activation_and_reads(wallet: Wallet) -> None:
    admin = wallet.token("a", "ADMIN")
    bad = await failure(
        wallet.admin.ActivateTreasury(
            adm.ActivateTreasuryRequest(request_id=_rid(), country_code="LK"), metadata=admin
        )
    )
    assert (bad.code, bad.reason) == (grpc.StatusCode.NOT_FOUND, "COUNTRY_NOT_FOUND")
    await wallet.sql(
        "INSERT INTO ledger.countries (country_code, name, share_bps, treasury_account_id, block_number)"
        " VALUES ('LK', 'Sri Lanka', 30, 'treasury_LK', 2)"
    )
    await wallet.sql(
        "INSERT INTO ledger.wallets (wallet_id, account_type, country_code, balance_qirat, frozen, block_number, fabric_tx_id)"
        " VALUES ('treasury_LK', 'TREASURY', 'LK', 77, true, 2, 't')"
    )
    treasury = (
        await wallet.admin.GetTreasury(adm.GetTreasuryRequest(country_code="LK"), metadata=admin)
    ).treasury
    assert (treasury.account_id, treasury.balance_qirat, treasury.state) == (
        "treasury_LK",
        77,
        wallet_pb2.TREASURY_STATE_LOCKED,
    )
    await wallet.admin.ActivateTreasury(
        adm.ActivateTreasuryRequest(request_id=_rid(), country_code="LK"), metadata=admin
    )
    await wallet.sql("UPDATE ledger.countries SET treasury_active = true WHERE country_code = 'LK'")
    bad = await failure(
        wallet.admin.ActivateTreasury(
            adm.ActivateTreasuryRequest(request_id=_rid(), country_code="LK"), metadata=admin
        )
    )
    assert bad.reason == "TREASURY_ACTIVE"
    countries = (await wallet.admin.ListCountries(adm.ListCountriesRequest(), metadata=admin)).countries
    assert [(c.country_code, c.treasury_state) for c in countries] == [
        ("LK", wallet_pb2.TREASURY_STATE_ACTIVE)
    ]


async def test_genesis_and_freezes_check_the_read_models(wallet: Wallet) -> None:
    admin = wallet.token("a", "ADMIN")
    await wallet.system()
    paid = await wallet.user()
    bad = await failure(
        wallet.admin.DistributeGenesis(
            adm.DistributeGenesisRequest(request_id=_rid(), user_id=paid), metadata=admin
        )
    )
    assert bad.reason == "GENESIS_ALREADY_RECEIVED"
    unpaid = await wallet.user()
    await wallet.sql("UPDATE ledger.users SET genesis_received = false WHERE user_id = :u", u=unpaid)
    await wallet.admin.DistributeGenesis(
        adm.DistributeGenesisRequest(request_id=_rid(), user_id=unpaid), metadata=admin
    )
    frozen = await wallet.user(frozen=True)
    bad = await failure(
        wallet.admin.FreezeWallet(
            adm.FreezeWalletRequest(request_id=_rid(), wallet_id=frozen, reason="x"), metadata=admin
        )
    )
    assert bad.reason == "ALREADY_FROZEN"
    bad = await failure(
        wallet.admin.UnfreezeWallet(
            adm.UnfreezeWalletRequest(request_id=_rid(), wallet_id=paid), metadata=admin
        )
    )
    assert bad.reason == "NOT_FROZEN"
    await wallet.admin.FreezeWallet(
        adm.FreezeWalletRequest(request_id=_rid(), wallet_id=paid, reason="fraud"), metadata=admin
    )
    await wallet.admin.UnfreezeWallet(
        adm.UnfreezeWalletRequest(request_id=_rid(), wallet_id=frozen), metadata=admin
    )
    rows = await wallet.commands()
    assert [(r.command_type, r.payload.get("userId") or r.payload.get("accountId")) for r in rows] == [
        ("DISTRIBUTE_GENESIS", unpaid),
        ("FREEZE_WALLET", paid),
        ("UNFREEZE_WALLET", frozen),
    ]
    bad = await failure(
        wallet.admin.FreezeWallet(
            adm.FreezeWalletRequest(request_id=_rid(), wallet_id=str(uuid.uuid4()), reason="x"),
            metadata=admin,
        )
    )
    assert bad.code == grpc.StatusCode.NOT_FOUND


async def test_system_status_reads_every_parameter_pools_and_supply(wallet: Wallet) -> None:
    await wallet.system(paused=True, reason="drill")
    await wallet.user(balance=500 * GX)
    await wallet.sql(
        "INSERT INTO ledger.wallets (wallet_id, account_type, balance_qirat, block_number, fabric_tx_id)"
        " VALUES ('SYSTEM_USER_GENESIS_POOL', 'SYSTEM_POOL', 1000, 1, 't')"
    )
    await wallet.sql(
        "INSERT INTO ledger.system_parameters (name, value, block_number, update_time)"
        " VALUES ('voting_period_days', 21, 4, now())"
    )
    status = (
        await wallet.admin.GetSystemStatus(adm.GetSystemStatusRequest(), metadata=wallet.token("a", "ADMIN"))
    ).system_status
    assert status.bootstrapped and status.paused and status.pause_reason == "drill"
    assert status.circulating_supply_qirat == 500 * GX and status.user_count == 1
    assert [(p.account_id, p.balance_qirat) for p in status.pools] == [("SYSTEM_USER_GENESIS_POOL", 1000)]
    params = {p.name: p.value for p in status.parameters}
    assert params["voting_period_days"] == "21" and params["transfer_fee_cap_bps"] == "1000"
    assert [p.name for p in status.parameters] == sorted(params)
    bad = await failure(
        wallet.admin.GetSystemStatus(adm.GetSystemStatusRequest(), metadata=wallet.token("u"))
    )
    assert bad.code == grpc.StatusCode.PERMISSION_DENIED


async def test_admin_replay_returns_the_same_operation(wallet: Wallet) -> None:
    request = adm.BootstrapSystemRequest(request_id=_rid())
    root = _root(wallet)
    first = await wallet.admin.BootstrapSystem(request, metadata=root)
    # The read model now says bootstrapped, yet the replay answers the first operation.
    await wallet.system(bootstrapped=True)
    assert (await wallet.admin.BootstrapSystem(request, metadata=root)).name == first.name
