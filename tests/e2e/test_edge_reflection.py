"""grpcurl through the edge by server reflection alone (no -protoset): list, describe and call every gx service.

The edge routes `grpc.reflection.*` to identity, which reflects the whole mesh
(services.common.reflection); each service's calls still go to the process that serves it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from services.common.reflection import mesh_service_names
from tests.support.stack import EdgeStack

pytestmark = pytest.mark.e2e

PASSWORD = "Reflection pass 2026!"
# One read call per service, made with an ordinary user's token. A call "works" when the service
# itself answers: a result, or its own rich error (an ErrorInfo from the gx domain) — never the
# edge's "no route" or "unknown service".
CALLS: dict[str, tuple[str, dict[str, object]]] = {
    "gx.identity.v1.IdentityService": ("GetUser", {"userId": "me"}),
    "gx.wallet.v1.WalletService": ("ListTransactions", {"walletId": "me"}),
    "gx.wallet.v1.AdminService": (
        "PauseSystem",
        {"requestId": str(uuid.uuid4()), "reason": "reflection test"},
    ),
    "gx.wallet.v1.GovernanceService": ("ListProposals", {}),
    "gx.wallet.v1.LoanService": ("ListLoans", {}),
    "gx.wallet.v1.OrganizationService": ("ListOrganizations", {}),
    "gx.wallet.v1.TaxService": ("PreviewVelocityTax", {"walletId": "me"}),
    "gx.licensing.v1.LicensingService": ("ListPartners", {}),
}


def _grpcurl(*args: str) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).parent / "grpcurl"
    return subprocess.run(
        [str(binary) if binary.exists() else "grpcurl", "-plaintext", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.fixture(scope="module")
def token(edge_stack: EdgeStack) -> str:
    email = f"reflect-{uuid.uuid4().hex[:8]}@example.com"
    with httpx.Client(base_url=edge_stack.rest_url, timeout=30) as client:
        made = client.post(
            "/v1/users:register",
            json={"email": email, "password": PASSWORD, "displayName": "Reflect", "countryCode": "LK"},
        )
        assert made.status_code == 200, made.text
        login = client.post("/v1/auth:login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        return str(login.json()["accessToken"])


def test_the_edge_lists_every_gx_service(edge_stack: EdgeStack) -> None:
    listed = _grpcurl(edge_stack.edge_address, "list")
    assert listed.returncode == 0, listed.stderr
    names = set(listed.stdout.split())
    expected = set(mesh_service_names())
    assert (
        len(expected) >= 9 and {"gx.identity.v1.IdentityService", "gx.ops.v1.OutboxAdminService"} <= expected
    )
    assert {n for n in names if n.startswith("gx.")} == expected
    assert "grpc.health.v1.Health" in names


def test_a_service_reflects_only_itself_when_called_directly(edge_stack: EdgeStack) -> None:
    # Only the process the edge sends reflection to speaks for the mesh.
    listed = _grpcurl(edge_stack.grpc["wallet"], "list")
    assert listed.returncode == 0, listed.stderr
    names = {n for n in listed.stdout.split() if n.startswith("gx.")}
    assert names and all(n.startswith("gx.wallet.v1.") for n in names)
    # A method resolves by its own name there too (the stock servicer answered NOT_FOUND).
    method = _grpcurl(edge_stack.grpc["wallet"], "describe", "gx.wallet.v1.WalletService.GetWallet")
    assert method.returncode == 0, method.stderr
    assert "rpc GetWallet ( .gx.wallet.v1.GetWalletRequest )" in method.stdout


@pytest.mark.parametrize("service", mesh_service_names())
def test_describe_works_for_every_service_and_its_messages(edge_stack: EdgeStack, service: str) -> None:
    described = _grpcurl(edge_stack.edge_address, "describe", service)
    assert described.returncode == 0, described.stderr
    assert f"{service} is a service:" in described.stdout
    methods = _grpcurl(edge_stack.edge_address, "list", service)
    assert methods.returncode == 0, methods.stderr
    first = methods.stdout.split()[0]
    # A method's request type resolves too (with its imports: gx.type.v1, google.api, ...).
    method = _grpcurl(edge_stack.edge_address, "describe", first)
    assert method.returncode == 0, method.stderr
    request_type = method.stdout.split("rpc ", 1)[1].split("(", 1)[1].split(")", 1)[0].strip().lstrip(".")
    message = _grpcurl(edge_stack.edge_address, "describe", request_type.removeprefix("stream ").strip())
    assert message.returncode == 0, message.stderr
    assert "is a message:" in message.stdout


def test_every_routed_service_is_in_the_call_table(edge_stack: EdgeStack) -> None:
    # ops (the outbox's admin API) runs with the workers, outside this stack: described above,
    # called in the workers' own tests.
    assert set(CALLS) == set(mesh_service_names()) - {"gx.ops.v1.OutboxAdminService"}


@pytest.mark.parametrize("service", sorted(CALLS))
def test_a_call_reaches_every_service_through_the_edge(
    edge_stack: EdgeStack, token: str, service: str
) -> None:
    method, request = CALLS[service]
    called = _grpcurl(
        "-H",
        f"authorization: Bearer {token}",
        "-d",
        json.dumps(request),
        edge_stack.edge_address,
        f"{service}/{method}",
    )
    if called.returncode == 0:
        assert isinstance(json.loads(called.stdout), dict)
        return
    # The service's own refusal: a rich status whose ErrorInfo grpcurl decoded by reflection.
    assert "Unimplemented" not in called.stderr and "Unavailable" not in called.stderr, called.stderr
    assert "google.rpc.ErrorInfo" in called.stderr and '"domain"' in called.stderr, called.stderr
