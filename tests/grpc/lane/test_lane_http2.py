"""The lane's HTTP/2 and gRPC framing, driven frame by frame by an independent HTTP/2 client (`h2`)."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import grpc
import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import hpack
import pytest
from prometheus_client import REGISTRY

from tests.grpc.common.runtime_test_proto import SERVICE, EchoResponse
from tests.grpc.lane.conftest import Lane, close_lane, request, start_lane


def call_headers(
    method: str, *extra: tuple[str, str], content_type: str = "application/grpc"
) -> list[tuple[str, str]]:
    """A call's request headers for `method` of the test service, then `extra`."""
    return [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", f"/{SERVICE}/{method}"),
        (":authority", "lane"),
        ("content-type", content_type),
        *extra,
    ]


class RawClient:
    """One h2c connection; the test decides every frame, and h2 checks the lane's."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, window: int | None
    ) -> None:
        self.reader = reader
        self.writer = writer
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        if window is not None:
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.events: list[Any] = []
        self.flush()

    @classmethod
    async def open(cls, lane: Lane, window: int | None = None) -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", lane.port)
        return cls(reader, writer, window)

    def flush(self) -> None:
        self.writer.write(self.conn.data_to_send())

    def call(
        self,
        method: str,
        message: bytes,
        extra: tuple[tuple[str, str], ...] = (),
        *,
        flag: int = 0,
        **kw: Any,
    ) -> int:
        stream_id: int = self.conn.get_next_available_stream_id()
        self.conn.send_headers(stream_id, call_headers(method, ("te", "trailers"), *extra), **kw)
        self.conn.send_data(stream_id, struct.pack(">BI", flag, len(message)) + message, end_stream=True)
        self.flush()
        return stream_id

    async def read(self) -> list[Any]:
        data = await asyncio.wait_for(self.reader.read(65536), 10)
        if not data:
            raise ConnectionResetError("closed")
        events = self.conn.receive_data(data)
        self.flush()
        self.events += events
        return events

    async def answer(self, stream_id: int) -> tuple[dict[str, str], bytes, dict[str, str]]:
        """Headers, body and trailers of one stream (a trailers-only answer: its headers twice, no body)."""
        headers: dict[str, str] = {}
        body = bytearray()
        seen = 0
        while True:
            mine = [e for e in self.events if getattr(e, "stream_id", None) == stream_id]
            for event in mine[seen:]:
                if isinstance(event, h2.events.ResponseReceived):
                    headers = dict(event.headers)
                elif isinstance(event, h2.events.DataReceived):
                    body += event.data
                    self.conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
                    self.flush()
                elif isinstance(event, h2.events.TrailersReceived):
                    return headers, bytes(body), dict(event.headers)
                elif isinstance(event, h2.events.StreamEnded) and not body and "grpc-status" in headers:
                    return headers, b"", headers
            seen = len(mine)
            await self.read()

    def close(self) -> None:
        self.writer.close()


async def test_a_response_bigger_than_the_window_waits_for_window_updates(running: Lane) -> None:
    client = await RawClient.open(running)
    stream_id = client.call("PublicEcho", request(name="ww").SerializeToString(), (("x-ignored", "1"),))
    headers, body, trailers = await client.answer(stream_id)
    assert headers[":status"] == "200" and trailers["grpc-status"] == "0"
    assert EchoResponse.FromString(body[5:]).message == "public ww"

    # Echo's 300 kB answer against the default 65,535-byte windows: h2 raises if the lane ever sends
    # more than a window allows, and the answer only completes if the lane resumes on WINDOW_UPDATE
    # (h2 sends one only once half a window has been read).
    stream_id = client.call(
        "Echo", request(name="ww", mode="big:300000").SerializeToString(), running.token()
    )
    headers, body, trailers = await client.answer(stream_id)
    assert trailers["grpc-status"] == "0"
    assert EchoResponse.FromString(body[5:]).message == "r" * 300_000
    client.close()


async def test_the_server_deadline_answers_deadline_exceeded(running: Lane) -> None:
    client = await RawClient.open(running)
    message = request(name="late", mode="slow").SerializeToString()
    stream_id = client.call("Echo", message, (*running.token(), ("grpc-timeout", "150m")))
    _headers, body, trailers = await client.answer(stream_id)
    assert trailers["grpc-status"] == str(grpc.StatusCode.DEADLINE_EXCEEDED.value[0])
    assert body == b""
    assert running.seen.cancelled == 1
    # The chain counted the call as what the client was told.
    handled = running.registry.get_sample_value(
        "grpc_server_handled_total",
        {
            "grpc_type": "unary",
            "grpc_service": SERVICE,
            "grpc_method": "Echo",
            "grpc_code": "DEADLINE_EXCEEDED",
        },
    )
    assert handled == 1
    client.close()


async def test_padding_priority_continuation_and_ping_are_understood(running: Lane) -> None:
    client = await RawClient.open(running)
    client.conn.update_settings({h2.settings.SettingCodes.MAX_FRAME_SIZE: 16_384})
    # A header block too big for one frame (CONTINUATION), padded, with a priority, and padded DATA.
    big = (("x-big", "v" * 40_000),)
    stream_id = client.conn.get_next_available_stream_id()
    client.conn.send_headers(
        stream_id, call_headers("Echo", *running.token(), *big, content_type="application/grpc+proto")
    )
    message = request(name="pad").SerializeToString()
    client.conn.send_data(
        stream_id, struct.pack(">BI", 0, len(message)) + message, end_stream=True, pad_length=7
    )
    client.conn.ping(b"12345678")
    # Another call whose HEADERS carry a priority (and a PRIORITY frame of its own).
    prioritized = client.call("PublicEcho", message, priority_weight=200, priority_depends_on=0)
    client.conn.prioritize(prioritized, weight=10)
    client.flush()
    _, body, trailers = await client.answer(prioritized)
    assert trailers["grpc-status"] == "0" and EchoResponse.FromString(body[5:]).message == "public pad"
    _headers, body, trailers = await client.answer(stream_id)
    assert trailers["grpc-status"] == "0", trailers
    assert EchoResponse.FromString(body[5:]).message == "echo pad"
    assert dict(running.seen.metadata[-1])["x-big"] == "v" * 40_000
    assert any(
        isinstance(event, h2.events.PingAckReceived) and event.ping_data == b"12345678"
        for event in client.events
    )
    client.close()


async def test_a_compressed_flag_without_encoding_is_refused(running: Lane) -> None:
    client = await RawClient.open(running)
    stream_id = client.call("PublicEcho", request(name="z").SerializeToString(), flag=1)
    _, body, trailers = await client.answer(stream_id)
    assert body == b""
    assert trailers["grpc-status"] == str(grpc.StatusCode.INTERNAL.value[0])
    assert "compressed" in trailers["grpc-message"]
    client.close()


async def test_a_non_grpc_request_gets_an_http_status(running: Lane) -> None:
    client = await RawClient.open(running)
    stream_id = client.conn.get_next_available_stream_id()
    client.conn.send_headers(stream_id, call_headers("Echo", content_type="text/plain"), end_stream=True)
    client.flush()
    while True:
        events = await client.read()
        got = [e for e in events if isinstance(e, h2.events.ResponseReceived)]
        if got:
            assert dict(got[0].headers)[":status"] == "415"
            break
    client.close()


def _protocol_errors() -> float:
    return REGISTRY.get_sample_value("gx_lane_protocol_errors_total") or 0.0


async def test_garbage_instead_of_a_preface_closes_only_that_connection(running: Lane) -> None:
    before = _protocol_errors()
    reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: lane\r\n\r\n")
    rest = await asyncio.wait_for(reader.read(), 10)  # until the lane closes the connection
    assert b"HTTP/1.1 200" not in rest
    writer.close()
    assert _protocol_errors() == before + 1
    # A frame of an unknown size after a good preface: GOAWAY FRAME_SIZE_ERROR, then closed.
    client = await RawClient.open(running)
    client.writer.write(struct.pack(">IBI", (1 << 20) << 8 | 0, 0, 1))
    with pytest.raises((ConnectionResetError, h2.exceptions.ProtocolError)):
        for _ in range(10):
            events = await client.read()
            if any(isinstance(e, h2.events.ConnectionTerminated) for e in events):
                assert [e.error_code for e in events if isinstance(e, h2.events.ConnectionTerminated)] == [
                    h2.errors.ErrorCodes.FRAME_SIZE_ERROR
                ]
                raise ConnectionResetError("terminated")
    client.close()
    assert _protocol_errors() == before + 2
    # Everyone else is still served.
    assert (await running.echo("PublicEcho")(request(name="ok"), timeout=10)).message == "public ok"


async def test_stop_lets_a_call_finish_and_refuses_new_connections() -> None:
    lane = await start_lane()
    try:
        call = lane.echo()(request(name="last", mode="slow"), metadata=lane.token(), timeout=30)
        await asyncio.wait_for(lane.seen.started.wait(), 10)
        stopping = asyncio.create_task(lane.lane.stop(20))
        await asyncio.sleep(0.05)
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", lane.port)
        assert not stopping.done()  # the call in flight holds the drain
        lane.seen.release.set()
        assert (await call).message == "echo last"
        await asyncio.wait_for(stopping, 10)
        assert lane.seen.finished == 1 and lane.seen.cancelled == 0
    finally:
        await close_lane(lane)


async def test_stop_cancels_what_outlives_the_grace() -> None:
    lane = await start_lane()
    try:
        call = lane.echo()(request(name="stuck", mode="slow"), metadata=lane.token(), timeout=30)
        await asyncio.wait_for(lane.seen.started.wait(), 10)
        await asyncio.wait_for(lane.lane.stop(0.2), 10)
        with pytest.raises(grpc.aio.AioRpcError):
            await call
        assert lane.seen.cancelled == 1 and lane.seen.finished == 0
    finally:
        await close_lane(lane)


async def test_a_taken_address_is_an_oserror(running: Lane) -> None:
    from services.common.lane import UnaryLane

    with pytest.raises(OSError):
        await UnaryLane(running.methods, max_message_bytes=10).start(running.address)


async def test_the_connection_window_is_given_back_as_bodies_are_consumed(running: Lane) -> None:
    # 70 requests of 1 MB on one connection: more than the 64 MiB connection window the lane grants,
    # so they only all get through if the lane returns the window as it hands bodies to calls.
    mode = "size" + "x" * 1_000_000
    for _ in range(70):
        reply = await running.echo("Echo")(
            request(name="fc", mode=mode), metadata=running.token(), timeout=30
        )
        assert reply.message == str(len(mode))


async def test_bodies_held_past_the_connection_window_end_the_connection(running: Lane) -> None:
    # A peer that ignores flow control: 70 streams each holding 1 MB of an unfinished request.
    before = _protocol_errors()
    reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
    encoder = hpack.Encoder()
    writer.write(h2_preface())
    chunk = b"x" * 16_000
    try:
        for index in range(70):
            stream_id = 1 + 2 * index
            block = encoder.encode(call_headers("Echo"))
            writer.write(struct.pack(">IBI", len(block) << 8 | 1, 0x4, stream_id) + block)
            writer.write(struct.pack(">IBI", 5 << 8, 0, stream_id) + struct.pack(">BI", 0, 1_000_000))
            for _ in range(62):
                writer.write(struct.pack(">IBI", len(chunk) << 8, 0, stream_id) + chunk)
            await writer.drain()
    except ConnectionError:
        pass
    try:
        await asyncio.wait_for(reader.read(), 10)  # until the lane closes it
    except ConnectionError:
        pass
    writer.close()
    assert _protocol_errors() == before + 1
    assert (await running.echo("PublicEcho")(request(name="ok"), timeout=10)).message == "public ok"


def h2_preface() -> bytes:
    return b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + struct.pack(">IBI", 0 << 8 | 4, 0, 0)


class _Frames:
    """Raw frames both ways (an h2 connection refuses to open a stream once it has seen a GOAWAY)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.encoder, self.decoder = hpack.Encoder(), hpack.Decoder()

    def send(self, kind: int, flags: int, stream_id: int, payload: bytes) -> None:
        self.writer.write(struct.pack(">IBI", len(payload) << 8 | kind, flags, stream_id) + payload)

    def call(self, stream_id: int, method: str, message: bytes, token: tuple[tuple[str, str], ...]) -> None:
        block = self.encoder.encode(call_headers(method, *token))
        self.send(1, 0x4, stream_id, block)
        self.send(0, 0x1, stream_id, struct.pack(">BI", 0, len(message)) + message)

    async def next(self) -> tuple[int, int, int, Any]:
        head = await asyncio.wait_for(self.reader.readexactly(9), 10)
        word, flags, stream_id = struct.unpack(">IBI", head)
        payload = await self.reader.readexactly(word >> 8)
        kind = word & 0xFF
        if kind == 1:
            return kind, flags, stream_id, dict(self.decoder.decode(payload))
        return kind, flags, stream_id, payload


