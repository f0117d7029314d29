"""Audit rows for the wallet's administrative commands (services.common.audit), written in the
transaction that records the command, so the trail and the outbox agree."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from services.common import outbox
from services.common.audit import record_audit
from services.wallet.commands import PayloadBuilder

# The request field naming what an admin command acts on, and its resource collection, in the
# order they are looked for (a request names at most one of them).
_SUBJECT_FIELDS = (
    ("wallet_id", "wallets"),
    ("user_id", "users"),
    ("loan_id", "loans"),
    ("proposal_id", "proposals"),
    ("country_code", "countries"),
    ("name", "parameters"),
    ("parameter", "parameters"),
)


def subject_of(request: Message) -> str:
    """`wallets/<id>`, `users/<id>`, `countries/LK`, `parameters/<name>`, or `system`."""
    fields = {f.name for f in request.DESCRIPTOR.fields}
    for field, collection in _SUBJECT_FIELDS:
        value = getattr(request, field) if field in fields else ""
        if isinstance(value, str) and value:
            return f"{collection}/{value.lower() if field.endswith('_id') else value}"
    return "system"


def details_of(request: Message) -> dict[str, Any]:
    """The request as proto JSON (field names as in the proto): what the admin asked for."""
    as_dict: dict[str, Any] = json_format.MessageToDict(request, preserving_proto_field_name=True)
    return as_dict


def audited(
    action: str, request: Message, build: PayloadBuilder, subject: str | None = None
) -> PayloadBuilder:
    """`build`, followed by the audit row of `action`, in the command's transaction.

    `subject` overrides the one read from the request (`subject_of`).

    Only a command that passed its checks is audited (a refusal rolls everything back), and an
    idempotent replay runs nothing, so it adds no second row.
    """

    async def run(session: AsyncSession, ledger_request_id: str) -> Message | outbox.Dependent:
        built = await build(session, ledger_request_id)
        details = details_of(request) | {"ledger_request_id": ledger_request_id}
        await record_audit(session, action=action, subject=subject or subject_of(request), details=details)
        return built

    return run
