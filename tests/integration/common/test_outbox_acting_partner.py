"""The acting partner on real PostgreSQL: `record_command` stores the partner whose API key the request came with
(migration 0017), the webhook trigger fires for it, and the archive and the operations view keep it.

Commands are recorded as the wallet's own user and finished as the outbox's (the trigger is SECURITY
DEFINER, so the outbox role needs no grant on licensing or notify); partners and endpoints are rows
written as the superuser in licensing's place.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from gx.ledger.v1 import commands_pb2
from gx.type.v1 import operation_pb2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from outbox.retention import CommandArchiver, RetentionSettings
from services.common import auth, outbox
from services.common.webhook_signature import new_secret


def _user(partner_id: str | None) -> auth.Principal:
    return auth.Principal(
        user_id=str(uuid.uuid4()),
        roles=frozenset({auth.ROLE_USER}),
        token_id="t",
        claims={},
        partner_id=partner_id,
    )


def _partner_principal(partner_id: str) -> auth.Principal:
    claims = {auth.PARTNER_ID_CLAIM: partner_id}
    principal = auth.Principal(
        user_id=auth.PARTNER_SUBJECT_PREFIX + partner_id,
        roles=frozenset({auth.ROLE_PARTNER}),
        token_id="t",
        claims=claims,
    )
    return replace(principal, partner_id=auth.partner_of(principal))


async def _record(wallet: AsyncEngine, caller: auth.Principal | None) -> operation_pb2.Operation:
    payload = commands_pb2.TransferTokensRequest(
        from_account_id=str(uuid.uuid4()), to_account_id=str(uuid.uuid4()), amount_qirat=1
    )
    auth.set_principal(caller)
    try:
        async with async_sessionmaker(wallet, expire_on_commit=False).begin() as session:
            return await outbox.record_command(session, "TRANSFER_TOKENS", payload)
    finally:
        auth.set_principal(None)


def _id(op: operation_pb2.Operation) -> uuid.UUID:
    return uuid.UUID(op.name.removeprefix("operations/"))


async def _partner_with_endpoint(engine: AsyncEngine, events: tuple[str, ...]) -> tuple[str, uuid.UUID]:
    partner, endpoint, secret = uuid.uuid4(), uuid.uuid4(), new_secret()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO licensing.partners (id, name, email, contact_person, state, created_at, updated_at)"
                " VALUES (:id, 'Acme', :email, 'A', 'ACTIVE', now(), now())"
            ),
            {"id": partner, "email": f"{partner.hex[:10]}@acme.example"},
        )
        await conn.execute(
            text(
                "INSERT INTO licensing.webhook_endpoints (id, partner_id, url, event_types, state, secret,"
                " secret_prefix, created_at, updated_at) VALUES (:id, :p, 'https://hooks.example/x', :types,"
                " 'ENABLED', :s, :sp, now(), now())"
            ),
            {"id": endpoint, "p": partner, "types": list(events), "s": secret, "sp": secret[:10]},
        )
    return str(partner), endpoint


async def _finish(outbox_engine: AsyncEngine, op: operation_pb2.Operation, status: str) -> None:
    """Move a command to a terminal state with the outbox worker's own user."""
    async with outbox_engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE outbox.commands SET status = :s, tx_id = :tx, block_number = 3, updated_at = now(),"
                " error_code = CASE WHEN :s = 'FAILED' THEN 'NOT_FOUND' END WHERE id = :id"
            ),
            {"s": status, "tx": f"tx-{uuid.uuid4().hex}", "id": _id(op)},
        )


async def _stored_partner(engine: AsyncEngine, op: operation_pb2.Operation, table: str) -> uuid.UUID | None:
    async with engine.connect() as conn:
        value = (
            await conn.execute(text(f"SELECT partner_id FROM outbox.{table} WHERE id = :id"), {"id": _id(op)})
        ).scalar_one()
    return None if value is None else uuid.UUID(str(value))


async def _events(engine: AsyncEngine, op: operation_pb2.Operation) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT partner_id, event_type FROM licensing.webhook_events WHERE operation_id = :id"),
                {"id": _id(op)},
            )
        ).all()
    return [(str(r.partner_id), r.event_type) for r in rows]


