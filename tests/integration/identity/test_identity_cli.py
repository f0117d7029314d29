"""`gx identity create-admin` and `rotate-key` as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import text

from tests.integration.identity.conftest import Wired

_GX = [sys.executable, "-m", "gx_cli.main"]


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_GX, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120, input=stdin
    )


async def test_create_admin_from_the_environment_password(wired: Wired) -> None:
    email = f"root-{uuid.uuid4().hex[:8]}@example.com"
    url = wired.settings.database.url.get_secret_value()
    done = _run(
        ["identity", "create-admin", "--email", email],
        {"GX_DATABASE__URL": url, "GX_ADMIN_PASSWORD": "Root pass phrase 77"},
    )
    assert done.returncode == 0, done.stderr
    assert "created super-admin" in done.stdout
    async with wired.engine.connect() as conn:
        roles = (
            await conn.execute(text("SELECT roles FROM identity.users WHERE email = :e"), {"e": email})
        ).scalar_one()
    assert sorted(roles) == ["ADMIN", "SUPER_ADMIN", "USER"]
    tokens = await wired.usecases.login(email, "Root pass phrase 77", None)
    assert tokens.access_token
    # Running it again grants rather than duplicates.
    again = _run(
        ["identity", "create-admin", "--email", email.upper(), "--password", "Root pass phrase 78"],
        {"GX_DATABASE__URL": url},
    )
    assert again.returncode == 0 and "existing" in again.stdout


async def test_create_admin_refuses_a_weak_password_with_the_rule(wired: Wired) -> None:
    done = _run(
        ["identity", "create-admin", "--email", "weak@example.com", "--password", "short"],
        {"GX_DATABASE__URL": wired.settings.database.url.get_secret_value()},
    )
    assert done.returncode == 2 and "password" in done.stderr and "12" in done.stderr


async def test_create_admin_without_a_password_source_fails_cleanly(wired: Wired) -> None:
    env = {"GX_DATABASE__URL": wired.settings.database.url.get_secret_value(), "GX_ADMIN_PASSWORD": ""}
    done = _run(["identity", "create-admin", "--email", "nopass@example.com"], env, stdin="")
    assert done.returncode == 2 and "GX_ADMIN_PASSWORD" in done.stderr and "Traceback" not in done.stderr


def test_rotate_key_adds_a_published_key(tmp_path: Path) -> None:
    from services.identity.keys import KeyStore

    first = KeyStore.open(tmp_path).current.kid
    done = _run(["identity", "rotate-key"], {"GX_IDENTITY__KEYS_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    store = KeyStore.open(tmp_path)
    assert store.current.kid != first and json.loads(store.jwks_json())["keys"][1]["kid"] == first
