"""Loopback port helpers: ask the OS for a free port, and find out whether one is taken."""

from __future__ import annotations

import errno
import socket


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port the OS says is free on `host` right now.

    There is a small window in which another process may take it; callers that bind it
    themselves should retry on `EADDRINUSE`.
    """
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
