"""Every process of the mesh runs on uvloop (services.common.runtime), and the mesh works on it.

The whole mesh runs as real processes, started by the same code as `gx dev up`. A ledger command
goes the whole way on uvloop: recorded by the wallet (psycopg async, Redis, gRPC from Envoy),
submitted by the outbox (grpc.aio client to the devnet), applied by the projector (its event
stream, psycopg pipeline), and the super-admin's login goes through identity. Each process's
start line names its loop.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from services.common.logging import LogKey
from tests.support.edge_rest import bearer, committed, create_super_admin, login
from tests.support.stack import EdgeStack, running_edge_stack

pytestmark = pytest.mark.e2e

_MESH = (
    "postgres", "redis", "migrations", "chaincode", "devnet",
    "identity", "wallet", "licensing", "outbox", "projector", "mail", "notifier", "edge",
)  # fmt: skip
# The processes built on services.common.runtime.
_PROCESSES = ("identity", "wallet", "licensing", "outbox", "projector", "notifier")
PASSWORD = "Event loop e2e 2026!"


@pytest.fixture(scope="module")
def mesh() -> Iterator[EdgeStack]:
    with running_edge_stack(parts=_MESH) as stack:
        yield stack


def _loops(stack: EdgeStack, process: str) -> list[str]:
    """The loops a process's start lines name (one per start)."""
    found = []
    for line in stack.config.log_path(process).read_text(errors="replace").splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if LogKey.EVENT_LOOP in entry:
                found.append(entry[LogKey.EVENT_LOOP])
    return found


def test_every_process_runs_on_uvloop_and_a_command_goes_the_whole_way(mesh: EdgeStack) -> None:
    with httpx.Client(base_url=mesh.rest_url, timeout=30) as http:
        token = login(http, create_super_admin(mesh.database_url, PASSWORD), PASSWORD)
        recorded = http.post(
            "/v1/system:bootstrap", json={"requestId": str(uuid.uuid4())}, headers=bearer(token)
        )
        operation = committed(http, token, recorded)
        assert operation.get("done") is True, operation
        # The projector applied it: the read model answers the bootstrapped status.
        deadline = time.monotonic() + 30
        while True:
            metrics = httpx.get(f"http://{mesh.metrics['projector']}/metrics", timeout=10).text
            if any(line.startswith("gx_projector_transactions_total{") for line in metrics.splitlines()):
                break
            assert time.monotonic() < deadline, "the projector applied nothing in 30 s"
            time.sleep(0.2)
    for process in _PROCESSES:
        assert _loops(mesh, process) == ["uvloop"], (
            process,
            mesh.config.log_path(process).read_text()[-2000:],
        )
