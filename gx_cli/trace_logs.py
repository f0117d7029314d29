"""One trace's lines from every process's log, in time order (`gx dev logs --trace ID`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

# A W3C trace id (what every JSON log line carries as `trace_id`), or a whole traceparent.
_TRACE_ID: Final = re.compile(r"[0-9a-f]{32}")
_TRACEPARENT: Final = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")
_EPOCH: Final = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class TraceLine:
    """A log line of the trace: when, which process (its log file's name), the line as written."""

    time: datetime
    part: str
    text: str


def trace_id_of(value: str) -> str | None:
    """The trace id a user typed: 32 hex digits, or a traceparent holding them (case-insensitive)."""
    value = value.strip().lower()
    if _TRACE_ID.fullmatch(value):
        return value
    match = _TRACEPARENT.fullmatch(value)
    return match.group(1) if match else None


def _time(record: dict[str, object]) -> datetime | None:
    raw = record.get("time")
    if not isinstance(raw, str):
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _in_trace(record: dict[str, object], trace_id: str) -> bool:
    # Our processes write `trace_id`; an access log may carry the header itself.
    if record.get("trace_id") == trace_id:
        return True
    header = record.get("traceparent")
    return isinstance(header, str) and trace_id_of(header) == trace_id


def lines_of(part: str, lines: Iterable[str], trace_id: str) -> list[TraceLine]:
    """The JSON lines of one log that belong to the trace (other lines are skipped)."""
    found: list[TraceLine] = []
    for text in lines:
        if trace_id not in text:  # cheap filter before parsing: most lines are other requests
            continue
        try:
            record = json.loads(text)
        except ValueError:
            continue
        if isinstance(record, dict) and _in_trace(record, trace_id):
            found.append(TraceLine(_time(record) or _EPOCH, part, text.rstrip("\n")))
    return found


def trace_lines(paths: Iterable[Path], trace_id: str) -> list[TraceLine]:
    """Every line of the trace in the given logs, oldest first (ties keep each file's order)."""
    found: list[TraceLine] = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as log:
            found.extend(lines_of(path.stem, log, trace_id))
    return sorted(found, key=lambda line: line.time)
