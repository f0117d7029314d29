"""Helpers for tests that run a GX process for real: wait until its gRPC health says SERVING."""

from __future__ import annotations

import subprocess
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def wait_serving(
    address: str, proc: subprocess.Popen[str], service: str = "", deadline_s: float = 60
) -> None:
    """Poll `service`'s health at `address` until SERVING; fail at once if `proc` exits first."""
    deadline = time.monotonic() + deadline_s
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"{proc.args!r} exited during start-up"
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    raise AssertionError(f"{address} ({service or 'overall'}) did not become SERVING")
