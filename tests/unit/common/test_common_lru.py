"""The bounded map every in-process cache keeps its entries in (services/common/lru.py)."""

from __future__ import annotations

import pytest

from services.common.lru import BoundedLru


def test_beyond_the_bound_the_least_recently_used_entry_goes_first() -> None:
    cache: BoundedLru[str, int] = BoundedLru(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # used: "b" is now the least recently used
    cache.put("c", 3)
    assert ("a" in cache, "b" in cache, "c" in cache, len(cache)) == (True, False, True, 2)


def test_a_put_refreshes_an_entry_and_replaces_its_value() -> None:
    cache: BoundedLru[str, int] = BoundedLru(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)  # "b" is now the oldest
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (10, None, 3)


def test_membership_does_not_count_as_use() -> None:
    cache: BoundedLru[str, int] = BoundedLru(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert "a" in cache
    cache.put("c", 3)
    assert "a" not in cache and "b" in cache


def test_pop_forgets_and_capacity_zero_keeps_nothing() -> None:
    cache: BoundedLru[str, int] = BoundedLru(1)
    cache.put("a", 1)
    cache.pop("a")
    cache.pop("missing")  # forgetting what is not there is no error
    assert cache.get("a") is None and len(cache) == 0
    off: BoundedLru[str, int] = BoundedLru(0)
    off.put("a", 1)
    assert (off.get("a"), len(off), off.capacity) == (None, 0, 0)
    with pytest.raises(ValueError, match="negative"):
        BoundedLru(-1)
