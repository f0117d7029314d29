"""The one paging helper: keyset clauses and opaque tokens bound to their filter."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Column, DateTime, MetaData, Table, Text
from sqlalchemy.dialects import postgresql

from services.common import paging
from services.common.errors import InvalidArgument

_T = datetime(2026, 12, 6, 7, 30, 15, 123456, tzinfo=UTC)
_ID = uuid.UUID("3f1d1f8e-6a53-4b53-9f7a-2f0c7c1e6d10")


def _reason(error: pytest.ExceptionInfo[InvalidArgument]) -> tuple[str, list[str]]:
    return error.value.reason, [v.field for v in error.value.violations]


def test_a_token_carries_typed_keyset_values_back() -> None:
    token = paging.encode([_T, _ID, 7, "x"], "loans|PENDING")
    assert paging.decode(token, "loans|PENDING") == [_T, _ID, 7, "x"]
    assert "=" not in token and "/" not in token and "+" not in token


def test_a_token_for_another_filter_or_not_ours_is_invalid_page_token() -> None:
    token = paging.encode([1], "orgs|alice")
    with pytest.raises(InvalidArgument) as other:
        paging.decode(token, "orgs|bob")
    assert _reason(other) == ("INVALID_PAGE_TOKEN", ["page_token"])
    for garbage in ("garbage", "e30", paging.encode([{"$x": 1}], "k")):
        with pytest.raises(InvalidArgument) as bad:
            paging.request(10, garbage, "k")
        assert _reason(bad) == ("INVALID_PAGE_TOKEN", ["page_token"])


def test_the_first_page_has_no_clause_and_reads_one_extra_row() -> None:
    page = paging.request(0, "", "k")
    params: dict[str, Any] = {}
    assert (page.size, page.limit, page.after) == (
        paging.DEFAULT_PAGE_SIZE,
        paging.DEFAULT_PAGE_SIZE + 1,
        None,
    )
    assert page.after_clause("t.time, t.id", params) is None and params == {}
    assert paging.request(5000, "", "k", maximum=500).size == 500


def test_pages_follow_each_other_without_gaps_or_repeats() -> None:
    rows = [SimpleNamespace(t=_T, id=i) for i in range(9, 0, -1)]  # newest first: 9..1
    seen: list[int] = []
    token = ""
    for _ in range(5):
        page = paging.request(4, token, "k")
        params: dict[str, Any] = {}
        clause = page.after_clause("t, id", params)
        # The query the clause stands for: rows strictly after the cursor, `limit` of them.
        after = None if page.after is None else tuple(page.after)
        found = [r for r in rows if after is None or (r.t, r.id) < after][: page.limit]
        if after is not None:
            assert clause == "(t, id) < (:after_0, :after_1)" and params == {
                "after_0": _T,
                "after_1": after[1],
            }
        got, token = page.finish(found, lambda r: (r.t, r.id))
        seen += [r.id for r in got]
        if not token:
            break
    assert seen == list(range(9, 0, -1))


def test_an_ascending_list_continues_upwards_and_a_token_of_another_width_is_refused() -> None:
    page = paging.request(2, paging.encode(["LK"], "countries"), "countries", descending=False)
    params: dict[str, Any] = {}
    assert page.after_clause("country_code", params) == "(country_code) > (:after_0)"
    assert params == {"after_0": "LK"}
    with pytest.raises(InvalidArgument):
        page.after_clause("a, b", {})


def test_the_core_condition_binds_the_cursor_with_the_columns_types() -> None:
    table = Table(
        "loans",
        MetaData(schema="ledger"),
        Column("create_time", DateTime(timezone=True)),
        Column("loan_id", Text),
    )
    page = paging.request(10, paging.encode([_T, "L1"], "k"), "k")
    condition = page.condition(table.c.create_time, table.c.loan_id)
    assert condition is not None
    compiled = condition.compile(dialect=postgresql.dialect())
    assert str(compiled).startswith("(ledger.loans.create_time, ledger.loans.loan_id) < (")
    assert list(compiled.params.values()) == [_T, "L1"]
    assert paging.request(10, "", "k").condition(table.c.loan_id) is None
