"""Hypothesis strategies for any message type, built from its descriptor.

Values cover each field kind's edges (int64 extremes, unset/zero proto3 optionals, empty nested
messages, non-ASCII text, whole timestamp range and every fraction length) so the codecs are
compared where they could differ.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

from proto_json import kinds

_TIMESTAMP_MIN = -62135596800
_TIMESTAMP_MAX = 253402300799
_MAX_DEPTH = 3

_timestamps = st.builds(
    lambda seconds, nanos: {"seconds": seconds, "nanos": nanos},
    st.one_of(
        st.integers(_TIMESTAMP_MIN, _TIMESTAMP_MAX), st.sampled_from([0, _TIMESTAMP_MIN, _TIMESTAMP_MAX])
    ),
    st.one_of(
        st.just(0),
        st.integers(1, 999).map(lambda n: n * 1_000_000),
        st.integers(1, 999_999).map(lambda n: n * 1000),
        st.integers(0, 999_999_999),
    ),
)
_text = st.one_of(
    st.text(max_size=12), st.sampled_from(["", "GX", "Zürich ✓", "日本", '"\\/\n\t\u2028'])
).filter(lambda s: not any("\ud800" <= c <= "\udfff" for c in s))


def _integers(field: FieldDescriptor) -> st.SearchStrategy[int]:
    bounds = kinds.int_range(field)
    assert bounds is not None
    low, high = bounds
    return st.one_of(st.integers(low, high), st.sampled_from([0, 1, low, high, max(low, -1)]))


def _value(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    if kinds.int_range(field) is not None:
        return _integers(field)
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return _text
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=16)
    if kind == FieldDescriptor.TYPE_ENUM:
        return st.sampled_from([v.number for v in field.enum_type.values])
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(width=32, allow_nan=False)
    if kind == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name == kinds.TIMESTAMP:
            return _timestamps
        return kwargs(field.message_type, depth + 1)
    raise AssertionError(f"no strategy for {field.full_name}")


@st.composite
def _fields(draw: st.DrawFn, message: Descriptor, depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    chosen_oneofs: set[str] = set()
    for field in message.fields:
        oneof = field.containing_oneof
        if oneof is not None and len(oneof.fields) > 1:
            if oneof.name in chosen_oneofs:
                continue
        if depth >= _MAX_DEPTH and field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.message_type.full_name != kinds.TIMESTAMP:
                continue
        # Real oneofs: each member is set with a small chance, so usually one or none is.
        chance = 1.0 / len(oneof.fields) if oneof is not None and len(oneof.fields) > 1 else 0.6
        if draw(st.floats(0, 1)) > chance:
            continue
        if field.label == FieldDescriptor.LABEL_REPEATED:
            out[field.name] = draw(st.lists(_value(field, depth), max_size=3))
        else:
            out[field.name] = draw(_value(field, depth))
        if oneof is not None:
            chosen_oneofs.add(oneof.name)
    return out


def kwargs(message: Descriptor, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """Constructor arguments of a random *message*."""
    return _fields(message, depth)


def messages(cls: type[Message]) -> st.SearchStrategy[Message]:
    """Random instances of *cls*."""
    return kwargs(cls.DESCRIPTOR).map(lambda kw: cls(**kw))
