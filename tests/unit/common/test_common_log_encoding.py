"""The per-call line's encoder writes exactly what `json.dumps(out, default=str, ensure_ascii=False)` wrote."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.common.logging import _dumps

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),  # quotes, backslashes, control characters, non-ASCII
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@given(st.dictionaries(st.text(), _values, max_size=12))
def test_a_line_is_the_text_json_dumps_gives(out: dict[str, Any]) -> None:
    assert _dumps(out) == json.dumps(out, default=str, ensure_ascii=False)


def test_values_json_cannot_encode_are_written_as_their_text() -> None:
    out = {
        "id": uuid.UUID(int=7),
        "at": datetime(2026, 12, 6, tzinfo=UTC),
        "ms": 0.125,
        "ok": True,
        "π": 'ü\n"',
    }
    assert _dumps(out) == json.dumps(out, default=str, ensure_ascii=False)
    assert json.loads(_dumps(out))["id"] == str(uuid.UUID(int=7))


def test_a_circular_value_is_refused_as_json_dumps_refuses_it() -> None:
    loop: list[Any] = []
    loop.append(loop)
    for encode in (_dumps, lambda o: json.dumps(o, default=str, ensure_ascii=False)):
        try:
            encode({"loop": loop})
        except ValueError as exc:
            assert "Circular reference" in str(exc)
        else:
            raise AssertionError("a circular value was encoded")
