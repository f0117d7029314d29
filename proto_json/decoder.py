"""Proto JSON (already loaded by `json.loads`) to constructor arguments, compiled per message type.

A plan maps each field's JSON name to a converter. Converters return the value the generated
class's constructor takes (nested messages as dicts, enums as numbers), so a whole message is
built by one constructor call in C. Any input a converter is unsure about raises `Unsure`; the
caller then asks json_format, which gives the exact result or the exact refusal.

Only JSON names are accepted: the proto-name spelling json_format also accepts (and its quirks,
e.g. both spellings in one object) is left to json_format.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from proto_json import kinds, timestamps


class Unsure(Exception):  # a signal to fall back, not an error
    """The fast path does not decide this input; json_format must."""


Converter = Callable[[Any, int], Any]
# The JSON-name table of one message type:
# JSON name -> (field name, oneof name or "", kind code, converter).
# The kind code lets the loop handle the commonest kinds (strings, integers) inline, without a
# call per field; other kinds (code _CALL) go through the converter.
Plan = dict[str, tuple[str, str, int, Converter]]
_CALL, _STRING, _INT = 0, 1, 2

# json_format refuses strings with lone surrogates (json.loads lets `"\ud800"` through).
_SURROGATE = re.compile("[\ud800-\udfff]")
_INTEGER = re.compile(r"-?[0-9]+")
# json_format stops at depth 100; stay far below so the fast path never accepts what it refuses.
_MAX_DEPTH = 50

_plans: dict[str, Plan] = {}


def plan_for(message: Descriptor) -> Plan:
    """The compiled plan of *message* (built once, then cached)."""
    plan = _plans.get(message.full_name)
    if plan is None:
        plan = {}
        # Registered before the fields are compiled so a recursive type finds itself.
        _plans[message.full_name] = plan
        for field in message.fields:
            oneof = field.containing_oneof
            plan[field.json_name] = (field.name, oneof.name if oneof else "", _code(field), _converter(field))
    return plan


def decode_message(plan: Plan, value: Any, depth: int) -> dict[str, Any]:
    """Constructor arguments for one JSON object; raises Unsure when json_format must decide."""
    if type(value) is not dict or depth > _MAX_DEPTH:
        raise Unsure
    kwargs: dict[str, Any] = {}
    oneofs: set[str] | None = None
    for key, item in value.items():
        entry = plan.get(key)
        if entry is None or item is None:
            raise Unsure
        name, oneof, code, convert = entry
        if oneof:
            if oneofs is None:
                oneofs = set()
            elif oneof in oneofs:
                raise Unsure
            oneofs.add(oneof)
        if code == _STRING and type(item) is str and item.isascii():
            kwargs[name] = item
        elif code == _INT and type(item) is str and item.isdigit() and item.isascii() and len(item) < 10:
            # Up to nine ASCII digits fit every integer kind; anything else takes the full check.
            kwargs[name] = int(item)
        else:
            kwargs[name] = convert(item, depth)
    return kwargs


def _code(field: FieldDescriptor) -> int:
    if field.label == FieldDescriptor.LABEL_REPEATED:
        return _CALL
    if field.type == FieldDescriptor.TYPE_STRING:
        return _STRING
    if kinds.int_range(field) is not None:
        return _INT
    return _CALL


def _converter(field: FieldDescriptor) -> Converter:
    single = _single_converter(field)
    if field.label != FieldDescriptor.LABEL_REPEATED:
        return single
    if kinds.is_map(field):
        return _unsure

    def repeated(value: Any, depth: int) -> list[Any]:
        if type(value) is not list:
            raise Unsure
        return [single(item, depth) for item in value]

    return repeated


def _single_converter(field: FieldDescriptor) -> Converter:
    kind = field.type
    bounds = kinds.int_range(field)
    if bounds is not None:
        return _integer(*bounds)
    if kind == FieldDescriptor.TYPE_STRING:
        return _string
    if kind == FieldDescriptor.TYPE_BOOL:
        return _bool
    if kind == FieldDescriptor.TYPE_ENUM:
        return _enum({v.name: v.number for v in field.enum_type.values})
    if kind == FieldDescriptor.TYPE_MESSAGE:
        message = field.message_type
        if message.full_name == kinds.TIMESTAMP:
            return _timestamp
        if kinds.is_special(message) or kinds.is_map(field):
            return _unsure
        return _message(message)
    # float, double, bytes, groups: json_format's rules are intricate; it decides.
    return _unsure


def _unsure(value: Any, depth: int) -> Any:
    raise Unsure


def _integer(low: int, high: int) -> Converter:
    def convert(value: Any, depth: int) -> int:
        kind = type(value)
        if kind is int:
            number: int = value
        elif kind is str and _INTEGER.fullmatch(value):
            number = int(value)
        else:  # floats, bools, exponents, signs, blanks: json_format's call
            raise Unsure
        if not low <= number <= high:
            raise Unsure
        return number

    return convert


def _string(value: Any, depth: int) -> str:
    if type(value) is not str or (not value.isascii() and _SURROGATE.search(value)):
        raise Unsure
    return value


def _bool(value: Any, depth: int) -> bool:
    if type(value) is not bool:
        raise Unsure
    return value


def _enum(numbers: dict[str, int]) -> Converter:
    def convert(value: Any, depth: int) -> int:
        number = numbers.get(value) if type(value) is str else None
        if number is None:  # numbers, numeric strings, unknown names: json_format's call
            raise Unsure
        return number

    return convert


def _timestamp(value: Any, depth: int) -> dict[str, int]:
    parsed = timestamps.parse(value) if type(value) is str else None
    if parsed is None:
        raise Unsure
    return {"seconds": parsed[0], "nanos": parsed[1]}


def _message(message: Descriptor) -> Converter:
    def convert(value: Any, depth: int) -> dict[str, Any]:
        return decode_message(plan, value, depth + 1)

    plan = plan_for(message)
    return convert
