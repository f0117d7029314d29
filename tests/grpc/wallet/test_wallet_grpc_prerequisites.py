"""Administration pre-checks over real gRPC accept a prerequisite that is recorded but not yet on the
ledger (recording it as `depends_on`), and refuse only one that is absent or has FAILED."""

from __future__ import annotations

import uuid

import grpc
from gx.ledger.v1 import commands_pb2 as ledger
from gx.wallet.v1 import admin_service_pb2 as adm
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.outbox import record_command
from tests.grpc.wallet.wallet_harness import Wallet, failure


def _rid() -> str:
    return str(uuid.uuid4())


def _root(wallet: Wallet) -> tuple[tuple[str, str], ...]:
    return wallet.token(str(uuid.uuid4()), "SUPER_ADMIN", "ADMIN", "USER")


async def _row(wallet: Wallet, operation_name: str) -> object:
    (row,) = await wallet.sql(
        "SELECT id, status, depends_on, order_keys FROM outbox.commands WHERE id = CAST(:id AS uuid)",
        id=operation_name.removeprefix("operations/"),
    )
    return row


async def test_countries_right_after_bootstrap_are_accepted_and_depend_on_it(wallet: Wallet) -> None:
    root = _root(wallet)
    boot = await wallet.admin.BootstrapSystem(adm.BootstrapSystemRequest(request_id=_rid()), metadata=root)
    # Nothing committed, nothing projected: the bootstrap is only recorded.
    countries = await wallet.admin.InitializeCountries(
        adm.InitializeCountriesRequest(
            request_id=_rid(), countries=[adm.CountryShare(country_code="LK", population_share_bps=30)]
        ),
        metadata=root,
    )
    row = await _row(wallet, countries.name)
    assert str(row.depends_on) == boot.name.removeprefix("operations/")  # type: ignore[attr-defined]
    # A second bootstrap while one is on its way would only fail on the ledger: refused now.
    again = await failure(
        wallet.admin.BootstrapSystem(adm.BootstrapSystemRequest(request_id=_rid()), metadata=root)
    )
    assert (again.code, again.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_BOOTSTRAPPED")
    # The same country again while its initialisation is in flight: COUNTRY_EXISTS, as once committed.
    twice = await failure(
        wallet.admin.InitializeCountries(
            adm.InitializeCountriesRequest(
                request_id=_rid(), countries=[adm.CountryShare(country_code="LK", population_share_bps=1)]
            ),
            metadata=root,
        )
    )
    assert (twice.code, twice.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "COUNTRY_EXISTS")
    # Its treasury can be activated right away too, after the countries.
    activation = await wallet.admin.ActivateTreasury(
        adm.ActivateTreasuryRequest(request_id=_rid(), country_code="LK"), metadata=wallet.token("a", "ADMIN")
    )
    assert str((await _row(wallet, activation.name)).depends_on) == countries.name.removeprefix("operations/")  # type: ignore[attr-defined]
    assert len(await wallet.commands()) == 3


async def test_a_failed_bootstrap_is_no_prerequisite(wallet: Wallet) -> None:
    root = _root(wallet)
    boot = await wallet.admin.BootstrapSystem(adm.BootstrapSystemRequest(request_id=_rid()), metadata=root)
    await wallet.sql(
        "UPDATE outbox.commands SET status = 'FAILED', error_code = 'LEDGER_REJECTED' WHERE id = CAST(:id AS uuid)",
        id=boot.name.removeprefix("operations/"),
    )
    bad = await failure(
        wallet.admin.InitializeCountries(adm.InitializeCountriesRequest(request_id=_rid()), metadata=root)
    )
    assert (bad.code, bad.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SYSTEM_NOT_BOOTSTRAPPED")
    bad = await failure(
        wallet.admin.ActivateTreasury(
            adm.ActivateTreasuryRequest(request_id=_rid(), country_code="LK"),
            metadata=wallet.token("a", "ADMIN"),
        )
    )
    assert (bad.code, bad.reason) == (grpc.StatusCode.NOT_FOUND, "COUNTRY_NOT_FOUND")
    assert [r.command_type for r in await wallet.commands()] == ["BOOTSTRAP_SYSTEM"]


async def test_a_user_still_being_created_can_be_appointed_or_given_genesis_but_not_an_unknown_one(
    wallet: Wallet,
) -> None:
    await wallet.system()
    user_id = str(uuid.uuid4())
    async with (
        AsyncSession(wallet.engine) as session,
        session.begin(),
    ):  # identity's KYC approval records this
        create = await record_command(
            session,
            "CREATE_USER",
            ledger.CreateUserRequest(user_id=user_id, country_code="LK", date_of_birth="1990-01-01"),
            principal_id=user_id,
        )
    root = _root(wallet)
    appointed = await wallet.admin.AppointAdmin(
        adm.AppointAdminRequest(request_id=_rid(), user_id=user_id), metadata=root
    )
    row = await _row(wallet, appointed.name)
    assert str(row.depends_on) == create.name.removeprefix("operations/")  # type: ignore[attr-defined]
    genesis = await wallet.admin.DistributeGenesis(
        adm.DistributeGenesisRequest(request_id=_rid(), user_id=user_id), metadata=wallet.token("a", "ADMIN")
    )
    assert (await _row(wallet, genesis.name)).depends_on is not None  # type: ignore[attr-defined]
    unknown = await failure(
        wallet.admin.AppointAdmin(
            adm.AppointAdminRequest(request_id=_rid(), user_id=str(uuid.uuid4())), metadata=root
        )
    )
    assert (unknown.code, unknown.reason) == (grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")


async def test_pause_then_resume_back_to_back_are_both_accepted_in_order(wallet: Wallet) -> None:
    await wallet.system(paused=False)
    root = _root(wallet)
    pause = await wallet.admin.PauseSystem(
        adm.PauseSystemRequest(request_id=_rid(), reason="upgrade"), metadata=root
    )
    # The read models still say "not paused"; the recorded pause says it will be.
    twice = await failure(
        wallet.admin.PauseSystem(adm.PauseSystemRequest(request_id=_rid(), reason="again"), metadata=root)
    )
    assert (twice.code, twice.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_PAUSED")
    resume = await wallet.admin.ResumeSystem(adm.ResumeSystemRequest(request_id=_rid()), metadata=root)
    assert str((await _row(wallet, resume.name)).depends_on) == pause.name.removeprefix("operations/")  # type: ignore[attr-defined]
    again = await failure(
        wallet.admin.ResumeSystem(adm.ResumeSystemRequest(request_id=_rid()), metadata=root)
    )
    assert again.reason == "NOT_PAUSED"  # the recorded resume is the newest word
    # Once both are on the ledger and projected, the read models decide again.
    await wallet.sql(
        "UPDATE outbox.commands SET status = 'COMMITTED', tx_id = id::text, block_number = 5 WHERE command_type IN ('PAUSE_SYSTEM', 'RESUME_SYSTEM')"
    )
    await wallet.sql(
        "INSERT INTO ledger.checkpoints (name, block_number, tx_id) VALUES ('gxchannel/gx', 9, 't')"
    )
    await wallet.system(paused=True, reason="stale read")  # what the read models say now wins
    resumed = await wallet.admin.ResumeSystem(adm.ResumeSystemRequest(request_id=_rid()), metadata=root)
    assert (await _row(wallet, resumed.name)).depends_on is None  # type: ignore[attr-defined]


async def test_freeze_then_unfreeze_back_to_back_are_both_accepted(wallet: Wallet) -> None:
    admin = wallet.token("a", "ADMIN")
    await wallet.system()
    user = await wallet.user()
    freeze = await wallet.admin.FreezeWallet(
        adm.FreezeWalletRequest(request_id=_rid(), wallet_id=user, reason="review"), metadata=admin
    )
    twice = await failure(
        wallet.admin.FreezeWallet(
            adm.FreezeWalletRequest(request_id=_rid(), wallet_id=user, reason="x"), metadata=admin
        )
    )
    assert twice.reason == "ALREADY_FROZEN"
    unfreeze = await wallet.admin.UnfreezeWallet(
        adm.UnfreezeWalletRequest(request_id=_rid(), wallet_id=user), metadata=admin
    )
    assert str((await _row(wallet, unfreeze.name)).depends_on) == freeze.name.removeprefix("operations/")  # type: ignore[attr-defined]
    other = await wallet.user()  # another wallet is not affected by this one's recorded freeze
    bad = await failure(
        wallet.admin.UnfreezeWallet(
            adm.UnfreezeWalletRequest(request_id=_rid(), wallet_id=other), metadata=admin
        )
    )
    assert bad.reason == "NOT_FROZEN"
