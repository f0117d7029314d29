"""An HPACK decoder (RFC 7541) for request header blocks, cheaper per field than the `hpack` package's.

The `hpack` package's Decoder cost about 40 µs for a gRPC client's usual 10-field block (a
HeaderTuple object and several debug-log calls per field): a quarter of the lane's whole cost per
call. This one keeps the dynamic table as a list of (name, value, size) and returns plain
`(str, str)` pairs; Huffman-coded strings still go through `hpack`'s table-driven decoder. Its
answers are checked against `hpack.Decoder` block by block (tests/unit/common/test_lane_hpack.py).
"""

from __future__ import annotations

from hpack.huffman_table import decode_huffman
from hpack.table import HeaderTable

_STATIC: tuple[tuple[str, str], ...] = tuple(
    (name.decode(), value.decode()) for name, value in HeaderTable.STATIC_TABLE
)
_STATIC_COUNT = len(_STATIC)
# Huffman-coded strings seen lately (any connection): a value that falls out of a peer's dynamic
# table (a bearer token, a user agent) comes back Huffman-coded, and decoding it nibble by nibble
# costs about 0.1 µs a character. Bounded: emptied when full.
_HUFFMAN_SEEN_MAX = 1024
_huffman_seen: dict[bytes, bytes] = {}


class HpackError(Exception):
    """A header block that cannot be decoded: the connection ends with COMPRESSION_ERROR."""


class HeaderDecoder:
    """One connection's request-header decoder; every block must pass through it, in order.

    Args:
        max_table_size: The SETTINGS_HEADER_TABLE_SIZE we announce (4096 by default).
        max_list_size: Largest decoded block accepted (names, values and 32 octets per field).
    """

    def __init__(self, max_table_size: int = 4096, max_list_size: int = 65536) -> None:
        self._allowed = max_table_size
        self._limit = max_table_size
        self._max_list = max_list_size
        self._table: list[tuple[str, str, int]] = []  # newest first: index 62 is _table[0]
        self._size = 0

    @property
    def table_size(self) -> int:
        """The dynamic table's size in octets as RFC 7541 §4.1 counts it (bounded by the last update)."""
        return self._size

    def decode(self, data: bytes) -> list[tuple[str, str]]:
        """The block's fields in order."""
        fields: list[tuple[str, str]] = []
        append = fields.append
        pos = 0
        end = len(data)
        total = 0
        try:
            while pos < end:
                byte = data[pos]
                if byte & 0x80:  # indexed field
                    index = byte & 0x7F
                    pos += 1
                    if index == 0x7F:
                        index, pos = _integer(data, pos, 0x7F)
                    field = self._field(index)
                    append(field)
                    total += len(field[0]) + len(field[1]) + 32
                elif byte & 0xE0 == 0x20:  # dynamic table size update
                    size = byte & 0x1F
                    pos += 1
                    if size == 0x1F:
                        size, pos = _integer(data, pos, 0x1F)
                    if size > self._allowed:
                        raise HpackError(f"table size update to {size} above {self._allowed}")
                    self._limit = size
                    self._evict(0)
                else:
                    indexing = byte & 0xC0 == 0x40
                    mask = 0x3F if indexing else 0x0F
                    index = byte & mask
                    pos += 1
                    if index == mask:
                        index, pos = _integer(data, pos, mask)
                    if index:
                        name = self._field(index)[0]
                        name_size = len(name.encode()) if not name.isascii() else len(name)
                    else:
                        raw_name, pos = _string(data, pos)
                        name = raw_name.decode()
                        name_size = len(raw_name)
                    raw_value, pos = _string(data, pos)
                    value = raw_value.decode()
                    append((name, value))
                    entry = name_size + len(raw_value) + 32
                    total += entry
                    if indexing:
                        self._evict(entry)
                        if entry <= self._limit:
                            self._table.insert(0, (name, value, entry))
                            self._size += entry
                if total > self._max_list:
                    raise HpackError(f"header list larger than {self._max_list} octets")
        except (IndexError, UnicodeDecodeError, ValueError) as exc:
            raise HpackError(f"malformed header block: {exc}") from exc
        return fields

    def _field(self, index: int) -> tuple[str, str]:
        if 0 < index <= _STATIC_COUNT:
            return _STATIC[index - 1]
        offset = index - _STATIC_COUNT - 1
        if index == 0 or offset >= len(self._table):
            raise HpackError(f"header index {index} out of range")
        name, value, _ = self._table[offset]
        return name, value

    def _evict(self, room: int) -> None:
        table = self._table
        while table and self._size + room > self._limit:
            self._size -= table.pop()[2]


def _integer(data: bytes, pos: int, prefix_max: int) -> tuple[int, int]:
    """The rest of an integer whose prefix was all ones (RFC 7541 §5.1)."""
    value = prefix_max
    shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 28:
            raise HpackError("integer too large")


def _string(data: bytes, pos: int) -> tuple[bytes, int]:
    byte = data[pos]
    length = byte & 0x7F
    pos += 1
    if length == 0x7F:
        length, pos = _integer(data, pos, 0x7F)
    end = pos + length
    if end > len(data):
        raise HpackError("string runs past the block")
    raw = data[pos:end]
    if byte & 0x80:
        decoded = _huffman_seen.get(raw)
        if decoded is None:
            try:
                decoded = decode_huffman(raw)
            except Exception as exc:  # hpack's HPACKDecodingError
                raise HpackError(f"bad Huffman string: {exc}") from exc
            if len(_huffman_seen) >= _HUFFMAN_SEEN_MAX:
                _huffman_seen.clear()
            _huffman_seen[raw] = decoded
        raw = decoded
    return raw, end
