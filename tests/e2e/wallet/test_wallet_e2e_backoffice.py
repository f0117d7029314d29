"""The wallet's back office end to end through the real Envoy edge: a user's trust score, the
admins' velocity-tax list and sweep, and the sweep's audit row read back from identity's trail.

Only PostgreSQL, Redis, the migrations, identity, the wallet and Envoy run: the wallet reads the
ledger read models, which the test writes in the projector's place (the chain is not involved).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
import sqlalchemy

from tests.support.edge_rest import create_super_admin, login
from tests.support.stack import EdgeStack, running_edge_stack

pytestmark = pytest.mark.e2e

GX = 1_000_000
PASSWORD = "Backoffice e2e pass 2026!"
_PARTS = ("postgres", "redis", "migrations", "identity", "wallet", "edge")


@pytest.fixture(scope="module")
def stack() -> Iterator[EdgeStack]:
    with running_edge_stack(parts=_PARTS) as running:
        yield running


@pytest.fixture(scope="module")
def http(stack: EdgeStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.rest_url, timeout=30) as client:
        yield client


def _sql(stack: EdgeStack, statement: str, **params: Any) -> None:
    engine = sqlalchemy.create_engine(stack.database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(statement), params)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def admin_token(stack: EdgeStack, http: httpx.Client) -> str:
    return login(http, create_super_admin(stack.database_url, PASSWORD), PASSWORD)


def _ledger_user(
    stack: EdgeStack, user_id: str, *, trust: int, balance: int, holding_days: int | None
) -> None:
    """The projector's rows for a user (the test writes them in its place)."""
    _sql(
        stack,
        "INSERT INTO ledger.users (user_id, country_code, status, trust_score, block_number, fabric_tx_id,"
        " create_time, update_time) VALUES (:u, 'LK', 'ACTIVE', :t, 2, 'tx', now(), now())",
        u=user_id,
        t=trust,
    )
    _sql(
        stack,
        "INSERT INTO ledger.wallets (wallet_id, account_type, user_id, country_code, balance_qirat, block_number,"
        " fabric_tx_id, create_time, update_time, velocity_timer_start_time) VALUES (:u, 'USER', :u, 'LK', :b, 2,"
        " 'tx', now(), now(), CASE WHEN CAST(:d AS integer) IS NULL THEN NULL ELSE now() - make_interval(days => CAST(:d AS integer)) END)",
        u=user_id,
        b=balance,
        d=holding_days,
    )


def _user(http: httpx.Client) -> tuple[str, str]:
    email = f"bo-{uuid.uuid4().hex[:12]}@example.com"
    registered = http.post("/v1/users:register", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 200, registered.text
    return registered.json()["user"]["userId"], login(http, email, PASSWORD)


def test_a_user_reads_their_trust_score_and_why_a_loan_would_be_refused(
    stack: EdgeStack, http: httpx.Client
) -> None:
    user_id, token = _user(http)
    _ledger_user(stack, user_id, trust=20, balance=10 * GX, holding_days=None)
    got = http.get("/v1/users/me/trustScore", headers={"authorization": f"Bearer {token}"})
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["userId"], body["trustScore"], body["loanEligible"]) == (user_id, 20, False)
    assert body["minScoreForLoan"] == 75 and body["repaidLoansToMinimum"] == 11
    assert len(body["rules"]) == 3


def test_admins_list_and_sweep_velocity_tax_and_the_sweep_is_in_the_audit_trail(
    stack: EdgeStack, http: httpx.Client, admin_token: str
) -> None:
    admin = {"authorization": f"Bearer {admin_token}"}
    user_id, token = _user(http)
    _ledger_user(stack, user_id, trust=10, balance=500 * GX, holding_days=400)
    _sql(
        stack,
        "INSERT INTO ledger.system_status (id, bootstrapped, paused, total_supply_qirat, block_number)"
        " VALUES (1, true, false, 0, 1) ON CONFLICT (id) DO NOTHING",
    )
    due = http.get("/v1/velocityTaxDue", headers=admin)
    assert due.status_code == 200, due.text
    assert user_id in [w["walletId"] for w in due.json()["wallets"]]
    assert http.get("/v1/velocityTaxDue", headers={"authorization": f"Bearer {token}"}).status_code == 403

    swept = http.post("/v1/velocityTax:sweep", json={"requestId": str(uuid.uuid4())}, headers=admin)
    assert swept.status_code == 200, swept.text
    assert len(swept.json()["operations"]) >= 1
    again = http.post("/v1/velocityTax:sweep", json={"requestId": str(uuid.uuid4())}, headers=admin)
    assert again.status_code == 200 and again.json().get("operations", []) == []

    admin_id = jwt.decode(admin_token, options={"verify_signature": False})["sub"]
    trail = http.get(
        "/v1/auditEvents", params={"actor": admin_id, "action": "wallet.SweepVelocityTax"}, headers=admin
    )
    assert trail.status_code == 200, trail.text
    events = trail.json()["auditEvents"]
    assert [e["service"] for e in events] == ["wallet", "wallet"]
    assert all(e["address"] and e["requestId"] for e in events)
