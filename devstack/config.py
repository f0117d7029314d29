"""Where the stack lives and which ports it uses: defaults, environment overrides, and the record `up` leaves."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from devstack.ports import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent

# Port name -> (environment variable that moves it, default). Metrics ports serve /metrics,
# /healthz and /readyz of their process.
PORTS: dict[str, tuple[str, int]] = {
    "edge": ("GX_EDGE_PORT", 8080),
    "edge_admin": ("GX_EDGE_ADMIN_PORT", 9901),
    "postgres": ("GX_PG_PORT", 55432),
    "redis": ("GX_REDIS_PORT", 56379),
    "identity": ("GX_IDENTITY_PORT", 50051),
    "wallet": ("GX_WALLET_PORT", 50052),
    "licensing": ("GX_LICENSING_PORT", 50053),
    # The services' edge lanes (GX_LANE_LISTEN): where Envoy sends its calls to them.
    "identity_lane": ("GX_IDENTITY_LANE_PORT", 50061),
    "wallet_lane": ("GX_WALLET_LANE_PORT", 50062),
    "licensing_lane": ("GX_LICENSING_LANE_PORT", 50063),
    "devnet": ("GX_DEVNET_PORT", 7051),
    "chaincode": ("GX_CHAINCODE_PORT", 7052),
    # The outbox worker's admin gRPC server (gx.ops.v1.OutboxAdminService).
    "outbox": ("GX_OUTBOX_PORT", 50054),
    "identity_metrics": ("GX_IDENTITY_METRICS_PORT", 9461),
    "wallet_metrics": ("GX_WALLET_METRICS_PORT", 9462),
    "licensing_metrics": ("GX_LICENSING_METRICS_PORT", 9463),
    "devnet_metrics": ("GX_DEVNET_METRICS_PORT", 9464),
    "outbox_metrics": ("GX_OUTBOX_METRICS_PORT", 9465),
    "projector_metrics": ("GX_PROJECTOR_METRICS_PORT", 9466),
    "chaincode_metrics": ("GX_CHAINCODE_METRICS_PORT", 9467),
    # The local SMTP sink (devstack/mail.py) the notifier sends to, and the notifier's probes.
    "mail": ("GX_MAIL_PORT", 1025),
    "notifier_metrics": ("GX_NOTIFIER_METRICS_PORT", 9468),
}
_RECORD = "stack.json"


@dataclass(frozen=True)
class StackConfig:
    """One stack's settings.

    Attributes:
        state_dir: Holds everything the stack writes: data, logs, pid files, keys, configs.
        host: The loopback address every part binds.
        ports: Port by name (see `PORTS`).
        durable: Keep data safely (fsync, Redis append-only file). Tests turn it off for speed.
        log_level: `GX_LOG_LEVEL` for the GX processes.
        repo_root: The checkout (for protos/ and the Lua script).
        extra_env: Extra environment for every GX process (tests use it for tuning).
    """

    state_dir: Path
    host: str = "127.0.0.1"
    ports: Mapping[str, int] = field(default_factory=lambda: {k: v[1] for k, v in PORTS.items()})
    durable: bool = True
    log_level: str = "INFO"
    repo_root: Path = REPO_ROOT
    extra_env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackConfig:
        """Build the settings `gx dev` uses: defaults, overridden by `GX_STATE_DIR`, `GX_HOST`, `GX_*_PORT`."""
        env = os.environ if environ is None else environ
        state_dir = Path(env.get("GX_STATE_DIR") or (REPO_ROOT / ".gx")).resolve()
        ports = {name: int(env.get(var) or default) for name, (var, default) in PORTS.items()}
        return cls(
            state_dir=state_dir,
            host=env.get("GX_HOST", "127.0.0.1"),
            ports=ports,
            log_level=env.get("GX_LOG_LEVEL", "INFO"),
        )

    @classmethod
    def on_free_ports(cls, state_dir: Path, **overrides: object) -> StackConfig:
        """Settings for a throwaway stack (tests): every port asked from the OS, nothing durable."""
        ports = {name: free_port() for name in PORTS}
        base = cls(state_dir=Path(state_dir).resolve(), ports=ports, durable=False)
        return replace(base, **overrides)  # type: ignore[arg-type]

    def served_at(self, service: str, port: int) -> StackConfig:
        """This config with `service` answered by a process already listening on `port` (a stand-in
        in tests and benchmarks): Envoy then calls that port, with plain gRPC, not the service's lane."""
        ports = {name: p for name, p in self.ports.items() if name != f"{service}_lane"}
        return replace(self, ports={**ports, service: port})

    def port(self, name: str) -> int:
        """Return the port called `name`."""
        return int(self.ports[name])

    def address(self, name: str) -> str:
        """Return `host:port` for the port called `name`."""
        return f"{self.host}:{self.port(name)}"

    @staticmethod
    def env_var(name: str) -> str | None:
        """Return the environment variable that moves port `name`."""
        entry = PORTS.get(name)
        return entry[0] if entry else None

    # -- paths --------------------------------------------------------------------------------

    def path(self, *parts: str) -> Path:
        """Return a path inside the state directory."""
        return self.state_dir.joinpath(*parts)

    def log_path(self, part: str) -> Path:
        """Return the log file of a part."""
        return self.path("logs", f"{part}.log")

    def pid_path(self, part: str) -> Path:
        """Return the pid file of a part."""
        return self.path("run", f"{part}.pid")

    # -- the record `up` leaves, so status/down/logs use the ports `up` used ---------------------

    def save(self) -> None:
        """Write the record of this configuration into the state directory."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        data = {
            "host": self.host,
            "ports": dict(self.ports),
            "durable": self.durable,
            "log_level": self.log_level,
        }
        (self.state_dir / _RECORD).write_text(json.dumps(data, indent=2, sort_keys=True))

    def with_saved(self) -> StackConfig:
        """Return this configuration with the host and ports of the last `up` in the same state directory."""
        try:
            data = json.loads((self.state_dir / _RECORD).read_text())
        except (OSError, ValueError):
            return self
        ports = {**self.ports, **{k: int(v) for k, v in data.get("ports", {}).items()}}
        return replace(
            self,
            host=data.get("host", self.host),
            ports=ports,
            durable=bool(data.get("durable", self.durable)),
        )
