"""The projector loop in-process on the real devnet stream: closing a quiet stream (rebuild, shutdown) ends cleanly.

A fresh ledger has no GX events, so the peer never answers the stream: every close here
happens before its first response, the case fabric_client used to surface as CancelledError.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from fabric_client import Gateway
from fabric_client.identity import load_msp_identity
from projector import rebuild, store
from projector.metrics import ProjectorMetrics
from projector.runner import Projector
from tests.support.ledger import Ledger
from tests.workers.conftest import wait_until

pytestmark = pytest.mark.timeout(120)

NAME = "gxchannel/gx-devnet-stream"


@pytest.fixture
async def gateway(ledger: Ledger) -> AsyncIterator[Gateway]:
    user = ledger.user("User1")
    identity, signer = load_msp_identity(ledger.msp_id, user.cert_path.parent.parent)
    async with Gateway.connect(ledger.peer_address, identity, signer) as gw:
        yield gw


async def test_rebuild_and_shutdown_close_a_quiet_devnet_stream_cleanly(
    engine: AsyncEngine, ledger: Ledger, gateway: Gateway
) -> None:
    async with engine.begin() as conn:
        await rebuild.reset(conn, NAME)
    network = gateway.network(ledger.channel)
    opened = []

    def open_stream(checkpoint: store.Checkpoint) -> object:
        # As projector.__main__ does: from block 0 without a checkpoint.
        stream = network.chaincode_events(ledger.chaincode_name, start_block=0)
        opened.append(stream)
        return stream

    projector = Projector(
        engine,
        NAME,
        4343,
        open_stream,
        ProjectorMetrics(CollectorRegistry()),
        standby_retry=0.05,
        control_interval=0.05,
    )
    task = asyncio.create_task(projector.run())

    async def reading(count: int) -> bool:
        assert not task.done(), task
        # The stream opens its call and awaits its first read in one step (private, but the only sign).
        return len(opened) == count and opened[-1]._call is not None and projector.streaming

    try:
        await wait_until(lambda: reading(1), 30)
        # A rebuild on a quiet chain: the generation watcher closes the stream before any response.
        async with engine.begin() as conn:
            generation = await rebuild.reset(conn, NAME)
        await wait_until(lambda: reading(2), 30)
        assert not task.done()
        async with engine.connect() as conn:
            checkpoint = await store.load_checkpoint(conn, NAME)
        assert (checkpoint.generation, checkpoint.block_number, checkpoint.events_applied) == (
            generation,
            None,
            0,
        )
        # Shutdown closes the second stream, again before any response: run() returns normally.
        await projector.shutdown()
        await asyncio.wait_for(task, 10)
        assert not task.cancelled() and task.exception() is None
        assert not projector.active
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
