"""Audit rows for licensing's writes (services.common.audit): every partner, licence, key and
webhook change leaves one, in the transaction of the change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit import record_audit

M = TypeVar("M", bound=Message)

# The id fields of licensing's resources, outermost first, with their collection names: the
# subject is the resource name they spell (`partners/<p>/licenses/<l>/apiKeys/<k>`).
_PATH = (
    ("partner_id", "partners"),
    ("license_id", "licenses"),
    ("key_id", "apiKeys"),
    ("endpoint_id", "webhookEndpoints"),
    ("event_id", "events"),
)
_ME = "me"


def _ids(message: Message, found: dict[str, str]) -> None:
    """Adds the id fields of `message` and its direct sub-messages to `found` (first wins; `me` loses)."""
    nested: list[Message] = []
    for field, value in message.ListFields():
        if field.message_type is not None and field.label != field.LABEL_REPEATED:
            nested.append(value)
        elif isinstance(value, str) and field.name in dict(_PATH):
            if found.get(field.name) in (None, _ME):
                found[field.name] = value
    for sub in nested:
        _ids(sub, found)


def subject_of(request: Message, response: Message | None = None) -> str:
    """The resource a write acted on, from the request's ids (and the response's, for what it created)."""
    found: dict[str, str] = {}
    _ids(request, found)
    if response is not None:
        _ids(response, found)
    parts = [f"{collection}/{found[field]}" for field, collection in _PATH if found.get(field)]
    return "/".join(parts) or "partners"


def details_of(request: Message) -> dict[str, Any]:
    """The request as proto JSON, without anything named like a secret."""
    as_dict: dict[str, Any] = json_format.MessageToDict(request, preserving_proto_field_name=True)
    return {k: v for k, v in as_dict.items() if "secret" not in k and "password" not in k}


def audited(
    scope: str, request: Message, work: Callable[[AsyncSession], Awaitable[M]]
) -> Callable[[AsyncSession], Awaitable[M]]:
    """`work`, followed by its audit row (`licensing.<scope>`) in the same transaction.

    A refused write rolls back with its row; an idempotent replay runs nothing and adds none.
    """

    async def run(session: AsyncSession) -> M:
        response = await work(session)
        await record_audit(
            session,
            action=f"licensing.{scope}",
            subject=subject_of(request, response),
            details=details_of(request),
            service="licensing",
        )
        return response

    return run
