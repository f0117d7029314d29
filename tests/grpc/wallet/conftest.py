"""Fixtures for the wallet's gRPC tests: one migrated database and one wallet server per module."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.grpc.wallet.wallet_harness import Wallet, migrated, running_wallet


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
