"""Reads mails from the notifications outbox (notify.messages) where no notifier runs.

In-process tests (gRPC, integration) start identity without the notifier and its SMTP sink: the
queued row is the mail, and its payload is the template's context (a verification code, a reset
token). End-to-end tests read the mail the dev stack's SMTP sink received instead.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.stack import stack_serving

_LATEST = text(
    "SELECT payload FROM notify.messages WHERE lower(destination) = lower(:email) AND template = :template"
    " ORDER BY created_at DESC, id DESC LIMIT 1"
)
_LATEST_SQL = (
    "SELECT payload FROM notify.messages WHERE lower(destination) = lower(%(email)s) AND template = %(template)s"
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


def latest_mail_sync(
    database_url: str, email: str, template: str, *, wait_seconds: float = 15.0
) -> dict[str, Any]:
    """`latest_mail` for synchronous tests (e2e over httpx) given the stack's database URL."""
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + wait_seconds
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            row = conn.execute(_LATEST_SQL, {"email": email, "template": template}).fetchone()
            if row is not None:
                return dict(row[0])
            if time.monotonic() > deadline:
                raise AssertionError(f"no {template} mail queued for {email}")
            time.sleep(0.05)


def verification_code(database_url: str, email: str) -> str:
    """The code of the latest verification mail queued for `email` (e2e onboarding helpers)."""
    return str(latest_mail_sync(database_url, email, "email_verification")["code"])


def verify_email_over_rest(http: httpx.Client, email: str, access_token: str) -> None:
    """Verifies `email` as its user would: the code of the latest verification mail, sent to
    `POST /v1/users/me:verifyEmail` through the edge `http` talks to (a stack of this process)."""
    database_url = stack_serving(str(http.base_url)).database_url
    verified = http.post(
        "/v1/users/me:verifyEmail",
        json={"code": verification_code(database_url, email)},
        headers={"authorization": f"Bearer {access_token}"},
    )
    assert verified.status_code == 200, verified.text


def main(argv: list[str] | None = None) -> None:
    """`python -m tests.support.mail_queue --database-url URL --email E`: prints the code of the
    latest verification mail queued for E (for test drivers in other languages, e.g. node)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--email", required=True)
    args = parser.parse_args(argv)
    print(verification_code(args.database_url, args.email))


if __name__ == "__main__":
    main()
