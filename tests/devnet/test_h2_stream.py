"""devnet's hand-framed gRPC stream against a real grpc.aio server: framing, flow control, endings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest

from devnet import h2_stream

_ECHO = "/test.Echo/Chat"
_FAIL = "/test.Echo/Fail"


async def _chat(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    async for request in requests:
        if request == b"abort":
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
        yield request


async def _fail(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    await context.abort(grpc.StatusCode.PERMISSION_DENIED, "go away")
    yield b""  # pragma: no cover - makes this an async generator


@pytest.fixture
async def server() -> AsyncIterator[tuple[grpc.aio.Server, int]]:
    handler = grpc.method_handlers_generic_handler(
        "test.Echo",
        {
            "Chat": grpc.stream_stream_rpc_method_handler(_chat),
            "Fail": grpc.stream_stream_rpc_method_handler(_fail),
        },
    )
    srv = grpc.aio.server(options=[("grpc.max_receive_message_length", 8 << 20)])
    srv.add_generic_rpc_handlers((handler,))
    port = srv.add_insecure_port("127.0.0.1:0")
    await srv.start()
    yield srv, port
    await srv.stop(None)


class _Inbox:
    """Collects what the stream delivers and wakes a waiter at a given count."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self._want = 0
        self._arrived: asyncio.Event = asyncio.Event()

    def __call__(self, message: bytes) -> None:
        self.messages.append(message)
        if len(self.messages) >= self._want:
            self._arrived.set()

    async def wait_for(self, count: int) -> list[bytes]:
        self._want = count
        if len(self.messages) < count:
            self._arrived.clear()
            async with asyncio.timeout(30):
                await self._arrived.wait()
        return self.messages


def _sizes() -> Iterator[int]:
    # Empty, tiny, one byte past a frame, past the 64 KiB default window, and several windows' worth.
    yield from (0, 1, 16_384, 16_380, 70_000, 3_000_000)


async def test_messages_of_every_size_come_back_whole_and_in_order(
    server: tuple[grpc.aio.Server, int],
) -> None:
    inbox = _Inbox()
    stream = await h2_stream.open_stream("127.0.0.1", server[1], _ECHO, inbox)
    try:
        sent = [bytes([n % 251]) * n for n in _sizes()]
        for message in sent:
            stream.send(message)
        assert await inbox.wait_for(len(sent)) == sent
        assert not stream.ended.done()
    finally:
        stream.close()


async def test_a_burst_of_small_messages_keeps_its_order(server: tuple[grpc.aio.Server, int]) -> None:
    inbox = _Inbox()
    stream = await h2_stream.open_stream("127.0.0.1", server[1], _ECHO, inbox)
    try:
        sent = [f"message {i}".encode() for i in range(3000)]
        for message in sent:
            stream.send(message)
        assert await inbox.wait_for(len(sent)) == sent
    finally:
        stream.close()


async def test_server_status_ends_the_stream_with_its_code(server: tuple[grpc.aio.Server, int]) -> None:
    inbox = _Inbox()
    stream = await h2_stream.open_stream("127.0.0.1", server[1], _ECHO, inbox)
    stream.send(b"first")
    await inbox.wait_for(1)
    stream.send(b"abort")
    async with asyncio.timeout(10):
        reason = await stream.ended
    assert "grpc-status 5" in reason and "no such thing" in reason
    stream.send(b"after the end")  # ignored, not an error
    assert inbox.messages == [b"first"]


async def test_trailers_only_refusal_ends_the_stream(server: tuple[grpc.aio.Server, int]) -> None:
    stream = await h2_stream.open_stream("127.0.0.1", server[1], _FAIL, _Inbox())
    async with asyncio.timeout(10):
        reason = await stream.ended
    assert "grpc-status 7" in reason


async def test_unknown_method_ends_the_stream_unimplemented(server: tuple[grpc.aio.Server, int]) -> None:
    stream = await h2_stream.open_stream("127.0.0.1", server[1], "/test.Echo/Nope", _Inbox())
    stream.send(b"x")
    async with asyncio.timeout(10):
        reason = await stream.ended
    assert "grpc-status 12" in reason


async def test_server_shutdown_ends_the_stream(server: tuple[grpc.aio.Server, int]) -> None:
    inbox = _Inbox()
    stream = await h2_stream.open_stream("127.0.0.1", server[1], _ECHO, inbox)
    stream.send(b"hello")
    await inbox.wait_for(1)
    await server[0].stop(None)
    async with asyncio.timeout(10):
        await stream.ended


async def test_a_failing_message_handler_drops_the_connection(server: tuple[grpc.aio.Server, int]) -> None:
    def broken(message: bytes) -> None:
        raise RuntimeError("handler bug")

    stream = await h2_stream.open_stream("127.0.0.1", server[1], _ECHO, broken)
    stream.send(b"x")
    async with asyncio.timeout(10):
        reason = await stream.ended
    assert "handler bug" in reason


def test_split_address_accepts_ipv6_brackets() -> None:
    assert h2_stream.split_address("[::1]:7052") == ("::1", 7052)
    assert h2_stream.split_address("chaincode:9999") == ("chaincode", 9999)


async def test_settings_and_pings_are_acknowledged_on_the_wire() -> None:
    # A raw HTTP/2 peer (pure framing logic, no gRPC): it sends SETTINGS and a PING and reads the answers.
    frames: asyncio.Queue[tuple[int, int, bytes]] = asyncio.Queue()

    async def peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert await reader.readexactly(24) == b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        writer.write(h2_stream._frame(4, 0, 0, b"") + h2_stream._frame(6, 0, 0, b"12345678"))
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                header = await reader.readexactly(9)
                length = int.from_bytes(header[:3], "big")
                await frames.put((header[3], header[4], await reader.readexactly(length)))

    srv = await asyncio.start_server(peer, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    stream = await h2_stream.open_stream("127.0.0.1", port, _ECHO, _Inbox())
    try:
        seen: list[tuple[int, int, bytes]] = []
        async with asyncio.timeout(10):
            while (6, 1, b"12345678") not in seen or (4, 1, b"") not in seen:
                seen.append(await frames.get())
        kinds = [kind for kind, _, _ in seen]
        assert kinds[:3] == [4, 8, 1]  # our SETTINGS, the connection window, then the call's HEADERS
    finally:
        stream.close()
        srv.close()
        await srv.wait_closed()


async def test_replies_written_while_reading_arrive_in_order(server: tuple[grpc.aio.Server, int]) -> None:
    # Replies sent from inside the read callback are gathered into one write per read: none may be lost
    # or reordered, whatever number of messages one read held.
    count = 2000
    received: list[bytes] = []
    done = asyncio.Event()
    stream: h2_stream.GrpcStream | None = None

    def on_message(message: bytes) -> None:
        received.append(message)
        if message.startswith(b"ping") and stream is not None:
            stream.send(b"pong" + message[4:])
        if len(received) == 2 * count:
            done.set()

    stream = await h2_stream.open_stream("127.0.0.1", server[1], _ECHO, on_message)
    try:
        for i in range(count):
            stream.send(b"ping %d" % i)
        async with asyncio.timeout(30):
            await done.wait()
        assert [m for m in received if m.startswith(b"ping")] == [b"ping %d" % i for i in range(count)]
        assert [m for m in received if m.startswith(b"pong")] == [b"pong %d" % i for i in range(count)]
    finally:
        stream.close()
