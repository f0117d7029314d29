"""Ports for our servers come from below the ephemeral range, where no outgoing connection can take them."""

from __future__ import annotations

import socket
from pathlib import Path

from devstack.ports import free_port, port_in_use


def test_free_ports_are_free_and_below_the_range_clients_take_source_ports_from() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {free_port() for _ in range(50)}
    assert all(port < low for port in ports)
    assert not any(port_in_use("127.0.0.1", port) for port in ports)


def test_a_port_someone_listens_on_is_never_handed_out() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", free_port()))
        held.listen()
        taken = held.getsockname()[1]
        assert port_in_use("127.0.0.1", taken)
        assert taken not in {free_port() for _ in range(200)}
