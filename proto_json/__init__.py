"""Canonical proto JSON, fast: the same text and messages as `google.protobuf.json_format`.

The ledger's arguments, state values and events travel as canonical proto JSON (DESIGN.md §3).
`json_format` walks every message in pure Python (and parses each Timestamp with `strptime`),
which profiles showed as the largest CPU cost of the chaincode and the projector. This package
compiles, once per message type, a plan from the descriptor and runs that instead.

The plan covers the field kinds the ledger's messages use. Whenever it meets anything else, or
any input it is not sure about (an unknown key, a null, a float, an out-of-range number, a
non-canonical timestamp...), it hands the whole call to `json_format`. So results and refusals
are json_format's by construction: the fast path only ever accepts what json_format accepts, with
the same result, and everything else gets json_format's own answer.

Public API:
    encode(message) -> str    the canonical text (MessageToDict, sorted keys, compact, UTF-8)
    to_dict(message) -> dict  json_format.MessageToDict(message)
    parse(text, cls) -> cls   json_format.Parse(text, cls()); raises json_format.ParseError
"""

from proto_json.api import encode, parse, to_dict

__all__ = ["encode", "parse", "to_dict"]
