"""Public ids of things a command creates (loans, proposals) ↔ their ledger ids.

The contract names a created resource by the id of the operation that created it, so a
client knows it from the first answer. On the ledger the resource's id is the command's
request id. The outbox row holds both, so the mapping is one indexed lookup either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from sqlalchemy import text

from services.common.outbox import DEFAULT_TENANT
from services.wallet.readmodels import Executor

# Organisations are created by either of two commands: a government organisation is a command
# of its own because the ledger submits it under a stricter identity.
ORGANIZATION_COMMANDS: Final = ("PROPOSE_ORGANIZATION", "PROPOSE_GOVERNMENT_ORGANIZATION")

_BY_OPERATION = text(
    "SELECT request_id FROM outbox.commands WHERE id = CAST(:id AS uuid) AND command_type = ANY(:types)"
)
_BY_LEDGER = text(
    "SELECT request_id, id FROM outbox.commands"
    " WHERE tenant = :tenant AND request_id = ANY(:ids) AND command_type = ANY(:types)"
)


def _types(command_type: str | tuple[str, ...]) -> list[str]:
    return [command_type] if isinstance(command_type, str) else list(command_type)


async def ledger_id(db: Executor, public_id: str, command_type: str | tuple[str, ...]) -> str:
    """The ledger id of a resource named by its operation id (or by its ledger id, for
    resources this backend did not create); `command_type` is the creating command (or commands)."""
    row = (await db.execute(_BY_OPERATION, {"id": public_id, "types": _types(command_type)})).first()
    return str(row.request_id) if row is not None else public_id


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
    found = {str(r.request_id): str(r.id) for r in rows}
    return {lid: found.get(lid, lid) for lid in wanted}
