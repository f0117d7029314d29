"""devnet as a process, over real gRPC, with the kv chaincode as a service (tests/support/ledger.py)."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from fabric_protos.common import common_pb2
from fabric_protos.peer import transaction_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.devnet.txbuild import Signer, sign_envelope, user_msp
from tests.devnet.wire import Wire, details
from tests.support.ledger import Ledger, running_ledger

C = transaction_pb2.TxValidationCode
pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
async def ledger(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ledger]:
    async with running_ledger(tmp_path_factory.mktemp("wire"), batch_timeout=0.05) as running:
        yield running


@pytest.fixture
async def wire(ledger: Ledger) -> AsyncIterator[Wire]:
    client = Wire(ledger.peer_address, Signer.load(user_msp(ledger.state_dir, "User1")))
    yield client
    await client.close()


async def test_submit_commits_and_evaluate_does_not(ledger: Ledger, wire: Wire) -> None:
    txid, _, status = await wire.submit("Put", "w1", "hello")
    assert status.result == C.VALID and status.block_number >= 1
    before = (await wire.status(txid)).block_number
    assert (await wire.evaluate("Get", "w1")).result.payload == b"hello"
    assert (
        await wire.evaluate("PutThenGet", "w1", "changed")
    ).result.payload == b"hello"  # no read-your-writes
    assert (await wire.evaluate("Get", "w1")).result.payload == b"hello"  # evaluate committed nothing
    status2 = (await wire.submit("Put", "w2", "x"))[2]
    assert status2.block_number > before


async def test_endorse_only_does_not_commit(wire: Wire) -> None:
    await wire.endorse("Put", "never", "1")
    assert (await wire.evaluate("Get", "never")).result.payload == b""


async def test_chaincode_error_shapes(ledger: Ledger, wire: Wire) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as endorse_err:
        await wire.endorse("Fail", "404", "no such thing")
    assert endorse_err.value.code() == grpc.StatusCode.ABORTED
    assert endorse_err.value.details() == "failed to endorse transaction, see attached details for more info"
    [detail] = details(endorse_err.value)
    assert detail.address == f"peer0.org1.example.com:{ledger.peer_port}"
    assert detail.msp_id == "Org1MSP" and detail.message == "chaincode response 404, no such thing"
    with pytest.raises(grpc.aio.AioRpcError) as eval_err:
        await wire.evaluate("Fail", "500", "boom")
    assert eval_err.value.code() == grpc.StatusCode.UNKNOWN
    assert (
        eval_err.value.details() == "evaluate call to endorser returned error: chaincode response 500, boom"
    )
    assert [d.message for d in details(eval_err.value)] == ["chaincode response 500, boom"]


async def test_unsupported_features_answer_like_fabric(wire: Wire) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await wire.endorse("Put", "k", "v", chaincode="nope")
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "No metadata was found for chaincode nope in channel gxchannel" in (err.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await wire.endorse("Put", "k", "v", endorsing_organizations=["Org2MSP"])
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "failed to find any endorsing peers for org(s): Org2MSP" in (err.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await wire.evaluate("RichQuery", '{"selector":{}}')
    assert "ExecuteQuery not supported for leveldb" in (err.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for _ in wire.events(kind="oldest"):
            pass
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "invalid start position type" in (err.value.details() or "")


async def test_submit_checks_signature_and_commit_status_checks_signer(ledger: Ledger, wire: Wire) -> None:
    txid, prepared = await wire.endorse("Put", "sig", "1")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await wire.submit_envelope(txid, prepared.SerializeToString())
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details() == "prepared transaction must be signed"
    forged = common_pb2.Envelope(payload=prepared.payload, signature=wire.signer.sign(b"other"))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await wire.submit_envelope(txid, forged.SerializeToString())
    assert err.value.code() == grpc.StatusCode.ABORTED
    assert "status=FORBIDDEN" in (err.value.details() or "")
    req_signer = wire.signer
    wire.signer = Signer(req_signer.creator, Signer.load(user_msp(ledger.state_dir, "gx_admin")).key)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await wire.status(txid)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        wire.signer = req_signer


async def test_commit_status_blocks_until_commit(wire: Wire) -> None:
    txid, prepared = await wire.endorse("Put", "blocking", "1")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await wire.status(txid, timeout=0.3)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    waiting = asyncio.ensure_future(wire.status(txid))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    await wire.submit_envelope(txid, sign_envelope(wire.signer, prepared))
    assert (await asyncio.wait_for(waiting, 30)).result == C.VALID


async def test_resubmitted_envelope_is_duplicate_and_original_outcome_stands(wire: Wire) -> None:
    txid, signed, status = await wire.submit("Put", "dup", "1")
    await wire.submit_envelope(txid, signed)  # the orderer accepts it; the committer marks it
    marker = (await wire.submit("Put", "after-dup", "1"))[2]
    again = await wire.status(txid)
    assert (again.result, again.block_number) == (C.VALID, status.block_number)
    assert marker.block_number > status.block_number


async def test_concurrent_transfers_conflict(wire: Wire) -> None:
    await wire.submit("SetBalance", "alice", "100")
    results = await asyncio.gather(*(wire.submit("Transfer", "alice", "bob", "10") for _ in range(4)))
    codes = sorted(r[2].result for r in results)
    assert codes.count(C.VALID) >= 1 and set(codes) <= {C.VALID, C.MVCC_READ_CONFLICT}
    valid = codes.count(C.VALID)
    assert (await wire.evaluate("Balance", "alice")).result.payload == str(100 - 10 * valid).encode()


async def test_range_paging_and_history_over_the_shim(wire: Wire) -> None:
    for i in range(3):
        await wire.submit("Put", "hist", f"v{i}")
    history = json.loads((await wire.evaluate("History", "hist")).result.payload)
    assert [h["value"] for h in history] == ["v2", "v1", "v0"]
    await asyncio.gather(*(wire.submit("Put", f"r/{i:03d}", "x") for i in range(130)))
    # 130 keys span two shim batches of 100 (QUERY_STATE_NEXT).
    assert (await wire.evaluate("Count", "r/", "r/~")).result.payload == b"130"


async def test_events_resume_after_checkpoint(wire: Wire) -> None:
    start = (await wire.submit("Put", "ev-start", "1"))[2].block_number
    ids = [(await wire.submit("EmitEvent", "Evt", f"p{i}"))[0] for i in range(3)]
    seen = []
    stream = wire.events(start=start)
    async with asyncio.timeout(30):
        async for reply in stream:
            seen.extend((reply.block_number, e.tx_id, e.payload) for e in reply.events)
            if len(seen) == 3:
                break
    stream.cancel()
    assert [s[1] for s in seen] == ids
    resumed = []
    stream = wire.events(start=0, after=ids[0])
    async with asyncio.timeout(30):
        async for reply in stream:
            resumed.extend(e.tx_id for e in reply.events)
            if len(resumed) == 2:
                break
    stream.cancel()
    assert resumed == ids[1:]


async def test_health_and_metrics(ledger: Ledger, wire: Wire) -> None:
    await wire.submit("Put", "metrics", "1")
    async with grpc.aio.insecure_channel(ledger.peer_address) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="gateway.Gateway")
        )
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    body = await asyncio.to_thread(
        lambda: urllib.request.urlopen(f"http://{ledger.metrics_address}/metrics", timeout=5).read().decode()
    )
    assert (
        "devnet_blocks_committed_total" in body and 'devnet_chaincode_connected{chaincode="gx"} 1.0' in body
    )
    assert 'devnet_transactions_committed_total{code="VALID"}' in body
    assert 'devnet_endorse_seconds_count{rpc="Endorse"}' in body


async def test_chaincode_restart_then_devnet_restart_keep_chain(ledger: Ledger, wire: Wire) -> None:
    _, _, status = await wire.submit("Put", "durable", "yes")
    await ledger.restart_chaincode()
    # devnet re-dials the restarted chaincode by itself.
    assert (await wire.evaluate("Get", "durable")).result.payload == b"yes"
    await ledger.restart_devnet()
    client = Wire(ledger.peer_address, wire.signer)
    try:
        assert (await client.evaluate("Get", "durable")).result.payload == b"yes"
        after = (await client.submit("Put", "post-restart", "1"))[2]
        assert after.block_number > status.block_number
    finally:
        await client.close()


async def test_stock_shim_events_are_not_invented(tmp_path: Path) -> None:
    """Without the chaincode's shim fix, fabric-chaincode-python 2.5.4 sends no events; devnet shows exactly that."""
    async with running_ledger(tmp_path, shim_fix=False) as stock:
        client = Wire(stock.peer_address, Signer.load(user_msp(stock.state_dir, "User1")))
        try:
            _, _, status = await client.submit("EmitEvent", "Evt", "lost")
            assert status.result == C.VALID
            marker = (await client.submit("Put", "marker", "1"))[2].block_number
            got = []
            stream = client.events(start=0)
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(1.0):
                    async for reply in stream:
                        got.extend(reply.events)
            stream.cancel()
            assert got == [] and marker > status.block_number
        finally:
            await client.close()


