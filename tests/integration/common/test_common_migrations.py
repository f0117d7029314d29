"""`gx db upgrade|current` against a real PostgreSQL, and the runtime's revision's shape."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# Only the runtime's own revision: these tests must not depend on later services' migrations.
RUNTIME_REVISION = "0001_platform_outbox"


def _gx(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GX_DATABASE__URL": url}
    return subprocess.run(
        [sys.executable, "-m", "gx_cli.main", "db", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_gx_db_upgrade_and_current(postgres) -> None:
    url = postgres.create_database("gxdb")
    try:
        before = await asyncio.to_thread(_gx, "current", url=url)
        assert before.returncode == 0 and "no revision" in before.stdout
        up = await asyncio.to_thread(_gx, "upgrade", RUNTIME_REVISION, url=url)
        assert up.returncode == 0, up.stderr
        now = await asyncio.to_thread(_gx, "current", url=url)
        assert now.stdout.strip() == RUNTIME_REVISION or now.stdout.startswith(RUNTIME_REVISION)
        # Upgrading again is a no-op, not an error.
        assert (await asyncio.to_thread(_gx, "upgrade", RUNTIME_REVISION, url=url)).returncode == 0
    finally:
        postgres.drop_database(url)


def test_gx_db_without_url_says_so() -> None:
    env = {k: v for k, v in os.environ.items() if k != "GX_DATABASE__URL"}
    done = subprocess.run(
        [sys.executable, "-m", "gx_cli.main", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "GX_DATABASE__URL" in done.stderr


async def test_outbox_table_has_every_column_and_the_claim_index(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        columns = set(
            (
                await conn.execute(
                    text(
                        "SELECT column_name FROM information_schema.columns WHERE table_schema='outbox' AND table_name='commands'"
                    )
                )
            ).scalars()
        )
        indexes = set(
            (await conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname='outbox'"))).scalars()
        )
        plan = "\n".join(
            (
                await conn.execute(
                    text(
                        "EXPLAIN SELECT id FROM outbox.commands WHERE status IN ('PENDING','SUBMITTED') AND next_attempt_at <= now()"
                        " ORDER BY next_attempt_at, created_at LIMIT 10"
                    )
                )
            ).scalars()
        )
    assert {
        "id",
        "tenant",
        "command_type",
        "payload",
        "request_id",
        "status",
        "attempts",
        "next_attempt_at",
        "lease_owner",
        "lease_expires_at",
        "tx_id",
        "envelope",
        "block_number",
        "validation_code",
        "error_code",
        "error_message",
        "result_json",
        "created_at",
        "updated_at",
    } <= columns
    assert {"commands_due_idx", "commands_tenant_request_id_key"} <= indexes
    assert "commands_due_idx" in plan
