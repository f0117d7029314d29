"""HTTP/2 frame and gRPC wire pieces the lane writes and reads (RFC 9113, RFC 7541, gRPC PROTOCOL-HTTP2).

Response header blocks are written without HPACK's dynamic table: every field is a "literal without
indexing" (or a static-table index), so encoding is a few byte joins and never changes the peer's
decoder state. The first block on a connection opens with a dynamic-table-size update to 0, which
is below any table size the peer may announce, so the peer's SETTINGS_HEADER_TABLE_SIZE never
matters. Request blocks are decoded by `hpack_decode.HeaderDecoder`, one per connection.
"""

from __future__ import annotations

import base64
import re
import struct
from collections.abc import Iterable

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
# Frame header: 24-bit length and 8-bit type in one word, flags, reserved bit + 31-bit stream id.
FRAME = struct.Struct(">IBI")
# gRPC length-prefixed message: compressed flag, 32-bit length.
MESSAGE = struct.Struct(">BI")
WORD = struct.Struct(">I")
TWO_WORDS = struct.Struct(">II")
SETTING = struct.Struct(">HI")

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = (
    range(10)
)
END_STREAM = 0x1
ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20

SETTINGS_HEADER_TABLE_SIZE = 0x1
SETTINGS_ENABLE_PUSH = 0x2
SETTINGS_MAX_CONCURRENT_STREAMS = 0x3
SETTINGS_INITIAL_WINDOW_SIZE = 0x4
SETTINGS_MAX_FRAME_SIZE = 0x5

# HTTP/2 error codes (RFC 9113 §7).
NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
INTERNAL_ERROR = 0x2
FLOW_CONTROL_ERROR = 0x3
FRAME_SIZE_ERROR = 0x6
REFUSED_STREAM = 0x7
CANCEL = 0x8
COMPRESSION_ERROR = 0x9
ENHANCE_YOUR_CALM = 0xB

DEFAULT_WINDOW = 65_535
DEFAULT_MAX_FRAME = 16_384
MAX_WINDOW = 2**31 - 1


class ProtocolError(Exception):
    """The peer broke HTTP/2's rules: the connection ends with GOAWAY carrying `code`."""

    def __init__(self, message: str, code: int = PROTOCOL_ERROR) -> None:
        super().__init__(message)
        self.code = code


def frame(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    """One whole frame."""
    return FRAME.pack(len(payload) << 8 | kind, flags, stream_id) + payload


def header_frames(stream_id: int, block: bytes, end_stream: bool, max_frame: int) -> bytes:
    """A header block as HEADERS (+ CONTINUATION frames when it exceeds the peer's frame size)."""
    flags = END_STREAM if end_stream else 0
    if len(block) <= max_frame:
        return FRAME.pack(len(block) << 8 | HEADERS, flags | END_HEADERS, stream_id) + block
    parts = [frame(HEADERS, flags, stream_id, block[:max_frame])]
    for pos in range(max_frame, len(block), max_frame):
        last = pos + max_frame >= len(block)
        parts.append(frame(CONTINUATION, END_HEADERS if last else 0, stream_id, block[pos : pos + max_frame]))
    return b"".join(parts)


def _integer(value: int, prefix_bits: int, first: int) -> bytes:
    """An HPACK integer (RFC 7541 §5.1) with `first`'s high bits in the first byte."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes((first | value,))
    out = bytearray((first | limit,))
    value -= limit
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _string(data: bytes) -> bytes:
    return _integer(len(data), 7, 0) + data


def literal(name: bytes, value: bytes) -> bytes:
    """A literal header field without indexing, new name (RFC 7541 §6.2.2), no Huffman."""
    return b"\x00" + _string(name) + _string(value)


# ":status: 200" is static-table entry 8; content-type (entry 31) as a literal without indexing.
TABLE_SIZE_ZERO = _integer(0, 5, 0x20)
STATUS_200 = b"\x88"
GRPC_CONTENT_TYPE = _integer(31, 4, 0x00) + _string(b"application/grpc")
RESPONSE_HEAD = STATUS_200 + GRPC_CONTENT_TYPE
_STATUS_FIELDS = {code: literal(b"grpc-status", str(code).encode()) for code in range(17)}


def status_field(code: int) -> bytes:
    """The `grpc-status` field of a status code."""
    field = _STATUS_FIELDS.get(code)
    return field if field is not None else literal(b"grpc-status", str(code).encode())


_UNRESERVED = frozenset(range(0x20, 0x7F)) - {ord("%")}


def percent_encode(text: str) -> bytes:
    """`grpc-message`'s encoding: UTF-8, then every byte outside 0x20-0x7E (and '%') as %XX."""
    raw = text.encode()
    if all(byte in _UNRESERVED for byte in raw):
        return raw
    return b"".join(bytes((byte,)) if byte in _UNRESERVED else b"%%%02X" % byte for byte in raw)


def metadata_fields(metadata: Iterable[tuple[str, str | bytes]]) -> bytes:
    """Metadata as literal fields; `-bin` values base64 without padding, as gRPC sends them."""
    out = []
    for key, value in metadata:
        name = key.lower().encode()
        if name.endswith(b"-bin"):
            raw = value if isinstance(value, bytes) else value.encode()
            encoded = base64.b64encode(raw).rstrip(b"=")
        else:
            encoded = value.encode() if isinstance(value, str) else value
        out.append(literal(name, encoded))
    return b"".join(out)


def decode_binary(value: str) -> bytes:
    """A `-bin` header's value (base64, padded or not) as bytes."""
    return base64.b64decode(value + "=" * (-len(value) % 4))


_TIMEOUT = re.compile(r"(\d{1,8})([HMSmun])")
_UNIT_SECONDS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}


def parse_timeout(text: str) -> float | None:
    """`grpc-timeout` in seconds, or None when malformed (the call then has no deadline)."""
    match = _TIMEOUT.fullmatch(text)
    if match is None:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
