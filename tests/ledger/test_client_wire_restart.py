"""A devnet restart: the chain keeps its height and state, the client and its event stream recover."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from prometheus_client import CollectorRegistry

from fabric_client import (
    BreakerState,
    ChaincodeEventsError,
    CircuitBreaker,
    CommitStatusError,
    EndorseError,
    EvaluateError,
    FailureKind,
    Gateway,
    RetryPolicy,
    SubmitError,
    classify,
    retry_call,
)
from fabric_client.metrics import ClientMetrics
from tests.ledger.conftest import BATCH_TIMEOUT, connect
from tests.support.ledger import running_ledger

pytestmark = pytest.mark.timeout(180)


async def test_restart_keeps_height_and_state_and_the_client_recovers(state_dir: Path) -> None:
    async with running_ledger(state_dir, chaincode="kv", batch_timeout=BATCH_TIMEOUT) as ledger:
        breaker = CircuitBreaker(ledger.peer_address, failure_threshold=3, reset_timeout=0.5)
        registry = CollectorRegistry()
        async with connect(ledger, breaker=breaker, registry=registry) as gateway:
            network = gateway.network("gxchannel")
            contract = network.contract("gx")
            await contract.submit_transaction("Put", args=["before", "kept"])
            before = await contract.new_proposal("EmitEvent", args=["restart", "e1"]).endorse()
            await gateway.submit(before)
            height_before = (await network.commit_status(before.tx_id)).block_number

            stream = network.chaincode_events("gx", start_block=height_before)
            first = await asyncio.wait_for(stream.__anext__(), 15)
            assert first.tx_id == before.tx_id

            pending = await contract.new_proposal("Put", args=["during", "outage"]).endorse()

            await ledger.stop_devnet()
            # Calls fail fast with UNAVAILABLE while the peer is down, and the breaker opens.
            for _ in range(3):
                with pytest.raises(EvaluateError) as down:
                    await contract.evaluate("Get", args=["before"], timeout=2)
                assert down.value.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
                assert classify(down.value) is FailureKind.TRANSIENT
            assert breaker.state is BreakerState.OPEN
            # Every kind of call is refused by the breaker, without touching the network.
            with pytest.raises(EvaluateError, match="circuit breaker open"):
                await contract.evaluate("Get", args=["before"])
            with pytest.raises(EndorseError, match="circuit breaker open"):
                await contract.new_proposal("Put", args=["x", "y"]).endorse()
            with pytest.raises(SubmitError, match="circuit breaker open") as refused:
                await gateway.submit(pending.envelope_bytes)
            assert classify(refused.value) is FailureKind.TRANSIENT
            with pytest.raises(CommitStatusError, match="circuit breaker open"):
                await network.commit_status(pending.tx_id)
            with pytest.raises(ChaincodeEventsError, match="circuit breaker open"):
                async with network.chaincode_events("gx", start_block=0, reconnect=None) as refused_stream:
                    await refused_stream.__anext__()
            assert (
                registry.get_sample_value(
                    "gx_fabric_client_calls_total", {"method": "submit", "outcome": "circuit_open"}
                )
                == 1
            )

            # A gateway with wait_for_ready queues its call until the peer is back instead of failing.
            patient = Gateway(
                gateway._channel,
                gateway.identity,
                gateway._signer,
                breaker=CircuitBreaker("patient"),
                metrics=ClientMetrics(CollectorRegistry()),
                wait_for_ready=True,
            )
            waiting = asyncio.ensure_future(
                patient.network("gxchannel").contract("gx").evaluate("Get", args=["before"], timeout=60)
            )
            await asyncio.sleep(0.5)
            assert not waiting.done()

            await ledger.start_devnet()
            assert await waiting == b"kept"
            # The same gateway (same channel) recovers: a retry policy rides out the breaker's reset.
            policy = RetryPolicy(max_attempts=80, initial_backoff=0.1, max_backoff=0.5)
            value = await retry_call(lambda: contract.evaluate("Get", args=["before"]), policy)
            assert value == b"kept"
            assert breaker.state is BreakerState.CLOSED

            # The envelope stored before the outage is submitted now, from its bytes alone.
            await gateway.submit(pending.envelope_bytes)
            assert (await network.commit_status(pending.tx_id)).successful
            assert await contract.evaluate("Get", args=["during"]) == b"outage"

            after = await contract.new_proposal("EmitEvent", args=["restart", "e2"]).endorse()
            await gateway.submit(after)
            status = await network.commit_status(after.tx_id)
            assert status.successful and status.block_number > height_before
            # A committed transaction's status survives the restart.
            assert (await network.commit_status(before.tx_id)).block_number == height_before

            # The event stream reconnected by itself from its checkpoint: next comes e2, not e1 again.
            second = await asyncio.wait_for(stream.__anext__(), 30)
            assert (second.tx_id, second.payload) == (after.tx_id, b"e2")
            await stream.close()
