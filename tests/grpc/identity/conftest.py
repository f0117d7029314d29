"""Fixtures for identity's gRPC tests: one migrated database and one identity server per module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.grpc.identity.identity_harness import Identity, migrated, running_identity


@pytest.fixture(scope="module")
async def identity(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Identity]:
    """The real identity server on a free port, over a freshly migrated database."""
    await migrated(database_url)
    async with running_identity(
        database_url, redis_url, Path(tmp_path_factory.mktemp("identity-keys"))
    ) as running:
        yield running
