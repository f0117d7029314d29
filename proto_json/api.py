"""The entry points: the fast plan when it is sure, json_format otherwise."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

from proto_json import decoder, encoder

M = TypeVar("M", bound=Message)


class _DuplicateKey(Exception):
    """json_format refuses an object with a repeated key; json.loads alone would keep the last."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey
    return result


def to_dict(message: Message) -> dict[str, Any]:
    """`json_format.MessageToDict(message)` (default options)."""
    try:
        return encoder.encode_message(encoder.plan_for(message.DESCRIPTOR), message)
    except decoder.Unsure:
        result: dict[str, Any] = json_format.MessageToDict(message)
        return result


def encode(message: Message) -> str:
    """Canonical proto JSON: MessageToDict, sorted keys, compact separators, UTF-8 text.

    Sorted keys and fixed separators make the bytes deterministic, which endorsement by several
    peers requires (every endorser must produce the same read/write set and response).
    """
    return json.dumps(to_dict(message), separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def parse(text: str | bytes, cls: type[M]) -> M:
    """`json_format.Parse(text, cls())`: the same message, or the same refusal.

    Raises:
        json_format.ParseError: what json_format raises for this input (and UnicodeDecodeError
            for bytes that are not UTF-8, as json_format does).
    """
    if not isinstance(text, str):
        text = text.decode("utf-8")
    try:
        loaded = json.loads(text, object_pairs_hook=_object)
        kwargs = decoder.decode_message(decoder.plan_for(cls.DESCRIPTOR), loaded, 1)
        built: M = cls(**kwargs)
    except (decoder.Unsure, _DuplicateKey, ValueError, TypeError, RecursionError):
        # Not sure, or not JSON at all: json_format gives the exact message or refusal.
        message: M = cls()
        json_format.Parse(text, message)
        return message
    return built
