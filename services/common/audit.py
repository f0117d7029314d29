"""The one way any service records an administrative action in the audit trail (audit.events).

Call `record_audit` inside the action's own transaction: the row commits with the effect or not
at all, so the trail never shows an action that did not happen nor misses one that did. Who,
from where and under which request come from the RPC's context (principal, trusted client
address, request id, trace), so a caller cannot forget or forge them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit_tables import events
from services.common.auth import current_principal
from services.common.client_address import current_client_address
from services.common.logging import method_var, request_id_var, trace_var


def _service_of_method() -> str:
    """`wallet` for `/gx.wallet.v1.AdminService/FreezeWallet`; `gx` outside an RPC."""
    method = method_var.get() or ""
    parts = method.lstrip("/").split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "gx" else "gx"


async def record_audit(
    session: AsyncSession,
    *,
    action: str,
    subject: str,
    details: Mapping[str, Any] | None = None,
    actor: str | None = None,
    service: str | None = None,
    time: datetime | None = None,
) -> uuid.UUID:
    """Append one audit event in the session's current transaction.

    Args:
        session: The action's session, inside its `session.begin()`.
        action: What was done: `<service>.<Verb>` (`wallet.FreezeWallet`).
        subject: What it was done to, as a resource name (`wallets/<id>`, `users/<id>`).
        details: What else an investigator needs (the reason, the new value); JSON values.
        actor: Who did it; default: the current RPC's principal (None when anonymous).
        service: The recording service; default: the current RPC's proto package.
        time: When; default: the database's transaction time.

    Returns:
        The event's id.
    """
    if actor is None:
        principal = current_principal()
        actor = principal.user_id if principal is not None else None
    trace = trace_var.get()
    event_id = uuid.uuid4()
    values: dict[str, Any] = {
        "id": event_id,
        "service": service or _service_of_method(),
        "action": action,
        "actor": actor,
        "subject": subject,
        "address": current_client_address(),
        "request_id": request_id_var.get(),
        "trace_id": trace.trace_id if trace is not None else None,
        "details": dict(details or {}),
    }
    if time is not None:
        values["create_time"] = time
    await session.execute(insert(events).values(**values))
    return event_id
