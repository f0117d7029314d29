"""The TypeScript SDK (@gx/client) under node through the real Envoy edge (REST), with the whole mesh behind it.

The package is built as `make sdk` builds it (npm ci from the lock, types generated from
gen/openapi/openapi.json, tsc); node/journey.mjs runs the money journey with it and prints what it
saw: register, KYC, approval waited on, a transfer waited on, balances, the paged history, a replayed
request id, typed errors with their reasons, and a refused token renewed with the refresh token.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ledger_rules as rules
from tests.e2e.sdk.conftest import PASSWORD, PartnerKey
from tests.support.stack import EdgeStack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

_REPO = Path(__file__).resolve().parents[3]
_SDK = _REPO / "sdk" / "typescript"
_NODE = Path(__file__).resolve().parent / "node"
_JOURNEY = _NODE / "journey.mjs"
GX = 1_000_000


@pytest.fixture(scope="module")
def built_sdk() -> Path:
    """Build the package as `make sdk-typescript` does (npm ci when the lock changed, generate, tsc)."""
    assert shutil.which("npm") and shutil.which("node"), (
        "node and npm are required for the TypeScript SDK test"
    )
    # The make target takes a lock, so parallel test processes build one at a time.
    subprocess.run(["make", "-s", "sdk-typescript"], cwd=_REPO, check=True, timeout=900, capture_output=True)
    return _SDK


def _node(script: Path, *args: str) -> dict[str, Any]:
    run = subprocess.run(
        [shutil.which("node") or "node", str(script), *args],
        cwd=script.parent,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def seen(
    built_sdk: Path, mesh: EdgeStack, root_email: str, admin: Any, partner_key: PartnerKey
) -> dict[str, Any]:
    """Run the journey once; what node printed."""
    config = {
        "baseUrl": mesh.rest_url,
        "adminEmail": root_email,
        "password": PASSWORD,
        "apiKey": partner_key.secret,
        # KYC needs a verified email: node reads each user's code with this command.
        "mailCode": {
            "argv": [sys.executable, "-m", "tests.support.mail_queue", "--database-url", mesh.database_url],
            "cwd": str(_REPO),
        },
    }
    return _node(_JOURNEY, json.dumps(config))


def test_users_are_onboarded_and_the_transfer_commits(seen: dict[str, Any]) -> None:
    assert seen["onboarded"] == ["OPERATION_STATE_COMMITTED", "USER_STATE_ACTIVE"] * 2
    assert seen["transfer"]["state"] == "OPERATION_STATE_COMMITTED"
    assert seen["transfer"]["commandType"] == "COMMAND_TYPE_TRANSFER_TOKENS"
    assert int(seen["transfer"]["blockNumber"]) > 0


def test_balances_move_by_the_amount_and_the_fee(seen: dict[str, Any]) -> None:
    genesis, amount = rules.PHASES[0][1] * GX, 50 * GX
    fee = amount * 5 // 10_000
    assert [int(b) for b in seen["before"]] == [genesis, genesis]
    assert [int(b) for b in seen["after"]] == [genesis - amount - fee, genesis + amount]


def test_the_history_is_paged_through(seen: dict[str, Any]) -> None:
    assert seen["history"] == ["TRANSACTION_TYPE_FEE", "TRANSACTION_TYPE_SENT", "TRANSACTION_TYPE_GENESIS"]


def test_a_repeated_request_id_answers_the_same_operation(seen: dict[str, Any]) -> None:
    assert seen["replayedSameOperation"] is True


def test_errors_are_typed_with_their_reason(seen: dict[str, Any]) -> None:
    assert seen["invalid"]["code"] == "INVALID_ARGUMENT" and seen["invalid"]["status"] == 400
    assert any("amount" in field.lower() for field in seen["invalid"]["fields"]), seen["invalid"]
    assert seen["broke"]["reason"] == "INSUFFICIENT_FUNDS", seen["broke"]
    assert seen["stranger"]["code"] == "NOT_FOUND" and seen["stranger"]["status"] == 404


def test_a_refused_token_is_renewed_and_otherwise_typed(seen: dict[str, Any]) -> None:
    assert seen["renewedIsAlice"] is True
    assert seen["stale"]["status"] == 401 and seen["stale"]["code"] == "UNAUTHENTICATED"


def test_an_api_key_alone_makes_the_partner_the_caller(seen: dict[str, Any], partner_key: PartnerKey) -> None:
    assert seen["keyedPartner"] == partner_key.partner_id


def test_the_transport_retries_503_with_one_request_id_and_never_retries_login(built_sdk: Path) -> None:
    """node/retries.mjs: a real local HTTP server answers 503 twice, then the operation."""
    seen = _node(_NODE / "retries.mjs")
    assert seen["operation"] == "op-1" and seen["attempts"] == 3
    assert len(set(seen["requestIds"])) == 1 and seen["requestIds"][0]
    assert seen["authorization"] == ["Bearer tok-1"] * 3 and seen["apiKey"] == ["key-1"] * 3
    assert seen["failed"] == {"reason": "INSUFFICIENT_FUNDS", "code": "FAILED_PRECONDITION", "status": 400}
    assert seen["failedAttempts"] == 1  # an error answer other than 503 is not retried
    assert seen["login"] == {"code": "UNAVAILABLE", "status": 503} and seen["loginAttempts"] == 1
