"""proto_json gives exactly json_format's results: same text, same messages, same refusals.

Every message type of gx.ledger.v1 (commands, events, queries, state resources) and gx.type.v1:
random messages encode to the same canonical text and parse back to the same message, and
mutated or malformed JSON is either refused by both or read as the same message by both.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from google.protobuf import json_format, symbol_database
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from gx.ledger.v1 import commands_pb2, events_pb2, queries_pb2, resources_pb2
from gx.type.v1 import access_pb2, command_pb2, operation_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import proto_json
from proto_json import kinds
from tests.unit.codec_proto_json.strategies import messages

_MODULES = [commands_pb2, events_pb2, queries_pb2, resources_pb2, access_pb2, command_pb2, operation_pb2]
TYPES: list[type[Message]] = [
    getattr(module, name) for module in _MODULES for name in sorted(module.DESCRIPTOR.message_types_by_name)
]
_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference_text(message: Message) -> str:
    """chaincode/codec.to_json as it was: json_format plus the canonical dump."""
    return json.dumps(
        json_format.MessageToDict(message), separators=(",", ":"), sort_keys=True, ensure_ascii=False
    )


def outcome(parse: Any, text: str | bytes, cls: type[Message]) -> tuple[str, bytes]:
    """What a parser made of *text*: the message's exact bytes, or the kind of refusal."""
    try:
        message = parse(text, cls)
    except json_format.ParseError:
        return ("refused", b"")
    except UnicodeDecodeError:
        return ("not utf-8", b"")
    return ("parsed", message.SerializeToString(deterministic=True))


def reference_parse(text: str | bytes, cls: type[Message]) -> Message:
    message = cls()
    json_format.Parse(text, message)
    return message


def _all_descriptors() -> list[Descriptor]:
    seen: dict[str, Descriptor] = {}

    def walk(message: Descriptor) -> None:
        if message.full_name in seen:
            return
        seen[message.full_name] = message
        for field in message.fields:
            if field.message_type is not None:
                walk(field.message_type)

    for cls in TYPES:
        walk(cls.DESCRIPTOR)
    return list(seen.values())


_DESCRIPTORS = _all_descriptors()
_FIELDS = [field for message in _DESCRIPTORS for field in message.fields]
# Keys that hit real fields (JSON and proto spellings), and some that hit none.
_KEYS = sorted({f.json_name for f in _FIELDS} | {f.name for f in _FIELDS} | {"unknownField", "[gx.ext]", ""})
_ENUM_NAMES = sorted({v.name for f in _FIELDS if f.enum_type is not None for v in f.enum_type.values})
_TRICKY: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    7,
    1.0,
    1.5,
    -0.0,
    2**31,
    2**32,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    2**64,
    "0",
    "1",
    "-1",
    "007",
    " 1",
    "1 ",
    "\t1",
    "+1",
    "1e3",
    "1.0",
    "1_000",
    "\u0663",
    "0x10",
    "",
    "abc",
    "true",
    "\ud800",
    "caf\u00e9",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    [],
    {},
    [None],
    [1],
    ["a"],
    [{}],
    {"a": 1},
    {"seconds": 1},
    "2026-12-06T08:00:00Z",
    "2026-12-06T08:00:00.5Z",
    "2026-12-06T08:00:00.123456789Z",
    "2026-12-06T08:00:00.1234567891Z",
    "2026-12-06T08:00:00+01:00",
    "2026-12-06T08:00:00.5-05:30",
    "2026-12-06T08:00:60Z",
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999999Z",
    "2026-13-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-12-06t08:00:00Z",
    "2026-12-6T8:00:00Z",
    "2026-12-06T08:00:00",
    "2026-12-06 08:00:00Z",
    "2026-12-06T08:00:00ZZ",
    "\u0662026-12-06T08:00:00Z",
]
_json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.sampled_from(_KEYS), children, max_size=3)
    ),
    max_leaves=6,
)
_values = st.one_of(st.sampled_from(_TRICKY), st.sampled_from(_ENUM_NAMES), _json_values)


