"""Fixtures for licensing's gRPC tests: one migrated database, identity and licensing per module."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.grpc.identity.identity_harness import migrated
from tests.grpc.licensing.licensing_harness import Mesh, running_mesh


@pytest.fixture(scope="module")
async def mesh_server(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Mesh]:
    """Real identity and licensing servers on free ports, over a freshly migrated database."""
    await migrated(database_url)
    # No key cache: each check sees the latest state (the cache has its own unit test).
    async with running_mesh(
        database_url, redis_url, tmp_path_factory.mktemp("licensing"), key_cache_seconds=0
    ) as running:
        yield running


@pytest.fixture
async def mesh(mesh_server: Mesh) -> AsyncIterator[Mesh]:
    """The module's servers with licensing's tables empty."""
    await mesh_server.reset()
    yield mesh_server
