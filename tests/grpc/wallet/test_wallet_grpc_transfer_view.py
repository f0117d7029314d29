"""The transfer's check statement (readmodels.transfer_view): planned once per connection, same answers.

It read the pair as `w.wallet_id = ANY(array)`, which PostgreSQL planned again on every accept
(its generic plan never won against a custom one); the pair by `IN (a, b)` is planned once.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from services.common.db import libpq_dsn
from services.wallet import readmodels
from tests.grpc.wallet.wallet_harness import GX, Wallet

# psycopg prepares a statement on its sixth run; PostgreSQL then tries five custom plans before
# it weighs the generic one: 20 runs leave 10 that should reuse the generic plan.
_EXECUTIONS = 20


@pytest.fixture
async def driver(wallet: Wallet) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """An autocommit driver connection like the accept's (psycopg prepares after five runs)."""
    url = libpq_dsn(wallet.engine.url.render_as_string(hide_password=False))
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        yield conn


async def test_the_transfer_check_is_planned_once_not_on_every_accept(
    wallet: Wallet, driver: psycopg.AsyncConnection[Any]
) -> None:
    await wallet.system()
    alice = await wallet.user(balance=3 * GX)
    bob = await wallet.user(balance=GX)
    # Wallets enough for statistics: on a handful of unanalysed rows even the ANY form got its
    # generic plan; on a real table (here 3,000 analysed) it never did.
    await wallet.sql(
        "INSERT INTO ledger.wallets (wallet_id, account_type, country_code, balance_qirat, block_number,"
        " fabric_tx_id, create_time, update_time)"
        " SELECT gen_random_uuid()::text, 'USER', 'LK', 1, 1, 'tx', now(), now() FROM generate_series(1, 3000)"
    )
    await wallet.sql("ANALYZE ledger.wallets")
    for _ in range(_EXECUTIONS):
        _, found = await readmodels.transfer_view(driver, alice, bob)
        assert {k: v.balance_qirat for k, v in found.items()} == {alice: 3 * GX, bob: GX}
    cursor = await driver.execute(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE strpos(statement, %s) > 0",
        ("s.fee_cap_bps, a.*",),
    )
    [(generic, custom)] = await cursor.fetchall()
    # The `= ANY($1)` form stayed at 0 generic plans: PostgreSQL planned every accept's check again.
    assert generic >= 10 and custom <= 5


async def test_the_transfer_check_answers_the_system_and_the_accounts_that_exist(
    wallet: Wallet, driver: psycopg.AsyncConnection[Any]
) -> None:
    await wallet.system(paused=True, reason="maintenance")
    alice = await wallet.user(balance=2 * GX)
    nobody = str(uuid.uuid4())
    system, found = await readmodels.transfer_view(driver, alice, nobody)
    assert (system.bootstrapped, system.paused, system.pause_reason) == (True, True, "maintenance")
    assert list(found) == [alice] and found[alice].balance_qirat == 2 * GX
    # A transfer to oneself names one account once (the checks refuse it later, not this read).
    _, same = await readmodels.transfer_view(driver, alice, alice)
    assert list(same) == [alice]
    # Neither exists: the system row still comes back, with no accounts.
    system, none = await readmodels.transfer_view(driver, nobody, str(uuid.uuid4()))
    assert system.bootstrapped and none == {}
