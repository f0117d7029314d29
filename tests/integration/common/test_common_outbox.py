"""Integration tests of recording ledger commands in the outbox, on real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid

import psycopg
import pytest
from google.protobuf import json_format
from gx.ledger.v1 import commands_pb2
from gx.type.v1 import command_pb2, operation_pb2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common import auth, outbox
from services.common.errors import InvalidArgument


def _create_user(request_id: str = "", country: str = "LK") -> commands_pb2.CreateUserRequest:
    return commands_pb2.CreateUserRequest(
        user_id=str(uuid.uuid4()), country_code=country, date_of_birth="1990-01-31", request_id=request_id
    )


async def _row(sessions: async_sessionmaker[AsyncSession], op: operation_pb2.Operation):
    command_id = op.name.removeprefix("operations/")
    async with sessions() as s:
        return (
            await s.execute(text("SELECT * FROM outbox.commands WHERE id = :id"), {"id": command_id})
        ).first()


async def test_record_command_stores_proto_json_and_returns_a_pending_operation(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    payload = _create_user(request_id=str(uuid.uuid4()))
    async with sessions.begin() as session:
        await session.execute(text("INSERT INTO scratch.items (name) VALUES (:n)"), {"n": payload.user_id})
        op = await outbox.record_command(
            session, command_pb2.COMMAND_TYPE_CREATE_USER, payload, principal_id="admin-1"
        )
    assert op.name.startswith("operations/")
    assert (op.state, op.done, op.command_type) == (
        operation_pb2.OPERATION_STATE_PENDING,
        False,
        command_pb2.COMMAND_TYPE_CREATE_USER,
    )
    assert op.create_time.seconds > 0
    row = await _row(sessions, op)
    assert row.command_type == "CREATE_USER"
    assert row.status == "PENDING" and row.attempts == 0 and row.tenant == "gx"
    assert row.request_id == payload.request_id
    assert row.principal_id == "admin-1"
    # Canonical proto JSON (lowerCamelCase), parseable back into the ledger message.
    assert row.payload == {
        "userId": payload.user_id,
        "countryCode": "LK",
        "dateOfBirth": "1990-01-31",
        "requestId": payload.request_id,
    }
    assert json_format.Parse(json.dumps(row.payload), commands_pb2.CreateUserRequest()) == payload


async def test_payload_without_request_id_gets_the_command_request_id(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    payload = _create_user()
    async with sessions.begin() as session:
        op = await outbox.record_command(session, "CREATE_USER", payload)
    row = await _row(sessions, op)
    assert row.payload["requestId"] == row.request_id
    uuid.UUID(row.request_id)
    assert payload.request_id == ""  # the caller's message is left alone


async def test_rollback_leaves_neither_the_domain_row_nor_the_command(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    payload = _create_user(request_id=str(uuid.uuid4()))
    with pytest.raises(RuntimeError):
        async with sessions.begin() as session:
            await session.execute(
                text("INSERT INTO scratch.items (name) VALUES (:n)"), {"n": payload.user_id}
            )
            await outbox.record_command(session, "CREATE_USER", payload)
            raise RuntimeError("a later step failed")
    async with sessions() as s:
        n = (
            await s.execute(
                text("SELECT count(*) FROM outbox.commands WHERE request_id = :r"), {"r": payload.request_id}
            )
        ).scalar_one()
        m = (
            await s.execute(
                text("SELECT count(*) FROM scratch.items WHERE name = :n"), {"n": payload.user_id}
            )
        ).scalar_one()
    assert (n, m) == (0, 0)


async def test_notify_is_delivered_on_commit_only(
    sessions: async_sessionmaker[AsyncSession], migrated_url: str
) -> None:
    conninfo = migrated_url.replace("postgresql+psycopg://", "postgresql://")
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as listener:
        await listener.execute(f"LISTEN {outbox.NOTIFY_CHANNEL}")

        async def next_notification(seconds: float) -> str | None:
            gen = listener.notifies(timeout=seconds, stop_after=1)
            async for note in gen:
                return note.payload
            return None

        with pytest.raises(RuntimeError):
            async with sessions.begin() as session:
                await outbox.record_command(session, "CREATE_USER", _create_user())
                raise RuntimeError("rolled back")
        assert await next_notification(0.5) is None

        async with sessions.begin() as session:
            op = await outbox.record_command(session, "CREATE_USER", _create_user())
        assert await asyncio.wait_for(next_notification(5), 10) == op.name.removeprefix("operations/")


async def test_same_request_id_replays_or_refuses(sessions: async_sessionmaker[AsyncSession]) -> None:
    payload = _create_user(request_id=str(uuid.uuid4()))
    async with sessions.begin() as session:
        first = await outbox.record_command(session, "CREATE_USER", payload)
    async with sessions.begin() as session:
        again = await outbox.record_command(session, "CREATE_USER", payload)
    assert again.name == first.name
    other = commands_pb2.CreateUserRequest()
    other.CopyFrom(payload)
    other.country_code = "DE"
    with pytest.raises(InvalidArgument) as err:
        async with sessions.begin() as session:
            await outbox.record_command(session, "CREATE_USER", other)
    assert err.value.reason == "REQUEST_ID_REUSED"


async def test_principal_defaults_to_the_current_caller(sessions: async_sessionmaker[AsyncSession]) -> None:
    token = auth.set_principal(auth.Principal("caller-7", frozenset(), "jti", {}))
    try:
        async with sessions.begin() as session:
            op = await outbox.record_command(session, "CREATE_USER", _create_user())
    finally:
        auth._principal_var.reset(token)
    assert (await _row(sessions, op)).principal_id == "caller-7"


async def test_operation_from_row_follows_the_worker_updates(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        op = await outbox.record_command(session, "TRANSFER_TOKENS", _create_user())
    command_id = op.name.removeprefix("operations/")
    async with sessions.begin() as session:
        await session.execute(
            text(
                "UPDATE outbox.commands SET status='COMMITTED', tx_id='tx1', block_number=7, result_json=:result"
                " WHERE id = :id"
            ),
            {"id": command_id, "result": '{"ok":true}'},
        )
    done = outbox.operation_from_row(await _row(sessions, op))
    assert (done.state, done.done, done.fabric_tx_id, done.block_number, done.result_json) == (
        operation_pb2.OPERATION_STATE_COMMITTED,
        True,
        "tx1",
        7,
        '{"ok":true}',
    )
    assert not outbox.operation_from_row(await _row(sessions, op), done=False).done
    async with sessions.begin() as session:
        await session.execute(
            text(
                "UPDATE outbox.commands SET status='FAILED', error_code='INSUFFICIENT_BALANCE', error_message='too poor' WHERE id = :id"
            ),
            {"id": command_id},
        )
    failed = outbox.operation_from_row(await _row(sessions, op))
    assert failed.state == operation_pb2.OPERATION_STATE_FAILED and failed.done
    assert (failed.error.reason, failed.error.message, failed.error.code) == (
        "INSUFFICIENT_BALANCE",
        "too poor",
        9,
    )
