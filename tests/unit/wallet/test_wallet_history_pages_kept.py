"""The kept history pages' bookkeeping (services/wallet/history_pages.py): bounded, least recently
used out, none kept at capacity 0. Whether a kept page is current is the version's business
(tests/grpc/wallet/test_wallet_history_pages.py)."""

from __future__ import annotations

import pytest
from gx.wallet.v1 import wallet_service_pb2 as svc
from prometheus_client import CollectorRegistry

from services.wallet.history_pages import HistoryPages, PageKey


def _key(wallet: str) -> PageKey:
    return (wallet, "|||", None, 21)


def _counts(registry: CollectorRegistry) -> tuple[float, float]:
    def value(result: str) -> float:
        return registry.get_sample_value("gx_wallet_history_pages_total", {"result": result}) or 0.0

    return value("hit"), value("miss")


def test_the_least_recently_used_page_goes_first() -> None:
    pages = HistoryPages(2, CollectorRegistry())
    a, b, c = (svc.ListTransactionsResponse(next_page_token=name) for name in "abc")
    pages.keep(_key("a"), 1, a)
    pages.keep(_key("b"), 2, b)
    kept = pages.get(_key("a"))  # used: b is now the oldest
    assert kept is not None and kept.version == 1 and kept.response is a
    pages.keep(_key("c"), 3, c)
    assert len(pages) == 2 and pages.get(_key("b")) is None
    assert pages.get(_key("a")) is not None and pages.get(_key("c")) is not None


def test_a_newer_version_replaces_the_page_kept_for_the_same_key() -> None:
    pages = HistoryPages(4, CollectorRegistry())
    pages.keep(_key("a"), 1, svc.ListTransactionsResponse(next_page_token="old"))
    pages.keep(_key("a"), 5, svc.ListTransactionsResponse(next_page_token="new"))
    kept = pages.get(_key("a"))
    assert (
        len(pages) == 1 and kept is not None and (kept.version, kept.response.next_page_token) == (5, "new")
    )


def test_capacity_zero_keeps_nothing_and_counts_every_read_as_a_miss() -> None:
    registry = CollectorRegistry()
    pages = HistoryPages(0, registry)
    pages.keep(_key("a"), 1, svc.ListTransactionsResponse())
    assert len(pages) == 0 and pages.get(_key("a")) is None
    pages.hit()
    assert _counts(registry) == (1, 1)
    with pytest.raises(ValueError, match="negative"):
        HistoryPages(-1, CollectorRegistry())