async def _deliveries(engine: AsyncEngine, endpoint: uuid.UUID) -> list[str]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT template FROM notify.messages WHERE channel = 'webhook' AND destination = :d"
                    " ORDER BY created_at"
                ),
                {"d": str(endpoint)},
            )
        ).all()
    return [r.template for r in rows]


async def test_a_users_command_sent_with_a_partners_key_fires_that_partners_webhook_only(
    engine: AsyncEngine, roles: tuple[AsyncEngine, AsyncEngine]
) -> None:
    wallet, outbox_engine = roles
    acme, acme_hook = await _partner_with_endpoint(engine, ("operation.committed",))
    other, other_hook = await _partner_with_endpoint(engine, ("operation.committed", "operation.failed"))

    keyed = await _record(wallet, _user(acme))
    plain = await _record(wallet, _user(None))
    assert await _stored_partner(engine, keyed, "commands") == uuid.UUID(acme)
    assert await _stored_partner(engine, plain, "commands") is None

    await _finish(outbox_engine, keyed, "COMMITTED")
    await _finish(outbox_engine, plain, "COMMITTED")

    assert await _events(engine, keyed) == [(acme, "operation.committed")]
    assert await _events(engine, plain) == []
    assert await _deliveries(engine, acme_hook) == ["operation.committed"]
    assert await _deliveries(engine, other_hook) == []
    assert other != acme


async def test_a_partner_principals_own_command_is_attributed_to_it_and_reports_failure(
    engine: AsyncEngine, roles: tuple[AsyncEngine, AsyncEngine]
) -> None:
    wallet, outbox_engine = roles
    acme, acme_hook = await _partner_with_endpoint(engine, ("operation.committed", "operation.failed"))
    op = await _record(wallet, _partner_principal(acme))
    async with engine.connect() as conn:
        principal_id = (
            await conn.execute(
                text("SELECT principal_id FROM outbox.commands WHERE id = :id"), {"id": _id(op)}
            )
        ).scalar_one()
    assert principal_id == f"partner:{acme}"
    assert await _stored_partner(engine, op, "commands") == uuid.UUID(acme)

    await _finish(outbox_engine, op, "FAILED")
    assert await _events(engine, op) == [(acme, "operation.failed")]
    assert await _deliveries(engine, acme_hook) == ["operation.failed"]


async def test_a_partner_principal_recorded_without_partner_id_still_fires(
    engine: AsyncEngine, roles: tuple[AsyncEngine, AsyncEngine]
) -> None:
    # Rows recorded before migration 0017 name the partner in principal_id only.
    _, outbox_engine = roles
    acme, acme_hook = await _partner_with_endpoint(engine, ("operation.committed",))
    command = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO outbox.commands (id, command_type, payload, request_id, principal_id)"
                " VALUES (:id, 'TRANSFER_TOKENS', CAST('{}' AS jsonb), :rid, :principal)"
            ),
            {"id": command, "rid": str(uuid.uuid4()), "principal": f"partner:{acme}"},
        )
    op = operation_pb2.Operation(name=f"operations/{command}")
    await _finish(outbox_engine, op, "COMMITTED")
    assert await _events(engine, op) == [(acme, "operation.committed")]
    assert await _deliveries(engine, acme_hook) == ["operation.committed"]


async def test_the_archive_and_the_operations_view_keep_the_partner(
    engine: AsyncEngine, roles: tuple[AsyncEngine, AsyncEngine]
) -> None:
    wallet, outbox_engine = roles
    acme, _ = await _partner_with_endpoint(engine, ("operation.failed",))
    op = await _record(wallet, _user(acme))
    await _finish(outbox_engine, op, "FAILED")
    await CommandArchiver(
        outbox_engine, RetentionSettings(days=0, batch_size=500, interval_seconds=0)
    ).archive_once()
    assert await _stored_partner(engine, op, "archived_commands") == uuid.UUID(acme)
    assert await _stored_partner(wallet, op, "operations") == uuid.UUID(acme)
