"""`python -m services.wallet` as its own process: environment settings, health of every service, metrics, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc
from gx.wallet.v1 import wallet_service_pb2 as svc
from gx.wallet.v1 import wallet_service_pb2_grpc

from devstack.ports import free_port
from services.common import migrate
from tests.support.process import wait_serving

_SERVICES = (
    "gx.wallet.v1.WalletService",
    "gx.wallet.v1.AdminService",
    "gx.wallet.v1.OrganizationService",
    "gx.wallet.v1.LoanService",
    "gx.wallet.v1.GovernanceService",
    "gx.wallet.v1.TaxService",
)


def test_process_serves_from_env_settings_and_stops_cleanly_on_sigterm(
    database_url: str, redis_url: str
) -> None:
    migrate.upgrade(database_url)
    grpc_port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "GX_LISTEN": f"127.0.0.1:{grpc_port}",
        "GX_METRICS_LISTEN": f"127.0.0.1:{metrics_port}",
        "GX_DATABASE__URL": database_url,
        "GX_REDIS__URL": redis_url,
        # Nothing listens here: the JWKS fetch fails, so every token is refused (as it must be).
        "GX_AUTH__JWKS_TARGET": f"127.0.0.1:{free_port()}",
        "GX_LOG_LEVEL": "INFO",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.wallet"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        address = f"127.0.0.1:{grpc_port}"
        wait_serving(address, proc)
        with grpc.insecure_channel(address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for name in _SERVICES:
                reply = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING, name
            stub = wallet_service_pb2_grpc.WalletServiceStub(channel)
            try:
                stub.GetWallet(svc.GetWalletRequest(wallet_id="me"), timeout=5)
                raise AssertionError("a call without a token must fail")
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]
        with httpx.Client(base_url=f"http://127.0.0.1:{metrics_port}", timeout=5) as http:
            assert http.get("/readyz").status_code == 200
            assert 'grpc_method="GetWallet"' in http.get("/metrics").text

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert proc.stderr is not None
        lines = [json.loads(line) for line in proc.stderr.read().splitlines() if line.startswith("{")]
        messages = [line["message"] for line in lines]
        assert any("serving gRPC on" in m for m in messages) and any("stopped" in m for m in messages)
        assert all(line["service"] == "wallet" for line in lines)
        assert "postgresql+psycopg" not in "".join(messages)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
