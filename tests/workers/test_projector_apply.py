"""The projector's apply step against a real PostgreSQL: atomic checkpoint, idempotence, poison, rebuild."""

from __future__ import annotations

import json
import uuid
from datetime import UTC

import pytest
from google.protobuf import json_format, timestamp_pb2
from gx.ledger.v1 import commands_pb2, events_pb2, resources_pb2
from gx.type.v1 import command_pb2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import ledger_rules as rules
from projector import rebuild, store
from projector.decode import PoisonEventError
from projector.runner import RestartStream, apply_event
from tests.chaincode.fake_ledger import FakeLedger

NAME = "gxchannel/gx"
POOL = resources_pb2.ACCOUNT_TYPE_SYSTEM_POOL


def _events(command: int, *events: events_pb2.LedgerEvent, second: int = 0) -> bytes:
    message = events_pb2.LedgerEvents(
        events=list(events),
        request_id=str(uuid.uuid4()),
        command_type=command,
        function="f",
        time=timestamp_pb2.Timestamp(seconds=1_800_000_000 + second),
    )
    return json_format.MessageToJson(message).encode()


def _chain() -> list[tuple[int, str, bytes]]:
    """A small chain: bootstrap, a country, two users with genesis, one transfer with a fee."""
    alice, bob = "u-alice", "u-bob"
    pools = [
        resources_pb2.Account(account_id="SYSTEM_USER_GENESIS_POOL", type=POOL, balance_qirat=1_000_000_000),
        resources_pb2.Account(account_id="SYSTEM_GOVT_GENESIS_POOL", type=POOL, balance_qirat=500_000_000),
        resources_pb2.Account(account_id="SYSTEM_OPERATIONS_FUND", type=POOL, balance_qirat=0),
    ]
    parameters = [
        resources_pb2.SystemParameter(name=n, value=p.default) for n, p in sorted(rules.PARAMETERS.items())
    ]
    E = events_pb2.LedgerEvent
    txs = [
        (
            1,
            "tx-boot",
            _events(
                command_pb2.COMMAND_TYPE_BOOTSTRAP_SYSTEM,
                E(
                    system_bootstrapped=events_pb2.SystemBootstrapped(
                        total_supply_qirat=1_500_000_000, pools=pools, parameters=parameters
                    )
                ),
            ),
        ),
        (
            2,
            "tx-country",
            _events(
                command_pb2.COMMAND_TYPE_INITIALIZE_COUNTRY,
                E(
                    country_initialized=events_pb2.CountryInitialized(
                        country_code="LK",
                        name="Sri Lanka",
                        share_bps=10_000,
                        treasury_account_id="treasury_LK",
                    )
                ),
                second=1,
            ),
        ),
    ]
    user_pool, govt_pool = 1_000_000_000, 500_000_000
    for n, user in enumerate((alice, bob)):
        user_pool -= 500_000
        govt_pool -= 50_000
        txs.append(
            (
                3,
                f"tx-create-{user}",
                _events(
                    command_pb2.COMMAND_TYPE_CREATE_USER,
                    E(
                        user_created=events_pb2.UserCreated(
                            user_id=user, country_code="LK", date_of_birth="1990-01-01", trust_score=10
                        )
                    ),
                    E(
                        genesis_distributed=events_pb2.GenesisDistributed(
                            user_id=user,
                            country_code="LK",
                            phase=1,
                            user_qirat=500_000,
                            user_balance_qirat=500_000,
                            treasury_account_id="treasury_LK",
                            treasury_qirat=50_000,
                            treasury_balance_qirat=50_000 * (n + 1),
                            user_pool_balance_qirat=user_pool,
                            govt_pool_balance_qirat=govt_pool,
                        )
                    ),
                    second=2 + n,
                ),
            )
        )
    txs.append(
        (
            4,
            "tx-transfer",
            _events(
                command_pb2.COMMAND_TYPE_TRANSFER_TOKENS,
                E(
                    transfer_completed=events_pb2.TransferCompleted(
                        transfer_id="tx-transfer:0",
                        from_account_id=alice,
                        to_account_id=bob,
                        amount_qirat=100_000,
                        fee_qirat=50,
                        fee_bps=5,
                        remark="lunch",
                        from_balance_qirat=399_950,
                        to_balance_qirat=600_000,
                    )
                ),
                E(
                    fee_collected=events_pb2.FeeCollected(
                        transfer_id="tx-transfer:0",
                        payer_account_id=alice,
                        fee_qirat=50,
                        collector_account_id="SYSTEM_OPERATIONS_FUND",
                    )
                ),
                second=5,
            ),
        )
    )
    return txs


