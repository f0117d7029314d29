"""Proto JSON decode and encode per ledger event kind: json_format against proto_json.

    .venv/bin/python -m bench proto_json     # or: .venv/bin/python bench/proto_json_bench.py [--runs 2000]

For every domain event kind of `gx.ledger.v1.LedgerEvent` it builds one `LedgerEvents` the way
the chaincode emits it (request id, command type, function, time, the one event) with every field
of the event set to a typical non-default value, encodes it canonically, then times decoding it
(the projector's hot path) and encoding it (the chaincode's) with both codecs. One JSON line:
microseconds per call for each kind, and the mean speed-up.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
for _path in (REPO_ROOT, REPO_ROOT / "gen" / "python"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from google.protobuf import json_format  # noqa: E402
from google.protobuf.descriptor import Descriptor, FieldDescriptor  # noqa: E402
from gx.ledger.v1 import events_pb2  # noqa: E402
from gx.type.v1 import command_pb2  # noqa: E402

import proto_json  # noqa: E402


def _typical(message: Descriptor, depth: int = 0) -> dict[str, Any]:
    """Constructor arguments with every field (one member per oneof) set to a typical value."""
    out: dict[str, Any] = {}
    oneofs: set[str] = set()
    for field in message.fields:
        oneof = field.containing_oneof
        if oneof is not None:
            if oneof.name in oneofs:
                continue
            oneofs.add(oneof.name)
        value: Any
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.message_type.full_name == "google.protobuf.Timestamp":
                value = {"seconds": 1_796_000_000, "nanos": 123_000_000}
            elif depth < 3:
                value = _typical(field.message_type, depth + 1)
            else:
                continue
        elif field.type == FieldDescriptor.TYPE_ENUM:
            value = field.enum_type.values[-1].number
        elif field.type == FieldDescriptor.TYPE_STRING:
            value = f"{field.name}-7f3c2a9e-41d2-4c55-9a8b-0d6e5f4c3b2a"
        elif field.type == FieldDescriptor.TYPE_BOOL:
            value = True
        else:
            value = 1_234_567_890
        out[field.name] = [value, value] if field.label == FieldDescriptor.LABEL_REPEATED else value
    return out


def _per_call_us(call: Any, runs: int) -> float:
    started = time.process_time()
    for _ in range(runs):
        call()
    return round((time.process_time() - started) / runs * 1e6, 2)


def _json_format_decode(text: str) -> events_pb2.LedgerEvents:
    message = events_pb2.LedgerEvents()
    json_format.Parse(text, message)
    return message


def _json_format_encode(message: events_pb2.LedgerEvents) -> str:
    return json.dumps(
        json_format.MessageToDict(message), separators=(",", ":"), sort_keys=True, ensure_ascii=False
    )


def measure(runs: int) -> dict[str, Any]:
    """Microseconds per decode and encode for each event kind, both codecs."""
    kinds: dict[str, Any] = {}
    for member in events_pb2.LedgerEvent.DESCRIPTOR.oneofs_by_name["event"].fields:
        message = events_pb2.LedgerEvents(
            request_id="0b7d8f3e-6a4c-4e2b-9f1d-3c5a7e9b2d4f",
            command_type=command_pb2.COMMAND_TYPE_TRANSFER_TOKENS,
            function="TransferTokens",
            time={"seconds": 1_796_000_000, "nanos": 250_000_000},
            events=[events_pb2.LedgerEvent(**{member.name: _typical(member.message_type)})],
        )
        text = _json_format_encode(message)
        assert (
            proto_json.encode(message) == text and proto_json.parse(text, events_pb2.LedgerEvents) == message
        )
        decode_old = _per_call_us(lambda text=text: _json_format_decode(text), runs)
        decode_new = _per_call_us(lambda text=text: proto_json.parse(text, events_pb2.LedgerEvents), runs)
        encode_old = _per_call_us(lambda message=message: _json_format_encode(message), runs)
        encode_new = _per_call_us(lambda message=message: proto_json.encode(message), runs)
        kinds[member.name] = {
            "bytes": len(text.encode("utf-8")),
            "decode_us": {"json_format": decode_old, "proto_json": decode_new},
            "encode_us": {"json_format": encode_old, "proto_json": encode_new},
        }
    decode_ratio = [k["decode_us"]["json_format"] / k["decode_us"]["proto_json"] for k in kinds.values()]
    encode_ratio = [k["encode_us"]["json_format"] / k["encode_us"]["proto_json"] for k in kinds.values()]
    return {
        "benchmark": "proto JSON per LedgerEvents (one event)",
        "runs": runs,
        "decode_speedup_mean": round(sum(decode_ratio) / len(decode_ratio), 2),
        "encode_speedup_mean": round(sum(encode_ratio) / len(encode_ratio), 2),
        "kinds": kinds,
    }


def main(argv: list[str] | None = None) -> int:
    """Measure and print one JSON line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="calls timed per kind and codec")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.runs)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
