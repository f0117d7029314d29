"""The TypeScript SDK (@gx/client) under node through the real Envoy edge (REST), with the whole mesh behind it.

The package is built as `make sdk` builds it (npm ci from the lock, types generated from
gen/openapi/openapi.json, tsc); node/journey.mjs runs the money journey with it and prints what it
saw: register, KYC, approval waited on, a transfer waited on, balances, the paged history, a replayed
request id, typed errors with their reasons, and a refused token renewed with the refresh token.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from chaincode import rules
from tests.e2e.sdk.conftest import PASSWORD
from tests.support.stack import EdgeStack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

_REPO = Path(__file__).resolve().parents[3]
_SDK = _REPO / "sdk" / "typescript"
_JOURNEY = Path(__file__).resolve().parent / "node" / "journey.mjs"
GX = 1_000_000


def _digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def built_sdk() -> Path:
    """Install (npm ci, when the lock changed) and build the package; return its directory."""
    npm = shutil.which("npm")
    assert npm and shutil.which("node"), "node and npm are required for the TypeScript SDK test"
    # Other test processes (pytest-xdist workers) wait while one installs and builds.
    with (_SDK / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = _SDK / "node_modules" / ".gx-lock-sha256"
        lock_digest = _digest(_SDK / "package-lock.json")
        if not stamp.exists() or stamp.read_text().strip() != lock_digest:
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=_SDK, check=True, timeout=600
            )
            stamp.write_text(lock_digest)
        subprocess.run([npm, "run", "--silent", "build"], cwd=_SDK, check=True, timeout=300)
    return _SDK


@pytest.fixture(scope="module")
def seen(built_sdk: Path, mesh: EdgeStack, root_email: str, admin: Any) -> dict[str, Any]:
    """Run the journey once; what node printed."""
    config = {"baseUrl": mesh.rest_url, "adminEmail": root_email, "password": PASSWORD}
    run = subprocess.run(
        [shutil.which("node") or "node", str(_JOURNEY), json.dumps(config)],
        cwd=_JOURNEY.parent,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


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
