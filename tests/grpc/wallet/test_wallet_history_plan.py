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


async def _generic_plan(driver: psycopg.AsyncConnection[Any]) -> str:
    """The generic plan of the history page statement the connection prepared."""
    cursor = await driver.execute(
        "SELECT statement FROM pg_prepared_statements WHERE strpos(statement, 'LEFT JOIN LATERAL') > 0"
    )
    (statement,) = await cursor.fetchone() or ("",)
    return "\n".join(
        row[0]
        for row in await (await driver.execute(f"EXPLAIN (GENERIC_PLAN, COSTS OFF) {statement}")).fetchall()
    )


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
        found = await readmodels.owned_history(driver, readmodels.TransactionFilter(alice), alice, None, 51)
        assert found is not None and found.rows is not None and len(found.rows) == _ROWS
    plan = await _generic_plan(driver)
    assert "Index Scan using transactions_wallet_idx on transactions t" in plan, plan
    assert "transactions_pkey" not in plan, plan


async def test_each_entry_probes_the_outbox_key_for_its_operation_whatever_the_statistics(
    wallet: Wallet, driver: psycopg.AsyncConnection[Any]
) -> None:
    # An outbox grown since its last ANALYZE, under PostgreSQL's default random_page_cost: joined,
    # the generic plan scanned every 'gx' command for every history row (3.5 ms a page).
    await wallet.system()
    alice = await wallet.user()
    await wallet.sql(
        "INSERT INTO outbox.commands (id, tenant, command_type, payload, request_id, principal_id, status)"
        " SELECT gen_random_uuid(), 'gx', 'TRANSFER_TOKENS', '{}', 'req-' || i, :u, 'COMMITTED'"
        " FROM generate_series(1, 3000) i",
        u=alice,
    )
    for i in range(_ROWS):
        await wallet.sql(
            "INSERT INTO ledger.transactions (fabric_tx_id, event_index, leg, wallet_id, type, amount_qirat,"
            " fee_qirat, counterparty, remark, block_number, time, request_id)"
            " VALUES (:tx, 0, 0, :w, 'SENT', 1, 0, 'someone', 'r', 5, now(), :req)",
            tx=f"op-{i}",
            w=alice,
            req=f"req-{i * 100 + 1}" if i % 2 else None,
        )
    await driver.execute("SET random_page_cost = 4")
    for _ in range(PLAN_RUNS):
        found = await readmodels.owned_history(driver, readmodels.TransactionFilter(alice), alice, None, 51)
        assert found is not None and found.rows is not None and len(found.rows) == _ROWS
        rows = found.rows
    # Every other entry names its command's operation, the others none.
    assert rows is not None
    assert [row[10].startswith("operations/") for row in rows].count(True) == _ROWS // 2
    plan = await _generic_plan(driver)
    assert "Materialize" not in plan, plan
    assert plan.count("Index Cond: ((tenant = 'gx'::text) AND (request_id = t.request_id))") == 2, plan
