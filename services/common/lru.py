"""A bounded map that forgets its least recently used entry first: the one shape of every
in-process cache of the mesh (verified tokens, revocation entries, API key records, history pages).

Only the bound and the order live here. Whether an entry may still answer is each cache's own rule
(a token's expiry, an age, a history version), checked by the caller on every hit; an entry that
fails it is dropped with `pop` or replaced with `put`.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedLru(Generic[K, V]):
    """At most `capacity` entries; `get` and `put` make an entry the most recently used, and a
    `put` beyond the bound drops the least recently used one. Capacity 0 keeps nothing."""

    __slots__ = ("_capacity", "_entries")

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError("capacity must not be negative")
        self._capacity = capacity
        self._entries: OrderedDict[K, V] = OrderedDict()

    @property
    def capacity(self) -> int:
        """The most entries kept."""
        return self._capacity

    def get(self, key: K) -> V | None:
        """The entry for `key` (now the most recently used), or None."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Keep `value` for `key` as the most recently used entry, within the bound."""
        if self._capacity == 0:
            return
        self._entries[key] = value
        self._entries.move_to_end(key)
        if len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def pop(self, key: K) -> None:
        """Forget the entry for `key`, if any."""
        self._entries.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)
