"""The GX chaincode on the wire: real devnet, real shim protocol, real Gateway client.

These prove what the fake peer cannot: the chaincode runs as a CCaaS server under the shim fix, its
one `LedgerEvents` event reaches ChaincodeEvents subscribers, roles come from the devnet-issued
Fabric CA-style certificates, and rejections arrive as business failures with their 4xx status.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from google.protobuf import json_format
from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import events_pb2 as ev
from gx.ledger.v1 import queries_pb2 as qry
from prometheus_client import CollectorRegistry

import ledger_rules as rules
from fabric_client import CommitError, EndorseError, FailureKind, Gateway, Timeouts, classify
from fabric_client.identity import load_identity
from fabric_client.metrics import ClientMetrics
from tests.support.ledger import Ledger, running_ledger

GX = rules.QIRAT_PER_GX


@pytest.fixture()
async def peer(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ledger]:
    # A fresh chain per test: the event assertions read every event from block 0.
    async with running_ledger(
        tmp_path_factory.mktemp("gx-devnet"), chaincode="gx", batch_timeout=0.05
    ) as running:
        yield running


def _gateway(ledger: Ledger, user: str) -> Gateway:
    who = ledger.user(user)
    identity, signer = load_identity(who.msp_id, who.cert_path, who.key_path)
    return Gateway.connect(
        ledger.peer_address,
        identity,
        signer,
        timeouts=Timeouts(evaluate=20, endorse=30, submit=10, commit_status=30),
        metrics=ClientMetrics(CollectorRegistry()),
    )


async def _submit(ledger: Ledger, user: str, function: str, request, result_cls):
    async with _gateway(ledger, user) as gateway:
        contract = gateway.network(ledger.channel).contract(ledger.chaincode_name)
        raw = await contract.submit_transaction(function, args=[json_format.MessageToJson(request)])
        return json_format.Parse(raw, result_cls())


async def _evaluate(ledger: Ledger, function: str, request, result_cls):
    async with _gateway(ledger, "User1") as gateway:
        contract = gateway.network(ledger.channel).contract(ledger.chaincode_name)
        raw = await contract.evaluate(function, args=[json_format.MessageToJson(request)])
        return json_format.Parse(raw, result_cls())


def _rid() -> str:
    return str(uuid.uuid4())


async def test_bootstrap_create_user_and_transfer_with_one_event_per_transaction(peer: Ledger) -> None:
    boot = await _submit(
        peer,
        "gx_super_admin",
        "BootstrapSystem",
        cmd.BootstrapSystemRequest(request_id=_rid()),
        cmd.BootstrapSystemResult,
    )
    assert boot.total_supply_qirat == rules.TOTAL_SUPPLY
    countries = cmd.InitializeCountriesRequest(request_id=_rid())
    countries.countries.add(country_code="LK", name="Sri Lanka", share_bps=4000)
    countries.countries.add(country_code="IN", name="India", share_bps=6000)
    await _submit(peer, "gx_super_admin", "InitializeCountries", countries, cmd.InitializeCountriesResult)
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    for user_id, country in ((alice, "LK"), (bob, "IN")):
        created = await _submit(
            peer,
            "gx_admin",
            "CreateUser",
            cmd.CreateUserRequest(
                user_id=user_id, country_code=country, date_of_birth="1990-01-01", request_id=_rid()
            ),
            cmd.CreateUserResult,
        )
        assert created.genesis.paid and created.account.balance_qirat == 500 * GX
    transfer_id = _rid()
    sent = await _submit(
        peer,
        "gx_partner_api",
        "TransferTokens",
        cmd.TransferTokensRequest(
            from_account_id=alice, to_account_id=bob, amount_qirat=200 * GX, request_id=transfer_id
        ),
        cmd.TransferTokensResult,
    )
    assert (sent.fee_bps, sent.fee_qirat) == (25, 200 * GX * 25 // 10_000)
    balance = await _evaluate(
        peer, "GetBalance", qry.GetBalanceRequest(account_id=alice), qry.GetBalanceResult
    )
    assert balance.account.balance_qirat == 500 * GX - 200 * GX - sent.fee_qirat
    # Bob's credit sits on its own key; his balance (record + credits) includes it.
    received = await _evaluate(
        peer, "GetBalance", qry.GetBalanceRequest(account_id=bob), qry.GetBalanceResult
    )
    assert received.account.balance_qirat == 700 * GX

    # Every committed GX transaction carried exactly one event, with all its domain events.
    async with _gateway(peer, "User1") as gateway:
        stream = gateway.network(peer.channel).chaincode_events(peer.chaincode_name, start_block=0)
        seen: list[tuple[str, ev.LedgerEvents]] = []
        async with stream:
            async for event in stream:
                assert event.event_name == "LedgerEvents"
                seen.append((event.tx_id, json_format.Parse(event.payload, ev.LedgerEvents())))
                if seen[-1][1].request_id == transfer_id:
                    break
    assert len({tx_id for tx_id, _ in seen}) == len(seen) == 5
    kinds = [[e.WhichOneof("event") for e in envelope.events] for _, envelope in seen]
    assert kinds == [
        ["system_bootstrapped"],
        ["country_initialized", "country_initialized"],
        ["user_created", "genesis_distributed"],
        ["user_created", "genesis_distributed"],
        ["transfer_completed", "fee_collected"],
    ]
    assert seen[-1][1].events[0].transfer_completed.to_credit.amount_qirat == 200 * GX
    # devnet offers Fabric 3.1's batched state calls in READY, so all of this ran over
    # WRITE_BATCH_STATE and GET_STATE_MULTIPLE (chaincode/shim_batch.py).
    chaincode_log = (peer.state_dir / "chaincode.log").read_text()
    assert "peer offers batched state calls: write batch 1000, get multiple 1000" in chaincode_log


async def test_a_lesser_role_is_a_business_rejection_on_the_wire(peer: Ledger) -> None:
    async with _gateway(peer, "gx_partner_api") as gateway:
        contract = gateway.network(peer.channel).contract(peer.chaincode_name)
        with pytest.raises(EndorseError) as caught:
            await contract.submit_transaction(
                "PauseSystem",
                args=[json_format.MessageToJson(cmd.PauseSystemRequest(reason="x", request_id=_rid()))],
            )
    assert caught.value.chaincode_status == 403
    assert caught.value.chaincode_message.startswith("PERMISSION_DENIED")
    assert classify(caught.value) == FailureKind.BUSINESS


async def test_a_repeated_request_id_commits_again_without_a_second_effect(peer: Ledger) -> None:
    request = cmd.UpdateSystemParameterRequest(parameter="loan_max_active", value=7, request_id=_rid())
    first = await _submit(
        peer, "gx_super_admin", "UpdateSystemParameter", request, cmd.UpdateSystemParameterResult
    )
    request.value = 7
    again = await _submit(
        peer, "gx_super_admin", "UpdateSystemParameter", request, cmd.UpdateSystemParameterResult
    )
    assert again == first and first.previous_value == 5
    request.value = 8
    with pytest.raises(EndorseError) as caught:
        await _submit(
            peer, "gx_super_admin", "UpdateSystemParameter", request, cmd.UpdateSystemParameterResult
        )
    assert caught.value.chaincode_message.startswith("REQUEST_ID_REUSED")
    async with _gateway(peer, "User1") as gateway:
        stream = gateway.network(peer.channel).chaincode_events(peer.chaincode_name, start_block=0)
        envelopes, tx_ids = [], []
        async with stream:
            async for event in stream:
                envelopes.append(json_format.Parse(event.payload, ev.LedgerEvents()))
                tx_ids.append(event.tx_id)
                if len(envelopes) == 2:
                    break
    assert [e.replayed for e in envelopes] == [False, True]
    assert [len(e.events) for e in envelopes] == [1, 0]
    # The replay names the transaction that applied the request (what the outbox records).
    assert [e.replay_of_tx_id for e in envelopes] == ["", tx_ids[0]] and tx_ids[0] != tx_ids[1]
    current = await _evaluate(
        peer, "GetSystemStatus", qry.GetSystemStatusRequest(), qry.GetSystemStatusResult
    )
    assert {p.name: p.value for p in current.status.parameters}["loan_max_active"] == 7


async def test_concurrent_transactions_all_run_under_the_shim_fix(peer: Ledger) -> None:
    # The stock shim writes to its one grpc.aio stream from every transaction's task at once and
    # fails (GRPC_CALL_ERROR_TOO_MANY_OPERATIONS) or hangs until the peer's timeout; with the fix,
    # concurrent transfers between distinct users all endorse. A commit may still lose an MVCC race
    # on a shared fee shard, which is Fabric's normal outcome, never an endorsement failure.
    await _submit(
        peer,
        "gx_super_admin",
        "BootstrapSystem",
        cmd.BootstrapSystemRequest(request_id=_rid()),
        cmd.BootstrapSystemResult,
    )
    countries = cmd.InitializeCountriesRequest(request_id=_rid())
    countries.countries.add(country_code="LK", name="Sri Lanka", share_bps=10_000)
    await _submit(peer, "gx_super_admin", "InitializeCountries", countries, cmd.InitializeCountriesResult)
    users = [str(uuid.uuid4()) for _ in range(24)]
    async with _gateway(peer, "gx_admin") as gateway:
        contract = gateway.network(peer.channel).contract(peer.chaincode_name)
        for user_id in users:
            request = cmd.CreateUserRequest(
                user_id=user_id, country_code="LK", date_of_birth="1990-01-01", request_id=_rid()
            )
            await contract.submit_transaction("CreateUser", args=[json_format.MessageToJson(request)])
    async with _gateway(peer, "gx_partner_api") as gateway:
        contract = gateway.network(peer.channel).contract(peer.chaincode_name)

        async def send(i: int) -> bytes:
            request = cmd.TransferTokensRequest(
                from_account_id=users[2 * i],
                to_account_id=users[2 * i + 1],
                amount_qirat=5 * GX,
                request_id=_rid(),
            )
            return await contract.submit_transaction(
                "TransferTokens", args=[json_format.MessageToJson(request)]
            )

        outcomes = await asyncio.gather(*(send(i) for i in range(12)), return_exceptions=True)
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(isinstance(f, CommitError) and f.code_name == "MVCC_READ_CONFLICT" for f in failures), failures
    assert len(failures) <= 3
