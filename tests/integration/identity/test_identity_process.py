"""`python -m services.identity` as its own process: environment settings, health, metrics, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import httpx
from gx.identity.v1 import identity_service_pb2 as svc
from gx.identity.v1 import identity_service_pb2_grpc

from devstack.ports import free_port
from tests.integration.identity.conftest import Wired
from tests.support.process import wait_serving


def test_process_serves_from_env_settings_and_stops_cleanly_on_sigterm(wired: Wired, tmp_path: Path) -> None:
    grpc_port, metrics_port = free_port(), free_port()
    keys_dir = tmp_path / "keys"
    env = {
        **os.environ,
        "GX_LISTEN": f"127.0.0.1:{grpc_port}",
        "GX_METRICS_LISTEN": f"127.0.0.1:{metrics_port}",
        "GX_DATABASE__URL": wired.settings.database.url.get_secret_value(),
        "GX_REDIS__URL": wired.settings.redis.url.get_secret_value(),
        "GX_IDENTITY__KEYS_DIR": str(keys_dir),
        "GX_LOG_LEVEL": "INFO",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.identity"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        address = f"127.0.0.1:{grpc_port}"
        wait_serving(address, proc, service="gx.identity.v1.IdentityService")
        assert list(keys_dir.glob("*.pem")), "a first signing key is created in an empty keys dir"
        with grpc.insecure_channel(address) as channel:
            body = identity_service_pb2_grpc.IdentityServiceStub(channel).GetJwks(
                svc.GetJwksRequest(), timeout=5
            )
        assert json.loads(body.data)["keys"]
        metrics_url = f"http://127.0.0.1:{metrics_port}"
        assert httpx.get(f"{metrics_url}/readyz", timeout=5).status_code == 200
        assert httpx.get(f"{metrics_url}/healthz", timeout=5).status_code == 200
        exposition = httpx.get(f"{metrics_url}/metrics", timeout=5).text
        assert 'grpc_method="GetJwks"' in exposition and "grpc_server_handled_total" in exposition

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert proc.stderr is not None
        lines = [json.loads(line) for line in proc.stderr.read().splitlines() if line.startswith("{")]
        messages = [line["message"] for line in lines]
        assert any("serving gRPC on" in m for m in messages) and any("stopped" in m for m in messages)
        assert all(line["service"] == "identity" for line in lines)
        # Secrets never reach the logs.
        assert "postgresql+psycopg" not in "".join(messages)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
