"""Message to the dict json_format.MessageToDict makes, compiled per message type.

Like json_format it walks `ListFields()` (set fields only, in field-number order) and names each
by its JSON name. A field kind without a fast path raises `Unsure`, and the caller asks
json_format for the whole message, so its result (or error) is the answer.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from proto_json import kinds
from proto_json.decoder import Unsure

Converter = Callable[[Any], Any]
# The fields of one message type: field descriptor -> (JSON name, converter).
Plan = dict[FieldDescriptor, tuple[str, Converter]]

_plans: dict[str, Plan] = {}


def plan_for(message: Descriptor) -> Plan:
    """The compiled plan of *message* (built once, then cached)."""
    plan = _plans.get(message.full_name)
    if plan is None:
        plan = {}
        # Registered before the fields are compiled so a recursive type finds itself.
        _plans[message.full_name] = plan
        for field in message.fields:
            plan[field] = (field.json_name, _converter(field))
    return plan


def encode_message(plan: Plan, message: Message) -> dict[str, Any]:
    """The JSON object of *message*; raises Unsure when json_format must do it."""
    out: dict[str, Any] = {}
    for field, value in message.ListFields():
        entry = plan.get(field)
        if entry is None:  # an extension, or a descriptor from another pool
            raise Unsure
        out[entry[0]] = entry[1](value)
    return out


def _converter(field: FieldDescriptor) -> Converter:
    single = _single_converter(field)
    if field.label != FieldDescriptor.LABEL_REPEATED:
        return single
    if kinds.is_map(field):
        return _unsure

    def repeated(values: Any) -> list[Any]:
        return [single(value) for value in values]

    return repeated


def _single_converter(field: FieldDescriptor) -> Converter:
    kind = field.type
    if kind in kinds.INT64_TYPES:
        return str
    if kinds.int_range(field) is not None or kind in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BOOL):
        return _same
    if kind == FieldDescriptor.TYPE_BYTES:
        return _bytes
    if kind == FieldDescriptor.TYPE_ENUM:
        return _enum({v.number: v.name for v in field.enum_type.values})
    if kind == FieldDescriptor.TYPE_MESSAGE:
        message = field.message_type
        if message.full_name == kinds.TIMESTAMP:
            return _timestamp
        if kinds.is_special(message):
            return _unsure
        return _message(message)
    # float and double (infinities, NaN, shortest repr for float): json_format does them.
    return _unsure


def _unsure(value: Any) -> Any:
    raise Unsure


def _same(value: Any) -> Any:
    return value


def _bytes(value: bytes) -> str:
    return base64.b64encode(value).decode("utf-8")


def _enum(names: dict[int, str]) -> Converter:
    def convert(value: int) -> str:
        name = names.get(value)
        if name is None:  # a number this schema does not name: json_format's rule applies
            raise Unsure
        return name

    return convert


# Seconds and nanos -> text, for the times a transaction's messages repeat (see timestamps.py).
_MEMO_SIZE = 4096
_formatted: dict[tuple[int, int], str] = {}


def _timestamp(value: Any) -> str:
    key = (value.seconds, value.nanos)
    text = _formatted.get(key)
    if text is None:
        try:
            text = value.ToJsonString()  # json_format's own formatter, so the same digits
        except ValueError:  # out of range: json_format raises its own error
            raise Unsure from None
        if len(_formatted) >= _MEMO_SIZE:
            _formatted.clear()
        _formatted[key] = text
    return text


def _message(message: Descriptor) -> Converter:
    def convert(value: Message) -> dict[str, Any]:
        return encode_message(plan, value)

    plan = plan_for(message)
    return convert
