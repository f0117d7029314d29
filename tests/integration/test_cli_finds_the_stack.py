"""The `gx` operator commands find the stack `gx dev up` started, from the record it leaves.

A real `gx dev up migrations` (PostgreSQL, Redis, the migrations) runs on free ports in a temp state
directory; the commands then get only `GX_STATE_DIR` (as `make up` users get nothing at all: the
default state directory is the checkout's `.gx/`), never the ports or the database URL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from devstack.config import PORTS, REPO_ROOT
from devstack.ports import free_port
from tests.support.stack import make_temp_dir

_GX = [sys.executable, "-m", "gx_cli.main"]
_PASSWORD = "Root pass phrase 77"


def _clean_env() -> dict[str, str]:
    """The caller's environment without any stack setting, as a newcomer's shell has it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GX_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "gen" / "python")])
    return env


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[Path, int]]:
    state = make_temp_dir("gx-cli-")
    up_env = _clean_env()
    up_env.update({var: str(free_port()) for var, _ in PORTS.values()})
    up_env["GX_STATE_DIR"] = str(state)
    try:
        up = subprocess.run(
            [*_GX, "dev", "up", "migrations"], env=up_env, capture_output=True, text=True, timeout=240
        )
        assert up.returncode == 0, up.stdout + up.stderr
        yield state, int(up_env["GX_PG_PORT"])
    finally:
        subprocess.run([*_GX, "dev", "down"], env=up_env, capture_output=True, timeout=120)
        shutil.rmtree(state, ignore_errors=True)


def _gx(state: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = _clean_env()
    env["GX_STATE_DIR"] = str(state)
    env.update(extra)
    return subprocess.run(
        [*_GX, *args], env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


def test_create_admin_needs_no_database_setting(stack: tuple[Path, int]) -> None:
    state, pg_port = stack
    email = f"root-{uuid.uuid4().hex[:8]}@example.com"
    done = _gx(state, "identity", "create-admin", "--email", email, GX_ADMIN_PASSWORD=_PASSWORD)
    assert done.returncode == 0, done.stderr
    assert "created super-admin" in done.stdout
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/gx") as conn:
        roles = conn.execute("SELECT roles FROM identity.users WHERE email = %s", (email,)).fetchone()
    assert roles is not None and "SUPER_ADMIN" in roles[0]


def test_outbox_projector_and_db_commands_find_the_database(stack: tuple[Path, int]) -> None:
    state, _ = stack
    listed = _gx(state, "outbox", "list")
    assert listed.returncode == 0, listed.stderr
    status = _gx(state, "projector", "status")
    assert status.returncode == 0, status.stderr
    current = _gx(state, "db", "current")
    assert current.returncode == 0, current.stderr
    assert "no revision" not in current.stdout and current.stdout.strip()


def test_the_environment_and_url_still_win(stack: tuple[Path, int]) -> None:
    state, pg_port = stack
    nowhere = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gx"
    # The environment beats the record: nothing listens there, so the command fails.
    by_env = _gx(state, "db", "current", GX_DATABASE__URL=nowhere)
    assert by_env.returncode != 0
    # --url beats the environment.
    right = f"postgresql+psycopg://postgres@127.0.0.1:{pg_port}/gx"
    by_flag = _gx(state, "db", "current", "--url", right, GX_DATABASE__URL=nowhere)
    assert by_flag.returncode == 0, by_flag.stderr


def test_without_a_stack_it_says_to_run_make_up(tmp_path: Path) -> None:
    done = _gx(tmp_path / "no-stack", "outbox", "list")
    assert done.returncode == 2
    assert "make up" in done.stderr and "GX_DATABASE__URL" in done.stderr and "Traceback" not in done.stderr


def test_rotate_key_uses_the_stacks_keys_directory(stack: tuple[Path, int]) -> None:
    state, _ = stack
    keys = state / "identity" / "keys"
    before = set(keys.glob("*")) if keys.exists() else set()
    done = _gx(state, "identity", "rotate-key")
    assert done.returncode == 0, done.stderr
    assert str(keys) in done.stdout
    assert set(keys.glob("*")) > before
