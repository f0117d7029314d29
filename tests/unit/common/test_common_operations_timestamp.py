"""operations.timestamp (the wallet's convert.timestamp too) gives exactly Timestamp.FromDatetime's message, for aware and naive times on both sides of 1970."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st

from services.common import operations
from services.wallet import convert


def _reference(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


_ZONES: Any = st.one_of(
    st.none(),
    st.just(UTC),
    st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_ZONES))
def test_the_same_message_as_from_datetime(value: datetime) -> None:
    assert operations.timestamp(value) == _reference(value)
    assert convert.timestamp is operations.timestamp


def test_before_the_epoch_and_none() -> None:
    value = datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)
    assert operations.timestamp(value) == Timestamp(seconds=-1, nanos=500_000_000) == _reference(value)
    assert operations.timestamp(None) is None
