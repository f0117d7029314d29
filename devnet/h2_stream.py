"""One gRPC bidirectional-streaming call over its own plain HTTP/2 connection, framed by hand.

Why not grpc.aio: the chaincode stream carries about 30 small messages per GX transfer, and through
grpc.aio each one is a completion-queue operation handed from gRPC's poller thread to the event loop
(a wake-up, a future, a task switch): about 80 µs of devnet CPU per message under the chaincode
benchmark, more than half of the devnet's whole cost per transfer. Read straight from an asyncio
Protocol, a message costs a frame-header unpack, and every message that arrived in one read is handled
in that one callback; a reply is one ``transport.write``.

It speaks what a gRPC client speaks on the wire (gRPC's PROTOCOL-HTTP2.md over RFC 9113), so the
chaincode's gRPC server sees an ordinary client: h2c with prior knowledge, one stream (id 1), identity
message encoding, SETTINGS and PING acknowledged, flow control kept in both directions, HPACK through
the ``hpack`` package. Only plaintext is needed (devnet dials chaincode servers on loopback or a pod
network without TLS, as its grpc.aio channel did).
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable
from typing import cast

import hpack

_LOG = logging.getLogger(__name__)

_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
# Frame header: 24-bit length and 8-bit type packed in one word, flags, reserved bit + 31-bit stream id.
_FRAME = struct.Struct(">IBI")
# gRPC length-prefixed message: compressed flag, 32-bit length.
_MESSAGE = struct.Struct(">BI")
_WINDOW_INCREMENT = struct.Struct(">I")
_SETTING = struct.Struct(">HI")

_DATA, _HEADERS, _PRIORITY, _RST_STREAM, _SETTINGS, _PUSH_PROMISE, _PING, _GOAWAY, _WINDOW_UPDATE = range(9)
_CONTINUATION = 9
_END_STREAM = 0x1
_ACK = 0x1
_END_HEADERS = 0x4
_PADDED = 0x8
_PRIORITY_FLAG = 0x20

_SETTINGS_ENABLE_PUSH = 0x2
_SETTINGS_INITIAL_WINDOW_SIZE = 0x4
_SETTINGS_MAX_FRAME_SIZE = 0x5

_STREAM_ID = 1
_DEFAULT_WINDOW = 65_535
_DEFAULT_MAX_FRAME = 16_384
_MAX_WINDOW = 2**31 - 1
# Our receive windows start at the maximum and are topped up once half of that has arrived: the server
# is never throttled by us, and a WINDOW_UPDATE goes out once per GiB rather than per message.
_TOP_UP_AT = 2**30
_CANCEL = 0x8


class StreamProtocolError(Exception):
    """The server broke the HTTP/2 or gRPC framing rules (the connection is dropped)."""


class GrpcStream(asyncio.Protocol):
    """The client end of one gRPC bidi-streaming call; create it with :func:`open_stream`.

    Args:
        on_message: Called with each whole message the server sends, in order, from the event loop.
            It runs inside the read callback, so it must not block; it may call :meth:`send`.
    """

    def __init__(self, on_message: Callable[[bytes], None]) -> None:
        self._on_message = on_message
        self._transport: asyncio.Transport | None = None
        self._inbox = bytearray()
        self._partial = bytearray()
        self._pending = bytearray()
        self._send_connection = _DEFAULT_WINDOW
        self._send_stream = _DEFAULT_WINDOW
        self._peer_initial_window = _DEFAULT_WINDOW
        self._max_frame = _DEFAULT_MAX_FRAME
        self._unacknowledged = 0
        self._decoder = hpack.Decoder()
        self._block = bytearray()
        self._block_ends_stream = False
        self._headers_seen = False
        # While a read is being handled, what it writes (replies, acks) is collected here and sent as one
        # write when the read is done: several messages that arrived together cost one send, not one each.
        self._corked: list[bytes] | None = None
        self.ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    # -- asyncio.Protocol ---------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A cast, not an isinstance check: uvloop's TCP transport is not an asyncio.Transport subclass.
        self._transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._end(f"connection lost: {exc}" if exc else "connection closed by the server")

    def data_received(self, data: bytes) -> None:
        inbox = self._inbox
        inbox += data
        size = len(inbox)
        pos = 0
        self._corked = []
        try:
            while size - pos >= 9 and self._transport is not None:
                word, flags, stream_id = _FRAME.unpack_from(inbox, pos)
                end = pos + 9 + (word >> 8)
                if end > size:
                    break
                payload = bytes(inbox[pos + 9 : end])
                pos = end
                self._frame(word & 0xFF, flags, stream_id & 0x7FFFFFFF, payload)
        except StreamProtocolError as exc:
            self._fail(str(exc))
        except Exception as exc:  # a bug in a message handler must not leave the stream half-alive
            _LOG.exception("handling a frame from the chaincode failed")
            self._fail(f"frame handling failed: {exc}")
        finally:
            self._uncork()
        del inbox[:pos]

    # -- sending ------------------------------------------------------------------------------------
    def start(self, path: str, authority: str) -> None:
        """Send the connection preface, our settings and the call's request headers."""
        headers = hpack.Encoder().encode(
            [
                (":method", "POST"),
                (":scheme", "http"),
                (":path", path),
                (":authority", authority),
                ("content-type", "application/grpc"),
                ("te", "trailers"),
                ("user-agent", "gx-devnet"),
            ],
            huffman=False,
        )
        settings = _SETTING.pack(_SETTINGS_ENABLE_PUSH, 0) + _SETTING.pack(
            _SETTINGS_INITIAL_WINDOW_SIZE, _MAX_WINDOW
        )
        self._write(
            _PREFACE
            + _frame(_SETTINGS, 0, 0, settings)
            + _frame(_WINDOW_UPDATE, 0, 0, _WINDOW_INCREMENT.pack(_MAX_WINDOW - _DEFAULT_WINDOW))
            + _frame(_HEADERS, _END_HEADERS, _STREAM_ID, headers)
        )

    def send(self, message: bytes) -> None:
        """Queue one message on the stream; written at once unless the server's window is closed."""
        if self.ended.done():
            return
        size = 5 + len(message)
        if (
            not self._pending
            and size <= self._max_frame
            and size <= self._send_connection
            and size <= self._send_stream
        ):
            self._send_connection -= size
            self._send_stream -= size
            self._write(
                _FRAME.pack(size << 8 | _DATA, 0, _STREAM_ID) + _MESSAGE.pack(0, len(message)) + message
            )
            return
        self._pending += _MESSAGE.pack(0, len(message))
        self._pending += message
        self._flush()

    def close(self) -> None:
        """Cancel the call (RST_STREAM CANCEL, as a gRPC client does) and close the connection."""
        if self._transport is not None:
            self._uncork()
            self._transport.write(_frame(_RST_STREAM, 0, _STREAM_ID, _WINDOW_INCREMENT.pack(_CANCEL)))
            self._transport.close()
            self._transport = None
        self._end("closed by devnet")

    def _flush(self) -> None:
        pending = self._pending
        while pending:
            chunk = min(len(pending), self._max_frame, self._send_connection, self._send_stream)
            if chunk <= 0:
                return
            self._send_connection -= chunk
            self._send_stream -= chunk
            self._write(_frame(_DATA, 0, _STREAM_ID, bytes(pending[:chunk])))
            del pending[:chunk]

    def _write(self, data: bytes) -> None:
        if self._corked is not None:
            self._corked.append(data)
        elif self._transport is not None:
            self._transport.write(data)

    def _uncork(self) -> None:
        corked, self._corked = self._corked, None
        if corked and self._transport is not None:
            self._transport.write(corked[0] if len(corked) == 1 else b"".join(corked))

    # -- receiving ----------------------------------------------------------------------------------
    def _frame(self, kind: int, flags: int, stream_id: int, payload: bytes) -> None:
        if kind == _DATA:
            self._data(flags, stream_id, payload)
        elif kind in (_HEADERS, _CONTINUATION):
            self._headers(kind, flags, stream_id, payload)
        elif kind == _SETTINGS:
            if stream_id != 0 or (not flags & _ACK and len(payload) % 6):
                raise StreamProtocolError("malformed SETTINGS frame")
            if not flags & _ACK:
                self._settings(payload)
        elif kind == _PING:
            if not flags & _ACK:
                self._write(_frame(_PING, _ACK, 0, payload))
        elif kind == _WINDOW_UPDATE:
            increment = _WINDOW_INCREMENT.unpack_from(payload)[0] & 0x7FFFFFFF
            if stream_id == 0:
                self._send_connection += increment
            elif stream_id == _STREAM_ID:
                self._send_stream += increment
            self._flush()
        elif kind == _RST_STREAM:
            if stream_id == _STREAM_ID:
                code = _WINDOW_INCREMENT.unpack_from(payload)[0]
                self._fail(f"the chaincode reset the stream (HTTP/2 error {code})")
        elif kind == _GOAWAY:
            last_stream = _WINDOW_INCREMENT.unpack_from(payload)[0] & 0x7FFFFFFF
            code = _WINDOW_INCREMENT.unpack_from(payload, 4)[0]
            # A graceful GOAWAY (last stream >= ours) lets our stream run to its end; otherwise it is gone.
            if last_stream < _STREAM_ID:
                self._fail(f"the chaincode server went away (HTTP/2 error {code})")
        elif kind == _PUSH_PROMISE:
            raise StreamProtocolError("PUSH_PROMISE although push is disabled")
        # PRIORITY and unknown frame types are ignored, as RFC 9113 §4.1 and §5.3.2 require.

    def _data(self, flags: int, stream_id: int, payload: bytes) -> None:
        self._unacknowledged += len(payload)
        if self._unacknowledged >= _TOP_UP_AT:
            increment = _WINDOW_INCREMENT.pack(self._unacknowledged)
            self._write(
                _frame(_WINDOW_UPDATE, 0, 0, increment) + _frame(_WINDOW_UPDATE, 0, _STREAM_ID, increment)
            )
            self._unacknowledged = 0
        if stream_id != _STREAM_ID:
            return
        if flags & _PADDED:
            payload = payload[1 : len(payload) - payload[0]]
        if self._partial:
            self._partial += payload
            buffer: bytes | bytearray = self._partial
        else:
            buffer = payload
        pos = 0
        size = len(buffer)
        while size - pos >= 5:
            compressed, length = _MESSAGE.unpack_from(buffer, pos)
            if size - pos - 5 < length:
                break
            if compressed:
                raise StreamProtocolError("a compressed message, but no message encoding was negotiated")
            self._on_message(bytes(buffer[pos + 5 : pos + 5 + length]))
            pos += 5 + length
            if self.ended.done():
                return
        if buffer is self._partial:
            del self._partial[:pos]
        elif pos < size:
            self._partial += buffer[pos:]
        if flags & _END_STREAM:
            self._fail("the chaincode ended the stream without trailers")

    def _headers(self, kind: int, flags: int, stream_id: int, payload: bytes) -> None:
        if kind == _HEADERS:
            if flags & _PADDED:
                payload = payload[1 : len(payload) - payload[0]]
            if flags & _PRIORITY_FLAG:
                payload = payload[5:]
            self._block = bytearray(payload)
            self._block_ends_stream = bool(flags & _END_STREAM)
        else:
            self._block += payload
        if not flags & _END_HEADERS:
            return
        # Every header block goes through the decoder, in order: HPACK's table is per connection.
        try:
            fields = {str(name): str(value) for name, value in self._decoder.decode(bytes(self._block))}
        except hpack.HPACKError as exc:
            raise StreamProtocolError(f"undecodable header block: {exc}") from exc
        if stream_id != _STREAM_ID:
            return
        if not self._headers_seen and not self._block_ends_stream:
            self._headers_seen = True
            if fields.get(":status") != "200" or not fields.get("content-type", "").startswith(
                "application/grpc"
            ):
                raise StreamProtocolError(
                    f"not a gRPC response: :status {fields.get(':status')}, "
                    f"content-type {fields.get('content-type')}"
                )
            return
        if self._block_ends_stream:
            self._fail(
                f"the chaincode ended the call: grpc-status {fields.get('grpc-status', '?')} "
                f"{fields.get('grpc-message', '')}".rstrip()
            )

    def _settings(self, payload: bytes) -> None:
        for pos in range(0, len(payload), 6):
            ident, value = _SETTING.unpack_from(payload, pos)
            if ident == _SETTINGS_INITIAL_WINDOW_SIZE:
                # RFC 9113 §6.9.2: a new initial window shifts every open stream's window by the difference.
                self._send_stream += value - self._peer_initial_window
                self._peer_initial_window = value
            elif ident == _SETTINGS_MAX_FRAME_SIZE:
                self._max_frame = value
        self._write(_frame(_SETTINGS, _ACK, 0, b""))
        self._flush()

    # -- ending -------------------------------------------------------------------------------------
    def _fail(self, reason: str) -> None:
        self._corked = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        self._end(reason)

    def _end(self, reason: str) -> None:
        if not self.ended.done():
            self.ended.set_result(reason)


def _frame(kind: int, flags: int, stream_id: int, payload: bytes) -> bytes:
    return _FRAME.pack(len(payload) << 8 | kind, flags, stream_id) + payload


async def open_stream(
    host: str, port: int, path: str, on_message: Callable[[bytes], None], *, authority: str = ""
) -> GrpcStream:
    """Connect to a gRPC server and start the streaming call ``path`` (``/package.Service/Method``).

    Raises:
        OSError: when the connection cannot be made.
    """
    loop = asyncio.get_running_loop()
    _, stream = await loop.create_connection(lambda: GrpcStream(on_message), host, port)
    stream.start(path, authority or f"{host}:{port}")
    return stream


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` to (host, port)."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)
