"""Who may do what, end to end through the real Envoy edge with the whole mesh behind it.

- An ADMIN cannot change a system parameter (403, nothing recorded): the ledger submits
  UPDATE_SYSTEM_PARAMETER as gx_super_admin, so the API admits only SUPER_ADMIN; a SUPER_ADMIN can,
  and the change commits on the chain.
- A government organisation, proposed by an admin through its own RPC, commits on the chain (it
  used to be refused there: it was submitted under the partner identity).
- Idempotency-Key and its alias X-Idempotency-Key both make a replay answer the same operation.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
import sqlalchemy

from tests.e2e.wallet import test_wallet_e2e_rest as journey
from tests.e2e.wallet.test_wallet_e2e_rest import _auth, _committed, _login, _onboard, _reason
from tests.support.stack import EdgeStack

# The journey module's fixtures, by name: module-scoped, so this module gets a mesh (a super-admin,
# a bootstrapped system) of its own.
mesh, http, root, system = journey.mesh, journey.http, journey.root, journey.system

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def admin(http: httpx.Client, root: str, system: None) -> tuple[str, str]:
    """An active ledger user who holds ROLE_ADMIN in the API (not SUPER_ADMIN): (user id, token)."""
    user_id, _ = _onboard(http, root)
    roles = http.post(
        f"/v1/users/{user_id}:setRoles",
        json={"requestId": str(uuid.uuid4()), "roles": ["ROLE_USER", "ROLE_ADMIN"]},
        headers=_auth(root),
    )
    assert roles.status_code == 200, roles.text
    email = http.get(f"/v1/users/{user_id}", headers=_auth(root)).json()["user"]["email"]
    return user_id, _login(http, email)


def _commands(mesh: EdgeStack, command_type: str) -> int:
    engine = sqlalchemy.create_engine(mesh.database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    sqlalchemy.text("SELECT count(*) FROM outbox.commands WHERE command_type = :t"),
                    {"t": command_type},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _parameter(http: httpx.Client, token: str, name: str) -> str:
    status = http.get("/v1/system", headers=_auth(token)).json()["systemStatus"]
    found = {p["name"]: p["value"] for p in status.get("parameters", [])}
    return str(found.get(name, ""))


def test_an_admin_cannot_change_a_parameter_but_a_super_admin_can(
    mesh: EdgeStack, http: httpx.Client, root: str, admin: tuple[str, str]
) -> None:
    _, admin_token = admin
    before = _commands(mesh, "UPDATE_SYSTEM_PARAMETER")
    body = {"requestId": str(uuid.uuid4()), "value": "90"}
    refused = http.patch("/v1/system/parameters/loan_min_trust_score", json=body, headers=_auth(admin_token))
    assert refused.status_code == 403, refused.text
    assert _reason(refused) == "ROLE_REQUIRED"
    assert _commands(mesh, "UPDATE_SYSTEM_PARAMETER") == before
    # The same change by a super-admin is accepted and commits on the chain.
    accepted = http.patch(
        "/v1/system/parameters/loan_min_trust_score",
        json={"requestId": str(uuid.uuid4()), "value": "90"},
        headers=_auth(root),
    )
    done = _committed(http, root, accepted)
    assert done["commandType"] == "COMMAND_TYPE_UPDATE_SYSTEM_PARAMETER"
    assert _parameter(http, root, "loan_min_trust_score") == "90"


def test_an_admin_proposes_a_government_organisation_that_commits_on_the_chain(
    http: httpx.Client, root: str, admin: tuple[str, str]
) -> None:
    admin_id, admin_token = admin
    member, member_token = _onboard(http, root)
    body = {
        "requestId": str(uuid.uuid4()),
        "name": "Ministry of Tea",
        "stakeholderUserIds": [admin_id, member],
    }
    # A plain user may not; the old route refuses the type and names the right one.
    assert (
        http.post("/v1/organizations:proposeGovernment", json=body, headers=_auth(member_token)).status_code
        == 403
    )
    old_route = http.post(
        "/v1/organizations", json={**body, "type": "ORGANIZATION_TYPE_GOVERNMENT"}, headers=_auth(admin_token)
    )
    assert old_route.status_code == 400 and _reason(old_route) == "GOVERNMENT_ORGANIZATION_RPC_REQUIRED"
    proposed = http.post("/v1/organizations:proposeGovernment", json=body, headers=_auth(admin_token))
    done = _committed(http, admin_token, proposed)
    assert done["commandType"] == "COMMAND_TYPE_PROPOSE_GOVERNMENT_ORGANIZATION"
    org_id = proposed.json()["name"].removeprefix("operations/")
    got = http.get(f"/v1/organizations/{org_id}", headers=_auth(member_token))
    assert got.status_code == 200, got.text
    assert got.json()["organization"]["type"] == "ORGANIZATION_TYPE_GOVERNMENT"


@pytest.mark.parametrize("header", ["Idempotency-Key", "X-Idempotency-Key"])
def test_both_idempotency_headers_make_a_replay_answer_the_same_operation(
    mesh: EdgeStack, http: httpx.Client, root: str, system: None, header: str
) -> None:
    before = _commands(mesh, "UPDATE_SYSTEM_PARAMETER")
    key = str(uuid.uuid4())
    value = "80" if header == "Idempotency-Key" else "85"
    # No requestId in the body: the header is the request id.
    first = http.patch(
        "/v1/system/parameters/loan_min_trust_score",
        json={"value": value},
        headers=_auth(root, **{header: key}),
    )
    assert first.status_code == 202, first.text
    again = http.patch(
        "/v1/system/parameters/loan_min_trust_score",
        json={"value": value},
        headers=_auth(root, **{header: key}),
    )
    assert again.status_code == 202, again.text
    assert again.json()["name"] == first.json()["name"]
    assert _commands(mesh, "UPDATE_SYSTEM_PARAMETER") == before + 1
    # The same key with another value is a reuse, not a second command.
    other = http.patch(
        "/v1/system/parameters/loan_min_trust_score",
        json={"value": "70"},
        headers=_auth(root, **{header: key}),
    )
    assert other.status_code == 400 and _reason(other) == "REQUEST_ID_REUSED", other.text
    _committed(http, root, first)
    assert _parameter(http, root, "loan_min_trust_score") == value
