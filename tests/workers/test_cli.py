"""`gx outbox ...` and `gx projector ...` against a real database."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid

from gx.ledger.v1 import commands_pb2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from projector import lock
from tests.workers.conftest import record


def gx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gx_cli.main", *args], capture_output=True, text=True, timeout=60)


async def test_outbox_cli_lists_shows_cancels_and_retries(engine: AsyncEngine, migrated_url: str) -> None:
    cid = await record(engine, "BOOTSTRAP_SYSTEM", commands_pb2.BootstrapSystemRequest(request_id=str(uuid.uuid4())))
    listed = await asyncio.to_thread(gx, "outbox", "--url", migrated_url, "list", "--status", "PENDING")
    assert listed.returncode == 0 and str(cid) in listed.stdout
    shown = await asyncio.to_thread(gx, "outbox", "--url", migrated_url, "show", str(cid))
    assert '"status": "PENDING"' in shown.stdout and "BOOTSTRAP_SYSTEM" in shown.stdout
    refused = await asyncio.to_thread(gx, "outbox", "--url", migrated_url, "retry", str(cid))
    assert refused.returncode == 1 and "COMMAND_NOT_FAILED" in refused.stderr
    cancelled = await asyncio.to_thread(gx, "outbox", "--url", migrated_url, "cancel", str(cid), "--reason", "test")
    assert cancelled.returncode == 0 and "FAILED (CANCELLED)" in cancelled.stdout
    retried = await asyncio.to_thread(gx, "outbox", "--url", migrated_url, "retry", str(cid))
    assert retried.returncode == 0 and f"of {cid}" in retried.stdout
    missing = await asyncio.to_thread(gx, "outbox", "--url", migrated_url, "show", str(uuid.uuid4()))
    assert missing.returncode == 1 and "COMMAND_NOT_FOUND" in missing.stderr


async def test_projector_cli_status_names_the_active_projector_and_rebuild_resets(engine: AsyncEngine, migrated_url: str) -> None:
    key = lock.lock_key("gxchannel", "gx")
    async with engine.connect() as holder:
        assert await lock.try_acquire(holder, key)
        pid = (await holder.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        await holder.commit()
        status = await asyncio.to_thread(gx, "projector", "--url", migrated_url, "status")
        assert status.returncode == 0 and f"backend pid {pid}" in status.stdout, status.stdout + status.stderr
        await lock.release(holder, key)
    idle = await asyncio.to_thread(gx, "projector", "--url", migrated_url, "status")
    assert "active          none" in idle.stdout
    rebuilt = await asyncio.to_thread(gx, "projector", "--url", migrated_url, "rebuild")
    assert rebuilt.returncode == 0 and "replays from block 0" in rebuilt.stdout
