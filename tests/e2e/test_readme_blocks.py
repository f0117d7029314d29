"""The README's shell blocks, run as written against the stack `make up` starts.

`make up` is `make descriptor` (the test session already has the descriptor) plus `gx dev up`; here
`gx dev up` starts the whole mesh in a temp state directory on free ports. The only change made to
a block before running it is the address: each default `127.0.0.1:<port>` becomes the test stack's
port for the same part (the README's ports are the defaults, moved by `GX_*_PORT`). The commands
get `GX_STATE_DIR`, as `gx dev` and the operator CLI read it; nothing else (no database URL).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack.config import PORTS, REPO_ROOT
from devstack.ports import free_port
from tests.support.stack import make_temp_dir

pytestmark = pytest.mark.e2e

_README = REPO_ROOT / "README.md"
_BLOCK = re.compile(r"^```(?:bash|sh|shell)\n(.*?)^```", re.S | re.M)
# The block that starts the stack and runs the suite: the test is inside `make test`, and `make up`
# is what the fixture does, so this one block is checked for its content instead of being run.
_SETUP_BLOCK = ("make up", "make test")

# Commands whose success shows in their output, beyond the exit status: what each must print.
_EXPECTED = {
    "/v1/users/me": '"email":"ada@example.com"',
    "/.well-known/jwks.json": '"keys"',
    "/openapi.json": "OpenAPI 3.1.0",
    "create-admin": "super-admin",
    "outbox list": "STATUS",
    "projector status": "checkpoint",
    "8080 list": "gx.ops.v1.OutboxAdminService",
    "describe gx.wallet.v1.WalletService.Transfer": "rpc Transfer",
    "IdentityService/Login": "access_token",
    "OutboxAdminService/ListOutboxCommands": "{",
}


def readme_blocks() -> list[str]:
    """Return the README's shell blocks, in order."""
    return [m.group(1) for m in _BLOCK.finditer(_README.read_text())]


@dataclass
class Stack:
    env: dict[str, str]

    def localize(self, block: str) -> str:
        """Point every default `127.0.0.1:PORT` of the block at this stack's port for the same part."""
        moved = {str(default): self.env[var] for var, default in PORTS.values()}
        return re.sub(
            r"127\.0\.0\.1:(\d+)", lambda m: f"127.0.0.1:{moved.get(m.group(1), m.group(1))}", block
        )


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    state = make_temp_dir("gx-readme-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GX_")}
    env.update({var: str(free_port()) for var, _ in PORTS.values()})
    env["GX_STATE_DIR"] = str(state)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    gx = [sys.executable, "-m", "gx_cli.main", "dev"]
    try:
        up = subprocess.run([*gx, "up"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=400)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        yield Stack(env=env)
    finally:
        subprocess.run([*gx, "down"], cwd=REPO_ROOT, env=env, capture_output=True, timeout=180)
        shutil.rmtree(state, ignore_errors=True)


def _error_shapes(output: str) -> list[str]:
    """Lines that are a JSON error answer (google.rpc.Status: code and message)."""
    found = []
    for line in output.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and "code" in value and "message" in value:
            found.append(line)
    return found


def test_the_readme_has_the_blocks_this_test_knows() -> None:
    blocks = readme_blocks()
    assert len(blocks) >= 3
    setup = [line.split("#")[0].strip() for line in blocks[0].splitlines() if line.strip()]
    assert tuple(setup) == _SETUP_BLOCK
    # Each expectation names a command some block really contains.
    commands = "\n".join(blocks[1:])
    assert all(marker in commands for marker in _EXPECTED), [m for m in _EXPECTED if m not in commands]


def test_every_readme_block_runs_as_written(stack: Stack) -> None:
    blocks = readme_blocks()[1:]
    for number, block in enumerate(blocks, start=2):
        script = stack.localize(block)
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=REPO_ROOT,
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )
        where = f"README shell block {number}:\n{block}\nstdout:\n{run.stdout[-2000:]}\nstderr:\n{run.stderr[-2000:]}"
        assert run.returncode == 0, where
        assert _error_shapes(run.stdout) == [], where
        for command, printed in _EXPECTED.items():
            if command in block:
                assert printed in run.stdout, f"{command!r} should print {printed!r}; {where}"
