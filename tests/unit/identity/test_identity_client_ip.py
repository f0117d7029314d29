"""Which address a login is counted against: the edge's word only when the edge is the peer."""

from __future__ import annotations

import ipaddress
from typing import Any

from services.identity.servicer import client_ip

EDGE = [ipaddress.ip_network("10.0.0.0/24"), ipaddress.ip_network("::1/128")]


class _Context:
    """Just the two things client_ip reads from a grpc.aio context."""

    def __init__(self, peer: str, forwarded: str | None = None) -> None:
        self._peer = peer
        self._md = (("x-forwarded-for", forwarded),) if forwarded is not None else ()

    def peer(self) -> str:
        return self._peer

    def invocation_metadata(self) -> Any:
        return self._md


def test_direct_client_is_its_peer_address_even_if_it_claims_otherwise() -> None:
    assert client_ip(_Context("ipv4:192.0.2.7:5555", "203.0.113.1"), EDGE) == "192.0.2.7"  # type: ignore[arg-type]


def test_behind_the_edge_the_last_forwarded_hop_counts() -> None:
    ctx = _Context("ipv4:10.0.0.5:40000", "203.0.113.1, 198.51.100.9")
    assert client_ip(ctx, EDGE) == "198.51.100.9"  # type: ignore[arg-type]


def test_edge_without_header_or_with_garbage_falls_back_to_the_peer() -> None:
    assert client_ip(_Context("ipv4:10.0.0.5:1"), EDGE) == "10.0.0.5"  # type: ignore[arg-type]
    assert client_ip(_Context("ipv4:10.0.0.5:1", "not-an-ip"), EDGE) == "10.0.0.5"  # type: ignore[arg-type]


def test_ipv6_peers_are_parsed() -> None:
    assert client_ip(_Context("ipv6:[::1]:4000", "2001:db8::7"), EDGE) == "2001:db8::7"  # type: ignore[arg-type]
    assert client_ip(_Context("ipv6:%5B2001:db8::1%5D:4000"), EDGE) == "2001:db8::1"  # type: ignore[arg-type]


def test_unknown_transport_has_no_address() -> None:
    assert client_ip(_Context("unix:/tmp/sock"), EDGE) is None  # type: ignore[arg-type]


def test_a_spoofed_header_cannot_choose_the_address_behind_one_trusted_hop() -> None:
    # The client sent "x-forwarded-for: 1.2.3.4, 5.6.7.8"; the edge appended what it saw.
    ctx = _Context("ipv4:10.0.0.5:40000", "1.2.3.4, 5.6.7.8, 198.51.100.9")
    assert client_ip(ctx, EDGE, trusted_hops=1) == "198.51.100.9"  # type: ignore[arg-type]


def test_behind_a_trusted_load_balancer_the_second_hop_from_the_right_is_the_client() -> None:
    # LB appended the client (198.51.100.9); the edge appended the LB (10.0.0.200).
    ctx = _Context("ipv4:10.0.0.5:40000", "1.2.3.4, 198.51.100.9, 10.0.0.200")
    assert client_ip(ctx, EDGE, trusted_hops=2) == "198.51.100.9"  # type: ignore[arg-type]
    # A chain shorter than the trusted hops is not what the config says: count the proxy itself.
    assert client_ip(_Context("ipv4:10.0.0.5:1", "198.51.100.9"), EDGE, trusted_hops=2) == "10.0.0.5"  # type: ignore[arg-type]
    # No trusted hops: the header is never read.
    assert client_ip(_Context("ipv4:10.0.0.5:1", "198.51.100.9"), EDGE, trusted_hops=0) == "10.0.0.5"  # type: ignore[arg-type]
