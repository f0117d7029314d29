"""The outbox process archives finished commands itself (its retention worker, as its own database user).

Real processes: PostgreSQL, the devnet peer with the GX chaincode, `python -m outbox` and
`python -m projector`. With a retention of 0 days a command leaves the queue once it is
committed and projected, and its operation answers the same from the archive.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from gx.ledger.v1 import commands_pb2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import operations
from tests.support.ledger import Ledger
from tests.workers.conftest import record, wait_until
from tests.workers.mesh import WorkerProcess, running_workers, worker_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def workers(
    ledger: Ledger, migrated_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, WorkerProcess]]:
    logs = tmp_path_factory.mktemp("worker-logs")
    env = worker_env(
        migrated_url, ledger, GX_OUTBOX__RETENTION_DAYS="0", GX_OUTBOX__RETENTION_INTERVAL_SECONDS="0.2"
    )
    async with running_workers(("outbox", "projector"), logs, env) as procs:
        yield procs


async def _where(engine: AsyncEngine, command_id: uuid.UUID) -> str | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT archived FROM outbox.operations WHERE id = :id"), {"id": command_id}
            )
        ).first()
    return None if row is None else ("archive" if row.archived else "queue")


async def test_a_committed_projected_command_moves_to_the_archive_and_its_operation_stays(
    engine: AsyncEngine, workers: dict[str, WorkerProcess]
) -> None:
    command_id = await record(
        engine, "BOOTSTRAP_SYSTEM", commands_pb2.BootstrapSystemRequest(request_id=str(uuid.uuid4()))
    )

    async def archived() -> bool:
        return await _where(engine, command_id) == "archive"

    try:
        await wait_until(archived, 60)
    except AssertionError:
        raise AssertionError(workers["outbox"].log() + workers["projector"].log()) from None
    found = await operations.get_operation(engine, command_id)
    assert found is not None
    operation, _ = found
    assert operation.done and operation.state == 3 and operation.fabric_tx_id  # COMMITTED, projected
    assert '"gx.outbox.archived"' in workers["outbox"].log()
