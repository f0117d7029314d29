"""One HTTP/2 connection of the lane: frames in, a task per unary call, each response in one write.

Every frame that arrived in one `data_received` is handled in that callback; what the connection
writes while handling them (acks, window updates, refusals) goes out as one write at its end.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

import grpc

from services.common.lane import frames as f
from services.common.lane.context import LaneContext, Metadata
from services.common.lane.hpack_decode import HeaderDecoder, HpackError

_log = logging.getLogger("gx.lane")

# Receive flow control. A stream's window starts at the maximum: it carries one request message,
# capped by max_message_bytes, and never needs an update. The connection's window bounds what a
# peer can make us hold in request bodies not yet handed to a call (Envoy's are at most 64 KiB each);
# it is given back as bodies are consumed, once half of it is.
_CONNECTION_WINDOW = 64 * 1024 * 1024
_TOP_UP_AT = _CONNECTION_WINDOW // 2
MAX_CONCURRENT_STREAMS = 1000
# Request headers that are HTTP/2's or gRPC's own, not call metadata (grpc.aio leaves them out too).
_NOT_METADATA = frozenset({"te", "content-type", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding"})
_STREAMING_REFUSED = "streaming calls are served on the gRPC port"
_ONE_MESSAGE = "a unary call needs exactly one request message"
_DRAIN_PING = b"gx-drain"
# An encoded request header block larger than this ends the connection (decoded, 64 KiB is the cap).
_MAX_HEADER_BLOCK = 256 * 1024


class _Stream:
    __slots__ = (
        "answered",
        "body",
        "context",
        "ended",
        "expired",
        "id",
        "metadata",
        "path",
        "pending",
        "pending_end",
        "send_window",
        "task",
        "timeout",
        "timer",
    )

    def __init__(self, stream_id: int, send_window: int) -> None:
        self.id = stream_id
        self.path = ""
        self.metadata: Metadata = ()
        self.timeout: float | None = None
        self.body = bytearray()
        self.ended = False  # the client half-closed (END_STREAM seen)
        self.answered = False  # the response (or a refusal) is written or queued
        self.send_window = send_window
        self.pending = b""  # response DATA payload waiting for window
        self.pending_end = b""  # the trailers block frames that follow it
        self.task: asyncio.Task[None] | None = None
        self.context: LaneContext | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.expired = False


Listener = Callable[["LaneConnection", str], None]


class LaneConnection(asyncio.Protocol):
    """The server end of one h2c connection (prior knowledge, as Envoy and gRPC clients speak it).

    Args:
        methods: Full method name -> wrapped handler, read at each call.
        max_message_bytes: A bigger request message is answered RESOURCE_EXHAUSTED.
        on_event: Told `"open"`, `"closed"` and `"protocol_error"` (the server's bookkeeping and metrics).
    """

    def __init__(
        self, methods: Mapping[str, grpc.RpcMethodHandler], max_message_bytes: int, on_event: Listener
    ) -> None:
        self._methods = methods
        self._max_message = max_message_bytes
        self._on_event = on_event
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._peer = ""
        self._inbox = bytearray()
        self._preface = False
        self._settings_seen = False
        self._streams: dict[int, _Stream] = {}
        self._last_stream = 0
        self._send_connection = f.DEFAULT_WINDOW
        self._peer_initial_window = f.DEFAULT_WINDOW
        self._max_frame = f.DEFAULT_MAX_FRAME
        self._received = 0  # consumed since the last WINDOW_UPDATE we sent
        self._receive_window = _CONNECTION_WINDOW  # what the peer may still send
        self._decoder = HeaderDecoder()
        self._block = bytearray()
        self._block_stream = 0
        self._block_flags = 0
        self._table_reset = False
        self._corked: list[bytes] | None = None
        self._going_away = False  # the last stream id we take is fixed: newer ones are refused
        self._draining = False  # the first GOAWAY of a graceful stop went out
        self.closed: asyncio.Future[None] = self._loop.create_future()

    # -- asyncio.Protocol ---------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A cast, not an isinstance check: uvloop's TCP transport is not an asyncio.Transport subclass.
        self._transport = cast(asyncio.Transport, transport)
        self._peer = _format_peer(transport.get_extra_info("peername"))
        settings = (
            f.SETTING.pack(f.SETTINGS_MAX_CONCURRENT_STREAMS, MAX_CONCURRENT_STREAMS)
            + f.SETTING.pack(f.SETTINGS_INITIAL_WINDOW_SIZE, f.MAX_WINDOW)
            + f.SETTING.pack(f.SETTINGS_ENABLE_PUSH, 0)
        )
        self._transport.write(
            f.frame(f.SETTINGS, 0, 0, settings)
            + f.frame(f.WINDOW_UPDATE, 0, 0, f.WORD.pack(_CONNECTION_WINDOW - f.DEFAULT_WINDOW))
        )
        self._on_event(self, "open")

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        for stream in list(self._streams.values()):
            self._drop(stream, cancel=True)
        if not self.closed.done():
            self.closed.set_result(None)
        self._on_event(self, "closed")

    def data_received(self, data: bytes) -> None:
        inbox = self._inbox
        inbox += data
        pos = 0
        self._corked = []
        try:
            if not self._preface:
                if len(inbox) < len(f.PREFACE):
                    if not f.PREFACE.startswith(bytes(inbox)):
                        raise f.ProtocolError("not an HTTP/2 connection preface")
                    return
                if inbox[: len(f.PREFACE)] != f.PREFACE:
                    raise f.ProtocolError("not an HTTP/2 connection preface")
                self._preface = True
                pos = len(f.PREFACE)
            size = len(inbox)
            while size - pos >= 9 and self._transport is not None:
                word, flags, stream_id = f.FRAME.unpack_from(inbox, pos)
                length = word >> 8
                if length > f.DEFAULT_MAX_FRAME:
                    raise f.ProtocolError(f"a {length}-byte frame exceeds our frame size", f.FRAME_SIZE_ERROR)
                end = pos + 9 + length
                if end > size:
                    break
                payload = bytes(inbox[pos + 9 : end])
                pos = end
                self._frame(word & 0xFF, flags, stream_id & 0x7FFFFFFF, payload)
        except f.ProtocolError as exc:
            self._protocol_error(str(exc), exc.code)
        except Exception as exc:  # a bug here must end this connection, never the process
            _log.exception("lane: handling a frame failed")
            self._protocol_error(f"frame handling failed: {exc}", f.INTERNAL_ERROR)
        finally:
            self._uncork()
        del inbox[:pos]

    # -- server side --------------------------------------------------------------------------------
    def go_away(self) -> None:
        """Stop taking new calls, gracefully; the connection closes once the calls taken are done.

        Two GOAWAYs, as gRPC servers send them: the first names the highest stream id possible and
        comes with a PING, so calls the peer sent before it saw the GOAWAY are still served; once the
        PING's ack shows everything sent before it has arrived, the second names the last call taken.
        """
        if self._transport is None or self._going_away or self._draining:
            return
        self._draining = True
        self._write(
            f.frame(f.GOAWAY, 0, 0, f.TWO_WORDS.pack(f.MAX_WINDOW, f.NO_ERROR))
            + f.frame(f.PING, 0, 0, _DRAIN_PING)
        )

    def _drained(self) -> None:
        """The peer acknowledged the drain PING: whatever it sent before the first GOAWAY is here."""
        self._going_away = True
        self._write(f.frame(f.GOAWAY, 0, 0, f.TWO_WORDS.pack(self._last_stream, f.NO_ERROR)))
        self._close_if_idle()

    def abort_calls(self) -> None:
        """Cancel every call still running and close the connection (the grace is over)."""
        for stream in list(self._streams.values()):
            self._drop(stream, cancel=True)
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    # -- writing ------------------------------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        if self._corked is not None:
            self._corked.append(data)
        elif self._transport is not None:
            # A call's answer goes out as soon as it is ready, one write each. Holding the answers
            # that end in one turn of the loop for a single write at its end saved sends but made
            # Envoy wait for the whole batch: the calls in flight then moved through Envoy, the
            # wallet and PostgreSQL as one convoy, each stage idle while another worked. A 20-row
            # history page at 16 in flight: 1,865/s with 39% of the machine idle held back,
            # 2,224-2,321/s sent at once, for about 0.03 ms more CPU per call on each side.
            self._transport.write(data)

    def _uncork(self) -> None:
        corked, self._corked = self._corked, None
        if corked and self._transport is not None:
            self._transport.write(corked[0] if len(corked) == 1 else b"".join(corked))

    def _protocol_error(self, message: str, code: int) -> None:
        self._corked = None
        self._on_event(self, "protocol_error")
        _log.warning("lane: closing a connection from %s: %s", self._peer, message)
        if self._transport is not None:
            self._transport.write(f.frame(f.GOAWAY, 0, 0, f.TWO_WORDS.pack(self._last_stream, code)))
            self._transport.close()
            self._transport = None

    def _close_if_idle(self) -> None:
        if self._going_away and not self._streams and self._transport is not None:
            self._uncork()
            self._transport.close()
            self._transport = None

    # -- frames -------------------------------------------------------------------------------------
    def _frame(self, kind: int, flags: int, stream_id: int, payload: bytes) -> None:
        if self._block_stream and kind != f.CONTINUATION:
            raise f.ProtocolError("a header block was interrupted by another frame")
        if not self._settings_seen:
            if kind != f.SETTINGS or flags & f.ACK:
                raise f.ProtocolError("the connection did not start with SETTINGS")
            self._settings_seen = True
        if kind == f.DATA:
            self._data(flags, stream_id, payload)
        elif kind == f.HEADERS:
            if stream_id == 0:
                raise f.ProtocolError("HEADERS on stream 0")
            if flags & f.PADDED:
                if not payload or payload[0] >= len(payload):
                    raise f.ProtocolError("bad padding")
                payload = payload[1 : len(payload) - payload[0]]
            if flags & f.PRIORITY_FLAG:
                payload = payload[5:]
            self._block = bytearray(payload)
            self._block_stream = stream_id
            self._block_flags = flags
            if flags & f.END_HEADERS:
                self._header_block()
        elif kind == f.CONTINUATION:
            if stream_id == 0 or stream_id != self._block_stream:
                raise f.ProtocolError("CONTINUATION without its HEADERS")
            self._block += payload
            if len(self._block) > _MAX_HEADER_BLOCK:
                raise f.ProtocolError("a header block without end", f.ENHANCE_YOUR_CALM)
            if flags & f.END_HEADERS:
                self._header_block()
        elif kind == f.SETTINGS:
            if stream_id != 0 or len(payload) % 6 or (flags & f.ACK and payload):
                raise f.ProtocolError("malformed SETTINGS frame", f.FRAME_SIZE_ERROR)
            if not flags & f.ACK:
                self._settings(payload)
        elif kind == f.PING:
            if stream_id != 0 or len(payload) != 8:
                raise f.ProtocolError("malformed PING frame", f.FRAME_SIZE_ERROR)
            if not flags & f.ACK:
                self._write(f.frame(f.PING, f.ACK, 0, payload))
            elif payload == _DRAIN_PING and self._draining and not self._going_away:
                self._drained()
        elif kind == f.WINDOW_UPDATE:
            self._window_update(stream_id, payload)
        elif kind == f.RST_STREAM:
            if stream_id == 0 or len(payload) != 4:
                raise f.ProtocolError("malformed RST_STREAM frame")
            stream = self._streams.get(stream_id)
            if stream is not None:
                if stream.context is not None:
                    stream.context.cancelled_flag = True
                self._drop(stream, cancel=True)
            elif stream_id > self._last_stream:
                raise f.ProtocolError("RST_STREAM on an idle stream")
        elif kind == f.GOAWAY:
            # The client takes no new calls here; the ones running finish, then the connection closes.
            self._going_away = True
            self._close_if_idle()
        elif kind == f.PUSH_PROMISE:
            raise f.ProtocolError("PUSH_PROMISE from a client")
        elif kind == f.PRIORITY:
            if len(payload) != 5:
                raise f.ProtocolError("malformed PRIORITY frame", f.FRAME_SIZE_ERROR)
        # Unknown frame types are ignored (RFC 9113 §4.1).

    def _settings(self, payload: bytes) -> None:
        for pos in range(0, len(payload), 6):
            ident, value = f.SETTING.unpack_from(payload, pos)
            if ident == f.SETTINGS_INITIAL_WINDOW_SIZE:
                if value > f.MAX_WINDOW:
                    raise f.ProtocolError("initial window too large", f.FLOW_CONTROL_ERROR)
                # RFC 9113 §6.9.2: a new initial window shifts every open stream's window by the difference.
                delta = value - self._peer_initial_window
                self._peer_initial_window = value
                for stream in self._streams.values():
                    stream.send_window += delta
            elif ident == f.SETTINGS_MAX_FRAME_SIZE:
                if not f.DEFAULT_MAX_FRAME <= value <= 2**24 - 1:
                    raise f.ProtocolError("invalid max frame size")
                self._max_frame = value
        self._write(f.frame(f.SETTINGS, f.ACK, 0))
        self._flush_all()

    def _window_update(self, stream_id: int, payload: bytes) -> None:
        if len(payload) != 4:
            raise f.ProtocolError("malformed WINDOW_UPDATE frame", f.FRAME_SIZE_ERROR)
        increment = f.WORD.unpack(payload)[0] & 0x7FFFFFFF
        if stream_id == 0:
            if increment == 0:
                raise f.ProtocolError("zero WINDOW_UPDATE")
            self._send_connection += increment
            if self._send_connection > f.MAX_WINDOW:
                raise f.ProtocolError("connection window overflow", f.FLOW_CONTROL_ERROR)
            self._flush_all()
            return
        stream = self._streams.get(stream_id)
        if stream is not None:
            stream.send_window += increment
            self._flush(stream)

    def _consumed(self, size: int) -> None:
        """`size` bytes of DATA are no longer held: give them back to the peer once enough are."""
        self._received += size
        if self._received >= _TOP_UP_AT:
            self._write(f.frame(f.WINDOW_UPDATE, 0, 0, f.WORD.pack(self._received)))
            self._receive_window += self._received
            self._received = 0

    def _data(self, flags: int, stream_id: int, payload: bytes) -> None:
        size = len(payload)
        self._receive_window -= size
        if self._receive_window < 0:
            raise f.ProtocolError("DATA beyond the connection's window", f.FLOW_CONTROL_ERROR)
        if stream_id == 0:
            raise f.ProtocolError("DATA on stream 0")
        stream = self._streams.get(stream_id)
        if stream is None or stream.ended:
            if stream_id > self._last_stream:
                raise f.ProtocolError("DATA on an idle stream")
            self._consumed(size)
            return  # a stream we already answered or reset: what was in flight is dropped
        if flags & f.PADDED:
            if not payload or payload[0] >= len(payload):
                raise f.ProtocolError("bad padding")
            payload = payload[1 : len(payload) - payload[0]]
        if stream.answered:
            self._consumed(size)
        else:
            self._consumed(size - len(payload))  # padding
            body = stream.body
            body += payload
            if len(body) >= 5:
                compressed, length = f.MESSAGE.unpack_from(body)
                if compressed:
                    self._refuse(stream, grpc.StatusCode.INTERNAL, "compressed message but no grpc-encoding")
                elif length > self._max_message:
                    self._refuse(
                        stream,
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        f"Received message larger than max ({length} vs. {self._max_message})",
                    )
                elif len(body) > 5 + length:
                    self._refuse(stream, grpc.StatusCode.INTERNAL, _ONE_MESSAGE)
        if flags & f.END_STREAM:
            stream.ended = True
            if not stream.answered:
                self._start_call(stream)
            elif stream.task is None and not stream.pending_end:
                self._forget(stream)

    def _header_block(self) -> None:
        stream_id, flags, block = self._block_stream, self._block_flags, bytes(self._block)
        self._block_stream = 0
        self._block = bytearray()
        # Every block goes through the decoder, in order: HPACK's dynamic table is per connection.
        try:
            fields = self._decoder.decode(block)
        except HpackError as exc:
            raise f.ProtocolError(f"undecodable header block: {exc}", f.COMPRESSION_ERROR) from exc
        stream = self._streams.get(stream_id)
        if stream is not None:  # trailers from the client: they must end its half of the stream
            if not flags & f.END_STREAM or stream.ended:
                raise f.ProtocolError("a second header block that does not end the stream")
            stream.ended = True
            if not stream.answered:
                self._start_call(stream)
            return
        if stream_id % 2 == 0 or stream_id <= self._last_stream:
            if stream_id <= self._last_stream:
                return  # trailers of a stream we already finished
            raise f.ProtocolError(f"a client stream with an even id {stream_id}")
        self._last_stream = stream_id
        if self._going_away or len(self._streams) >= MAX_CONCURRENT_STREAMS:
            self._write(f.frame(f.RST_STREAM, 0, stream_id, f.WORD.pack(f.REFUSED_STREAM)))
            return
        stream = _Stream(stream_id, self._peer_initial_window)
        stream.ended = bool(flags & f.END_STREAM)
        self._streams[stream_id] = stream
        self._request_headers(stream, fields)
        if stream.ended and not stream.answered:
            self._start_call(stream)

    def _request_headers(self, stream: _Stream, fields: Iterable[Any]) -> None:
        metadata: list[tuple[str, str | bytes]] = []
        method = content_type = encoding = ""
        for name, value in fields:
            if name[0] == ":":
                if name == ":path":
                    stream.path = value
                elif name == ":method":
                    method = value
            elif name in _NOT_METADATA:
                if name == "content-type":
                    content_type = value
                elif name == "grpc-timeout":
                    stream.timeout = f.parse_timeout(value)
                elif name == "grpc-encoding":
                    encoding = value
            elif name.endswith("-bin"):
                try:
                    metadata.append((name, f.decode_binary(value)))
                except ValueError:
                    self._refuse(stream, grpc.StatusCode.INTERNAL, f"undecodable binary header {name}")
                    return
            else:
                metadata.append((name, value))
        stream.metadata = tuple(metadata)
        if method != "POST" or not content_type.startswith("application/grpc"):
            # Not a gRPC request: an HTTP status, as gRPC servers answer one (PROTOCOL-HTTP2.md).
            status = f.literal(b":status", b"405" if method != "POST" else b"415")
            self._answer(stream, f.header_frames(stream.id, self._head(status), True, self._max_frame))
            return
        if encoding and encoding != "identity":
            self._refuse(
                stream,
                grpc.StatusCode.UNIMPLEMENTED,
                f"grpc-encoding {encoding} is not supported",
                (("grpc-accept-encoding", "identity"),),
            )

    # -- calls --------------------------------------------------------------------------------------
    def _start_call(self, stream: _Stream) -> None:
        handler = self._methods.get(stream.path)
        if handler is None:
            self._refuse(stream, grpc.StatusCode.UNIMPLEMENTED, "Method not found!")
            return
        if handler.request_streaming or handler.response_streaming:
            self._refuse(stream, grpc.StatusCode.UNIMPLEMENTED, _STREAMING_REFUSED)
            return
        body = stream.body
        if len(body) < 5 or f.MESSAGE.unpack_from(body)[1] != len(body) - 5:
            self._refuse(stream, grpc.StatusCode.INTERNAL, _ONE_MESSAGE)
            return
        try:
            deserialize = handler.request_deserializer
            request = deserialize(bytes(body[5:])) if deserialize is not None else bytes(body[5:])
        except Exception:
            self._refuse(stream, grpc.StatusCode.INTERNAL, "Failed to deserialize request")
            return
        stream.body = bytearray()
        self._consumed(len(body))
        deadline = None if stream.timeout is None else self._loop.time() + stream.timeout
        context = LaneContext(stream.metadata, self._peer, deadline, self._loop)
        stream.context = context
        stream.task = self._loop.create_task(self._call(stream, handler, request, context))
        if deadline is not None:
            stream.timer = self._loop.call_at(deadline, self._expire, stream)

    async def _call(
        self, stream: _Stream, handler: grpc.RpcMethodHandler, request: Any, context: LaneContext
    ) -> None:
        try:
            response = await handler.unary_unary(request, context)
            serialize = handler.response_serializer
            message = serialize(response) if serialize is not None else response
        except grpc.aio.AbortError:
            self._respond(stream, context, None)
        except asyncio.CancelledError:
            if stream.expired:
                self._respond(stream, context, None)
            # A reset stream or a closed connection: nobody is left to answer.
        except Exception as exc:
            _log.error("lane: %s failed outside the call chain", stream.path, exc_info=exc)
            context.set_code(grpc.StatusCode.UNKNOWN)
            context.set_details(f"Unexpected {type(exc)}: {exc}")
            self._respond(stream, context, None)
        else:
            self._respond(stream, context, message)
        finally:
            stream.task = None
            if stream.timer is not None:
                stream.timer.cancel()
                stream.timer = None
            if not stream.pending_end and (stream.ended or not stream.answered):
                self._forget(stream)

    def _expire(self, stream: _Stream) -> None:
        stream.timer = None
        stream.expired = True
        if stream.context is not None:
            stream.context.cancelled_flag = True
            # Set before the cancel, so the chain's metrics and log line say DEADLINE_EXCEEDED.
            stream.context.set_code(grpc.StatusCode.DEADLINE_EXCEEDED)
            stream.context.set_details("Deadline Exceeded")
        if stream.task is not None:
            stream.task.cancel()

    # -- responses ----------------------------------------------------------------------------------
    def _head(self, fields: bytes) -> bytes:
        if self._table_reset:
            return fields
        self._table_reset = True
        return f.TABLE_SIZE_ZERO + fields

    def _respond(self, stream: _Stream, context: LaneContext, message: bytes | None) -> None:
        if stream.answered or self._transport is None or stream.id not in self._streams:
            return
        code = context.code()
        status = code.value[0] if isinstance(code, grpc.StatusCode) else grpc.StatusCode.OK.value[0]
        trailers = f.status_field(status)
        details = context.details()
        if details:
            trailers += f.literal(b"grpc-message", f.percent_encode(details))
        trailing = context.trailing_metadata()
        if trailing:
            trailers += f.metadata_fields(trailing)
        head = f.RESPONSE_HEAD
        if context.initial:
            head += f.metadata_fields(context.initial)
        context.finished = True
        if message is None:
            self._answer(
                stream, f.header_frames(stream.id, self._head(head + trailers), True, self._max_frame)
            )
            return
        payload = f.MESSAGE.pack(0, len(message)) + message
        headers = f.header_frames(stream.id, self._head(head), False, self._max_frame)
        end = f.header_frames(stream.id, trailers, True, self._max_frame)
        size = len(payload)
        if size <= self._max_frame and size <= self._send_connection and size <= stream.send_window:
            self._send_connection -= size
            stream.send_window -= size
            self._answer(stream, headers + f.FRAME.pack(size << 8 | f.DATA, 0, stream.id) + payload + end)
            return
        stream.answered = True
        self._write(headers)
        stream.pending = payload
        stream.pending_end = end
        self._flush(stream)

    def _refuse(
        self,
        stream: _Stream,
        code: grpc.StatusCode,
        details: str,
        metadata: tuple[tuple[str, str | bytes], ...] = (),
    ) -> None:
        """A trailers-only answer before (or instead of) the call; the request's rest is dropped."""
        block = (
            f.RESPONSE_HEAD
            + f.status_field(code.value[0])
            + f.literal(b"grpc-message", f.percent_encode(details))
        )
        if metadata:
            block += f.metadata_fields(metadata)
        if stream.body:
            self._consumed(len(stream.body))
            stream.body = bytearray()
        self._answer(stream, f.header_frames(stream.id, self._head(block), True, self._max_frame))

    def _answer(self, stream: _Stream, data: bytes) -> None:
        """Write a whole response; the stream is done unless the client is still sending."""
        stream.answered = True
        if not stream.ended:
            # We answered before the request ended: tell the client to stop sending (PROTOCOL-HTTP2.md).
            data += f.frame(f.RST_STREAM, 0, stream.id, f.WORD.pack(f.NO_ERROR))
            stream.ended = True
        self._write(data)
        if stream.task is None:
            self._forget(stream)

    def _flush(self, stream: _Stream) -> None:
        """Send what the windows allow of a response that did not fit; then its trailers."""
        pending = stream.pending
        parts = []
        pos = 0
        while pos < len(pending):
            chunk = min(len(pending) - pos, self._max_frame, self._send_connection, stream.send_window)
            if chunk <= 0:
                break
            self._send_connection -= chunk
            stream.send_window -= chunk
            parts.append(f.frame(f.DATA, 0, stream.id, pending[pos : pos + chunk]))
            pos += chunk
        stream.pending = pending[pos:]
        if not stream.pending and stream.pending_end:
            parts.append(stream.pending_end)
            stream.pending_end = b""
            if not stream.ended:
                parts.append(f.frame(f.RST_STREAM, 0, stream.id, f.WORD.pack(f.NO_ERROR)))
                stream.ended = True
            if stream.task is None:
                self._forget(stream)
        if parts:
            self._write(b"".join(parts))

    def _flush_all(self) -> None:
        for stream in list(self._streams.values()):
            if stream.pending_end:
                self._flush(stream)

    def _drop(self, stream: _Stream, *, cancel: bool) -> None:
        if cancel and stream.task is not None:
            stream.task.cancel()
        if stream.timer is not None:
            stream.timer.cancel()
            stream.timer = None
        stream.pending = stream.pending_end = b""
        stream.answered = stream.ended = True
        if stream.body:
            self._consumed(len(stream.body))
            stream.body = bytearray()
        self._forget(stream)

    def _forget(self, stream: _Stream) -> None:
        self._streams.pop(stream.id, None)
        self._close_if_idle()


def _format_peer(name: Any) -> str:
    """grpc.aio's peer string: `ipv4:1.2.3.4:5` / `ipv6:[::1]:5` (a Unix socket: `unix:path`)."""
    if isinstance(name, tuple) and len(name) >= 2:
        host, port = name[0], name[1]
        return f"ipv6:[{host}]:{port}" if ":" in host else f"ipv4:{host}:{port}"
    return f"unix:{name}" if name else "unknown"
