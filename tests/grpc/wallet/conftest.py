"""Fixtures for the wallet's gRPC tests: one migrated database and one wallet server per module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from services.common.db import libpq_dsn
from tests.grpc.wallet.wallet_harness import Wallet, migrated, running_wallet

# psycopg prepares a statement on its sixth run; PostgreSQL then tries five custom plans before
# it weighs the generic one: 20 runs leave 10 that should reuse the generic plan.
PLAN_RUNS = 20


@pytest.fixture(scope="module")
async def wallet_server(database_url: str, redis_url: str) -> AsyncIterator[Wallet]:
    """The real wallet server on a free port, over a freshly migrated database."""
    await migrated(database_url)
    async with running_wallet(database_url, redis_url) as running:
        yield running


@pytest.fixture
async def wallet(wallet_server: Wallet) -> AsyncIterator[Wallet]:
    """The module's server with empty read models, outbox and idempotency records."""
    await wallet_server.reset()
    yield wallet_server


@pytest.fixture
async def driver(wallet: Wallet) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """An autocommit driver connection like the statement pool's (psycopg prepares after five runs)."""
    url = libpq_dsn(wallet.engine.url.render_as_string(hide_password=False))
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        yield conn


async def prepared_plans(conn: psycopg.AsyncConnection[Any], fragment: str) -> tuple[int, int]:
    """(generic, custom) plans so far of this session's one prepared statement containing `fragment`."""
    cursor = await conn.execute(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE strpos(statement, %s) > 0",
        (fragment,),
    )
    rows = await cursor.fetchall()
    assert len(rows) == 1, rows
    return int(rows[0][0]), int(rows[0][1])
