"""Evaluate, endorse/submit/commit status, error details and deadlines against a real devnet."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
import pytest
from prometheus_client import CollectorRegistry

from fabric_client import (
    CommitError,
    CommitStatusError,
    EndorseError,
    EvaluateError,
    FabricSettings,
    FailureKind,
    Gateway,
    Transaction,
    classify,
    connect_from_settings,
)
from tests.ledger.conftest import connect
from tests.support.ledger import Ledger

pytestmark = pytest.mark.timeout(120)


async def test_evaluate_submit_in_steps_and_commit_status(
    gateway: Gateway, unique: Callable[[str], str]
) -> None:
    contract = gateway.network("gxchannel").contract("gx")
    key = unique("k")
    assert await contract.evaluate("Get", args=[key]) == b""

    proposal = contract.new_proposal("Put", args=[key, "v1"])
    tx = await proposal.endorse()
    assert tx.tx_id == proposal.tx_id and tx.channel_id == "gxchannel"
    stored = tx.envelope_bytes  # what the outbox persists before awaiting the commit
    assert Transaction.from_envelope_bytes(stored) == tx
    assert await contract.evaluate("Get", args=[key]) == b"", "endorsement must not commit"

    submitted = await gateway.submit(stored)
    assert submitted.tx_id == tx.tx_id
    status = await gateway.commit_status(tx.tx_id, channel_id="gxchannel")
    assert status.successful and status.code_name == "VALID" and status.block_number > 0
    assert await contract.evaluate("Get", args=[key]) == b"v1"

    # Commit status is idempotent once committed.
    again = await gateway.network("gxchannel").commit_status(tx.tx_id)
    assert (again.code, again.block_number) == (status.code, status.block_number)


async def test_submit_transaction_returns_the_chaincode_result(
    gateway: Gateway, unique: Callable[[str], str]
) -> None:
    contract = gateway.network("gxchannel").contract("gx")
    key = unique("k")
    await contract.submit_transaction("Put", args=[key, "old"])
    # Fabric simulation has no read-your-own-writes: the result is the committed value.
    assert await contract.submit_transaction("PutThenGet", args=[key, "new"]) == b"old"
    assert await contract.evaluate("Get", args=[key]) == b"new"


async def test_chaincode_rejection_on_endorse_carries_code_details_and_chaincode_status(
    gateway: Gateway,
) -> None:
    contract = gateway.network("gxchannel").contract("gx")
    with pytest.raises(EndorseError) as caught:
        await contract.submit_transaction("Fail", args=["500", "boom from chaincode"])
    error = caught.value
    assert error.code is grpc.StatusCode.ABORTED
    assert error.tx_id and len(error.tx_id) == 64
    assert error.details, "the gateway attaches one ErrorDetail per endorser"
    assert all(d.msp_id == "Org1MSP" and d.address for d in error.details)
    assert error.chaincode_status == 500 and "boom from chaincode" in (error.chaincode_message or "")
    assert classify(error) is FailureKind.BUSINESS


async def test_chaincode_rejection_on_evaluate_is_unknown_with_the_chaincode_status(gateway: Gateway) -> None:
    contract = gateway.network("gxchannel").contract("gx")
    with pytest.raises(EvaluateError) as caught:
        await contract.evaluate("Fail", args=["404", "nothing here"])
    assert caught.value.code is grpc.StatusCode.UNKNOWN
    assert caught.value.chaincode_status == 404 and caught.value.chaincode_message == "nothing here"
    assert classify(caught.value) is FailureKind.BUSINESS


async def test_overdraft_is_a_business_rejection(gateway: Gateway, unique: Callable[[str], str]) -> None:
    contract = gateway.network("gxchannel").contract("gx")
    with pytest.raises(EndorseError) as caught:
        await contract.submit_transaction("Transfer", args=[unique("empty"), unique("b"), "5"])
    assert caught.value.chaincode_status == 500 and "insufficient funds" in (
        caught.value.chaincode_message or ""
    )


async def test_commit_status_deadline_while_not_committed_then_valid_after_submit(
    gateway: Gateway, unique: Callable[[str], str]
) -> None:
    contract = gateway.network("gxchannel").contract("gx")
    tx = await contract.new_proposal("Put", args=[unique("late"), "x"]).endorse()
    with pytest.raises(CommitStatusError) as caught:
        await gateway.commit_status(tx.tx_id, channel_id="gxchannel", timeout=0.5)
    assert caught.value.code is grpc.StatusCode.DEADLINE_EXCEEDED
    assert caught.value.tx_id == tx.tx_id
    assert classify(caught.value) is FailureKind.TRANSIENT
    # Waiting for a commit is not a peer failure: the breaker stays closed.
    assert gateway.breaker.state.value == "closed"

    waiter = asyncio.ensure_future(gateway.commit_status(tx.tx_id, channel_id="gxchannel"))
    await asyncio.sleep(0.1)
    assert not waiter.done(), "CommitStatus blocks until the transaction commits"
    await gateway.submit(tx)
    status = await waiter
    assert status.successful


async def test_per_call_timeout_applies_to_evaluate(gateway: Gateway) -> None:
    contract = gateway.network("gxchannel").contract("gx")
    with pytest.raises(EvaluateError) as caught:
        await contract.evaluate("Get", args=["k"], timeout=1e-6)
    assert caught.value.code is grpc.StatusCode.DEADLINE_EXCEEDED
    assert classify(caught.value) is FailureKind.TRANSIENT


async def test_unknown_channel_fails_with_a_gateway_error(gateway: Gateway) -> None:
    with pytest.raises(EvaluateError) as caught:
        await gateway.network("nosuchchannel").contract("gx").evaluate("Get", args=["k"])
    # Real Fabric answers UNAVAILABLE "failed to get config for channel [...]" here.
    assert caught.value.code is grpc.StatusCode.UNAVAILABLE
    assert "nosuchchannel" in caught.value.message
    assert caught.value.chaincode_status is None


async def test_creator_msp_id_reaches_the_chaincode(ledger: Ledger) -> None:
    async with connect(ledger, "gx_admin") as admin:
        assert await admin.network("gxchannel").contract("gx").evaluate("Creator") == b"Org1MSP"


async def test_metrics_count_calls_by_method_and_outcome(
    ledger: Ledger, unique: Callable[[str], str]
) -> None:
    registry = CollectorRegistry()
    async with connect(ledger, registry=registry) as gw:
        contract = gw.network("gxchannel").contract("gx")
        await contract.submit_transaction("Put", args=[unique("m"), "1"])
        with pytest.raises(EvaluateError):
            await contract.evaluate("Fail", args=["400", "no"])

    def count(method: str, outcome: str) -> float:
        return (
            registry.get_sample_value("gx_fabric_client_calls_total", {"method": method, "outcome": outcome})
            or 0
        )

    assert count("endorse", "ok") == 1
    assert count("submit", "ok") == 1
    assert count("commit_status", "ok") == 1
    assert count("evaluate", "unknown") == 1
    assert (
        registry.get_sample_value("gx_fabric_client_call_duration_seconds_count", {"method": "endorse"}) == 1
    )


async def test_conflicting_commit_raises_commit_error_from_submit_transaction(
    gateway: Gateway, unique: Callable[[str], str]
) -> None:
    contract = gateway.network("gxchannel").contract("gx")
    account = unique("acct")
    await contract.submit_transaction("SetBalance", args=[account, "100"])
    results = await asyncio.gather(
        contract.submit_transaction("Transfer", args=[account, unique("x"), "60"]),
        contract.submit_transaction("Transfer", args=[account, unique("y"), "60"]),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1, results
    error = errors[0]
    # Usually both endorse against balance 100 and the later commit conflicts; if the second
    # endorsement already saw the first commit, the chaincode refuses the overdraft instead.
    if isinstance(error, CommitError):
        assert error.code_name == "MVCC_READ_CONFLICT"
        assert classify(error) is FailureKind.CONFLICT
    else:
        assert isinstance(error, EndorseError) and error.chaincode_status == 500, error
    assert await contract.evaluate("Balance", args=[account]) == b"40"


async def test_gateway_from_settings_uses_its_channel_by_default(
    ledger: Ledger, unique: Callable[[str], str]
) -> None:
    settings = FabricSettings(
        peer_endpoint=ledger.peer_address,
        msp_id=ledger.msp_id,
        msp_dir=ledger.user("gx_admin").cert_path.parents[1],
        channel=ledger.channel,
        chaincode=ledger.chaincode_name,
        commit_status_timeout=20,
    )
    async with connect_from_settings(settings) as gw:
        contract = gw.network(settings.channel).contract(settings.chaincode)
        tx = await contract.new_proposal("Put", args=[unique("settings"), "1"]).endorse()
        await gw.submit(tx.envelope_bytes)
        status = await gw.commit_status(tx.tx_id)  # no channel: the settings' channel
        assert status.successful
        assert gw.timeouts.commit_status == 20
