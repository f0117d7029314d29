"""Loopback port helpers: ask the OS for a free port, and find out whether one is taken."""

from __future__ import annotations

import errno
import random
import socket
from pathlib import Path

# Ports handed out for our servers come from below the kernel's ephemeral range: the range the
# OS picks the source port of every outgoing connection from. A port it offered with bind(0)
# could be taken by any client (the stack's own, connecting to PostgreSQL) before our server
# binds it; one below the range cannot.
_LOWEST = 20000
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _ephemeral_low() -> int:
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on `host` right now, below the OS's ephemeral range.

    Another process choosing ports the same way may still take it before the caller binds it;
    callers that bind it themselves should retry on `EADDRINUSE`.
    """
    high = _ephemeral_low()
    if high - _LOWEST >= 1000:
        for _ in range(200):
            port = random.randrange(_LOWEST, high)
            if not port_in_use(host, port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    """Tell whether binding `host:port` would fail because someone holds it.

    Binding (rather than connecting) also catches listeners that do not accept yet. The
    socket sets SO_REUSEADDR so a port in TIME_WAIT from our own earlier run is not
    reported as taken, matching what the servers themselves do.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def split_address(address: str) -> tuple[str, int]:
    """Split `host:port` (IPv4 or a bracketed IPv6 host) into its parts."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)
