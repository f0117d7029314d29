"""Operator actions on the outbox (list, get, retry, cancel), shared by the admin gRPC service and `gx outbox`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common import paging
from services.common.errors import FailedPrecondition, InvalidArgument, NotFound
from services.common.names import OUTBOX_NOTIFY_CHANNEL

STATUSES = ("PENDING", "SUBMITTED", "COMMITTED", "FAILED")
# Failures an operator retry may repeat without `force`: the command gave up waiting or was
# cancelled, the ledger never judged it. A business rejection would only fail again.
_RETRIABLE_REASONS = frozenset({"RETRIES_EXHAUSTED", "CANCELLED", "INTERNAL", "UNKNOWN_COMMAND_TYPE"})

_COLUMNS = """
    c.id, c.tenant, c.command_type, c.payload::text AS payload_json, c.request_id, c.principal_id, c.status,
    c.attempts, c.next_attempt_at, c.lease_owner, c.lease_expires_at, c.tx_id, c.block_number,
    c.validation_code, c.error_code, c.error_message, c.result_json, c.created_at, c.updated_at,
    r.retry_of, (p.tx_id IS NOT NULL) AS projected,
    c.exclusive_keys, ARRAY(SELECT unnest(c.order_keys) EXCEPT SELECT unnest(c.exclusive_keys) ORDER BY 1) AS shared_keys,
    c.depends_on,
    CASE WHEN c.status IN ('PENDING', 'SUBMITTED') THEN COALESCE(
        (SELECT e.command_id FROM outbox.live_keys mine
           JOIN LATERAL (SELECT e.command_id, e.seq FROM outbox.live_keys e
                          WHERE e.key = mine.key AND e.seq < mine.seq AND (e.exclusive OR mine.exclusive)
                          ORDER BY e.seq LIMIT 1) e ON TRUE
          WHERE mine.command_id = c.id ORDER BY e.seq LIMIT 1),
        (SELECT d.id FROM outbox.commands d WHERE d.id = c.depends_on AND d.status IN ('PENDING', 'SUBMITTED')))
    END AS blocked_by
"""
_FROM = """
    FROM outbox.commands c
    LEFT JOIN outbox.retries r ON r.command_id = c.id
    LEFT JOIN ledger.projected_txs p ON p.tx_id = c.tx_id AND c.status = 'COMMITTED'
"""


@dataclass(frozen=True)
class CommandView:
    """One outbox command as operators see it (the envelope bytes are left out)."""

    id: uuid.UUID
    tenant: str
    command_type: str
    payload_json: str
    request_id: str
    principal_id: str | None
    status: str
    attempts: int
    next_attempt_at: datetime | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    tx_id: str | None
    block_number: int | None
    validation_code: str | None
    error_code: str | None
    error_message: str | None
    result_json: str | None
    created_at: datetime
    updated_at: datetime
    retry_of: uuid.UUID | None
    projected: bool
    exclusive_keys: list[str]
    shared_keys: list[str]
    depends_on: uuid.UUID | None
    blocked_by: uuid.UUID | None

    @classmethod
    def from_row(cls, row: Any) -> CommandView:
        """Build from a row selected with this module's columns."""
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


