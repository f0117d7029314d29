"""The single-statement transfer accept keeps every AIP-155 guarantee of `Idempotency.run`, without Redis.

`CommandRecorder.accept` writes the command and its idempotency record in one autocommit
statement (services.common.outbox.accept_command); these tests hold it to the semantics the
general path has: one record exactly when one command, replays, reuse, in-flight duplicates and
expired records.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from gx.ledger.v1 import commands_pb2 as ledger
from gx.type.v1 import command_pb2, operation_pb2
from gx.wallet.v1 import wallet_service_pb2 as svc
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.common.auth import ROLE_USER, Principal
from services.common.idempotency import Idempotency, request_hash
from services.wallet.commands import CommandRecorder
from tests.grpc.wallet.wallet_harness import GX, Wallet, failure


def _transfer(to: str, amount: int, request_id: str) -> svc.TransferRequest:
    return svc.TransferRequest(
        wallet_id="me", request_id=request_id, to_user_id=to, amount_qirat=amount, remark="rent"
    )


async def _records(wallet: Wallet) -> list[Any]:
    rows: list[Any] = await wallet.sql(
        "SELECT scope, principal, request_id, request_hash, response_type FROM platform.idempotency_records"
    )
    return rows


@pytest.fixture
def redis_commands(wallet: Wallet) -> Iterator[list[str]]:
    """The names of the Redis commands the server's client sends (its revocation reads included)."""
    sent: list[str] = []
    original: Any = wallet.redis.execute_command

    async def counting(*args: Any, **kwargs: Any) -> Any:
        sent.append(str(args[0]).upper())
        return await original(*args, **kwargs)

    wallet.redis.execute_command = counting  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        wallet.redis.execute_command = original  # type: ignore[method-assign]


async def test_an_accept_writes_one_command_and_its_record_together_without_redis_locks(
    wallet: Wallet, redis_commands: list[str]
) -> None:
    await wallet.system()
    alice, bob = await wallet.user(), await wallet.user()
    rid = str(uuid.uuid4())
    request = _transfer(bob, 3 * GX, rid)
    op = await wallet.wallets.Transfer(request, metadata=wallet.token(alice))
    (command,) = await wallet.commands()
    (record,) = await _records(wallet)
    assert op.name == f"operations/{command.id}" and op.state == operation_pb2.OPERATION_STATE_PENDING
    assert (record.scope, record.principal, record.request_id) == ("wallet.Transfer", alice, rid)
    assert bytes(record.request_hash) == request_hash(request)
    # No in-flight lock and no release script: the accept path's only Redis use would be these.
    assert not {"SET", "EVAL", "EVALSHA"} & set(redis_commands)


async def test_a_refused_transfer_leaves_neither_command_nor_record(wallet: Wallet) -> None:
    await wallet.system()
    alice, bob = await wallet.user(balance=GX), await wallet.user()
    bad = await failure(
        wallet.wallets.Transfer(_transfer(bob, 5 * GX, str(uuid.uuid4())), metadata=wallet.token(alice))
    )
    assert bad.reason == "INSUFFICIENT_FUNDS"
    assert await wallet.commands() == [] and await _records(wallet) == []


async def test_a_replay_answers_the_operation_as_it_stands_now(wallet: Wallet) -> None:
    await wallet.system()
    alice, bob = await wallet.user(), await wallet.user()
    request = _transfer(bob, GX, str(uuid.uuid4()))
    first = await wallet.wallets.Transfer(request, metadata=wallet.token(alice))
    await wallet.sql("UPDATE outbox.commands SET status = 'SUBMITTED', tx_id = 'tx-1'")
    again = await wallet.wallets.Transfer(request, metadata=wallet.token(alice))
    assert again.name == first.name
    assert (again.state, again.fabric_tx_id) == (operation_pb2.OPERATION_STATE_SUBMITTED, "tx-1")
    assert len(await wallet.commands()) == 1 and len(await _records(wallet)) == 1


