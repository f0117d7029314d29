"""The transfer's check statement (readmodels.transfer_view): planned once per connection, same answers.

It read the pair as `w.wallet_id = ANY(array)`, which PostgreSQL planned again on every accept
(its generic plan never won against a custom one); the pair by `IN (a, b)` is planned once.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from services.wallet import readmodels
from tests.grpc.wallet.conftest import PLAN_RUNS, prepared_plans
from tests.grpc.wallet.wallet_harness import GX, Wallet


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
    for _ in range(PLAN_RUNS):
        _, found = await readmodels.transfer_view(driver, alice, bob)
        assert {k: v.balance_qirat for k, v in found.items()} == {alice: 3 * GX, bob: GX}
    generic, custom = await prepared_plans(driver, "s.fee_cap_bps, a.*")
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