def _parse_id(command_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(command_id)
    except (ValueError, TypeError) as error:
        raise InvalidArgument(
            f"command id {command_id!r} is not a UUID", reason="INVALID_COMMAND_ID"
        ) from error


class OutboxAdmin:
    """The operator use cases; no gRPC here, so the CLI runs the very same code."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list(
        self, status: str | None = None, page_size: int = 50, page_token: str = ""
    ) -> tuple[list[CommandView], str]:
        """Commands newest first, optionally in one status; returns (page, next page token)."""
        if status and status not in STATUSES:
            raise InvalidArgument(f"unknown status {status!r}", reason="INVALID_STATUS")
        page = paging.request(max(page_size, 0), page_token, f"outbox|{status or ''}", maximum=500)
        where = ["TRUE"]
        params: dict[str, Any] = {"limit": page.limit}
        if status:
            where.append("c.status = :status")
            params["status"] = status
        if (after := page.after_clause("c.created_at, c.id", params)) is not None:
            where.append(after)
        sql = f"SELECT {_COLUMNS} {_FROM} WHERE {' AND '.join(where)} ORDER BY c.created_at DESC, c.id DESC LIMIT :limit"
        async with self._engine.connect() as conn:
            rows = (await conn.execute(text(sql), params)).all()
        return page.finish([CommandView.from_row(r) for r in rows], lambda v: (v.created_at, v.id))

    async def get(self, command_id: str) -> CommandView:
        """One command.

        Raises:
            NotFound: no such command.
        """
        async with self._engine.connect() as conn:
            return await self._get(conn, _parse_id(command_id))

    @staticmethod
    async def _get(conn: AsyncConnection, cid: uuid.UUID, lock: bool = False) -> CommandView:
        sql = f"SELECT {_COLUMNS} {_FROM} WHERE c.id = :id"
        if lock:
            sql += " FOR UPDATE OF c"
        row = (await conn.execute(text(sql), {"id": cid})).first()
        if row is None:
            raise NotFound(f"command {cid} not found", reason="COMMAND_NOT_FOUND")
        return CommandView.from_row(row)

    async def retry(
        self, command_id: str, request_id: str, *, force: bool = False, operator: str | None = None
    ) -> CommandView:
        """Record a new command that repeats a dead-lettered one; the failed one never changes.

        The new command carries the same ledger payload (so the same ledger request id: the
        chaincode's guard still makes the effect single) and uses the operator's request id
        as its outbox request id, so repeating the retry returns the same new command.

        Raises:
            NotFound: no such command.
            FailedPrecondition: the command is not FAILED, or the ledger rejected it and
                `force` is not set.
        """
        cid = _parse_id(command_id)
        _parse_id(request_id)
        async with self._engine.begin() as conn:
            original = await self._get(conn, cid, lock=True)
            existing = (
                await conn.execute(
                    text(
                        "SELECT c.id FROM outbox.commands c JOIN outbox.retries r ON r.command_id = c.id"
                        " WHERE c.tenant = :tenant AND c.request_id = :rid AND r.retry_of = :orig"
                    ),
                    {"tenant": original.tenant, "rid": request_id, "orig": cid},
                )
            ).first()
            if existing is not None:
                return await self._get(conn, existing.id)
            if original.status != "FAILED":
                raise FailedPrecondition(
                    f"command {cid} is {original.status}; only FAILED commands can be retried",
                    reason="COMMAND_NOT_FAILED",
                )
            if not force and original.error_code not in _RETRIABLE_REASONS:
                raise FailedPrecondition(
                    f"the ledger rejected command {cid} ({original.error_code}); retrying would fail the same"
                    " way unless its cause was fixed: pass force to retry anyway",
                    reason="COMMAND_REJECTED_BY_LEDGER",
                )
            new_id = uuid.uuid4()
            taken = (
                await conn.execute(
                    text("SELECT 1 FROM outbox.commands WHERE tenant = :tenant AND request_id = :rid"),
                    {"tenant": original.tenant, "rid": request_id},
                )
            ).first()
            if taken is not None:
                raise InvalidArgument(
                    "request_id was already used for another command", reason="REQUEST_ID_REUSED"
                )
            # The retry holds the same ordering keys, recorded now: it runs after whatever was
            # recorded on its aggregates meanwhile. No depends_on: an operator retries on purpose.
            await conn.execute(
                text(
                    "INSERT INTO outbox.commands (id, tenant, command_type, payload, request_id, principal_id,"
                    " order_keys, exclusive_keys)"
                    " SELECT :new, tenant, command_type, payload, :rid, principal_id, order_keys, exclusive_keys"
                    " FROM outbox.commands WHERE id = :orig"
                ),
                {"new": new_id, "rid": request_id, "orig": cid},
            )
            await conn.execute(
                text(
                    "INSERT INTO outbox.retries (command_id, retry_of, requested_by) VALUES (:new, :orig, :by)"
                ),
                {"new": new_id, "orig": cid, "by": operator},
            )
            await conn.execute(
                text("SELECT pg_notify(:channel, :id)"), {"channel": OUTBOX_NOTIFY_CHANNEL, "id": str(new_id)}
            )
            return await self._get(conn, new_id)

    async def cancel(self, command_id: str, reason: str = "", operator: str | None = None) -> CommandView:
        """Fail a command that has not reached the ledger: PENDING with no transaction endorsed.

        Raises:
            NotFound: no such command.
            FailedPrecondition: the command was already sent to the ledger (or is terminal).
        """
        cid = _parse_id(command_id)
        async with self._engine.begin() as conn:
            current = await self._get(conn, cid, lock=True)
            if current.status == "FAILED" and current.error_code == "CANCELLED":
                return current
            # The row lock (FOR UPDATE above) keeps a worker from endorsing it meanwhile: its
            # record_endorsed update waits, then finds the row FAILED and stops.
            if current.status != "PENDING" or current.tx_id is not None:
                raise FailedPrecondition(
                    f"command {cid} is {current.status}"
                    + (" with a transaction already endorsed" if current.tx_id else "")
                    + "; only a command not yet sent to the ledger can be cancelled",
                    reason="COMMAND_NOT_CANCELLABLE",
                )
            message = (
                "cancelled by an operator"
                + (f" ({operator})" if operator else "")
                + (f": {reason}" if reason else "")
            )
            await conn.execute(
                text(
                    "UPDATE outbox.commands SET status = 'FAILED', error_code = 'CANCELLED', error_message = :msg,"
                    " lease_owner = NULL, lease_expires_at = NULL, updated_at = now() WHERE id = :id"
                ),
                {"msg": message, "id": cid},
            )
            return await self._get(conn, cid)
