"""`gx dev up|down|status|logs` as a developer runs it: real processes, a temp state dir, free ports."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis

from devstack import processes
from devstack.config import PORTS, REPO_ROOT
from devstack.ports import free_port
from tests.support.stack import make_temp_dir

pytestmark = pytest.mark.e2e


@dataclass
class Dev:
    """Runs `gx dev ...` against one state directory and one set of ports."""

    state_dir: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gx_cli.main", "dev", *args],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def port(self, name: str) -> int:
        return int(self.env[PORTS[name][0]])

    def pids(self) -> dict[str, int]:
        out = {}
        for path in (self.state_dir / "run").glob("*.pid"):
            record = processes.read_pid_file(path)
            if record is not None:
                out[path.stem] = record.pid
        pg = self.state_dir / "postgres" / "data" / "postmaster.pid"
        if pg.exists():
            out["postgres"] = int(pg.read_text().split()[0])
        return out


@pytest.fixture(scope="module")
def dev() -> Iterator[Dev]:
    state = make_temp_dir("gx-dev-")
    env = dict(os.environ)
    env.update({var: str(free_port()) for var, _ in PORTS.values()})
    env["GX_STATE_DIR"] = str(state)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "gen" / "python")])
    d = Dev(state_dir=state, env=env)
    try:
        yield d
    finally:
        d.run("down", timeout=120)
        shutil.rmtree(state, ignore_errors=True)


# The parts these tests start: the infrastructure and the edge in front of identity. Other
# processes join `gx dev up` as they land; the whole mesh is exercised by `make up`.
PARTS = ("identity", "edge")


def _pg_url(dev: Dev) -> str:
    return f"postgresql://postgres@127.0.0.1:{dev.port('postgres')}/gx"


def test_up_starts_every_part_healthy_and_prints_the_endpoints(dev: Dev) -> None:
    result = dev.run("up", *PARTS)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"\nPostgreSQL         postgresql+psycopg://postgres@127.0.0.1:{dev.port('postgres')}/gx\n" in out
    assert f"\nRedis              redis://127.0.0.1:{dev.port('redis')}/0\n" in out
    assert f"\nidentity gRPC      127.0.0.1:{dev.port('identity')}\n" in out
    assert f"\nREST edge          http://127.0.0.1:{dev.port('edge')}" in out
    # Only the parts asked for (and what they need) were started and are listed.
    assert "wallet" not in out and "devnet" not in out
    assert "Traceback" not in result.stderr

    status = dev.run("status")
    assert status.returncode == 0, status.stdout + status.stderr
    rows = {line.split()[0]: line.split() for line in status.stdout.splitlines()[1:]}
    assert rows["postgres"][2] == "healthy" and rows["redis"][2] == "healthy"
    for name, pid in dev.pids().items():
        assert processes.is_alive(pid), name
        assert rows[name][1] == str(pid)


def _up(dev: Dev) -> None:
    # Each test brings the stack to the state it needs: under xdist they may run in any order.
    result = dev.run("up", *PARTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_second_up_keeps_processes_and_data(dev: Dev) -> None:
    _up(dev)
    with psycopg.connect(_pg_url(dev), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS launcher_probe (v text)")
        conn.execute("INSERT INTO launcher_probe VALUES ('kept')")
    redis.Redis(port=dev.port("redis")).set("launcher:probe", "kept")
    before = dev.pids()

    result = dev.run("up", *PARTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "already running" in result.stdout
    assert dev.pids() == before

    # Down and up again: new processes, same data.
    assert dev.run("down").returncode == 0
    result = dev.run("up", *PARTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert dev.pids()["postgres"] != before["postgres"]
    with psycopg.connect(_pg_url(dev)) as conn:
        assert conn.execute("SELECT v FROM launcher_probe").fetchall() == [("kept",)]
    assert redis.Redis(port=dev.port("redis")).get("launcher:probe") == b"kept"


def test_logs_show_a_part_and_name_the_known_ones(dev: Dev) -> None:
    _up(dev)
    result = dev.run("logs", "postgres", "-n", "200")
    assert result.returncode == 0
    assert "database system is ready to accept connections" in result.stdout
    missing = dev.run("logs", "nosuch")
    assert missing.returncode == 1
    assert "postgres" in missing.stderr and "Traceback" not in missing.stderr


def test_down_stops_every_process_by_pid(dev: Dev) -> None:
    _up(dev)
    pids = dev.pids()
    assert {"postgres", "redis"} <= set(pids)
    result = dev.run("down")
    assert result.returncode == 0, result.stdout + result.stderr
    assert all(not processes.is_alive(pid) for pid in pids.values())
    status = dev.run("status")
    assert status.returncode == 3
    assert all(line.split()[2] in ("stopped", "one-shot") for line in status.stdout.splitlines()[1:])
    assert "nothing was running" in dev.run("down").stdout


def test_a_taken_port_gives_one_line_naming_the_port_and_its_variable(dev: Dev) -> None:
    dev.run("down")
    port = dev.port("redis")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        result = dev.run("up", *PARTS)
    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()
    assert errors == [
        f"gx dev up: redis: port 127.0.0.1:{port} is already in use; set GX_REDIS_PORT to move it"
    ]


def test_an_unknown_part_is_one_line_naming_the_known_ones(dev: Dev) -> None:
    result = dev.run("up", "nosuch")
    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1 and "unknown part(s) nosuch" in errors[0] and "identity" in errors[0]
