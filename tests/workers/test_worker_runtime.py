"""The workers run on the process runtime: fabric_client's settings and channel (TLS here), probes,
a clean drain on SIGTERM, and the runtime's one-line exit when a port is taken.

Real processes throughout: PostgreSQL, a devnet peer serving TLS with the GX chaincode, and
`python -m outbox` / `python -m projector`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator

import pytest
from gx.ledger.v1 import commands_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from fabric_client import FabricSettings
from outbox.ledger import Ledger as OutboxLedger
from services.common import operations
from tests.support.ledger import Ledger, running_ledger
from tests.workers.conftest import record, wait_until
from tests.workers.mesh import WorkerProcess, worker_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def ledger(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ledger]:
    async with running_ledger(
        tmp_path_factory.mktemp("ledger"), chaincode="gx", batch_timeout=0.05, tls=True
    ) as running:
        yield running


def _tls_env(migrated_url: str, ledger: Ledger) -> dict[str, str]:
    # Only the GX_FABRIC__ names of fabric_client's own settings: the workers add nothing of theirs.
    return worker_env(migrated_url, ledger, GX_FABRIC__TLS_ROOT_CERT=str(ledger.tls_ca_path))


def _status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def _messages(proc: WorkerProcess) -> list[str]:
    lines = proc.log_path.read_text(errors="replace").splitlines()
    return [json.loads(line)["message"] for line in lines if line.startswith("{")]


async def test_workers_reach_a_tls_peer_serve_probes_and_drain_on_sigterm(
    ledger: Ledger, migrated_url: str, engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    logs = tmp_path_factory.mktemp("worker-logs")
    env = _tls_env(migrated_url, ledger)
    procs = [await WorkerProcess(module, logs, env).start() for module in ("outbox", "projector")]
    try:
        command = await record(
            engine, "BOOTSTRAP_SYSTEM", commands_pb2.BootstrapSystemRequest(request_id=str(uuid.uuid4()))
        )

        async def committed_and_projected() -> bool:
            found = await operations.get_operation(engine, command)
            return found is not None and found[0].done

        await wait_until(committed_and_projected, limit=60)
        operation = (await operations.get_operation(engine, command))[0]  # type: ignore[index]
        assert operation.state == 3, operation  # COMMITTED: submitted and projected over TLS
        for proc in procs:
            assert await asyncio.to_thread(_status, proc.metrics_port, "/readyz") == 200, proc.log()
    finally:
        for proc in procs:
            await proc.stop(grace=20)
    for proc in procs:
        assert proc.process is not None and proc.process.returncode == 0, proc.log()
        messages = _messages(proc)
        # The runtime's drain: asked to stop, the main part drains, then resources close.
        assert messages.index(f"{proc.module} shutting down") < messages.index(f"{proc.module} stopped"), (
            messages
        )


async def test_a_worker_whose_metrics_port_is_taken_exits_2_with_one_line(
    ledger: Ledger, migrated_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        proc = WorkerProcess("projector", tmp_path_factory.mktemp("taken"), _tls_env(migrated_url, ledger))
        proc.env["GX_METRICS_LISTEN"] = f"127.0.0.1:{taken.getsockname()[1]}"
        await proc.start()
        assert proc.process is not None
        assert await asyncio.wait_for(proc.process.wait(), 60) == 2, proc.log()
    assert [m for m in _messages(proc) if m.startswith("projector cannot start:")], proc.log()
    assert "Traceback" not in proc.log()


async def test_the_outbox_ledger_keeps_the_client_mutual_tls_check(ledger: Ledger) -> None:
    # A client certificate without its key is a misconfiguration fabric_client refuses; the
    # outbox's own copy of the channel code used to drop that check.
    settings = FabricSettings(
        peer_endpoint=ledger.peer_address,
        org_dir=ledger.org_dir,
        tls_root_cert=ledger.tls_ca_path,
        tls_client_cert=ledger.tls_ca_path,
    )
    with pytest.raises(ValueError, match="mutual TLS needs both"):
        OutboxLedger(settings, {"gx_admin", "gx_super_admin"})