async def test_a_graceful_stop_serves_calls_sent_before_the_peer_saw_its_goaway() -> None:
    lane = await start_lane()
    try:
        frames = _Frames(*await asyncio.open_connection("127.0.0.1", lane.port))
        frames.writer.write(h2_preface())
        frames.call(1, "Echo", request(name="first", mode="slow").SerializeToString(), lane.token())
        await asyncio.wait_for(lane.seen.started.wait(), 10)
        stopping = asyncio.create_task(lane.lane.stop(20))
        goaways: list[tuple[int, int]] = []
        ping = b""
        while not ping:
            kind, flags, _, payload = await frames.next()
            if kind == 7:
                goaways.append(struct.unpack(">II", payload[:8]))
            elif kind == 6 and not flags & 0x1:
                ping = payload
        assert goaways == [(2**31 - 1, 0)]  # the first GOAWAY takes every stream still
        # A call the peer sent before it saw the GOAWAY is served; then the PING's ack.
        frames.call(3, "PublicEcho", request(name="late").SerializeToString(), ())
        frames.send(6, 0x1, 0, ping)
        statuses: dict[int, str] = {}
        while 3 not in statuses or len(goaways) < 2:
            kind, flags, stream_id, payload = await frames.next()
            if kind == 7:
                goaways.append(struct.unpack(">II", payload[:8]))
            elif kind == 1 and flags & 0x1:
                statuses[stream_id] = payload["grpc-status"]
        assert statuses == {3: "0"}
        assert goaways[1] == (3, 0)  # the second names the last call taken
        # A stream opened after that is refused, and the call in flight still finishes.
        frames.call(5, "PublicEcho", request(name="after").SerializeToString(), ())
        while True:
            kind, flags, stream_id, payload = await frames.next()
            if kind == 3:
                assert (stream_id, struct.unpack(">I", payload)[0]) == (5, 7)  # REFUSED_STREAM
                break
        lane.seen.release.set()
        while 1 not in statuses:
            kind, flags, stream_id, payload = await frames.next()
            if kind == 1 and flags & 0x1:
                statuses[stream_id] = payload["grpc-status"]
        assert statuses[1] == "0"
        await asyncio.wait_for(stopping, 10)
        assert await asyncio.wait_for(frames.reader.read(), 10) == b""  # closed once idle
    finally:
        await close_lane(lane)


async def test_a_header_block_that_never_ends_closes_the_connection(running: Lane) -> None:
    before = _protocol_errors()
    frames = _Frames(*await asyncio.open_connection("127.0.0.1", running.port))
    frames.writer.write(h2_preface())
    frames.send(1, 0, 1, frames.encoder.encode([(":method", "POST")]))  # HEADERS without END_HEADERS
    try:
        for _ in range(40):  # 640 kB of CONTINUATION, never ending the block
            frames.send(9, 0, 1, b"\x00" * 16_000)
        await frames.writer.drain()
        codes = []
        while not codes:
            kind, _, _, payload = await frames.next()
            if kind == 7:
                codes.append(struct.unpack(">II", payload[:8])[1])
        assert codes == [0xB]  # ENHANCE_YOUR_CALM
    except (ConnectionError, asyncio.IncompleteReadError):
        pass  # closed before the GOAWAY could be read: the counter below still tells
    frames.writer.close()
    assert _protocol_errors() == before + 1
