"""Opaque page tokens: round trip, bound to their filter, refused when forged."""

from __future__ import annotations

import base64
import json

import pytest

from services.common import paging
from services.common.errors import InvalidArgument


def test_a_token_round_trips_its_cursor() -> None:
    token = paging.encode([123, "abc"], "wallet|SENT")
    assert paging.decode(token, "wallet|SENT") == [123, "abc"]
    assert paging.decode("", "anything") is None
    assert "=" not in token  # URL-safe, no padding: it travels in a query string


def test_a_token_is_refused_with_another_filter() -> None:
    token = paging.encode(5, "wallet-a|")
    with pytest.raises(InvalidArgument) as caught:
        paging.decode(token, "wallet-b|")
    assert caught.value.reason == "INVALID_PAGE_TOKEN"
    assert [v.field for v in caught.value.violations] == ["page_token"]


@pytest.mark.parametrize(
    "token",
    ["%%%", "bm90IGpzb24", base64.urlsafe_b64encode(json.dumps({"c": 1}).encode()).decode(), "W10"],
)
def test_garbage_is_refused_not_crashed_on(token: str) -> None:
    with pytest.raises(InvalidArgument):
        paging.decode(token, "k")
