"""The accept wakes the outbox after its commit: one NOTIFY on the outbox channel per burst of accepts.

The one-statement accept leaves its NOTIFY out (a NOTIFY in it serialises every accept's commit in
PostgreSQL) and the wallet sends one after the commit (services.common.coalesced_notify). What the
outbox workers rely on must hold: after the last accept of a burst a notification arrives, and a
claim it triggers sees every command accepted before it.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import psycopg
from gx.wallet.v1 import wallet_service_pb2 as svc

from services.common.db import libpq_dsn
from services.common.names import OUTBOX_NOTIFY_CHANNEL
from tests.grpc.wallet.wallet_harness import GX, Wallet


async def test_a_burst_of_accepts_is_followed_by_a_notify_that_sees_every_command(wallet: Wallet) -> None:
    await wallet.system()
    recipient = await wallet.user()
    senders = [await wallet.user() for _ in range(6)]
    url = libpq_dsn(wallet.engine.url.render_as_string(hide_password=False))
    seen: list[int] = []
    async with (
        await psycopg.AsyncConnection.connect(url, autocommit=True) as listener,
        await psycopg.AsyncConnection.connect(url, autocommit=True) as claim,
    ):
        await listener.execute(f"LISTEN {OUTBOX_NOTIFY_CHANNEL}")

        async def watch() -> None:
            # What a woken worker's claim would find.
            async for _ in listener.notifies():
                cursor = await claim.execute("SELECT count(*) FROM outbox.commands WHERE status = 'PENDING'")
                row: Any = await cursor.fetchone()
                seen.append(int(row[0]))

        watcher = asyncio.create_task(watch())
        per_sender = 4
        await asyncio.gather(
            *(
                wallet.wallets.Transfer(
                    svc.TransferRequest(
                        wallet_id="me", request_id=str(uuid.uuid4()), to_user_id=recipient, amount_qirat=GX
                    ),
                    metadata=wallet.token(sender),
                )
                for sender in senders
                for _ in range(per_sender)
            )
        )
        total = len(senders) * per_sender
        try:
            async with asyncio.timeout(10):
                while not seen or seen[-1] < total:  # noqa: ASYNC110 (the watcher appends)
                    await asyncio.sleep(0.01)
        finally:
            watcher.cancel()
    assert seen[-1] == total
    assert len(await wallet.commands()) == total


async def test_the_accept_statement_itself_sends_no_notify(wallet: Wallet) -> None:
    # Without the wallet's own NOTIFY after the commit nothing would arrive: the wake-up is the
    # CoalescedNotify's, whose payload is empty (the statement's carried the command id).
    await wallet.system()
    alice, bob = await wallet.user(), await wallet.user()
    url = libpq_dsn(wallet.engine.url.render_as_string(hide_password=False))
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as listener:
        await listener.execute(f"LISTEN {OUTBOX_NOTIFY_CHANNEL}")
        await wallet.wallets.Transfer(
            svc.TransferRequest(
                wallet_id="me", request_id=str(uuid.uuid4()), to_user_id=bob, amount_qirat=GX
            ),
            metadata=wallet.token(alice),
        )
        payloads = [n.payload async for n in listener.notifies(timeout=2, stop_after=1)]
    assert payloads == [""]
