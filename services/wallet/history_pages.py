"""History pages the wallet built, answered again while the wallet's history version is unchanged.

A history page is the costliest user read: twenty or fifty rows out of PostgreSQL, each decoded
and written into the response. A user who opens the history again, with nothing new in it, asks
for the same rows. The statement that checks the owner also reads the wallet's `history_version`
(readmodels.owned_history), and skips the page when it is the version this cache holds the page
for: every change to a wallet's entries takes a new version in its own transaction (migration
0020, from a sequence that never repeats, even across a rebuild), so the kept page is exactly what
the page statement would read. No time limit is needed, and none would make it safer: freshness
comes from the version, read in the same statement as the ownership, on every call.

One part of an entry is not a ledger.transactions column: its `operation`, the outbox command with
the entry's request id. That command is recorded before its transaction is submitted, so it exists
before the entry does, and archiving keeps its id. A second command with the same request id (an
operator's retry, a client's retry after its idempotency record was purged) can appear later; the
page statement then names either of them (LIMIT 1, no order), and the kept page names the first:
an answer the statement itself could give.

What is kept is the response message, shared by the calls that get it: nobody writes to a
response after the use case returns it. Bounded: the least recently used page goes first.
"""

from __future__ import annotations

from dataclasses import dataclass

from gx.wallet.v1 import wallet_service_pb2 as svc
from prometheus_client import CollectorRegistry, Counter

from services.common.lru import BoundedLru
from services.common.metrics import PerRegistry

# Pages kept at most (`GX_WALLET__HISTORY_PAGES`): a 20-row page is about 3.4 kB serialised and
# 11 kB as a message, a 50-row page 15 and 28 kB; 256 of the largest are about 7 MB.
DEFAULT_CAPACITY = 256

# Which page: the wallet, the filter's key (types and times), the cursor, the rows asked for.
PageKey = tuple[str, str, int | None, int]


@dataclass(frozen=True, slots=True)
class KeptPage:
    """A page and the history version it was read at."""

    version: int
    response: svc.ListTransactionsResponse


class _Metrics(PerRegistry):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.reads = Counter(
            "gx_wallet_history_pages",
            "Own history reads by whether the page kept from an earlier read was still current"
            " (hit) or was read from PostgreSQL (miss: none kept, or the history changed).",
            ["result"],
            registry=registry,
        )


class HistoryPages:
    """The kept pages, least recently used first out."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, registry: CollectorRegistry | None = None) -> None:
        """Keep at most `capacity` pages; 0 keeps none (every read goes to PostgreSQL)."""
        self._pages: BoundedLru[PageKey, KeptPage] = BoundedLru(capacity)  # ValueError if negative
        metrics = _Metrics.for_registry(registry)
        self._hits = metrics.reads.labels("hit")
        self._misses = metrics.reads.labels("miss")

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: PageKey) -> KeptPage | None:
        """The page kept for `key`, if any (whether it is current is for the version to say)."""
        return self._pages.get(key)

    def hit(self) -> None:
        """The kept page was current and answered."""
        self._hits.inc()

    def keep(self, key: PageKey, version: int, response: svc.ListTransactionsResponse) -> None:
        """Keep `response`, read at `version`, for `key`; a read of PostgreSQL (a miss)."""
        self._misses.inc()
        self._pages.put(key, KeptPage(version, response))
