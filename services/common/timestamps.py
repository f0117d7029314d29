"""Protobuf Timestamps from the epoch microseconds hot reads take from PostgreSQL."""

from __future__ import annotations

from typing import Any


def set_from_micros(into: Any, micros: int | None) -> None:
    """Set a Timestamp field in place from epoch microseconds (left unset for None).

    Hot reads select times as `extract(epoch ...) * 1000000` so no datetime is built per row;
    this is the one conversion back. divmod floors: before 1970 the seconds go down and the nanos
    stay positive, as `Timestamp.FromDatetime` gives them.
    """
    if micros is not None:
        seconds, rest = divmod(micros, 1_000_000)
        into.seconds = seconds
        into.nanos = rest * 1000
