"""Health probes for the parts: gRPC health, HTTP, TCP."""

from __future__ import annotations

import socket
import urllib.request


def grpc_serving(address: str, service: str = "", timeout: float = 1.0) -> bool:
    """Tell whether `grpc.health.v1.Health/Check` at `address` answers SERVING for `service`."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """Tell whether GET `url` answers 2xx."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return bool(200 <= resp.status < 300)


def tcp_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Tell whether something accepts TCP connections at `host:port`."""
    with socket.create_connection((host, port), timeout=timeout):
        return True


def smtp_ready(host: str, port: int, timeout: float = 1.0) -> bool:
    """Tell whether an SMTP server at `host:port` greets with 220 (a bound port alone is not ready)."""
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.settimeout(timeout)
        greeting = conn.recv(512)
        conn.sendall(b"QUIT\r\n")
    return greeting.startswith(b"220")