def _objects(node: Any, message: Descriptor) -> list[tuple[dict[str, Any], Descriptor]]:
    """Every JSON object inside *node* (itself included) with the message type it encodes."""
    if not isinstance(node, dict):  # already spoiled into something else
        return []
    found = [(node, message)]
    for field in message.fields:
        sub = field.message_type
        value = node.get(field.json_name)
        if sub is None or kinds.is_special(sub) or value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            found.extend(_objects(item, sub))
    return found


def _field_values(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    """Values aimed at one field: tricky ones, its own enum names, right-looking nested objects."""
    own: list[Any] = [v.name for v in field.enum_type.values] if field.enum_type is not None else []
    aimed: list[st.SearchStrategy[Any]] = [st.sampled_from(_TRICKY)]
    if own:
        aimed.append(st.sampled_from(own))
    if field.message_type is not None and not kinds.is_special(field.message_type):
        aimed.append(st.builds(json_format.MessageToDict, messages(_class_of(field.message_type))))
    single = st.one_of(*aimed)
    if field.label == FieldDescriptor.LABEL_REPEATED:
        return st.one_of(st.lists(single, max_size=3), single)
    return single


def _class_of(message: Descriptor) -> type[Message]:
    cls: type[Message] = symbol_database.Default().GetSymbol(message.full_name)
    return cls


@st.composite
def mutated(draw: st.DrawFn, cls: type[Message]) -> str:
    """The canonical JSON of a random *cls*, with one to three values or keys spoiled.

    Most spoils hit a real field of the object's own type (by its JSON or proto name) with a
    value aimed at its kind, so the fast path's every check meets the input it guards against.
    """
    tree = json_format.MessageToDict(draw(messages(cls)))
    for _ in range(draw(st.integers(1, 3))):
        target, message = draw(st.sampled_from(_objects(tree, cls.DESCRIPTOR)))
        if message.fields and draw(st.integers(0, 4)) > 0:
            field = draw(st.sampled_from(list(message.fields)))
            key = field.json_name if draw(st.integers(0, 4)) > 0 else field.name
            value = draw(_field_values(field))
        else:
            key = draw(st.sampled_from(_KEYS))
            value = draw(_values)
        # A copy: the pool's lists and objects must not be spoiled for later examples.
        target[key] = copy.deepcopy(value)
    return json.dumps(tree, ensure_ascii=draw(st.booleans()))


@pytest.mark.parametrize("cls", TYPES, ids=lambda cls: cls.DESCRIPTOR.full_name)
@_SETTINGS
@given(data=st.data())
def test_encode_is_json_formats_canonical_text(cls: type[Message], data: st.DataObject) -> None:
    message = data.draw(messages(cls))
    assert proto_json.encode(message) == reference_text(message)
    assert proto_json.to_dict(message) == json_format.MessageToDict(message)


@pytest.mark.parametrize("cls", TYPES, ids=lambda cls: cls.DESCRIPTOR.full_name)
@_SETTINGS
@given(data=st.data())
def test_parse_gives_json_formats_message(cls: type[Message], data: st.DataObject) -> None:
    message = data.draw(messages(cls))
    text = reference_text(message)
    parsed = proto_json.parse(text, cls)
    assert parsed == reference_parse(text, cls) == message
    assert parsed.SerializeToString(deterministic=True) == message.SerializeToString(deterministic=True)
    assert proto_json.parse(text.encode("utf-8"), cls) == message


@pytest.mark.parametrize("cls", TYPES, ids=lambda cls: cls.DESCRIPTOR.full_name)
@_SETTINGS
@given(data=st.data())
def test_spoiled_json_is_read_or_refused_as_json_format_does(cls: type[Message], data: st.DataObject) -> None:
    text = data.draw(mutated(cls))
    assert outcome(proto_json.parse, text, cls) == outcome(reference_parse, text, cls)


@settings(max_examples=300, deadline=None)
@given(value=_json_values, cls=st.sampled_from(TYPES))
def test_arbitrary_json_is_read_or_refused_as_json_format_does(value: Any, cls: type[Message]) -> None:
    text = json.dumps(value)
    assert outcome(proto_json.parse, text, cls) == outcome(reference_parse, text, cls)


@pytest.mark.parametrize(
    "text",
    [
        b'{"requestId":"a","requestId":"b"}',  # duplicate key: json_format refuses, json.loads would not
        b'{"requestId":"a","request_id":"b"}',  # both spellings: json_format takes the last
        b'{"requestId":"a"} x',
        b'{"requestId":"a"',
        b'{"replayed":NaN}',
        b"[]",
        b"null",
        b"",
        b'{"requestId":"\xff"}',  # not UTF-8
        b'{"requestId":"\\ud800"}',  # a lone surrogate
        b'{"events":[{"transferCompleted":{}, "feeCollected":{}}]}',  # two members of one oneof
        b'{"events":[{"transferCompleted":null, "feeCollected":{}}]}',
        b'{"events":[null]}',
        b'{"time":"2026-12-06T08:00:00Z","time":"2026-12-06T08:00:01Z"}',
        b'{"time":{"seconds":1}}',
        b'{"time":"2026-12-06t08:00:00Z"}',  # strptime would read it; json_format refuses it
        b'{"time":"2026-12-06T08:00:00.5+01:00"}',
        b'{"commandType":1}',
        b'{"commandType":"1"}',
        b"[" * 5000 + b"]" * 5000,
        b'{"events":[' + b'{"transferCompleted":{}},' * 3 + b"{}]}",
    ],
)
def test_malformed_and_odd_text_is_handled_as_json_format_does(text: bytes) -> None:
    for raw in (text, text.decode("utf-8", errors="surrogateescape")):
        assert outcome(proto_json.parse, raw, events_pb2.LedgerEvents) == outcome(
            reference_parse, raw, events_pb2.LedgerEvents
        )


def test_json_formats_special_message_types_are_the_ones_proto_json_knows() -> None:
    assert set(json_format._WKTJSONMETHODS) == kinds.SPECIAL_MESSAGES


def test_every_field_kind_of_the_ledger_schema_has_a_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback is for odd input, not for the ledger's everyday messages: with json_format
    unreachable, a message with every field of every type set still encodes and parses."""
    full = {}
    for descriptor in _DESCRIPTORS:
        if descriptor.full_name.startswith("google.protobuf."):
            continue
        kinds_here = {(f.type, f.label) for f in descriptor.fields}
        full[descriptor.full_name] = kinds_here
    kinds_used = set().union(*full.values())
    supported = {
        FieldDescriptor.TYPE_STRING,
        FieldDescriptor.TYPE_BOOL,
        FieldDescriptor.TYPE_ENUM,
        FieldDescriptor.TYPE_MESSAGE,
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
    }
    assert {kind for kind, _ in kinds_used} <= supported

    class Unreachable:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"json_format.{name} used on a ledger message")

    sample = events_pb2.LedgerEvents(
        request_id="r-1",
        command_type=command_pb2.COMMAND_TYPE_DISTRIBUTE_GENESIS,
        function="Transfer",
        time={"seconds": 1_800_000_000, "nanos": 120_000_000},
        replayed=True,
        events=[
            events_pb2.LedgerEvent(transfer_completed={"amount_qirat": 2**62, "from_balance_qirat": -5}),
            events_pb2.LedgerEvent(fee_collected={}),
        ],
    )
    text = reference_text(sample)
    from proto_json import api

    monkeypatch.setattr(api, "json_format", Unreachable())
    assert proto_json.encode(sample) == text
    assert proto_json.parse(text, events_pb2.LedgerEvents) == sample
