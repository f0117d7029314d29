"""The Envoy edge as devstack configures it, in front of a stand-in identity backend.

These tests pin the edge's own behaviour (status mapping, error bodies, token checks, routing,
reflection), independent of the identity service's rules.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import jwt
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from gx.identity.v1 import identity_service_pb2, identity_service_pb2_grpc

from devstack.config import StackConfig
from devstack.parts import EdgePart, StackView
from tests.support.edge_backend import MISSING_USER_ID, EdgeBackend, SigningKey
from tests.support.stack import make_temp_dir

pytestmark = pytest.mark.e2e

_USER_ID = "3f2c0a4e-8d7b-4c1e-9a55-0d6f1e2b7c90"


@dataclass(frozen=True)
class Edge:
    url: str
    address: str
    backend: EdgeBackend
    config: StackConfig


@pytest.fixture(scope="module")
def edge() -> Iterator[Edge]:
    backend = EdgeBackend()
    backend.start()
    root = make_temp_dir("gx-edge-")
    cfg = StackConfig.on_free_ports(root)
    cfg = cfg.served_at("identity", backend.port)
    part = EdgePart(services=("identity",))
    try:
        part.start(cfg, StackView(names=["identity", "edge"]))
        part.wait_healthy(cfg)
        yield Edge(
            url=f"http://{cfg.address('edge')}", address=cfg.address("edge"), backend=backend, config=cfg
        )
    finally:
        part.stop(cfg)
        backend.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def client(edge: Edge) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=edge.url, timeout=10) as c:
        yield c


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _assert_status_json(resp: httpx.Response, http: int, code: int, reason: str | None = None) -> dict:
    assert resp.status_code == http, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert body["code"] == code
    assert body["message"]
    if reason is not None:
        reasons = [d.get("reason") for d in body["details"] if d["@type"].endswith("google.rpc.ErrorInfo")]
        assert reasons == [reason], body
    return body


def test_jwks_is_served_through_the_edge_without_a_token(client: httpx.Client, edge: Edge) -> None:
    resp = client.get("/.well-known/jwks.json")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    keys = resp.json()["keys"]
    assert [k["kid"] for k in keys] == [edge.backend.key.kid]
    assert keys[0]["kty"] == "EC" and keys[0]["crv"] == "P-256"


def test_public_route_needs_no_token_and_passes_idempotency_key_as_metadata(client: httpx.Client) -> None:
    resp = client.post(
        "/v1/users:register",
        json={"email": "a@gx.test", "displayName": "Ann"},
        headers={"Idempotency-Key": "key-42"},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["user"]["displayName"] == "Ann|key-42"
    assert "grpc-status" not in resp.headers


def test_valid_token_reaches_the_service_and_is_forwarded(client: httpx.Client, edge: Edge) -> None:
    resp = client.get(f"/v1/users/{_USER_ID}", headers=_bearer(edge.backend.key.token()))
    assert resp.status_code == 200, resp.text
    user = resp.json()["user"]
    assert user["userId"] == _USER_ID
    # The service sees the Authorization header, so it can verify the token itself.
    assert user["displayName"] == "Bearer "


def test_handler_status_header_becomes_http_202_and_is_stripped(client: httpx.Client, edge: Edge) -> None:
    request_id = str(uuid.uuid4())
    resp = client.post(
        f"/v1/users/{_USER_ID}/kyc:approve",
        json={"requestId": request_id},
        headers=_bearer(edge.backend.key.token()),
    )
    assert resp.status_code == 202, resp.text
    assert "x-http-status" not in resp.headers
    body = resp.json()
    assert body["name"] == f"operations/{request_id}"
    assert body["state"] == "OPERATION_STATE_PENDING"
    assert body["commandType"] == "COMMAND_TYPE_CREATE_USER"


def test_service_error_keeps_its_rich_details(client: httpx.Client, edge: Edge) -> None:
    resp = client.get(f"/v1/users/{MISSING_USER_ID}", headers=_bearer(edge.backend.key.token()))
    body = _assert_status_json(resp, 404, 5, "USER_NOT_FOUND")
    assert body["details"][0]["domain"] == "identity.gx"
    assert "grpc-status" not in resp.headers and "grpc-message" not in resp.headers


def test_missing_token_on_a_private_route_is_401_json(client: httpx.Client) -> None:
    _assert_status_json(client.get(f"/v1/users/{_USER_ID}"), 401, 16, "UNAUTHENTICATED")


@pytest.mark.parametrize(
    "kind", ["expired", "forged", "alg_none", "wrong_audience", "wrong_issuer", "garbage"]
)
def test_bad_tokens_are_401_json(client: httpx.Client, edge: Edge, kind: str) -> None:
    key = edge.backend.key
    now = int(time.time())
    if kind == "expired":
        token = key.token(ttl=-600)
    elif kind == "forged":
        # Same kid, another private key: the signature cannot verify.
        token = SigningKey(kid=key.kid, private=SigningKey.generate().private).token()
    elif kind == "alg_none":
        claims = {"sub": "u1", "iss": "gx-identity", "aud": "gx-api", "iat": now, "exp": now + 300}
        token = jwt.encode(claims, None, algorithm="none", headers={"kid": key.kid})
    elif kind == "wrong_audience":
        token = key.token(audience="someone-else")
    elif kind == "wrong_issuer":
        token = key.token(issuer="evil")
    else:
        token = "not.a.jwt"
    _assert_status_json(
        client.get(f"/v1/users/{_USER_ID}", headers=_bearer(token)), 401, 16, "UNAUTHENTICATED"
    )


def test_a_remembered_token_does_not_let_an_altered_copy_through(client: httpx.Client, edge: Edge) -> None:
    # The edge remembers verified tokens by their exact text: a copy with another subject or a
    # broken signature is another text and gets the full check, however often the original passed.
    token = edge.backend.key.token(sub="u1")
    for _ in range(3):
        assert client.get(f"/v1/users/{_USER_ID}", headers=_bearer(token)).status_code == 200
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    other = base64.urlsafe_b64encode(json.dumps({**claims, "sub": "someone-else"}).encode()).rstrip(b"=")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for altered in (f"{header}.{other.decode()}.{signature}", f"{header}.{payload}.{flipped}"):
        _assert_status_json(
            client.get(f"/v1/users/{_USER_ID}", headers=_bearer(altered)), 401, 16, "UNAUTHENTICATED"
        )
    assert client.get(f"/v1/users/{_USER_ID}", headers=_bearer(token)).status_code == 200


def test_bad_token_on_a_public_route_is_still_refused(client: httpx.Client, edge: Edge) -> None:
    resp = client.post(
        "/v1/users:register", json={"email": "b@gx.test"}, headers=_bearer(edge.backend.key.token(ttl=-600))
    )
    _assert_status_json(resp, 401, 16)


def test_malformed_json_is_400_json(client: httpx.Client) -> None:
    resp = client.post(
        "/v1/users:register", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    _assert_status_json(resp, 400, 3, "MALFORMED_REQUEST")


def test_wrong_json_type_is_400_json(client: httpx.Client) -> None:
    resp = client.post("/v1/users:register", json={"email": {"nested": True}})
    _assert_status_json(resp, 400, 3)


def test_unknown_query_parameter_is_400_json(client: httpx.Client, edge: Edge) -> None:
    resp = client.get(f"/v1/users/{_USER_ID}?bogus=1", headers=_bearer(edge.backend.key.token()))
    _assert_status_json(resp, 400, 3, "UNKNOWN_FIELD")


def test_oversized_body_is_400_json(client: httpx.Client) -> None:
    resp = client.post("/v1/users:register", json={"email": "c@gx.test", "displayName": "x" * 200_000})
    _assert_status_json(resp, 400, 3, "REQUEST_TOO_LARGE")


def test_unknown_method_is_404_json(client: httpx.Client, edge: Edge) -> None:
    resp = client.get("/v1/nothing/here", headers=_bearer(edge.backend.key.token()))
    _assert_status_json(resp, 404, 5, "UNKNOWN_METHOD")


def test_native_grpc_through_the_edge(edge: Edge) -> None:
    with grpc.insecure_channel(edge.address) as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        stub = identity_service_pb2_grpc.IdentityServiceStub(channel)
        reply = stub.GetUser(
            identity_service_pb2.GetUserRequest(user_id=_USER_ID),
            metadata=(("authorization", f"Bearer {edge.backend.key.token()}"),),
            timeout=5,
        )
        assert reply.user.user_id == _USER_ID
        with pytest.raises(grpc.RpcError) as err:
            stub.GetUser(identity_service_pb2.GetUserRequest(user_id=_USER_ID), timeout=5)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def _grpcurl() -> str:
    path = Path(sys.executable).parent / "grpcurl"
    return str(path) if path.exists() else "grpcurl"


@pytest.mark.parametrize("through", ["edge", "direct"])
def test_grpcurl_lists_services_by_reflection(edge: Edge, through: str) -> None:
    target = edge.address if through == "edge" else f"127.0.0.1:{edge.backend.port}"
    result = subprocess.run(
        [_grpcurl(), "-plaintext", target, "list"], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    services = result.stdout.split()
    assert "gx.identity.v1.IdentityService" in services
    assert "grpc.health.v1.Health" in services


def test_grpcurl_calls_a_method_through_the_edge(edge: Edge) -> None:
    result = subprocess.run(
        [
            _grpcurl(),
            "-plaintext",
            "-d",
            '{"email": "d@gx.test"}',
            edge.address,
            "gx.identity.v1.IdentityService/RegisterUser",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert '"email": "d@gx.test"' in result.stdout


def test_unknown_body_field_is_400_with_a_field_violation(client: httpx.Client) -> None:
    resp = client.post("/v1/users:register", json={"email": "e@gx.test", "displayNme": "typo"})
    body = _assert_status_json(resp, 400, 3)
    kinds = {d["@type"].rsplit(".", 1)[1]: d for d in body["details"]}
    assert kinds["BadRequest"]["fieldViolations"] == [{"field": "displayNme", "description": "unknown field"}]
    assert kinds["ErrorInfo"]["reason"] == "UNKNOWN_FIELD"


def test_unknown_nested_body_field_is_named_with_its_path(client: httpx.Client, edge: Edge) -> None:
    payload = {
        "firstName": "A",
        "documents": [{"type": "KYC_DOCUMENT_TYPE_PASSPORT", "sha256": "ab"}, {"sha256": "cd", "extra": 1}],
    }
    resp = client.post(
        f"/v1/users/{_USER_ID}/kyc:submit", json=payload, headers=_bearer(edge.backend.key.token())
    )
    body = _assert_status_json(resp, 400, 3)
    assert '"documents[1].extra"' in body["message"]


def test_proto_field_names_are_accepted_in_bodies(client: httpx.Client) -> None:
    resp = client.post("/v1/users:register", json={"email": "f@gx.test", "display_name": "Snake"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["user"]["displayName"] == "Snake|"


def test_dot_segments_cannot_turn_a_private_path_public(client: httpx.Client) -> None:
    # Normalised to /v1/users/<id> (private) before the token rules run.
    resp = client.get(f"/.well-known/../v1/users/{_USER_ID}")
    _assert_status_json(resp, 401, 16)
    resp = client.get("/v1/users%2F..%2Fauth:login")
    assert resp.status_code == 400


def test_a_backend_that_is_down_gives_503_json() -> None:
    backend = EdgeBackend()
    backend.start()
    root = make_temp_dir("gx-edge-down-")
    cfg = StackConfig.on_free_ports(root)
    cfg = cfg.served_at("identity", backend.port)
    part = EdgePart(services=("identity",))
    try:
        part.start(cfg, StackView(names=["identity", "edge"]))
        part.wait_healthy(cfg)
        backend.stop()
        with httpx.Client(base_url=f"http://{cfg.address('edge')}", timeout=10) as c:
            resp = c.post("/v1/users:register", json={"email": "g@gx.test"})
        _assert_status_json(resp, 503, 14)
    finally:
        part.stop(cfg)
        backend.stop()
        shutil.rmtree(root, ignore_errors=True)