async def _apply_all(engine: AsyncEngine, txs: list[tuple[int, str, bytes]]) -> None:
    async with engine.connect() as conn:
        async with conn.begin():
            generation = (await store.load_checkpoint(conn, NAME)).generation
        for block, tx, payload in txs:
            await apply_event(conn, NAME, generation, block, tx, "LedgerEvents", payload)


async def _balances(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT wallet_id, balance_qirat FROM ledger.wallets"))).all()
    return {r.wallet_id: r.balance_qirat for r in rows}


async def _snapshot(engine: AsyncEngine) -> dict[str, list[tuple]]:
    tables = {}
    async with engine.connect() as conn:
        for table in rebuild.READ_MODEL_TABLES:
            rows = (await conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2"))).all()
            tables[table] = [tuple(r) for r in rows]
    return tables


async def _reset(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await rebuild.reset(conn, NAME)


async def test_chain_projects_balances_history_and_checkpoint(engine: AsyncEngine) -> None:
    await _reset(engine)
    await _apply_all(engine, _chain())
    balances = await _balances(engine)
    assert balances["u-alice"] == 399_950
    assert balances["u-bob"] == 600_000
    assert balances["SYSTEM_OPERATIONS_FUND"] == 50
    assert balances["treasury_LK"] == 100_000
    assert balances["SYSTEM_USER_GENESIS_POOL"] == 999_000_000
    async with engine.connect() as conn:
        history = (
            await conn.execute(
                text(
                    "SELECT type, amount_qirat, fee_qirat, counterparty FROM ledger.transactions WHERE wallet_id = 'u-alice' ORDER BY id"
                )
            )
        ).all()
        user = (
            await conn.execute(
                text("SELECT status, genesis_received FROM ledger.users WHERE user_id = 'u-alice'")
            )
        ).one()
        checkpoint = await store.load_checkpoint(conn, NAME)
    assert [tuple(h) for h in history] == [
        ("GENESIS", 500_000, 0, "SYSTEM_USER_GENESIS_POOL"),
        ("SENT", 100_000, 50, "u-bob"),
        ("FEE", 50, 0, "SYSTEM_OPERATIONS_FUND"),
    ]
    assert tuple(user) == ("ACTIVE", True)
    assert (checkpoint.block_number, checkpoint.tx_id, checkpoint.events_applied) == (4, "tx-transfer", 5)


async def test_replayed_event_changes_nothing_but_the_checkpoint(engine: AsyncEngine) -> None:
    await _reset(engine)
    chain = _chain()
    await _apply_all(engine, chain)
    before = await _snapshot(engine)
    # A stream re-opened from an older position delivers the same transactions again.
    async with engine.connect() as conn:
        async with conn.begin():
            generation = (await store.load_checkpoint(conn, NAME)).generation
        for block, tx, payload in chain[-2:]:
            assert await apply_event(conn, NAME, generation, block, tx, "LedgerEvents", payload) is False
    assert await _snapshot(engine) == before


async def test_poison_event_writes_nothing(engine: AsyncEngine) -> None:
    await _reset(engine)
    async with engine.connect() as conn:
        with pytest.raises(PoisonEventError):
            await apply_event(
                conn, NAME, 1, 7, "tx-bad", "LedgerEvents", b'{"events": [{"noSuchEvent": {}}]}'
            )
        with pytest.raises(PoisonEventError):
            await apply_event(conn, NAME, 1, 7, "tx-bad", "SomethingElse", b"{}")
    # A handler that fails mid-transaction rolls back everything, the checkpoint included.
    bad = _events(
        command_pb2.COMMAND_TYPE_CREATE_USER,
        events_pb2.LedgerEvent(user_created=events_pb2.UserCreated(user_id="u-x", country_code="LK")),
        events_pb2.LedgerEvent(
            loan_applied=events_pb2.LoanApplied(loan=resources_pb2.Loan(loan_id="l1", status=99))
        ),  # no such status
    )
    async with engine.connect() as conn:
        async with conn.begin():
            generation = (await store.load_checkpoint(conn, NAME)).generation
        with pytest.raises(PoisonEventError) as caught:
            await apply_event(conn, NAME, generation, 8, "tx-half", "LedgerEvents", bad)
    assert caught.value.event_index == 1
    async with engine.connect() as conn:
        users = (await conn.execute(text("SELECT count(*) FROM ledger.users"))).scalar_one()
        checkpoint = await store.load_checkpoint(conn, NAME)
    assert users == 0
    assert checkpoint.block_number is None


async def test_rebuild_replays_into_equal_read_models(engine: AsyncEngine) -> None:
    await _reset(engine)
    chain = _chain()
    await _apply_all(engine, chain)
    first = await _snapshot(engine)
    async with engine.connect() as conn:
        async with conn.begin():
            old_generation = (await store.load_checkpoint(conn, NAME)).generation
    await _reset(engine)
    # A projector still streaming with the old generation is told to restart, and writes nothing.
    async with engine.connect() as conn:
        with pytest.raises(RestartStream):
            await apply_event(conn, NAME, old_generation, *chain[0][:2], "LedgerEvents", chain[0][2])
    assert (await _snapshot(engine))["ledger.wallets"] == []
    await _apply_all(engine, chain)
    assert await _snapshot(engine) == first


async def _parameters(engine: AsyncEngine) -> dict[str, tuple]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT name, value, previous_value, proposal_id, block_number FROM ledger.system_parameters"
                )
            )
        ).all()
    return {r.name: tuple(r)[1:] for r in rows}


