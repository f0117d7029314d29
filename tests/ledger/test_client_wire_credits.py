"""Credits to one account do not conflict on the ledger: the GX chaincode on devnet (real MVCC and
phantom validation), through our client.

Payers paying one merchant used to read-modify-write the merchant's account record, so of N such
transfers in one block all but one failed MVCC validation. A credit now writes a key of its own and
reads nothing another credit writes; the merchant's next debit folds the credits (and a debit racing
a new credit is a phantom conflict, which the outbox retries without spending an attempt).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from gx.ledger.v1 import commands_pb2, queries_pb2

from fabric_client import Gateway
from fabric_client.identity import load_identity
from tests.ledger.conftest import connect
from tests.support.ledger import Ledger, running_ledger

pytestmark = pytest.mark.timeout(240)
GX = 1_000_000
PAYERS = 8


@pytest.fixture(scope="module")
async def gx_ledger(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ledger]:
    # A batch timeout long enough that transactions submitted together are cut into one block.
    async with running_ledger(
        tmp_path_factory.mktemp("credits"), chaincode="gx", batch_timeout=1.0, batch_size=100
    ) as running:
        yield running


def _json(message: Message) -> str:
    return json_format.MessageToJson(message, indent=None)


def _as(gateway: Gateway, ledger: Ledger, role: str) -> Gateway:
    who = ledger.user(role)
    return gateway.with_identity(*load_identity(who.msp_id, who.cert_path, who.key_path))


async def _submit(gateway: Gateway, function: str, request: Message) -> None:
    contract = gateway.network("gxchannel").contract("gx")
    await contract.submit_transaction(function, args=[_json(request)])


async def _balance(gateway: Gateway, account_id: str) -> int:
    contract = gateway.network("gxchannel").contract("gx")
    raw = await contract.evaluate(
        "GetBalance", args=[_json(queries_pb2.GetBalanceRequest(account_id=account_id))]
    )
    return json_format.Parse(raw, queries_pb2.GetBalanceResult()).account.balance_qirat


def _transfer(src: str, dst: str, amount: int) -> commands_pb2.TransferTokensRequest:
    return commands_pb2.TransferTokensRequest(
        from_account_id=src, to_account_id=dst, amount_qirat=amount, request_id=str(uuid.uuid4())
    )


async def test_concurrent_credits_to_one_account_commit_in_one_block_without_conflict(
    gx_ledger: Ledger,
) -> None:
    async with connect(gx_ledger, "gx_partner_api") as partner:
        admin, root = _as(partner, gx_ledger, "gx_admin"), _as(partner, gx_ledger, "gx_super_admin")
        await _submit(
            root, "BootstrapSystem", commands_pb2.BootstrapSystemRequest(request_id=str(uuid.uuid4()))
        )
        countries = commands_pb2.InitializeCountriesRequest(request_id=str(uuid.uuid4()))
        countries.countries.add(country_code="LK", name="Sri Lanka", share_bps=10_000)
        await _submit(root, "InitializeCountries", countries)
        users = [str(uuid.uuid4()) for _ in range(PAYERS + 2)]
        for user in users:  # genesis: 500 GX each
            request = commands_pb2.CreateUserRequest(
                user_id=user, country_code="LK", date_of_birth="1990-01-01", request_id=str(uuid.uuid4())
            )
            await _submit(admin, "CreateUser", request)
        merchant, bystander, payers = users[0], users[1], users[2:]
        network = partner.network("gxchannel")
        contract = network.contract("gx")

        # Every payer's transfer to the merchant is endorsed against the same committed state, and so
        # is a payout by the merchant. 2 GX each: local transfers under 3 GX pay no fee, so nothing but
        # the merchant is shared (fees would also touch the operations fund's shards).
        credits = await asyncio.gather(
            *(
                contract.new_proposal(
                    "TransferTokens", args=[_json(_transfer(p, merchant, 2 * GX))]
                ).endorse()
                for p in payers
            )
        )
        payout = await contract.new_proposal(
            "TransferTokens", args=[_json(_transfer(merchant, bystander, GX))]
        ).endorse()
        await asyncio.gather(*(partner.submit(tx) for tx in credits))
        await partner.submit(payout)
        statuses = await asyncio.gather(*(network.commit_status(tx.tx_id) for tx in credits))
        payout_status = await network.commit_status(payout.tx_id)

        # One block, every credit VALID: none read a key another credit wrote.
        assert [s.code_name for s in statuses] == ["VALID"] * PAYERS
        assert len({s.block_number for s in statuses}) == 1
        # The payout folds the merchant's credits (a range read); the credits committed ahead of it
        # added keys to that range, so Fabric refuses it as a phantom. The outbox builds a new
        # transaction for such a conflict without spending an attempt.
        assert payout_status.code_name == "PHANTOM_READ_CONFLICT"
        assert await _balance(partner, merchant) == 500 * GX + PAYERS * 2 * GX

        # Rebuilt against the new state, the payout commits and folds the credits into the record.
        await _submit(partner, "TransferTokens", _transfer(merchant, bystander, GX))
        assert await _balance(partner, merchant) == 500 * GX + PAYERS * 2 * GX - GX
        assert await _balance(partner, bystander) == 501 * GX
        assert {await _balance(partner, p) for p in payers} == {498 * GX}
