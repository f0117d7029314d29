"""The official Node client @hyperledger/fabric-gateway against devnet: the same behaviour as real Fabric."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support.ledger import running_ledger

pytestmark = pytest.mark.timeout(240)

_VALID, _MVCC_READ_CONFLICT = 0, 11
_ABORTED, _UNKNOWN = 10, 2


async def _run_scenario(node_dir: Path, config: dict[str, Any]) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        shutil.which("node") or "node",
        "scenario.js",
        json.dumps(config),
        cwd=node_dir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 180)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, stderr.decode(errors="replace")
    return json.loads(stdout.decode().strip().splitlines()[-1])


@pytest.fixture(scope="module")
async def observed(node_client: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the scenario once against a fresh devnet with the kv chaincode; return what Node saw."""
    async with running_ledger(
        tmp_path_factory.mktemp("conformance"), chaincode="kv", batch_timeout=0.1
    ) as ledger:
        user = ledger.user("User1")
        config = {
            "peer": ledger.peer_address,
            "mspId": ledger.msp_id,
            "certPath": str(user.cert_path),
            "keyPath": str(user.key_path),
            "channel": ledger.channel,
            "chaincode": ledger.chaincode_name,
            "prefix": uuid.uuid4().hex[:8] + "-",
        }
        try:
            return await _run_scenario(node_client, config)
        except AssertionError:
            raise AssertionError(ledger.logs()) from None


def _value(observed: dict[str, Any], step: str) -> Any:
    outcome = observed[step]
    assert outcome["ok"], f"{step} failed: {outcome.get('error')}"
    return outcome["value"]


def _error(observed: dict[str, Any], step: str) -> dict[str, Any]:
    outcome = observed[step]
    assert not outcome["ok"], f"{step} should have failed but returned {outcome.get('value')}"
    return outcome["error"]


def test_evaluate_of_a_missing_key_returns_empty(observed: dict[str, Any]) -> None:
    assert _value(observed, "evaluateMissing") == ""


def test_submit_commits_valid_and_returns_the_chaincode_result(observed: dict[str, Any]) -> None:
    submit = _value(observed, "submit")
    # PutThenGet returns the committed value: no read-your-own-writes in Fabric simulation.
    assert submit["result"] == ""
    assert submit["status"]["code"] == _VALID and submit["status"]["successful"] is True
    assert submit["status"]["blockNumber"] >= 1
    assert submit["status"]["transactionId"] == submit["transactionId"]
    assert submit["again"] == submit["status"], "CommitStatus is idempotent"
    assert _value(observed, "evaluateAfterSubmit") == "v1"


def test_endorse_without_submit_commits_nothing(observed: dict[str, Any]) -> None:
    endorsed = _value(observed, "endorseOnly")
    assert len(endorsed["transactionId"]) == 64
    assert endorsed["value"] == ""


def test_conflicting_transfers_give_valid_then_mvcc_read_conflict(observed: dict[str, Any]) -> None:
    mvcc = _value(observed, "mvcc")
    assert sorted(s["code"] for s in mvcc["statuses"]) == [_VALID, _MVCC_READ_CONFLICT]
    assert mvcc["balance"] == "40"


def test_chaincode_rejection_is_an_endorse_error_with_details(observed: dict[str, Any]) -> None:
    for step, text in (("endorseError", "boom from chaincode"), ("overdraftError", "insufficient funds")):
        error = _error(observed, step)
        assert error["isEndorseError"] and error["isGatewayError"], error
        assert error["code"] == _ABORTED
        assert len(error["transactionId"]) == 64
        assert error["details"], "at least one ErrorDetail"
        assert all(d["mspId"] == "Org1MSP" and d["address"] for d in error["details"])
        assert any(text in d["message"] for d in error["details"]), error["details"]


def test_evaluate_rejection_is_unknown_with_details(observed: dict[str, Any]) -> None:
    error = _error(observed, "evaluateError")
    assert error["isGatewayError"] and error["code"] == _UNKNOWN
    assert "nothing here" in error["message"]
    assert error["details"] and error["details"][0]["mspId"] == "Org1MSP"


def test_unknown_channel_is_a_gateway_error(observed: dict[str, Any]) -> None:
    error = _error(observed, "unknownChannel")
    assert error["isGatewayError"] and error["code"] != 0


def test_events_replay_from_a_block_and_resume_after_a_checkpoint(observed: dict[str, Any]) -> None:
    events = _value(observed, "events")
    txs = events["txs"]
    assert all(t["status"]["code"] == _VALID for t in txs)
    tx_ids = [t["transactionId"] for t in txs]

    mine = [e for e in events["all"] if e["transactionId"] in tx_ids]
    assert [e["transactionId"] for e in mine] == tx_ids
    assert [e["payload"] for e in mine] == ["payload-0", "payload-1", "payload-2"]
    assert all(e["chaincodeName"] == "gx" and e["eventName"].endswith("ev") for e in mine)
    assert [e["blockNumber"] for e in mine] == [t["status"]["blockNumber"] for t in txs]

    assert [e["transactionId"] for e in events["resumed"]] == tx_ids[1:], "no gap, no repeat"
    assert events["afterLast"] == []
