"""The history page's generic plan reads the wallet's index range on a small, analyzed table.

With PostgreSQL's default `random_page_cost` (4) the dev cluster planned the page as a backward
walk of `transactions_pkey` filtering every row on the wallet (devstack.postgres.PLANNER_OPTIONS).
"""

from __future__ import annotations

from typing import Any

import psycopg

from services.wallet import readmodels
from tests.grpc.wallet.conftest import PLAN_RUNS
from tests.grpc.wallet.wallet_harness import Wallet

_WALLETS = 17
_ROWS = 20


async def test_the_history_page_generic_plan_reads_the_wallet_index(
    wallet: Wallet, driver: psycopg.AsyncConnection[Any]
) -> None:
    await wallet.system()
    users = [await wallet.user() for _ in range(_WALLETS)]
    for user in users:
        await wallet.sql(
            "INSERT INTO ledger.transactions (fabric_tx_id, event_index, leg, wallet_id, type, amount_qirat,"
            " fee_qirat, counterparty, remark, block_number, time)"
            " SELECT 'plan-' || :w || '-' || i, 0, 0, :w, 'RECEIVED', 1, 0, 'someone', 'r', 5,"
            " now() - make_interval(secs => i) FROM generate_series(1, :rows) i",
            w=user,
            rows=_ROWS,
        )
    await driver.execute("ANALYZE ledger.transactions")
    alice = users[0]
    for _ in range(PLAN_RUNS):
        rows = await readmodels.owned_transactions(
            driver, readmodels.TransactionFilter(alice), alice, None, 51
        )
        assert rows is not None and len(rows) == _ROWS
    cursor = await driver.execute(
        "SELECT statement FROM pg_prepared_statements WHERE strpos(statement, 'LEFT JOIN LATERAL') > 0"
    )
    (statement,) = await cursor.fetchone() or ("",)
    plan = "\n".join(
        row[0]
        for row in await (await driver.execute(f"EXPLAIN (GENERIC_PLAN, COSTS OFF) {statement}")).fetchall()
    )
    assert "Index Scan using transactions_wallet_idx on transactions t" in plan, plan
    assert "transactions_pkey" not in plan, plan
