"""The client against the GX chaincode on devnet: proto JSON arguments, roles, LedgerEvents, request ids."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from google.protobuf import json_format
from gx.ledger.v1 import commands_pb2, events_pb2, queries_pb2

from fabric_client import EndorseError, FailureKind, classify
from fabric_client.identity import load_identity
from tests.ledger.conftest import connect
from tests.support.ledger import Ledger, running_ledger

pytestmark = pytest.mark.timeout(180)
_SUPPLY_QIRAT = 1_250_000_000_000 * 1_000_000


@pytest.fixture(scope="module")
async def gx_ledger(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ledger]:
    async with running_ledger(tmp_path_factory.mktemp("gx"), chaincode="gx") as running:
        yield running


def _json(message: object) -> str:
    return json_format.MessageToJson(message, indent=None)  # type: ignore[arg-type]


async def test_bootstrap_by_role_with_one_ledger_events_event_and_request_id_replay(
    gx_ledger: Ledger,
) -> None:
    request = commands_pb2.BootstrapSystemRequest(request_id=str(uuid.uuid4()))

    # A caller without the gx_super_admin role is refused by the chaincode: a business failure.
    async with connect(gx_ledger, "User1") as user:
        with pytest.raises(EndorseError) as refused:
            await (
                user.network("gxchannel")
                .contract("gx")
                .submit_transaction("BootstrapSystem", args=[_json(request)])
            )
        assert refused.value.chaincode_status == 403, refused.value
        assert classify(refused.value) is FailureKind.BUSINESS

        # The same peer, signing as the super admin: one channel, one breaker, whoever signs.
        who = gx_ledger.user("gx_super_admin")
        admin = user.with_identity(*load_identity(who.msp_id, who.cert_path, who.key_path))
        assert admin.breaker is user.breaker and admin.identity.certificate == who.cert_pem
        network = admin.network("gxchannel")
        contract = network.contract("gx", contract_name="admin")
        tx = await contract.new_proposal("BootstrapSystem", args=[_json(request)]).endorse()
        await admin.submit(tx.envelope_bytes)
        status = await network.commit_status(tx.tx_id)
        assert status.successful
        result = json_format.Parse(tx.result, commands_pb2.BootstrapSystemResult())
        assert result.total_supply_qirat == _SUPPLY_QIRAT
        assert sum(p.balance_qirat for p in result.pools) == _SUPPLY_QIRAT

        # The same request id in a NEW transaction (the outbox's path after an MVCC conflict):
        # the first result comes back and nothing happens twice.
        replay = await contract.new_proposal("BootstrapSystem", args=[_json(request)]).endorse()
        assert replay.tx_id != tx.tx_id and replay.result == tx.result
        await admin.submit(replay)
        assert (await network.commit_status(replay.tx_id)).successful

        async with network.chaincode_events("gx", start_block=status.block_number) as stream:
            seen = []
            async for event in stream:
                seen.append(event)
                if event.tx_id == replay.tx_id:
                    break
        first, second = (e for e in seen if e.tx_id in (tx.tx_id, replay.tx_id))
        assert first.event_name == second.event_name == "LedgerEvents"
        applied = json_format.Parse(first.payload, events_pb2.LedgerEvents())
        assert applied.request_id == request.request_id and not applied.replayed
        assert [e.WhichOneof("event") for e in applied.events] == ["system_bootstrapped"]
        replayed = json_format.Parse(second.payload, events_pb2.LedgerEvents())
        assert replayed.replayed and not replayed.events

        status_json = await contract.evaluate(
            "GetSystemStatus", args=[_json(queries_pb2.GetSystemStatusRequest())]
        )
        system = json_format.Parse(
            status_json, queries_pb2.GetSystemStatusResult(), ignore_unknown_fields=True
        )
        assert system.status.ListFields(), "the status query answers after bootstrap"


async def test_invalid_argument_json_is_a_business_rejection(gx_ledger: Ledger) -> None:
    async with connect(gx_ledger, "gx_super_admin") as admin:
        contract = admin.network("gxchannel").contract("gx")
        with pytest.raises(EndorseError) as refused:
            await asyncio.wait_for(
                contract.submit_transaction("BootstrapSystem", args=['{"requestId": "x", "noSuchField": 1}']),
                60,
            )
    assert refused.value.chaincode_status is not None and 400 <= refused.value.chaincode_status < 500
    assert classify(refused.value) is FailureKind.BUSINESS
