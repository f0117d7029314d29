"""Reads mails from the notifications outbox (notify.messages) where no notifier runs.

In-process tests (gRPC, integration) start identity without the notifier and its SMTP sink: the
queued row is the mail, and its payload is the template's context (a verification code, a reset
token). End-to-end tests read the mail the dev stack's SMTP sink received instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_LATEST = text(
    "SELECT payload FROM notify.messages WHERE lower(destination) = lower(:email) AND template = :template"
    " ORDER BY created_at DESC, id DESC LIMIT 1"
)
_COUNT = text(
    "SELECT count(*) FROM notify.messages WHERE lower(destination) = lower(:email) AND template = :template"
)


async def mail_count(engine: AsyncEngine, email: str, template: str) -> int:
    """How many mails of `template` were queued for `email`."""
    async with engine.connect() as conn:
        return int((await conn.execute(_COUNT, {"email": email, "template": template})).scalar_one())


async def latest_mail(
    engine: AsyncEngine, email: str, template: str, *, wait_seconds: float = 5.0
) -> dict[str, Any]:
    """The context of the latest mail of `template` queued for `email`, waiting for it briefly
    (reset mails are queued just after the answer)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        async with engine.connect() as conn:
            row = (await conn.execute(_LATEST, {"email": email, "template": template})).one_or_none()
        if row is not None:
            return dict(row.payload)
        if loop.time() > deadline:
            raise AssertionError(f"no {template} mail queued for {email}")
        await asyncio.sleep(0.05)


async def wait_for_mails(
    engine: AsyncEngine, email: str, template: str, count: int, wait_seconds: float = 5.0
) -> None:
    """Waits until at least `count` mails of `template` were queued for `email`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while (queued := await mail_count(engine, email, template)) < count:
        if loop.time() > deadline:
            raise AssertionError(f"{queued} {template} mails queued for {email}, expected {count}")
        await asyncio.sleep(0.05)
