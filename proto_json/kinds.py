"""What json_format treats specially, and the integer ranges it enforces (through the message)."""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor, FieldDescriptor

TIMESTAMP = "google.protobuf.Timestamp"

# The message types json_format encodes and decodes by their own rules (its `_WKTJSONMETHODS`
# plus the wrappers). Only Timestamp has a fast path; the others go to json_format whole.
SPECIAL_MESSAGES = frozenset(
    {
        "google.protobuf.Any",
        "google.protobuf.Duration",
        "google.protobuf.FieldMask",
        "google.protobuf.ListValue",
        "google.protobuf.Struct",
        "google.protobuf.Timestamp",
        "google.protobuf.Value",
    }
)

_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}

# 64-bit integers are JSON strings in canonical proto JSON (JavaScript numbers lose precision).
INT64_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_SFIXED64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED64,
    }
)


def int_range(field: FieldDescriptor) -> tuple[int, int] | None:
    """The accepted range of an integer field, or None when the field is not an integer."""
    return _INT_RANGES.get(field.type)


def is_special(message: Descriptor) -> bool:
    """True when json_format has its own JSON form for this message type."""
    return message.full_name in SPECIAL_MESSAGES or message.file.name == "google/protobuf/wrappers.proto"


def is_map(field: FieldDescriptor) -> bool:
    """True for a map field (a repeated map-entry message)."""
    return field.message_type is not None and field.message_type.GetOptions().map_entry
