"""A lean gRPC unary client for load generators: one h2c connection, frames written by hand.

A grpc.aio client costs about 0.35 ms of CPU per call (its poller thread hands each completion to
the event loop), as much as the licensing check it drives at 1,000 calls/s: on the 2-core machine
the generator's own cost and its loop's lag then show up as the server's latency. Envoy's ext_authz
client is C++ and costs a fraction of that. This one precomputes a call's frames (HEADERS with
literal fields, one DATA frame with the gRPC message) and reads answers with the lane's HPACK
decoder, so a call costs the generator tens of microseconds.

It speaks HTTP/2 with prior knowledge (RFC 9113 §3.3) as gRPC servers accept it: SETTINGS both
ways (calls wait for the server's, which are acknowledged before any frame relies on them), PING
answered, the receive windows kept open with WINDOW_UPDATE, the peer's send windows respected (a
request waits for window; one must fit a new stream's window), DATA split to the peer's frame size,
GOAWAY and RST_STREAM fail the calls they end. Not for production use: no TLS, no retries, no
deadlines of its own, one connection, and the server's SETTINGS_MAX_CONCURRENT_STREAMS is not
honoured (a load generator keeps its calls in flight far below any server's limit).

    client = await LeanUnary.connect("127.0.0.1", port)
    status, message = await client.call("/envoy.service.auth.v3.Authorization/Check", request_bytes)
    await client.close()
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import cast

from services.common.lane import frames as f
from services.common.lane.hpack_decode import HeaderDecoder

# What we let the server send before we say we consumed it: the most HTTP/2 allows.
_RECEIVE_WINDOW = f.MAX_WINDOW


class CallFailed(Exception):
    """The call ended without a gRPC status: the stream was reset or the connection went away."""


@dataclass
class _Call:
    done: asyncio.Future[tuple[int, bytes]]
    body: bytearray = field(default_factory=bytearray)
    headers: list[tuple[str, str]] = field(default_factory=list)


class LeanUnary(asyncio.Protocol):
    """One HTTP/2 connection carrying unary gRPC calls; `connect`, then `call` as often as wanted."""

    def __init__(self, authority: str) -> None:
        self._authority = authority.encode()
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._decoder = HeaderDecoder()
        self._calls: dict[int, _Call] = {}
        self._next_stream = 1
        self._send_window = f.DEFAULT_WINDOW  # the connection's, toward the server
        self._stream_window = f.DEFAULT_WINDOW  # each new stream's, from the server's SETTINGS
        self._max_frame = f.DEFAULT_MAX_FRAME
        self._settled = False  # the server's SETTINGS arrived (until then, calls wait in the queue)
        # Calls waiting for the server's windows: (header block, DATA payload, answer).
        self._queued: collections.deque[tuple[bytes, bytes, asyncio.Future[tuple[int, bytes]]]] = (
            collections.deque()
        )
        self._closed: Exception | None = None
        self._block: bytearray | None = None  # a header block continued in CONTINUATION frames
        self._block_stream = 0
        self._block_ends = False

    @classmethod
    async def connect(cls, host: str, port: int) -> LeanUnary:
        """Open the connection and send the preface; calls may start at once."""
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(lambda: cls(f"{host}:{port}"), host, port)
        return protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport instances, but have its methods.
        self._transport = cast(asyncio.Transport, transport)
        settings = f.SETTING.pack(f.SETTINGS_ENABLE_PUSH, 0) + f.SETTING.pack(
            f.SETTINGS_INITIAL_WINDOW_SIZE, _RECEIVE_WINDOW
        )
        self._transport.write(
            f.PREFACE
            + f.frame(f.SETTINGS, 0, 0, settings)
            + f.frame(f.WINDOW_UPDATE, 0, 0, f.WORD.pack(_RECEIVE_WINDOW - f.DEFAULT_WINDOW))
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail_all(exc or CallFailed("the connection closed"))

    async def close(self) -> None:
        """Close the connection; calls still open fail."""
        if self._transport is not None:
            self._transport.close()
        self._fail_all(CallFailed("the client closed the connection"))

    async def call(
        self, path: str, message: bytes, metadata: Iterable[tuple[str, str]] = ()
    ) -> tuple[int, bytes]:
        """Send one unary call; its grpc-status and its response message (b"" when it has none).

        Raises:
            CallFailed: The stream was reset, or the connection closed or went away first.
        """
        return await self.start(path, message, metadata)

    def start(
        self, path: str, message: bytes, metadata: Iterable[tuple[str, str]] = ()
    ) -> asyncio.Future[tuple[int, bytes]]:
        """Send one unary call now (or, when the server's windows are short, as soon as they open)
        and return the future of its answer, as `call` does; no task needed per call."""
        done: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        if self._closed is not None:
            done.set_exception(self._closed)
            return done
        block = (
            f.literal(b":method", b"POST")
            + f.literal(b":scheme", b"http")
            + f.literal(b":path", path.encode())
            + f.literal(b":authority", self._authority)
            + f.literal(b"content-type", b"application/grpc")
            + f.literal(b"te", b"trailers")
            + b"".join(f.literal(name.encode(), value.encode()) for name, value in metadata)
        )
        payload = f.MESSAGE.pack(0, len(message)) + message
        if self._settled and len(payload) > self._stream_window:
            # No stream-level WINDOW_UPDATE is awaited: a request must fit a new stream's window.
            raise ValueError("the request is larger than the server lets one stream send")
        # In order: stream ids must rise in the order the HEADERS go out.
        self._queued.append((block, payload, done))
        self._send_queued()
        return done

    def _send_queued(self) -> None:
        """Send the queued calls the windows allow, oldest first."""
        assert self._transport is not None
        out = []
        while self._queued:
            block, payload, done = self._queued[0]
            if not self._settled or len(payload) > self._send_window or len(payload) > self._stream_window:
                break
            self._queued.popleft()
            if done.done():
                continue  # its caller gave up while it waited
            stream = self._next_stream
            self._next_stream += 2
            self._send_window -= len(payload)
            self._calls[stream] = _Call(done)
            out.append(f.header_frames(stream, block, False, self._max_frame))
            # As many DATA frames as the server's frame size needs, the last one ending the stream.
            for pos in range(0, len(payload), self._max_frame):
                last = pos + self._max_frame >= len(payload)
                out.append(
                    f.frame(f.DATA, f.END_STREAM if last else 0, stream, payload[pos : pos + self._max_frame])
                )
        if out:
            self._transport.write(b"".join(out))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        out: list[bytes] = []
        while len(self._buffer) >= f.FRAME.size:
            length_kind, flags, stream = f.FRAME.unpack_from(self._buffer)
            length, kind = length_kind >> 8, length_kind & 0xFF
            end = f.FRAME.size + length
            if len(self._buffer) < end:
                break
            payload = bytes(self._buffer[f.FRAME.size : end])
            del self._buffer[:end]
            self._frame(kind, flags, stream & 0x7FFFFFFF, payload, out)
        if out and self._transport is not None:
            self._transport.write(b"".join(out))

    def _frame(self, kind: int, flags: int, stream: int, payload: bytes, out: list[bytes]) -> None:
        if kind == f.DATA:
            data = _unpadded(flags, payload)
            call = self._calls.get(stream)
            if call is not None:
                call.body += data
            if payload:
                # Consumed at once: the whole frame (padding included) goes back to both windows.
                increment = f.WORD.pack(len(payload))
                out.append(f.frame(f.WINDOW_UPDATE, 0, 0, increment))
                if not flags & f.END_STREAM:
                    out.append(f.frame(f.WINDOW_UPDATE, 0, stream, increment))
            if flags & f.END_STREAM:
                self._finish(stream)
        elif kind in (f.HEADERS, f.CONTINUATION):
            if kind == f.HEADERS:
                payload = _unpadded(flags, payload)
                if flags & f.PRIORITY_FLAG:
                    payload = payload[5:]
                self._block, self._block_stream, self._block_ends = (
                    bytearray(),
                    stream,
                    bool(flags & f.END_STREAM),
                )
            assert self._block is not None
            self._block += payload
            if flags & f.END_HEADERS:
                fields = self._decoder.decode(bytes(self._block))
                self._block = None
                call = self._calls.get(self._block_stream)
                if call is not None:
                    call.headers += fields
                if self._block_ends:
                    self._finish(self._block_stream)
        elif kind == f.SETTINGS:
            if not flags & f.ACK:
                for pos in range(0, len(payload), f.SETTING.size):
                    ident, value = f.SETTING.unpack_from(payload, pos)
                    if ident == f.SETTINGS_INITIAL_WINDOW_SIZE:
                        self._stream_window = value
                    elif ident == f.SETTINGS_MAX_FRAME_SIZE:
                        self._max_frame = value
                # Acknowledged before any frame that relies on them: the server enforces its own
                # settings (a 4 MiB frame size, say) only once it has our ACK, so a large DATA
                # frame ahead of the ACK ends the connection with FRAME_SIZE_ERROR.
                assert self._transport is not None
                self._transport.write(f.frame(f.SETTINGS, f.ACK, 0))
                self._settled = True
                self._send_queued()
        elif kind == f.WINDOW_UPDATE:
            if stream == 0:
                self._send_window += f.WORD.unpack(payload)[0] & 0x7FFFFFFF
                self._send_queued()
        elif kind == f.PING:
            if not flags & f.ACK:
                out.append(f.frame(f.PING, f.ACK, 0, payload))
        elif kind == f.RST_STREAM:
            call = self._calls.pop(stream, None)
            if call is not None and not call.done.done():
                call.done.set_exception(CallFailed(f"stream {stream} reset ({f.WORD.unpack(payload)[0]})"))
        elif kind == f.GOAWAY:
            last = f.TWO_WORDS.unpack_from(payload)[0] & 0x7FFFFFFF
            for number in [s for s in self._calls if s > last]:
                call = self._calls.pop(number)
                if not call.done.done():
                    call.done.set_exception(CallFailed("the server went away before taking the call"))
            self._closed = CallFailed("the server sent GOAWAY")

    def _finish(self, stream: int) -> None:
        call = self._calls.pop(stream, None)
        if call is None or call.done.done():
            return
        status = next((int(value) for name, value in call.headers if name == "grpc-status"), None)
        if status is None:
            call.done.set_exception(CallFailed(f"stream {stream} ended without grpc-status"))
            return
        body = bytes(call.body)
        message = body[f.MESSAGE.size :] if len(body) >= f.MESSAGE.size else b""
        call.done.set_result((status, message))

    def _fail_all(self, error: Exception) -> None:
        self._closed = self._closed or error
        calls, self._calls = self._calls, {}
        waiting = [done for _, _, done in self._queued]
        self._queued.clear()
        for done in [call.done for call in calls.values()] + waiting:
            if not done.done():
                done.set_exception(error)


def _unpadded(flags: int, payload: bytes) -> bytes:
    if flags & f.PADDED and payload:
        return payload[1 : len(payload) - payload[0]]
    return payload


@contextlib.asynccontextmanager
async def lean_channel(host: str, port: int) -> AsyncIterator[LeanUnary]:
    """`LeanUnary.connect` as an async context manager that closes the connection."""
    client = await LeanUnary.connect(host, port)
    try:
        yield client
    finally:
        await client.close()
