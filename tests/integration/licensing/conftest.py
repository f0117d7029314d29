"""Fixtures for licensing's integration tests: real PostgreSQL, Redis, identity and licensing per module."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.grpc.identity.identity_harness import migrated
from tests.grpc.licensing.licensing_harness import Mesh, running_mesh


@pytest.fixture(scope="module")
async def mesh(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Mesh]:
    """Identity and licensing over a freshly migrated database (one per module)."""
    await migrated(database_url)
    async with running_mesh(database_url, redis_url, tmp_path_factory.mktemp("licensing-int")) as running:
        yield running
