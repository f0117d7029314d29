"""Commands keep the order they were recorded in, end to end through the real Envoy edge.

A fresh mesh (its own module, so nothing is bootstrapped yet): an admin records the bootstrap,
the countries and a dozen KYC approvals back to back, without waiting for any of them, and all
commit. Then two users pay each other 30 times each way while eight users pay one merchant 5
times each, all at once: every transfer commits exactly once (contention is never a reason to
fail), and the balances are what the payments say, on the chain and in the read models.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy

import ledger_rules as rules
from tests.e2e.wallet.test_wallet_e2e_rest import (
    PASSWORD,
    _auth,
    _chain_balances,
    _read_model_balances,
    _wait,
)
from tests.support.edge_rest import create_super_admin
from tests.support.mail_queue import verify_email_over_rest
from tests.support.stack import EdgeStack, running_edge_stack

pytestmark = pytest.mark.e2e

GX = 1_000_000
_MESH = (
    "postgres",
    "redis",
    "migrations",
    "chaincode",
    "devnet",
    "identity",
    "wallet",
    "outbox",
    "projector",
    "edge",
)
_USERS = 12  # A and B, eight payers, the merchant, one spare


@dataclass(frozen=True)
class Member:
    user_id: str
    token: str


@pytest.fixture(scope="module")
def mesh() -> Iterator[EdgeStack]:
    with running_edge_stack(parts=_MESH) as stack:
        yield stack


@pytest.fixture(scope="module")
def http(mesh: EdgeStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mesh.rest_url, timeout=30) as client:
        yield client


def _post(http: httpx.Client, path: str, **kwargs: Any) -> httpx.Response:
    """POST, waiting out the edge's per-address limit on unauthenticated routes (429 + Retry-After)."""
    for _ in range(30):
        got = http.post(path, **kwargs)
        if got.status_code != 429:
            return got
        time.sleep(float(got.headers.get("retry-after", "1")))
    return got


