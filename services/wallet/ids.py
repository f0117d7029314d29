"""Public ids of things a command creates (organisations, multisig transactions, loans, proposals) ↔ their ledger ids.

The contract names a created resource by the id of the operation that created it, so a
client knows it from the first answer. On the ledger the resource's id is the command's
request id. `record_command` writes the pair to `outbox.resource_ids` in the statement that
records the command (for the commands whose `(gx.ledger.v1.command).creates` says so); this
module reads only that map, one indexed lookup either way, however long ago the command ran and
whether or not it is still in the outbox's queue.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Final

from sqlalchemy import text

from services.common.db import Fetchable, fetch_all
from services.common.outbox import DEFAULT_TENANT
from services.wallet.readmodels import Executor

# Organisations are created by either of two commands: a government organisation is a command
# of its own because the ledger submits it under a stricter identity.
ORGANIZATION_COMMANDS: Final = ("PROPOSE_ORGANIZATION", "PROPOSE_GOVERNMENT_ORGANIZATION")

# psycopg syntax: it runs straight on the driver (db.fetch_all), also on the read pool of the
# transfer accept (a payment to an organisation's wallet).
_BY_PUBLIC = (
    "SELECT ledger_id FROM outbox.resource_ids"
    " WHERE public_id = CAST(%(id)s AS uuid) AND tenant = %(tenant)s AND command_type = ANY(%(types)s)"
)
_BY_LEDGER = text(
    "SELECT ledger_id, public_id FROM outbox.resource_ids"
    " WHERE tenant = :tenant AND ledger_id = ANY(:ids) AND command_type = ANY(:types)"
)


def _types(command_type: str | tuple[str, ...]) -> list[str]:
    return [command_type] if isinstance(command_type, str) else list(command_type)


def _is_uuid(value: str) -> bool:
    # Public ids are UUIDs; anything else (a ledger id of a resource this backend did not create,
    # garbage) cannot be one, and must not reach the uuid cast.
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


async def ledger_id(db: Fetchable, public_id: str, command_type: str | tuple[str, ...]) -> str:
    """The ledger id of a resource named by its operation id (or by its ledger id, for
    resources this backend did not create); `command_type` is the creating command (or commands)."""
    if not _is_uuid(public_id):
        return public_id
    rows = await fetch_all(
        db, _BY_PUBLIC, {"id": public_id, "tenant": DEFAULT_TENANT, "types": _types(command_type)}
    )
    return str(rows[0].ledger_id) if rows else public_id


async def public_ids(
    db: Executor, ledger_ids: Iterable[str], command_type: str | tuple[str, ...]
) -> dict[str, str]:
    """Ledger id → public id for each of `ledger_ids` (unchanged when no command of ours made it)."""
    wanted = list(dict.fromkeys(ledger_ids))
    if not wanted:
        return {}
    rows = (
        await db.execute(_BY_LEDGER, {"tenant": DEFAULT_TENANT, "ids": wanted, "types": _types(command_type)})
    ).all()
    found = {str(r.ledger_id): str(r.public_id) for r in rows}
    return {lid: found.get(lid, lid) for lid in wanted}