def test_gx_cli_registers_devnet_with_contract_options() -> None:
    from gx_cli.main import build_parser

    args = build_parser().parse_args(["devnet", "--chaincode", "gx=127.0.0.1:9999", "--batch-size", "10"])
    assert args.chaincode == [("gx", "127.0.0.1:9999")] and args.batch_size == 10
    assert (args.listen, args.channel, args.msp_id, str(args.state_dir)) == (
        "127.0.0.1:7051",
        "gxchannel",
        "Org1MSP",
        ".gx/devnet",
    )


async def test_tls_serves_the_gateway_with_devnet_material(tmp_path: Path) -> None:
    async with running_ledger(tmp_path, tls=True) as secure:
        channel = secure.grpc_channel()
        try:
            from fabric_protos.gateway import gateway_pb2_grpc

            client = Wire.__new__(Wire)
            client.channel_obj, client.stub = channel, gateway_pb2_grpc.GatewayStub(channel)
            client.signer = Signer.load(user_msp(secure.state_dir, "User1"))
            client.channel, client.chaincode = "gxchannel", "gx"
            assert (await client.submit("Put", "tls", "1"))[2].result == C.VALID
        finally:
            await channel.close()
        async with grpc.aio.insecure_channel(secure.peer_address) as plain:
            with pytest.raises(grpc.aio.AioRpcError):
                await health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest(), timeout=2)


