"""Closing a chaincode event stream ends its iteration quietly, also before the peer has answered."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from fabric_client import ChaincodeEvent, Gateway
from fabric_client.events import ChaincodeEventStream

pytestmark = pytest.mark.timeout(60)


async def _drain(stream: ChaincodeEventStream) -> list[ChaincodeEvent]:
    return [event async for event in stream]


async def _reading(stream: ChaincodeEventStream, task: asyncio.Task[list[ChaincodeEvent]]) -> None:
    # The stream opens its call and awaits the first read in one step, so once the call exists
    # and the reader has yielded, the reader is blocked in that read: no response has come.
    while stream._call is None:  # private, but the only sign that the read is pending
        assert not task.done(), task
        await asyncio.sleep(0.01)
    await asyncio.sleep(0)


async def test_close_before_the_first_response_ends_iteration(gateway: Gateway) -> None:
    # No start block: only future commits, and nothing commits here, so no response ever comes.
    stream = gateway.network("gxchannel").chaincode_events("gx")
    reader = asyncio.ensure_future(_drain(stream))
    await _reading(stream, reader)
    await stream.close()
    assert await asyncio.wait_for(reader, 10) == []
    # Ended for good: iterating again ends at once.
    assert await _drain(stream) == []


async def test_leaving_async_with_before_the_first_response_ends_iteration(gateway: Gateway) -> None:
    async with gateway.network("gxchannel").chaincode_events("gx") as stream:
        reader = asyncio.ensure_future(_drain(stream))
        await _reading(stream, reader)
    assert await asyncio.wait_for(reader, 10) == []


async def test_close_before_iterating_ends_iteration(gateway: Gateway) -> None:
    stream = gateway.network("gxchannel").chaincode_events("gx")
    await stream.close()
    assert await asyncio.wait_for(_drain(stream), 10) == []


async def test_cancelling_the_reader_still_cancels_it(gateway: Gateway) -> None:
    # The quiet end is only for a stream WE closed; a cancelled task must still see CancelledError,
    # also when the stream is closed at the same moment.
    stream = gateway.network("gxchannel").chaincode_events("gx")
    reader = asyncio.ensure_future(_drain(stream))
    await _reading(stream, reader)
    reader.cancel()
    await stream.close()
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert reader.cancelled()


async def test_close_while_waiting_for_the_next_response_ends_iteration(
    gateway: Gateway, unique: Callable[[str], str]
) -> None:
    network = gateway.network("gxchannel")
    name = unique("close")
    tx = await network.contract("gx").new_proposal("EmitEvent", args=[name, "only"]).endorse()
    await gateway.submit(tx)
    status = await network.commit_status(tx.tx_id)
    assert status.successful
    seen: list[ChaincodeEvent] = []

    async def collect(stream: ChaincodeEventStream) -> None:
        async for event in stream:
            seen.append(event)

    async with network.chaincode_events("gx", start_block=status.block_number) as stream:
        reader = asyncio.ensure_future(collect(stream))
        while not any(e.event_name == name for e in seen):
            assert not reader.done(), reader
            await asyncio.sleep(0.01)
    await asyncio.wait_for(reader, 10)
    assert [e.payload for e in seen if e.event_name == name] == [b"only"]
