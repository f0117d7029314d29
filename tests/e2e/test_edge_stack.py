"""The `edge_stack` fixture with the real services: identity reached through Envoy (REST and gRPC) and directly."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.stack import EdgeStack

pytestmark = pytest.mark.e2e


def test_every_part_is_up_and_identity_is_serving(edge_stack: EdgeStack) -> None:
    assert "identity" in edge_stack.grpc
    for target in (edge_stack.grpc["identity"], edge_stack.edge_address):
        with grpc.insecure_channel(target) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service="gx.identity.v1.IdentityService"), timeout=5
            )
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    assert edge_stack.database_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    assert edge_stack.redis_url.startswith("redis://127.0.0.1:")


def test_jwks_through_envoy_lists_identitys_signing_keys(edge_stack: EdgeStack) -> None:
    resp = httpx.get(f"{edge_stack.rest_url}/.well-known/jwks.json", timeout=10)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    keys = resp.json()["keys"]
    assert keys and all(k["kty"] == "EC" and k["crv"] == "P-256" and k["kid"] for k in keys)
    # The keys directory the fixture reports is the one identity signs with.
    assert any(edge_stack.keys_dir.iterdir())


def test_a_token_from_login_passes_the_edge_and_a_missing_one_does_not(edge_stack: EdgeStack) -> None:
    email = f"edge-{uuid.uuid4().hex[:8]}@gx.test"
    password = "Edge-stack-pass-1"
    with httpx.Client(base_url=edge_stack.rest_url, timeout=20) as client:
        registered = client.post(
            "/v1/users:register", json={"email": email, "password": password, "displayName": "Edge"}
        )
        assert registered.status_code == 200, registered.text
        login = client.post("/v1/auth:login", json={"email": email, "password": password})
        assert login.status_code == 200, login.text
        token = login.json()["accessToken"]
        me = client.get("/v1/users/me", headers={"authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.text
        assert me.json()["user"]["email"] == email
        anonymous = client.get("/v1/users/me")
        assert anonymous.status_code == 401
        assert anonymous.json()["code"] == 16


def _grpcurl() -> str:
    path = Path(sys.executable).parent / "grpcurl"
    return str(path) if path.exists() else "grpcurl"


@pytest.mark.parametrize("through", ["edge", "direct"])
def test_grpcurl_lists_identity_by_reflection(edge_stack: EdgeStack, through: str) -> None:
    target = edge_stack.edge_address if through == "edge" else edge_stack.grpc["identity"]
    result = subprocess.run(
        [_grpcurl(), "-plaintext", target, "list"], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "gx.identity.v1.IdentityService" in result.stdout.split()


def test_envoy_reaches_the_wallet_on_its_edge_lane(edge_stack: EdgeStack) -> None:
    """The stack starts the wallet with GX_LANE_LISTEN and points Envoy's wallet cluster there (its only
    host), so a REST call the wallet itself answers came over the lane; the gRPC port still serves the
    mesh's own callers."""
    lane_port = edge_stack.config.port("wallet_lane")
    assert lane_port != edge_stack.config.port("wallet")
    clusters = httpx.get(f"{edge_stack.admin_url}/clusters?format=json", timeout=5).json()["cluster_statuses"]
    wallet = next(c for c in clusters if c["name"] == "wallet")
    assert {h["address"]["socket_address"]["port_value"] for h in wallet["host_statuses"]} == {lane_port}

    email = f"lane-{uuid.uuid4().hex[:8]}@gx.test"
    password = "Edge-lane-pass-1"
    with httpx.Client(base_url=edge_stack.rest_url, timeout=20) as client:
        assert client.post(
            "/v1/users:register", json={"email": email, "password": password, "displayName": "Lane"}
        ).is_success
        token = client.post("/v1/auth:login", json={"email": email, "password": password}).json()[
            "accessToken"
        ]
        answer = client.get("/v1/wallets/me", headers={"authorization": f"Bearer {token}"})
    # A new user has no wallet yet: the wallet's own rich error, mapped to its HTTP status by the edge.
    assert answer.status_code == 404, answer.text
    assert any(d.get("domain") == "wallet.gx" for d in answer.json()["details"]), answer.text

    lane_lines = [
        line
        for line in httpx.get(f"http://{edge_stack.metrics['wallet']}/metrics", timeout=5).text.splitlines()
        if line.startswith("gx_lane_connections_total ")
    ]
    assert lane_lines and float(lane_lines[0].split()[1]) >= 1
    with grpc.insecure_channel(edge_stack.grpc["wallet"]) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="gx.wallet.v1.WalletService"), timeout=5
        )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
