"""User creation and phased genesis: age window, once per user, per-country phase slots, pause."""

from __future__ import annotations

import uuid

import pytest
from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import queries_pb2 as qry

import ledger_rules as rules
from ledger_rules import genesis as genesis_rules
from tests.chaincode.conftest import new_user, rid
from tests.chaincode.fake_ledger import FakeLedger

GX = rules.QIRAT_PER_GX


async def _create(
    ledger: FakeLedger, dob: str = "1990-05-01", country: str = "LK", user_id: str | None = None
):
    request = cmd.CreateUserRequest(
        user_id=user_id or str(uuid.uuid4()), country_code=country, date_of_birth=dob, request_id=rid()
    )
    return await ledger.invoke("CreateUser", request, role="gx_admin")


@pytest.mark.parametrize(
    ("dob", "paid"),
    [("2008-01-15", True), ("2008-01-16", False), ("1960-01-16", True), ("1960-01-15", False)],
    ids=["turns-18-today", "17-until-tomorrow", "65", "66-today"],
)
async def test_genesis_age_window_is_18_to_65_at_the_transaction_time(
    gx: FakeLedger, dob: str, paid: bool
) -> None:
    # The fake peer's clock is 2026-01-15; the chaincode never reads wall time.
    result = (await _create(gx, dob)).result(cmd.CreateUserResult)
    assert result.genesis.paid is paid
    assert result.user.genesis_done  # decided either way
    assert result.account.balance_qirat == (500 * GX if paid else 0)
    if not paid:
        assert result.genesis.skip_reason == "AGE_OUT_OF_WINDOW"


async def test_genesis_is_paid_once_per_user(gx: FakeLedger) -> None:
    out = await _create(gx)
    user_id = out.result(cmd.CreateUserResult).user.user_id
    again = await gx.invoke(
        "DistributeGenesis", cmd.DistributeGenesisRequest(user_id=user_id, request_id=rid()), role="gx_admin"
    )
    assert again.status == 400 and again.message.startswith("GENESIS_DONE")
    dup = await _create(gx, user_id=user_id)
    assert dup.message.startswith("USER_EXISTS")
    assert gx.balance(user_id) == 500 * GX


async def test_paused_system_defers_genesis_until_distribute_genesis(gx: FakeLedger) -> None:
    assert (await gx.invoke("PauseSystem", cmd.PauseSystemRequest(reason="audit", request_id=rid()))).ok
    out = await _create(gx)
    result = out.result(cmd.CreateUserResult)
    assert not result.genesis.paid and result.genesis.skip_reason == "SYSTEM_PAUSED"
    assert not result.user.genesis_done
    assert out.domain_events() == ["user_created", "genesis_skipped"]
    user_id = result.user.user_id
    paused = await gx.invoke(
        "DistributeGenesis", cmd.DistributeGenesisRequest(user_id=user_id, request_id=rid()), role="gx_admin"
    )
    assert paused.message.startswith("SYSTEM_PAUSED")
    assert (await gx.invoke("ResumeSystem", cmd.ResumeSystemRequest(request_id=rid()))).ok
    late = await gx.invoke(
        "DistributeGenesis", cmd.DistributeGenesisRequest(user_id=user_id, request_id=rid()), role="gx_admin"
    )
    assert late.result(cmd.DistributeGenesisResult).genesis.user_qirat == 500 * GX
    assert late.domain_events() == ["genesis_distributed"]


async def test_countries_move_through_six_phases_by_their_share(
    gx: FakeLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny global phase limits so the phases can be walked: LK (50%) gets 2,5,2,2,2,2 slots and
    # US (20%) gets 0,2,0,0,0,0, so its first user lands in phase 2.
    monkeypatch.setattr(
        genesis_rules,
        "PHASES",
        ((4, 500, 50), (10, 400, 50), (4, 300, 50), (4, 200, 50), (4, 100, 50), (4, 50, 10)),
    )
    paid = []
    for _ in range(16):
        genesis = (await _create(gx, country="LK")).result(cmd.CreateUserResult).genesis
        paid.append(
            (genesis.phase, genesis.user_qirat // GX, genesis.treasury_qirat // GX, genesis.skip_reason)
        )
    assert paid == (
        [(1, 500, 50, "")] * 2
        + [(2, 400, 50, "")] * 5
        + [(3, 300, 50, "")] * 2
        + [(4, 200, 50, "")] * 2
        + [(5, 100, 50, "")] * 2
        + [(6, 50, 10, "")] * 2
        + [(0, 0, 0, "PHASES_EXHAUSTED")]
    )
    country = (
        (await gx.invoke("GetCountry", qry.GetCountryRequest(country_code="LK")))
        .result(qry.GetCountryResult)
        .country
    )
    assert (country.genesis_users, country.user_count, country.genesis_phase) == (15, 16, 7)
    assert gx.balance("treasury_LK") == (13 * 50 + 2 * 10) * GX
    us = (await _create(gx, country="US")).result(cmd.CreateUserResult).genesis
    assert (us.phase, us.user_qirat) == (2, 400 * GX)


async def test_create_user_validates_its_arguments(gx: FakeLedger) -> None:
    assert (await _create(gx, user_id="not-a-uuid")).message.startswith("INVALID_ARGUMENT")
    assert (await _create(gx, dob="1990-02-30")).message.startswith("INVALID_ARGUMENT")
    assert (await _create(gx, dob="2027-01-01")).message.startswith("INVALID_ARGUMENT")
    missing = await _create(gx, country="FR")
    assert missing.status == 404 and missing.message.startswith("COUNTRY_NOT_FOUND")


async def test_create_user_needs_a_bootstrapped_system(ledger: FakeLedger) -> None:
    out = await _create(ledger)
    assert out.status == 400 and out.message.startswith("NOT_BOOTSTRAPPED")


async def test_get_user_reads_back_the_user(gx: FakeLedger) -> None:
    user_id = await new_user(gx, "IN", "1985-07-04")
    user = (await gx.invoke("GetUser", qry.GetUserRequest(user_id=user_id))).result(qry.GetUserResult).user
    assert (user.country_code, user.date_of_birth, user.trust_score, user.genesis_qirat) == (
        "IN",
        "1985-07-04",
        10,
        500 * GX,
    )
    missing = await gx.invoke("GetUser", qry.GetUserRequest(user_id=str(uuid.uuid4())))
    assert missing.status == 404
