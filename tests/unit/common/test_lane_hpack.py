"""The lane's HPACK decoder gives what the `hpack` package's Decoder gives, block after block."""

from __future__ import annotations

import hpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.lane.hpack_decode import HeaderDecoder, HpackError

_NAMES = st.sampled_from(
    [
        ":method",
        ":path",
        "content-type",
        "te",
        "grpc-timeout",
        "authorization",
        "x-request-id",
        "user-agent",
        "x-b",
    ]
)
_VALUES = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300
) | st.sampled_from(["POST", "application/grpc", "trailers", "é-ü", ""])
_BLOCK = st.lists(st.tuples(_NAMES, _VALUES), min_size=0, max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    blocks=st.lists(st.tuples(_BLOCK, st.booleans(), st.sets(st.integers(0, 11))), min_size=1, max_size=12),
    table_size=st.sampled_from([4096, 256, 0]),
)
def test_same_fields_as_hpack_over_a_sequence_of_blocks(
    blocks: list[tuple[list[tuple[str, str]], bool, set[int]]], table_size: int
) -> None:
    # One encoder (its dynamic table, Huffman or not, some fields never indexed), as a peer reuses it.
    encoder = hpack.Encoder()
    encoder.header_table_size = table_size
    reference = hpack.Decoder()
    mine = HeaderDecoder()
    for fields, huffman, sensitive in blocks:
        headers = [
            hpack.NeverIndexedHeaderTuple(name, value) if i in sensitive else (name, value)
            for i, (name, value) in enumerate(fields)
        ]
        block = encoder.encode(headers, huffman=huffman)
        assert mine.decode(block) == [(str(n), str(v)) for n, v in reference.decode(block)]
        # Entries beyond the table's size are evicted (only memory shows it: they are never referenced).
        entries = reference.header_table.dynamic_entries
        assert mine.table_size == sum(32 + len(n) + len(v) for n, v in entries) <= table_size


@pytest.mark.parametrize(
    "block",
    [
        b"\x80",  # index 0
        b"\xff\xff\xff\xff\xff\xff\x01",  # an index far past both tables
        b"\xbf",  # dynamic index 63 with an empty table
        b"\x3f\xe2\x1f",  # a table size update to 4097, above the 4096 announced
        b"\x40\x85abc",  # a name string running past the block
        b"\x00\x81\xff\x00",  # a bad Huffman string
    ],
)
def test_a_malformed_block_is_an_hpack_error(block: bytes) -> None:
    with pytest.raises(HpackError):
        HeaderDecoder().decode(block)


def test_a_header_list_above_the_limit_is_refused() -> None:
    block = hpack.Encoder().encode([("x-big", "v" * 70_000)], huffman=False)
    with pytest.raises(HpackError):
        HeaderDecoder().decode(block)