async def test_same_proposal_twice_in_flight_is_refused(wire: Wire) -> None:
    from fabric_protos.gateway import gateway_pb2

    from tests.devnet.txbuild import signed_proposal

    txid, proposal = signed_proposal(wire.signer, "gx", "Sleep", "400")
    request = gateway_pb2.EvaluateRequest(
        transaction_id=txid, channel_id="gxchannel", proposed_transaction=proposal
    )
    results = await asyncio.gather(
        wire.stub.Evaluate(request, timeout=30),
        wire.stub.Evaluate(request, timeout=30),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(errors) == 1 and errors[0].code() == grpc.StatusCode.ABORTED
    assert "exists" in details(errors[0])[0].message


async def test_execute_timeout_aborts_the_endorsement(tmp_path: Path) -> None:
    async with running_ledger(tmp_path, extra_args=("--execute-timeout", "0.5")) as slow:
        client = Wire(slow.peer_address, Signer.load(user_msp(slow.state_dir, "User1")))
        try:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await client.endorse("Sleep", "3000")
            assert err.value.code() == grpc.StatusCode.ABORTED
            assert "timeout expired while executing transaction" in details(err.value)[0].message
            assert (await client.evaluate("Get", "x")).result.status == 200  # the connection is still usable
        finally:
            await client.close()


async def test_gxc_role_attribute_reaches_the_chaincode(ledger: Ledger) -> None:
    for name, role in (("gx_admin", b"gx_admin"), ("gx_partner_api", b"gx_partner_api"), ("User1", b"")):
        client = Wire(ledger.peer_address, Signer.load(user_msp(ledger.state_dir, name)))
        try:
            assert (await client.evaluate("Role")).result.payload == role
            assert (await client.evaluate("Creator")).result.payload == b"Org1MSP"
        finally:
            await client.close()