async def _chaincode_bootstrap(*before: tuple[str, int]) -> list[tuple[int, str, bytes]]:
    """The LedgerEvents the real GX chaincode emits for UpdateSystemParameter(*before) then BootstrapSystem."""
    chaincode = FakeLedger()
    txs = []
    for n, (name, value) in enumerate(before):
        out = await chaincode.invoke(
            "UpdateSystemParameter",
            commands_pb2.UpdateSystemParameterRequest(
                parameter=name, value=value, request_id=str(uuid.uuid4())
            ),
        )
        assert out.ok, out.message
        txs.append((1 + n, f"tx-param-{n}", out.events[0][1]))
    out = await chaincode.invoke(
        "BootstrapSystem", commands_pb2.BootstrapSystemRequest(request_id=str(uuid.uuid4()))
    )
    assert out.ok, out.message
    txs.append((1 + len(before), "tx-boot", out.events[0][1]))
    return txs


async def test_bootstrap_projects_every_default_parameter(engine: AsyncEngine) -> None:
    await _reset(engine)
    # The event exactly as the chaincode emits it, so the two sides cannot drift apart.
    await _apply_all(engine, await _chaincode_bootstrap())
    assert await _parameters(engine) == {
        name: (spec.default, None, None, 1) for name, spec in rules.PARAMETERS.items()
    }
    # A later change updates its row and leaves the others at their defaults.
    change = events_pb2.LedgerEvent(
        system_parameter_updated=events_pb2.SystemParameterUpdated(
            parameter="transfer_fee_cap_bps", value=500, previous_value=1_000, proposal_id="p-1"
        )
    )
    await _apply_all(
        engine, [(2, "tx-fee-cap", _events(command_pb2.COMMAND_TYPE_UPDATE_SYSTEM_PARAMETER, change))]
    )
    after = await _parameters(engine)
    assert after["transfer_fee_cap_bps"] == (500, 1_000, "p-1", 2)
    assert {n: v[0] for n, v in after.items()} == {n: p.default for n, p in rules.PARAMETERS.items()} | {
        "transfer_fee_cap_bps": 500
    }


