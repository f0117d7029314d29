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
    assert _cluster_ports(edge_stack)["wallet"] == {lane_port}

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

    assert _lane_connections(edge_stack, "wallet") >= 1
    with grpc.insecure_channel(edge_stack.grpc["wallet"]) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="gx.wallet.v1.WalletService"), timeout=5
        )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def _cluster_ports(edge_stack: EdgeStack) -> dict[str, set[int]]:
    clusters = httpx.get(f"{edge_stack.admin_url}/clusters?format=json", timeout=5).json()["cluster_statuses"]
    return {
        c["name"]: {h["address"]["socket_address"]["port_value"] for h in c.get("host_statuses", [])}
        for c in clusters
    }


def _lane_connections(edge_stack: EdgeStack, service: str) -> float:
    metrics = httpx.get(f"http://{edge_stack.metrics[service]}/metrics", timeout=5).text.splitlines()
    lines = [line for line in metrics if line.startswith("gx_lane_connections_total ")]
    assert lines, f"{service} exposes no lane metrics"
    return float(lines[0].split()[1])


def test_envoy_reaches_identity_on_its_lane_and_reflection_on_its_grpc_port(edge_stack: EdgeStack) -> None:
    """Identity's REST and gRPC calls through the edge go to its lane; reflection and health, which
    stream and which a lane does not serve, go to its gRPC port (the `identity_grpc` cluster)."""
    ports = _cluster_ports(edge_stack)
    assert ports["identity"] == {edge_stack.config.port("identity_lane")}
    assert ports["identity_grpc"] == {edge_stack.config.port("identity")}
    email = f"idlane-{uuid.uuid4().hex[:8]}@gx.test"
    with httpx.Client(base_url=edge_stack.rest_url, timeout=20) as client:
        assert client.post(
            "/v1/users:register", json={"email": email, "password": "Id-lane-pass-1"}
        ).is_success
        token = client.post("/v1/auth:login", json={"email": email, "password": "Id-lane-pass-1"}).json()[
            "accessToken"
        ]
        me = client.get("/v1/users/me", headers={"authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["user"]["email"] == email, me.text
    assert _lane_connections(edge_stack, "identity") >= 1
    # Health's Watch streams: through the edge it reaches identity's gRPC port and answers.
    with grpc.insecure_channel(edge_stack.edge_address) as channel:
        first = next(
            iter(
                health_pb2_grpc.HealthStub(channel).Watch(
                    health_pb2.HealthCheckRequest(service=""), timeout=5
                )
            )
        )
    assert first.status == health_pb2.HealthCheckResponse.SERVING


def test_envoy_checks_partner_keys_on_licensings_lane_and_streams_its_log_to_grpc(
    edge_stack: EdgeStack,
) -> None:
    """Licensing's routes and ext_authz go to its lane; the access log, a client stream, to its gRPC
    port (`licensing_grpc`). tests/e2e/licensing drive keyed calls and their metering through both."""
    ports = _cluster_ports(edge_stack)
    assert ports["licensing"] == {edge_stack.config.port("licensing_lane")}
    assert ports["licensing_grpc"] == {edge_stack.config.port("licensing")}
    # The wallet's calls need no stream: it has no gRPC-port cluster at the edge.
    assert "wallet_grpc" not in ports
