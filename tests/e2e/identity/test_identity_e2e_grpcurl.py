"""grpcurl against identity by reflection, directly and through the edge."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support.stack import EdgeStack

pytestmark = pytest.mark.e2e


def _grpcurl(*args: str) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).parent / "grpcurl"
    return subprocess.run(
        [str(binary) if binary.exists() else "grpcurl", "-plaintext", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("through", ["direct", "edge"])
def test_grpcurl_lists_and_calls_identity(identity_edge: EdgeStack, through: str) -> None:
    target = identity_edge.grpc["identity"] if through == "direct" else identity_edge.edge_address
    listed = _grpcurl(target, "list", "gx.identity.v1.IdentityService")
    assert listed.returncode == 0, listed.stderr
    assert "gx.identity.v1.IdentityService.Login" in listed.stdout.split()

    called = _grpcurl("-d", "{}", target, "gx.identity.v1.IdentityService/GetJwks")
    assert called.returncode == 0, called.stderr
    body = json.loads(called.stdout)
    # grpcurl 1.8.6 prints HttpBody with its proto field names.
    assert body.get("contentType", body.get("content_type")) == "application/json"
    jwks = json.loads(base64.b64decode(body["data"]))
    assert jwks["keys"] and all(k["kid"] for k in jwks["keys"])


def test_grpcurl_register_and_a_rich_error(identity_edge: EdgeStack) -> None:
    target = identity_edge.grpc["identity"]
    email = f"grpcurl-{uuid.uuid4().hex[:8]}@example.com"
    request = json.dumps({"email": email, "password": "Grpcurl pass 2026"})
    created = _grpcurl("-d", request, target, "gx.identity.v1.IdentityService/RegisterUser")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["user"]["email"] == email
    duplicate = _grpcurl("-d", request, target, "gx.identity.v1.IdentityService/RegisterUser")
    assert duplicate.returncode != 0
    assert "AlreadyExists" in duplicate.stderr and "EMAIL_TAKEN" in duplicate.stderr