async def test_bootstrap_keeps_a_parameter_changed_before_it_and_replays_to_equal_rows(
    engine: AsyncEngine,
) -> None:
    await _reset(engine)
    chain = await _chaincode_bootstrap(("loan_max_active", 7))
    await _apply_all(engine, chain)
    first = await _parameters(engine)
    assert first["loan_max_active"] == (7, rules.PARAMETERS["loan_max_active"].default, None, 1)
    assert {n: v[0] for n, v in first.items()} == {n: p.default for n, p in rules.PARAMETERS.items()} | {
        "loan_max_active": 7
    }
    # A rebuild replays the same transactions into the same rows.
    await _reset(engine)
    await _apply_all(engine, chain)
    assert await _parameters(engine) == first


async def test_holding_timers_in_the_read_model_equal_the_chain(engine: AsyncEngine) -> None:
    """Events from the real chaincode carry every change of a user's velocity-tax timer."""
    chaincode, txs = FakeLedger(), []

    async def run(function: str, request, role: str = "gx_super_admin"):
        out = await chaincode.invoke(function, request, role=role)
        assert out.ok, out.message
        txs.append((len(txs) + 1, f"tx-{len(txs) + 1}", out.events[0][1]))
        return out

    def rid() -> str:
        return str(uuid.uuid4())

    C = commands_pb2
    await run("BootstrapSystem", C.BootstrapSystemRequest(request_id=rid()))
    countries = C.InitializeCountriesRequest(request_id=rid())
    countries.countries.add(country_code="LK", name="Sri Lanka", share_bps=10_000)
    await run("InitializeCountries", countries)
    users = [str(uuid.uuid4()) for _ in range(3)]
    for user in users:
        await run(
            "CreateUser",
            C.CreateUserRequest(
                user_id=user, country_code="LK", date_of_birth="1990-01-01", request_id=rid()
            ),
            "gx_admin",
        )
    a, b, c = users
    GX = rules.QIRAT_PER_GX
    chaincode.advance(days=3)
    await run(
        "TransferTokens",
        C.TransferTokensRequest(from_account_id=a, to_account_id=b, amount_qirat=450 * GX, request_id=rid()),
        "gx_partner_api",
    )
    await run(
        "UpdateSystemParameter",
        C.UpdateSystemParameterRequest(
            parameter="velocity_tax_threshold_qirat", value=600 * GX, request_id=rid()
        ),
    )
    chaincode.advance(days=1)
    await run(
        "FreezeWallet", C.FreezeWalletRequest(account_id=c, reason="audit", request_id=rid()), "gx_admin"
    )
    await run(
        "UpdateSystemParameter",
        C.UpdateSystemParameterRequest(
            parameter="velocity_tax_threshold_qirat", value=100 * GX, request_id=rid()
        ),
    )
    chaincode.advance(days=400)
    taxed = await run(
        "ApplyVelocityTax", C.ApplyVelocityTaxRequest(account_id=b, request_id=rid()), "gx_admin"
    )
    assert taxed.result(C.ApplyVelocityTaxResult).taxed

    await _reset(engine)
    await _apply_all(engine, txs)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT wallet_id, velocity_timer_start_time FROM ledger.wallets WHERE account_type = 'USER'"
                )
            )
        ).all()
    projected = {r.wallet_id: r.velocity_timer_start_time for r in rows}

    def on_chain(user: str):
        stored = json.loads(chaincode.world[f"acct~{user}"]).get("velocityTimerStartTime")
        if stored is None:
            return None
        stamp = timestamp_pb2.Timestamp()
        stamp.FromJsonString(stored)
        return stamp.ToDatetime(tzinfo=UTC)

    assert projected == {user: on_chain(user) for user in users}
    # a fell below the threshold, b was taxed (its period restarted), c's freeze cleared its timer.
    assert projected[a] is None and projected[c] is None
    # (The fake peer's transaction times are distinct: `now` plus the transaction's sequence in µs.)
    assert projected[b].replace(microsecond=0) == chaincode.now.replace(microsecond=0)
