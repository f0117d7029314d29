"""Proto JSON in and out: the chaincode's one encoding for arguments, results, events and state."""

from __future__ import annotations

import json
from typing import TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

from ledger_rules.errors import Rejection

M = TypeVar("M", bound=Message)


def to_json(message: Message) -> str:
    """Encode *message* as canonical proto JSON, compact and with sorted keys.

    Sorted keys and fixed separators make the bytes deterministic, which endorsement by several
    peers requires (every endorser must produce the same read/write set and response).
    """
    return json.dumps(
        json_format.MessageToDict(message), separators=(",", ":"), sort_keys=True, ensure_ascii=False
    )


def parse(text: str | bytes, cls: type[M]) -> M:
    """Decode proto JSON into a new *cls*; unknown fields are an error.

    Raises:
        Rejection: INVALID_ARGUMENT if the text is not a valid *cls* in proto JSON.
    """
    message: M = cls()
    try:
        json_format.Parse(text, message)
    except (json_format.ParseError, ValueError, TypeError) as exc:
        raise Rejection(
            "INVALID_ARGUMENT", f"not a valid {cls.DESCRIPTOR.full_name} in proto JSON: {exc}"
        ) from exc
    return message
