"""Bring the whole stack up, down, or report on it: parts in dependency order, each waited on until healthy."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from devstack.config import StackConfig
from devstack.errors import PortTakenError, StackError
from devstack.parts import (
    EdgePart,
    Part,
    PostgresPart,
    StackView,
    database_url,
    keys_dir,
    redis_url,
    registry,
)
from devstack.ports import port_in_use

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class PartStatus:
    """One row of `gx dev status`.

    Attributes:
        name: Part name.
        pid: Its pid, or None when not running (or a one-shot step).
        address: Where to reach it.
        health: `healthy`, `unhealthy`, `stopped` or `done` (one-shot steps).
    """

    name: str
    pid: int | None
    address: str
    health: str


@dataclass(frozen=True)
class Endpoints:
    """Where a running stack can be reached.

    Attributes:
        rest_url: The Envoy edge (REST and native gRPC), or None when no service runs.
        admin_url: Envoy's admin interface, or None.
        grpc: gRPC address by service process (`identity` → `127.0.0.1:50051`), plus `devnet` when it runs.
        metrics: Metrics address by process.
        database_url: SQLAlchemy URL of the stack's database.
        redis_url: Redis URL.
        keys_dir: Identity's signing key directory.
        state_dir: The state directory.
    """

    rest_url: str | None
    admin_url: str | None
    grpc: dict[str, str]
    metrics: dict[str, str]
    database_url: str
    redis_url: str
    keys_dir: str
    state_dir: str


def _effective(cfg: StackConfig) -> StackConfig:
    """Use the ports of the running stack (from its record) if any part of it still runs."""
    saved = cfg.with_saved()
    if saved is not cfg and any(p.pid(saved) is not None for p in registry(saved)):
        return saved
    return cfg


def endpoints(cfg: StackConfig, parts: Sequence[Part] | None = None) -> Endpoints:
    """Describe where each part of the stack listens."""
    parts = registry(cfg) if parts is None else parts
    names = {p.name for p in parts}
    grpc = {
        p.name: cfg.address(p.name)
        for p in parts
        if p.name in ("identity", "wallet", "licensing", "devnet", "outbox")
    }
    metrics = {p.name: cfg.address(f"{p.name}_metrics") for p in parts if f"{p.name}_metrics" in p.ports}
    has_edge = "edge" in names
    return Endpoints(
        rest_url=f"http://{cfg.address('edge')}" if has_edge else None,
        admin_url=f"http://{cfg.address('edge_admin')}" if has_edge else None,
        grpc=grpc,
        metrics=metrics,
        database_url=database_url(cfg),
        redis_url=redis_url(cfg),
        keys_dir=str(keys_dir(cfg)),
        state_dir=str(cfg.state_dir),
    )


# What each part needs besides the database, Redis and the migrations, which every GX process needs.
_NEEDS = {
    "devnet": ("chaincode",),
    "outbox": ("chaincode", "devnet"),
    "projector": ("chaincode", "devnet"),
    "notifier": ("mail",),
}
_BASE = ("postgres", "redis", "migrations")


def with_dependencies(names: Sequence[str]) -> list[str]:
    """Add what the named parts need: PostgreSQL, Redis and migrations always, the ledger for the workers.

    Raises:
        StackError: A name is not a part of this stack.
    """
    known = {p.name for p in registry(StackConfig(state_dir=Path(".")))} | set(_BASE)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise StackError(f"unknown part(s) {', '.join(unknown)}; parts: {', '.join(sorted(known))}")
    wanted = list(_BASE)
    for name in names:
        for dep in (*_NEEDS.get(name, ()), name):
            if dep not in wanted:
                wanted.append(dep)
    return wanted


def up(cfg: StackConfig, *, progress: Progress = _quiet, only: Sequence[str] | None = None) -> StackConfig:
    """Start every part that is not running and wait until each is healthy.

    Parts already running are left alone (a second `up` keeps data and processes). Ports are
    checked before a part starts, so a port held by something else fails with one line naming
    the port and the variable that moves it.

    Args:
        cfg: The stack's settings (ports of a stack that is still running win, see `_effective`).
        progress: Receives one line per step.
        only: Start only these parts (see `with_dependencies` to add what they need).

    Returns:
        The configuration actually used.

    Raises:
        PortTakenError: A port is taken by another process.
        StackError: A part failed to start or to become healthy in time.
    """
    cfg = _effective(cfg)
    cfg.state_dir.mkdir(parents=True, exist_ok=True)
    parts = registry(cfg, only=only)
    view = StackView(names=[p.name for p in parts])
    cfg.save()
    for part in parts:
        started = time.monotonic()
        if part.pid(cfg) is not None:
            if not part.outdated(cfg):
                progress(f"  {part.name:<11} already running")
                part.wait_healthy(cfg, progress)
                continue
            progress(f"  {part.name:<11} configuration changed: restarting")
            part.stop(cfg)
        for port_name in part.ports:
            if port_in_use(cfg.host, cfg.port(port_name)):
                raise PortTakenError(part.name, cfg.host, cfg.port(port_name), cfg.env_var(port_name))
        progress(f"  {part.name:<11} starting")
        part.start(cfg, view)
        part.wait_healthy(cfg, progress)
        outcome = "done" if part.pid(cfg) is None and not part.ports else "healthy"
        progress(f"  {part.name:<11} {outcome} ({time.monotonic() - started:.1f}s)")
    return cfg


def down(cfg: StackConfig, *, progress: Progress = _quiet) -> list[str]:
    """Stop every part `up` started, in reverse order, by pid. Data stays in the state directory.

    Returns:
        The names of the parts that were running and were stopped.
    """
    cfg = cfg.with_saved()
    stopped = []
    errors = []
    for part in reversed(registry(cfg)):
        try:
            if part.stop(cfg):
                stopped.append(part.name)
                progress(f"  {part.name:<11} stopped")
        except StackError as exc:
            # Keep stopping the others; report at the end.
            errors.append(str(exc))
    if errors:
        raise StackError("; ".join(errors))
    return stopped


def status(cfg: StackConfig) -> list[PartStatus]:
    """Report each part: pid, address, health."""
    cfg = cfg.with_saved()
    rows = []
    for part in registry(cfg):
        pid = part.pid(cfg)
        if part.name == "migrations":
            rows.append(PartStatus(part.name, None, "-", "one-shot"))
            continue
        if pid is None:
            rows.append(PartStatus(part.name, None, part.address(cfg), "stopped"))
            continue
        try:
            ok = part.healthy(cfg)
        except Exception:  # a probe that cannot connect reports unhealthy, not a traceback
            ok = False
        rows.append(PartStatus(part.name, pid, part.address(cfg), "healthy" if ok else "unhealthy"))
    return rows


__all__ = ["EdgePart", "Endpoints", "PartStatus", "PostgresPart", "down", "endpoints", "status", "up"]
