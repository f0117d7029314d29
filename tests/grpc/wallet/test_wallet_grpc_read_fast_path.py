"""The read fast paths: statements PostgreSQL plans once per connection, a user's history in one statement."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import timedelta
from typing import Any

import grpc
import psycopg
from gx.wallet.v1 import wallet_pb2
from gx.wallet.v1 import wallet_service_pb2 as svc
from prometheus_client import REGISTRY

from services.common.db import fetch_all
from services.wallet import convert, readmodels
from tests.grpc.wallet.conftest import PLAN_RUNS, prepared_plans
from tests.grpc.wallet.wallet_harness import GX, Wallet, failure, now
from tests.unit.wallet.test_wallet_convert import Raw, expected_entry


async def test_the_balance_read_is_planned_once_not_on_every_call(
    wallet: Wallet, driver: psycopg.AsyncConnection[Any]
) -> None:
    await wallet.system()
    alice = await wallet.user(balance=3 * GX)
    for _ in range(PLAN_RUNS):
        found = await readmodels.account(driver, alice)
        assert found is not None and found.balance_qirat == 3 * GX
    generic, custom = await prepared_plans(driver, "w.wallet_id = $1")
    # The `= ANY($1)` form stayed at 0 generic plans: PostgreSQL planned every read again.
    assert generic >= 10 and custom <= 5


async def test_the_history_read_is_planned_once_not_on_every_call(
    wallet: Wallet, driver: psycopg.AsyncConnection[Any]
) -> None:
    await wallet.system()
    alice = await wallet.user()
    await wallet.history(alice, "RECEIVED", GX, time=now())
    flt = readmodels.TransactionFilter(alice)
    for _ in range(PLAN_RUNS):
        found = await readmodels.owned_history(driver, flt, alice, None, 51)
        assert found is not None and found.rows is not None and len(found.rows) == 1
    generic, custom = await prepared_plans(driver, "LEFT JOIN LATERAL")
    assert generic >= 10 and custom <= 5


async def test_owned_history_is_none_for_a_missing_or_foreign_wallet_and_empty_when_quiet(
    wallet: Wallet, driver: psycopg.AsyncConnection[Any]
) -> None:
    await wallet.system()
    alice, bob = await wallet.user(), await wallet.user()
    await wallet.history(bob, "RECEIVED", GX, time=now())
    assert await readmodels.owned_history(driver, readmodels.TransactionFilter(bob), alice, None, 5) is None
    missing = str(uuid.uuid4())
    assert (
        await readmodels.owned_history(driver, readmodels.TransactionFilter(missing), missing, None, 5)
        is None
    )
    quiet = await readmodels.owned_history(driver, readmodels.TransactionFilter(alice), alice, None, 5)
    assert quiet is not None and quiet.rows == []
    own = await readmodels.owned_history(driver, readmodels.TransactionFilter(bob), bob, None, 5)
    assert own is not None and own.rows is not None
    assert [r[3] for r in own.rows] == ["RECEIVED"]  # the type, by position


async def test_a_users_history_through_the_fast_path_pages_filters_and_refuses_as_before(
    wallet: Wallet,
) -> None:
    await wallet.system()
    alice, bob = await wallet.user(), await wallet.user()
    start = now() - timedelta(minutes=10)
    for minute, kind in enumerate(["RECEIVED", "SENT", "FEE", "RECEIVED", "SENT"]):
        await wallet.history(alice, kind, (minute + 1) * GX, time=start + timedelta(minutes=minute))
    seen: list[int] = []
    token = ""
    while True:
        page = await wallet.wallets.ListTransactions(
            svc.ListTransactionsRequest(wallet_id=alice, page_size=2, page_token=token),
            metadata=wallet.token(alice),
        )
        seen += [t.amount_qirat for t in page.transactions]
        token = page.next_page_token
        if not token:
            break
    assert seen == [5 * GX, 4 * GX, 3 * GX, 2 * GX, GX]
    sent = await wallet.wallets.ListTransactions(
        svc.ListTransactionsRequest(wallet_id="me", types=[wallet_pb2.TRANSACTION_TYPE_SENT]),
        metadata=wallet.token(alice),
    )
    assert [t.amount_qirat for t in sent.transactions] == [5 * GX, 2 * GX]
    quiet = await wallet.wallets.ListTransactions(
        svc.ListTransactionsRequest(wallet_id="me"), metadata=wallet.token(bob)
    )
    assert list(quiet.transactions) == [] and quiet.next_page_token == ""
    for reader, target in ((bob, alice), (alice, str(uuid.uuid4()))):
        bad = await failure(
            wallet.wallets.ListTransactions(
                svc.ListTransactionsRequest(wallet_id=target), metadata=wallet.token(reader)
            )
        )
        assert (bad.code, bad.reason) == (grpc.StatusCode.NOT_FOUND, "WALLET_NOT_FOUND")
    # An admin still reads anyone's history (the general path).
    admin = await wallet.wallets.ListTransactions(
        svc.ListTransactionsRequest(wallet_id=alice), metadata=wallet.token(bob, "USER", "ADMIN")
    )
    assert len(admin.transactions) == 5


async def test_the_account_read_by_position_and_in_binary_equals_every_column_by_name(
    wallet: Wallet, driver: psycopg.AsyncConnection[Any]
) -> None:
    # `account` builds the Account from a binary tuple row by position: a column listed out of the
    # dataclass's order, or a type the binary format loads differently, shows up against the
    # named text read of the same statement.
    await wallet.system()
    frozen = await wallet.user(balance=7 * GX, frozen=True, status="FROZEN", country="US")
    plain = await wallet.user(balance=0)
    org = await wallet.organization()
    for wallet_id in (frozen, plain, org):
        named = await fetch_all(driver, readmodels._ACCOUNT, {"id": wallet_id})
        assert len(named) == 1
        expected = readmodels.Account(**named[0]._asdict())
        assert await readmodels.account(driver, wallet_id) == expected
        async with wallet.engine.connect() as conn:  # through a SQLAlchemy connection too
            assert await readmodels.account(conn, wallet_id) == expected
    assert [f.name for f in dataclasses.fields(readmodels.Account)] == list(named[0]._fields)
    assert await readmodels.account(driver, str(uuid.uuid4())) is None


async def test_the_owned_history_in_binary_equals_the_text_page_and_shapes_every_entry(
    wallet: Wallet, driver: psycopg.AsyncConnection[Any]
) -> None:
    # PostgreSQL shapes each entry (`readmodels._ENTRY_COLUMNS`): the page built from its rows must
    # equal the entries the stored columns describe, built the plain way, for NULL counterparty and
    # remark, a fee on SENT and on other types, an operation or none, times before 1970 or absent.
    await wallet.system()
    alice = await wallet.user()
    for minute, kind in enumerate(["RECEIVED", "SENT", "FEE", "GENESIS", "SENT"]):
        await wallet.history(
            alice, kind, (minute + 1) * GX, time=now() - timedelta(minutes=minute), fee=minute + 1
        )
    await wallet.sql(
        "UPDATE ledger.transactions SET counterparty = NULL, remark = NULL, time = NULL WHERE type = 'FEE'"
    )
    await wallet.sql(
        "UPDATE ledger.transactions SET time = '1969-07-20 20:17:40.000005+00', event_index = 7 WHERE type = 'GENESIS'"
    )
    operation = await wallet.sql(
        "INSERT INTO outbox.commands (id, tenant, command_type, payload, request_id, principal_id, status)"
        " VALUES (gen_random_uuid(), 'gx', 'TRANSFER_TOKENS', '{}', 'req-shaped', :u, 'COMMITTED') RETURNING id",
        u=alice,
    )
    await wallet.sql("UPDATE ledger.transactions SET request_id = 'req-shaped' WHERE type = 'RECEIVED'")
    flt = readmodels.TransactionFilter(alice)
    found = await readmodels.owned_history(driver, flt, alice, None, 10)
    text_rows = await readmodels.transactions(driver, flt, None, 10)
    assert found is not None and found.rows is not None and len(found.rows) == 5
    owned = found.rows
    assert [tuple(r) for r in owned] == [tuple(r) for r in text_rows]
    stored = await fetch_all(
        driver,
        "SELECT t.id, t.fabric_tx_id, t.event_index, t.leg, t.wallet_id, t.type, t.amount_qirat, t.fee_qirat,"
        " t.counterparty, t.remark, t.block_number, t.time, c.id AS command_id FROM ledger.transactions t"
        " LEFT JOIN outbox.operations c ON c.tenant = 'gx' AND c.request_id = t.request_id"
        " WHERE t.wallet_id = %(w)s ORDER BY t.id DESC",
        {"w": alice},
    )
    built = svc.ListTransactionsResponse()
    convert.add_transactions(built.transactions, owned)
    assert list(built.transactions) == [expected_entry(Raw(*row)) for row in stored]
    assert [t.operation for t in built.transactions].count(f"operations/{operation[0][0]}") == 1
    assert sum(1 for t in built.transactions if not t.HasField("time")) == 1


async def test_the_owned_wallet_row_written_in_place_equals_the_wallet_of_the_account(
    wallet: Wallet, driver: psycopg.AsyncConnection[Any]
) -> None:
    # PostgreSQL shapes the balance read's row (`readmodels._OWNED_WALLET`): written into the
    # response in place it must equal the Wallet `convert.wallet` makes of the full account, for a
    # frozen wallet with and without a reason, a reason left after an unfreeze (not shown), missing
    # times, a time before 1970 and a wallet whose ledger user row is missing (no genesis).
    await wallet.system()
    frozen = await wallet.user(balance=7 * GX, frozen=True, status="FROZEN", country="US")
    plain = await wallet.user(balance=0)
    unfrozen = await wallet.user()
    bare = await wallet.user()
    await wallet.sql("UPDATE ledger.wallets SET frozen_reason = 'old' WHERE wallet_id = :w", w=unfrozen)
    await wallet.sql(
        "UPDATE ledger.wallets SET frozen = true, frozen_reason = NULL, create_time = NULL,"
        " update_time = '1969-07-20 20:17:40.000005+00', country_code = NULL WHERE wallet_id = :w",
        w=bare,
    )
    await wallet.sql("DELETE FROM ledger.users WHERE user_id = :w", w=bare)
    for wallet_id in (frozen, plain, unfrozen, bare):
        row = await readmodels.owned_wallet(driver, wallet_id, wallet_id)
        assert row is not None
        built = svc.GetWalletResponse()
        convert.set_wallet(built.wallet, row)
        account = await readmodels.account(driver, wallet_id)
        assert account is not None
        assert built == svc.GetWalletResponse(wallet=convert.wallet(account)), wallet_id
    shown = svc.GetWalletResponse()
    convert.set_wallet(shown.wallet, await readmodels.owned_wallet(driver, bare, bare) or ())
    assert not shown.wallet.HasField("create_time") and shown.wallet.update_time.seconds < 0
    assert shown.wallet.frozen and not shown.wallet.genesis_received
    # Someone else's wallet, or none, is no row: the caller answers WALLET_NOT_FOUND.
    assert await readmodels.owned_wallet(driver, frozen, plain) is None
    assert await readmodels.owned_wallet(driver, str(uuid.uuid4()), plain) is None


async def test_the_owned_wallet_read_is_planned_once_not_on_every_call(
    wallet: Wallet, driver: psycopg.AsyncConnection[Any]
) -> None:
    await wallet.system()
    alice = await wallet.user(balance=3 * GX)
    for _ in range(PLAN_RUNS):
        row = await readmodels.owned_wallet(driver, alice, alice)
        assert row is not None and row[2] == 3 * GX
    generic, custom = await prepared_plans(driver, "w.user_id = $2")
    assert generic >= 10 and custom <= 5


async def test_concurrent_reads_of_many_users_each_get_their_own_wallet_and_history(wallet: Wallet) -> None:
    # The own-wallet reads queue up and travel to PostgreSQL together (StatementBatch): under a
    # burst of calls from several users, nobody may see another's balance or history, and a
    # reader of someone else's wallet still gets WALLET_NOT_FOUND from inside a shared pipeline.
    await wallet.system()
    users = [await wallet.user(balance=(i + 1) * GX) for i in range(6)]
    for i, user in enumerate(users):
        for n in range(i + 1):
            await wallet.history(user, "RECEIVED", (100 * i + n + 1), time=now() - timedelta(seconds=n))

    async def balance(user: str) -> tuple[str, int]:
        got = await wallet.wallets.GetWallet(
            svc.GetWalletRequest(wallet_id="me"), metadata=wallet.token(user)
        )
        return got.wallet.wallet_id, got.wallet.balance_qirat

    async def history(user: str) -> list[tuple[str, int]]:
        page = await wallet.wallets.ListTransactions(
            svc.ListTransactionsRequest(wallet_id="me"), metadata=wallet.token(user)
        )
        return [(t.wallet_id, t.amount_qirat) for t in page.transactions]

    async def foreign(reader: str, target: str) -> str:
        return (
            await failure(
                wallet.wallets.ListTransactions(
                    svc.ListTransactionsRequest(wallet_id=target), metadata=wallet.token(reader)
                )
            )
        ).reason

    def batched() -> tuple[float, float]:  # (round trips, reads) of the wallet's own-read batch so far
        labels = {"batch": "wallet-own-reads"}
        return (
            REGISTRY.get_sample_value("gx_db_batch_reads_count", labels) or 0.0,
            REGISTRY.get_sample_value("gx_db_batch_reads_sum", labels) or 0.0,
        )

    before = batched()
    rounds = 8
    calls = []
    for _ in range(rounds):
        calls += [balance(u) for u in users] + [history(u) for u in users]
        calls += [foreign(users[0], users[1]), foreign(users[2], users[3])]
    results = await asyncio.gather(*calls)
    per_round = 2 * len(users) + 2
    for r in range(rounds):
        got = results[r * per_round : (r + 1) * per_round]
        assert got[: len(users)] == [(u, (i + 1) * GX) for i, u in enumerate(users)]
        assert got[len(users) : 2 * len(users)] == [
            [(u, 100 * i + n + 1) for n in reversed(range(i + 1))]
            for i, u in enumerate(users)  # newest first
        ]
        assert got[2 * len(users) :] == ["WALLET_NOT_FOUND", "WALLET_NOT_FOUND"]
    after = batched()
    trips, reads = after[0] - before[0], after[1] - before[1]
    assert reads == rounds * per_round and trips < reads  # they did travel together
