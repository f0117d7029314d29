"""`gx outbox ...` and `gx projector ...` against a real database."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid

from gx.ledger.v1 import commands_pb2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from projector import lock
from services.common import names
from tests.workers.conftest import record


def gx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gx_cli.main", *args], capture_output=True, text=True, timeout=60
    )


async def test_outbox_cli_lists_shows_cancels_and_retries(engine: AsyncEngine, migrated_url: str) -> None:
    cid = await record(
        engine, "BOOTSTRAP_SYSTEM", commands_pb2.BootstrapSystemRequest(request_id=str(uuid.uuid4()))
    )
    listed = await asyncio.to_thread(gx, "outbox", "--url", migrated_url, "list", "--status", "PENDING")
    assert listed.returncode == 0 and str(cid) in listed.stdout
    shown = await asyncio.to_thread(gx, "outbox", "--url", migrated_url, "show", str(cid))
    assert '"status": "PENDING"' in shown.stdout and "BOOTSTRAP_SYSTEM" in shown.stdout
    refused = await asyncio.to_thread(gx, "outbox", "--url", migrated_url, "retry", str(cid))
    assert refused.returncode == 1 and "COMMAND_NOT_FAILED" in refused.stderr
    cancelled = await asyncio.to_thread(
        gx, "outbox", "--url", migrated_url, "cancel", str(cid), "--reason", "test"
    )
    assert cancelled.returncode == 0 and "FAILED (CANCELLED)" in cancelled.stdout
    retried = await asyncio.to_thread(gx, "outbox", "--url", migrated_url, "retry", str(cid))
    assert retried.returncode == 0 and f"of {cid}" in retried.stdout
    missing = await asyncio.to_thread(gx, "outbox", "--url", migrated_url, "show", str(uuid.uuid4()))
    assert missing.returncode == 1 and "COMMAND_NOT_FOUND" in missing.stderr


async def test_projector_cli_status_names_the_active_projector_and_rebuild_resets(
    engine: AsyncEngine, migrated_url: str
) -> None:
    key = names.projector_lock("gxchannel", "gx")
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


async def test_outbox_cli_show_names_the_keys_and_the_command_it_waits_for(
    engine: AsyncEngine, migrated_url: str
) -> None:
    async with engine.begin() as conn:  # an earlier test's retried bootstrap would hold up everything
        await conn.execute(
            text("UPDATE outbox.commands SET status = 'FAILED' WHERE status IN ('PENDING', 'SUBMITTED')")
        )
    alice, shop = str(uuid.uuid4()), str(uuid.uuid4())

    def pay(a: str, b: str) -> commands_pb2.TransferTokensRequest:
        return commands_pb2.TransferTokensRequest(
            request_id=str(uuid.uuid4()), from_account_id=a, to_account_id=b, amount_qirat=1
        )

    first = await record(engine, "TRANSFER_TOKENS", pay(alice, shop))
    second = await record(engine, "TRANSFER_TOKENS", pay(shop, alice))
    shown = await asyncio.to_thread(gx, "outbox", "--url", migrated_url, "show", str(second))
    view = json.loads(shown.stdout)
    assert view["exclusive_keys"] == [f"account:{shop}"]
    assert view["shared_keys"] == sorted([f"account:{alice}", "system"])
    assert view["blocked_by"] == str(first) and view["depends_on"] is None
    first_view = json.loads(
        (await asyncio.to_thread(gx, "outbox", "--url", migrated_url, "show", str(first))).stdout
    )
    assert first_view["blocked_by"] is None  # only EARLIER commands block
