"""`python -m notifier`'s own wiring, as the gx_notifier user, delivers a partner's webhook to a receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import functools
import json
import time
import uuid

from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier.__main__ import build
from notifier.metrics import NotifierMetrics
from notifier.settings import NotifierSettings, NotifierTuning
from services.common.runtime import run_process
from services.common.settings import DatabaseSettings
from services.common.webhook_signature import new_secret, verify
from tests.support.webhook_receiver import running_receiver
from tests.workers.conftest import wait_until


async def _sql(engine: AsyncEngine, statement: str, **params: object) -> list[object]:
    async with engine.begin() as conn:
        result = await conn.execute(text(statement), params)
        return list(result.all()) if result.returns_rows else []


async def test_the_notifier_process_delivers_a_signed_webhook_once(
    engine: AsyncEngine, notifier_url: str
) -> None:
    partner, endpoint, command, secret = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), new_secret()
    with running_receiver() as receiver:
        await _sql(
            engine,
            "INSERT INTO licensing.partners (id, name, email, contact_person, state, created_at, updated_at)"
            " VALUES (:id, 'Acme', :email, 'A', 'ACTIVE', now(), now())",
            id=partner,
            email=f"{partner.hex[:8]}@acme.example",
        )
        await _sql(
            engine,
            "INSERT INTO licensing.webhook_endpoints (id, partner_id, url, event_types, state, secret, secret_prefix,"
            " created_at, updated_at) VALUES (:id, :p, :url, ARRAY['operation.committed'], 'ENABLED', :s, :sp,"
            " now(), now())",
            id=endpoint,
            p=partner,
            url=receiver.url,
            s=secret,
            sp=secret[:10],
        )
        await _sql(
            engine,
            "INSERT INTO outbox.commands (id, command_type, payload, request_id, principal_id)"
            " VALUES (:id, 'TRANSFER_TOKENS', CAST('{}' AS jsonb), :rid, :principal)",
            id=command,
            rid=str(uuid.uuid4()),
            principal=f"partner:{partner}",
        )
        await _sql(
            engine,
            "UPDATE outbox.commands SET status = 'COMMITTED', block_number = 9 WHERE id = :id",
            id=command,
        )

        settings = NotifierSettings(
            database=DatabaseSettings(url=SecretStr(notifier_url), pool_size=3),
            notifier=NotifierTuning(poll_interval=0.05, backoff_initial=0.05, backoff_max=0.2),
        )
        stop = asyncio.Event()
        wiring = functools.partial(build, settings, metrics=NotifierMetrics(CollectorRegistry()))
        task = asyncio.create_task(run_process(settings, wiring, stop=stop))
        try:
            [request] = await asyncio.to_thread(receiver.wait_for, 1)

            async def sent() -> bool:
                rows = await _sql(
                    engine, "SELECT status FROM notify.messages WHERE destination = :d", d=str(endpoint)
                )
                return rows == [("SENT",)]

            await wait_until(sent)
        finally:
            stop.set()
            assert await asyncio.wait_for(task, 30) == 0
    verify(secret, request.headers["gx-signature"], request.body, now=int(time.time()))
    body = json.loads(request.body)
    assert body["type"] == "operation.committed"
    assert body["data"]["operation"]["name"] == f"operations/{command}"
    assert len(receiver.received) == 1
