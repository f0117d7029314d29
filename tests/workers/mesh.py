"""Start the outbox and projector as real processes (`python -m ...`) for the worker tests, and stop them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from google.protobuf import json_format
from gx.ledger.v1 import queries_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from devstack.postgres import PROCESS_GROUP_ROLES
from fabric_client import Gateway, load_msp_identity
from services.common import operations
from tests.support.ledger import REPO_ROOT, Ledger, free_port
from tests.support.roles import as_process

# Short timings so the fault scenarios run in seconds, not minutes.
FAST = {
    "GX_OUTBOX__POLL_INTERVAL": "0.2",
    "GX_OUTBOX__BACKOFF_INITIAL": "0.05",
    "GX_OUTBOX__BACKOFF_MAX": "0.5",
    "GX_OUTBOX__LEASE_SECONDS": "3",
    "GX_OUTBOX__RECOVER_STATUS_TIMEOUT": "0.5",
    "GX_OUTBOX__COMMIT_TIMEOUT": "10",
    "GX_OUTBOX__MAX_ATTEMPTS": "20",
    "GX_FABRIC__BREAKER_RESET_TIMEOUT": "1",
    "GX_FABRIC__BREAKER_FAILURE_THRESHOLD": "3",
    "GX_PROJECTOR__CONTROL_INTERVAL_SECONDS": "0.2",
    "GX_PROJECTOR__STANDBY_RETRY_SECONDS": "0.2",
}


class WorkerProcess:
    """One `python -m outbox|projector` child with its own log file and metrics port."""

    def __init__(self, module: str, log_dir: Path, env: dict[str, str]) -> None:
        self.module = module
        self.metrics_port = free_port()
        self.log_path = log_dir / f"{module}-{self.metrics_port}.log"
        self.env = {**env, "GX_METRICS_LISTEN": f"127.0.0.1:{self.metrics_port}"}
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> WorkerProcess:
        full = {**os.environ, **self.env}
        full["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "gen" / "python")])
        # The worker connects as its own least-privilege user (migration 0011), as under `gx dev up`,
        # so these tests prove its grants suffice.
        url = full.get("GX_DATABASE__URL", "")
        if self.module in PROCESS_GROUP_ROLES and "://postgres@" in url:
            full["GX_DATABASE__URL"] = as_process(url, self.module)
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                self.module,
                cwd=str(REPO_ROOT),
                env=full,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def kill(self) -> None:
        """SIGKILL, like a node losing power."""
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()  # type: ignore[union-attr]
            await self.process.wait()  # type: ignore[union-attr]

    async def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `grace`."""
        if not self.running:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        try:
            await asyncio.wait_for(self.process.wait(), grace)  # type: ignore[union-attr]
        except TimeoutError:
            await self.kill()

    def log(self, tail: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:] if self.log_path.exists() else ""


@contextlib.asynccontextmanager
async def running_workers(
    names: Iterable[str], log_dir: Path, env: dict[str, str]
) -> AsyncIterator[dict[str, WorkerProcess]]:
    """Start `python -m <name>` for each name (in order); every one is stopped (SIGTERM) at the end."""
    procs: dict[str, WorkerProcess] = {}
    try:
        for name in names:
            procs[name] = await WorkerProcess(name, log_dir, env).start()
        yield procs
    finally:
        for proc in procs.values():
            await proc.stop()


async def operations_done(engine: AsyncEngine, ids: Iterable[uuid.UUID]) -> bool:
    """Whether every command's operation is done (committed and projected, or failed)."""
    for cid in ids:
        result = await operations.get_operation(engine, cid)
        if result is None or not result[0].done:
            return False
    return True


def worker_env(database_url: str, ledger: Ledger, **extra: str) -> dict[str, str]:
    """The environment of a worker process wired to this database and devnet."""
    return {
        "GX_DATABASE__URL": database_url,
        "GX_FABRIC__ENDPOINT": ledger.peer_address,
        "GX_FABRIC__CHANNEL": ledger.channel,
        "GX_FABRIC__CHAINCODE": ledger.chaincode_name,
        "GX_FABRIC__MSP_ID": ledger.msp_id,
        "GX_FABRIC__ORG_DIR": str(ledger.org_dir),
        "GX_LISTEN": "",
        "GX_LOG_LEVEL": "INFO",
        **FAST,
        **extra,
    }


async def chain_balances(ledger: Ledger) -> dict[str, int]:
    """Every account's balance as the chaincode reports it (evaluate, no read model involved)."""
    user = ledger.user("User1")
    identity, signer = load_msp_identity(ledger.msp_id, user.cert_path.parent.parent)
    balances: dict[str, int] = {}
    async with Gateway.connect(ledger.peer_address, identity, signer) as gateway:
        contract = gateway.network(ledger.channel).contract(ledger.chaincode_name)
        token = ""
        while True:
            request = queries_pb2.ListAccountsRequest(page_size=500, page_token=token)
            raw = await contract.evaluate("token:ListAccounts", args=[json_format.MessageToJson(request)])
            result = json_format.Parse(
                raw.decode(), queries_pb2.ListAccountsResult(), ignore_unknown_fields=True
            )
            for account in result.accounts:
                balances[account.account_id] = account.balance_qirat
            token = result.next_page_token
            if not token:
                return balances


def dumps(data: object) -> str:
    return json.dumps(data, indent=1, sort_keys=True, default=str)
