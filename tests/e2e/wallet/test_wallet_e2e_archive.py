"""Archiving finished commands breaks no lookup: the whole mesh, through the real Envoy edge.

An organisation, a loan and a governance proposal are created through the wallet and committed
and projected by the real outbox and projector; then the outbox's retention worker archives every
finished command (retention 0 days). Every lookup by public id (the organisation, the loan, the
proposal and their lists, which map ledger ids back to public ids), every operation and the wallet
history (which names each entry's operation) answer exactly as before.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy

# The mesh, its admin and the onboarding journey are the wallet e2e suite's own (one copy; pytest
# imports test modules by their base name, rootdir-relative, so the sibling imports as is).
import test_wallet_e2e_rest as journey
from pydantic import SecretStr

from outbox.retention import CommandArchiver, RetentionSettings
from services.common import db
from services.common.settings import DatabaseSettings
from tests.support.stack import EdgeStack

pytestmark = pytest.mark.e2e

# The suite's module-scoped fixtures, registered here too (a stack of this module's own).
mesh = journey.mesh
http = journey.http
root = journey.root
system = journey.system
_auth, _committed, _onboard = journey._auth, journey._committed, journey._onboard

GX = 1_000_000


def _get(client: httpx.Client, token: str, path: str, **params: Any) -> dict[str, Any]:
    got = client.get(path, params=params, headers=_auth(token))
    assert got.status_code == 200, f"{path}: {got.text}"
    return dict(got.json())


def _run(client: httpx.Client, token: str, path: str, **body: Any) -> str:
    """POST a command with a fresh request id, wait until it is committed; its operation id."""
    posted = client.post(path, json={"requestId": str(uuid.uuid4()), **body}, headers=_auth(token))
    _committed(client, token, posted)
    return str(posted.json()["name"].removeprefix("operations/"))


def _queued(stack: EdgeStack, command_ids: list[str]) -> int:
    engine = sqlalchemy.create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    sqlalchemy.text(
                        "SELECT count(*) FROM outbox.commands WHERE id = ANY(CAST(:ids AS uuid[]))"
                    ),
                    {"ids": command_ids},
                ).scalar_one()
            )
    finally:
        engine.dispose()


async def _archive_everything(database_url: str) -> int | None:
    engine = db.create_engine(DatabaseSettings(url=SecretStr(database_url), pool_size=1))
    try:
        return await CommandArchiver(engine, RetentionSettings(days=0, interval_seconds=0)).archive_once()
    finally:
        await engine.dispose()


def test_archiving_finished_commands_breaks_no_lookup(
    mesh: EdgeStack,
    http: httpx.Client,
    root: str,
    system: None,
) -> None:
    journey._lower_loan_bar(http, root)
    alice, alice_token = _onboard(http, root)
    bob, bob_token = _onboard(http, root)
    _, officer_token = journey._loan_officer(http, root)

    org_id = _run(
        http,
        alice_token,
        "/v1/organizations",
        name="Archive Co",
        type="ORGANIZATION_TYPE_BUSINESS",
        stakeholderUserIds=[alice, bob],
    )
    endorsed = _run(http, bob_token, f"/v1/organizations/{org_id}:endorse")
    loan_id = _run(
        http,
        alice_token,
        "/v1/loans",
        amountQirat=str(100 * GX),
        collateralHash=hashlib.sha256(b"archive").hexdigest(),
    )
    approved = _run(http, officer_token, f"/v1/loans/{loan_id}:approve")
    proposal_id = _run(http, officer_token, "/v1/proposals", parameter="voting_period_days", newValue="21")

    operations = {
        "org": (alice_token, org_id),
        "endorse": (bob_token, endorsed),
        "loan": (alice_token, loan_id),
        "approve": (officer_token, approved),
        "proposal": (officer_token, proposal_id),
    }

    def lookups() -> dict[str, Any]:
        return {
            "organization": _get(http, alice_token, f"/v1/organizations/{org_id}"),
            "organizations": _get(http, bob_token, "/v1/organizations"),
            "loan": _get(http, alice_token, f"/v1/loans/{loan_id}"),
            "loans": _get(http, officer_token, "/v1/loans"),
            "proposal": _get(http, alice_token, f"/v1/proposals/{proposal_id}"),
            "proposals": _get(http, alice_token, "/v1/proposals"),
            # Each entry names the operation that caused it (the loan's disbursement here).
            "history": _get(http, alice_token, "/v1/wallets/me/transactions"),
            **{
                f"operation:{name}": _get(http, token, f"/v1/operations/{op_id}")
                for name, (token, op_id) in operations.items()
            },
        }

    before = lookups()
    # The lookups name the resources by their public ids (the creating operations' ids).
    assert before["organization"]["organization"]["orgId"] == org_id
    assert org_id in [o["orgId"] for o in before["organizations"]["organizations"]]
    assert before["loan"]["loan"]["loanId"] == loan_id
    assert loan_id in [item["loanId"] for item in before["loans"]["loans"]]
    assert before["proposal"]["proposal"]["proposalId"] == proposal_id
    assert proposal_id in [p["proposalId"] for p in before["proposals"]["proposals"]]
    assert all(before[f"operation:{name}"]["done"] for name in operations)
    disbursed = [
        t for t in before["history"]["transactions"] if t["type"] == "TRANSACTION_TYPE_LOAN_DISBURSEMENT"
    ]
    assert [t.get("operation") for t in disbursed] == [f"operations/{operations['approve'][1]}"], disbursed

    archived = asyncio.run(_archive_everything(mesh.database_url))
    assert archived is not None and archived >= len(operations)
    assert _queued(mesh, [op_id for _, op_id in operations.values()]) == 0

    assert lookups() == before