async def test_a_reused_id_is_refused_even_when_its_checks_would_fail(wallet: Wallet) -> None:
    await wallet.system()
    alice, bob = await wallet.user(balance=10 * GX), await wallet.user()
    rid = str(uuid.uuid4())
    await wallet.wallets.Transfer(_transfer(bob, GX, rid), metadata=wallet.token(alice))
    for amount in (2 * GX, 1_000 * GX):  # one that passes the checks, one that fails them
        bad = await failure(
            wallet.wallets.Transfer(_transfer(bob, amount, rid), metadata=wallet.token(alice))
        )
        assert (bad.code, bad.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED")
    assert len(await wallet.commands()) == 1


async def test_the_same_id_of_another_user_is_another_request(wallet: Wallet) -> None:
    await wallet.system()
    alice, carol, bob = await wallet.user(), await wallet.user(), await wallet.user()
    rid = str(uuid.uuid4())
    a = await wallet.wallets.Transfer(_transfer(bob, GX, rid), metadata=wallet.token(alice))
    c = await wallet.wallets.Transfer(_transfer(bob, GX, rid), metadata=wallet.token(carol))
    assert a.name != c.name and len(await wallet.commands()) == 2 and len(await _records(wallet)) == 2


async def test_after_the_record_expired_the_command_still_answers_its_own_request(wallet: Wallet) -> None:
    await wallet.system()
    alice, bob = await wallet.user(), await wallet.user()
    rid = str(uuid.uuid4())
    request = _transfer(bob, GX, rid)
    first = await wallet.wallets.Transfer(request, metadata=wallet.token(alice))
    await wallet.sql("UPDATE platform.idempotency_records SET created_at = now() - interval '25 hours'")
    # The ledger request id is derived from the client's: the same request finds its command...
    again = await wallet.wallets.Transfer(request, metadata=wallet.token(alice))
    assert again.name == first.name
    # ...and another request with that id cannot take it: it would be a second ledger command.
    bad = await failure(wallet.wallets.Transfer(_transfer(bob, 2 * GX, rid), metadata=wallet.token(alice)))
    assert bad.reason == "REQUEST_ID_REUSED"
    assert len(await wallet.commands()) == 1


async def test_concurrent_duplicates_record_exactly_one_command_and_one_record(wallet: Wallet) -> None:
    await wallet.system()
    alice, bob = await wallet.user(), await wallet.user()
    for _ in range(3):
        request = _transfer(bob, GX, str(uuid.uuid4()))
        results = await asyncio.gather(
            *(wallet.wallets.Transfer(request, metadata=wallet.token(alice)) for _ in range(12)),
            return_exceptions=True,
        )
        names = {r.name for r in results if isinstance(r, operation_pb2.Operation)}
        refused = [r for r in results if not isinstance(r, operation_pb2.Operation)]
        assert len(names) == 1
        assert all(
            isinstance(r, grpc.aio.AioRpcError) and r.code() == grpc.StatusCode.ABORTED for r in refused
        )
    assert len(await wallet.commands()) == 3 and len(await _records(wallet)) == 3


async def test_without_a_read_pool_the_accept_commits_on_an_engine_connection(wallet: Wallet) -> None:
    # The server passes a read pool; a recorder built without one (and over a plain engine,
    # not autocommit_reads) must still commit its one statement on its own.
    recorder = CommandRecorder(wallet.engine, Idempotency(async_sessionmaker(wallet.engine), wallet.redis))
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    principal = Principal(user_id=alice, roles=frozenset({ROLE_USER}), token_id="t", claims={})
    request = _transfer(bob, GX, str(uuid.uuid4()))

    async def checks(db: object, ledger_request_id: str) -> ledger.TransferTokensRequest:
        return ledger.TransferTokensRequest(
            from_account_id=alice, to_account_id=bob, amount_qirat=GX, request_id=ledger_request_id
        )

    async def accept() -> operation_pb2.Operation:
        return await recorder.accept(
            scope="wallet.Transfer",
            principal=principal,
            request=request,
            request_id=request.request_id,
            command_type=command_pb2.COMMAND_TYPE_TRANSFER_TOKENS,
            checks=checks,
        )

    first = await accept()
    assert (await accept()).name == first.name
    (command,) = await wallet.commands()
    assert f"operations/{command.id}" == first.name and len(await _records(wallet)) == 1


async def test_the_accepted_operation_is_the_one_its_row_reads_back(wallet: Wallet) -> None:
    # The accept builds the new command's operation from its id, type and created_at alone
    # (outbox._pending), not from the whole row: it must be what GetOperation reads from the row.
    await wallet.system()
    alice, bob = await wallet.user(), await wallet.user()
    accepted = await wallet.wallets.Transfer(
        _transfer(bob, GX, str(uuid.uuid4())), metadata=wallet.token(alice)
    )
    read = await wallet.wallets.GetOperation(
        svc.GetOperationRequest(operation_id=accepted.name.removeprefix("operations/")),
        metadata=wallet.token(alice),
    )
    assert accepted.HasField("create_time") and accepted.create_time == accepted.update_time
    assert accepted == read