def _login(http: httpx.Client, email: str) -> str:
    login = _post(http, "/v1/auth:login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return str(login.json()["accessToken"])


@pytest.fixture(scope="module")
def root(mesh: EdgeStack, http: httpx.Client) -> str:
    return _login(http, create_super_admin(mesh.database_url, PASSWORD))


def _applicant(http: httpx.Client) -> Member:
    """Registered, email verified, with a pending KYC submission: nothing of it needs the ledger yet."""
    email = f"u-{uuid.uuid4().hex[:10]}@example.com"
    registered = _post(
        http, "/v1/users:register", json={"email": email, "password": PASSWORD, "countryCode": "LK"}
    )
    assert registered.status_code == 200, registered.text
    member = Member(registered.json()["user"]["userId"], _login(http, email))
    verify_email_over_rest(http, email, member.token)
    kyc = {
        "firstName": "A",
        "lastName": "B",
        "dateOfBirth": "1990-05-17",
        "nationality": "LK",
        "documents": [
            {"type": "KYC_DOCUMENT_TYPE_PASSPORT", "sha256": hashlib.sha256(email.encode()).hexdigest()}
        ],
    }
    submitted = http.post("/v1/users/me/kyc:submit", json=kyc, headers=_auth(member.token))
    assert submitted.status_code == 200, submitted.text
    return member


@pytest.fixture(scope="module")
def recorded_back_to_back(http: httpx.Client, root: str) -> tuple[list[Member], list[dict[str, Any]]]:
    """Bootstrap, the shipped countries and every KYC approval, each POSTed right after the other."""
    members = [_applicant(http) for _ in range(_USERS)]
    responses = [
        http.post("/v1/system:bootstrap", json={"requestId": str(uuid.uuid4())}, headers=_auth(root)),
        http.post(
            "/v1/system/countries:initialize", json={"requestId": str(uuid.uuid4())}, headers=_auth(root)
        ),
    ]
    responses += [
        http.post(
            f"/v1/users/{m.user_id}/kyc:approve", json={"requestId": str(uuid.uuid4())}, headers=_auth(root)
        )
        for m in members
    ]
    for response in responses:
        assert response.status_code == 202, response.text  # none refused for a prerequisite in flight
    return members, [r.json() for r in responses]


def test_bootstrap_countries_and_kyc_approvals_recorded_back_to_back_all_commit(
    http: httpx.Client, root: str, recorded_back_to_back: tuple[list[Member], list[dict[str, Any]]]
) -> None:
    members, operations = recorded_back_to_back
    done = [_wait(http, root, op, budget=180) for op in operations]
    assert [d["state"] for d in done] == ["OPERATION_STATE_COMMITTED"] * len(done), [
        d.get("error") for d in done
    ]
    blocks = [int(d["blockNumber"]) for d in done]
    assert blocks[0] < blocks[1] < min(blocks[2:])  # bootstrap, then countries, then the users
    genesis = rules.PHASES[0][1] * GX
    for member in members:
        user = http.get("/v1/users/me", headers=_auth(member.token)).json()["user"]
        assert user["state"] == "USER_STATE_ACTIVE", user
        wallet = http.get("/v1/wallets/me", headers=_auth(member.token)).json()["wallet"]
        assert int(wallet["balanceQirat"]) == genesis


def _sent_rows(mesh: EdgeStack) -> dict[str, int]:
    engine = sqlalchemy.create_engine(mesh.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sqlalchemy.text(
                    "SELECT c.id, count(t.*) AS n FROM outbox.commands c"
                    " LEFT JOIN ledger.transactions t ON t.request_id = c.payload->>'requestId' AND t.type = 'SENT'"
                    " WHERE c.command_type = 'TRANSFER_TOKENS' GROUP BY c.id"
                )
            ).all()
        return {str(r.id): int(r.n) for r in rows}
    finally:
        engine.dispose()


def test_back_and_forth_payments_and_a_merchant_paid_by_many_all_commit_once(
    mesh: EdgeStack,
    http: httpx.Client,
    root: str,
    recorded_back_to_back: tuple[list[Member], list[dict[str, Any]]],
) -> None:
    members, operations = recorded_back_to_back
    for op in operations:  # the onboarding above must be through (the other test checks how)
        assert _wait(http, root, op, budget=180)["state"] == "OPERATION_STATE_COMMITTED"
    a, b, merchant, payers = members[0], members[1], members[2], members[3:11]
    amount = GX
    preview = http.post(
        "/v1/wallets/me:previewTransfer",
        json={"toUserId": b.user_id, "amountQirat": str(amount)},
        headers=_auth(a.token),
    )
    assert preview.status_code == 200, preview.text
    fee = int(preview.json()["feeQirat"])
    chain_before = _chain_balances(mesh)

    jobs: list[tuple[Member, str]] = []
    for i in range(30):
        jobs += [(a, b.user_id), (b, a.user_id)]
        if i < 5:
            jobs += [(p, merchant.user_id) for p in payers]

    def send(job: tuple[Member, str]) -> httpx.Response:
        sender, to = job
        with httpx.Client(base_url=mesh.rest_url, timeout=30) as client:
            return client.post(
                "/v1/wallets/me:transfer",
                json={"toUserId": to, "amountQirat": str(amount), "requestId": str(uuid.uuid4())},
                headers=_auth(sender.token),
            )

    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(send, jobs))
    assert [r.status_code for r in responses] == [202] * len(jobs), [
        r.text for r in responses if r.status_code != 202
    ]
    assert len(jobs) == 100
    done = [_wait(http, root, r.json(), budget=300) for r in responses]
    failed = [(d["name"], d.get("error")) for d in done if d["state"] != "OPERATION_STATE_COMMITTED"]
    assert failed == []  # no RETRIES_EXHAUSTED, no conflict surfacing as a failure
    assert len({d["fabricTxId"] for d in done}) == 100

    # Each exactly once: one SENT history row per transfer, once the projector caught up.
    ids = {d["name"].removeprefix("operations/") for d in done}
    deadline = time.monotonic() + 60
    while True:
        sent = {k: v for k, v in _sent_rows(mesh).items() if k in ids}
        if (all(v == 1 for v in sent.values()) and len(sent) == 100) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert sorted(set(sent.values())) == [1] and len(sent) == 100, sent

    chain = _chain_balances(mesh)
    assert chain[a.user_id] == chain_before[a.user_id] - 30 * fee
    assert chain[b.user_id] == chain_before[b.user_id] - 30 * fee
    assert chain[merchant.user_id] == chain_before[merchant.user_id] + 40 * amount
    for p in payers:
        assert chain[p.user_id] == chain_before[p.user_id] - 5 * (amount + fee)
    assert sum(chain.values()) == rules.TOTAL_SUPPLY == sum(chain_before.values())
    deadline = time.monotonic() + 60
    while _read_model_balances(mesh) != chain and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _read_model_balances(mesh) == chain
