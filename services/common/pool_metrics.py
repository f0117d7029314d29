"""Prometheus metrics of the SQLAlchemy connection pools in a process: size, in use, wait time.

Every process builds its engine with `services.common.db.create_engine`, which installs
`TimedPool` and registers the engine here, so the services and the workers publish the same
families:

- `gx_db_pool_connections{pool}`: connections open (idle + in use);
- `gx_db_pool_in_use_connections{pool}`: connections checked out right now;
- `gx_db_pool_max_connections{pool}`: the most the pool may open (`pool_size + max_overflow`);
- `gx_db_pool_wait_seconds{pool}`: time a checkout waited for a connection (histogram);
- `gx_db_pool_timeouts_total{pool}`: checkouts that gave up after `pool_timeout`.

The gauges are read from the pools at scrape time (a collector), so they cannot drift from
what SQLAlchemy counts.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from services.common.metrics import PerRegistry

# A checkout is normally microseconds (an idle connection) or a connect (~ms); waits for a
# busy pool run up to pool_timeout (5 s by default).
_WAIT_BUCKETS = (0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class TimedPool(AsyncAdaptedQueuePool):
    """The async engine's default pool, timing each checkout for the wait histogram.

    `_do_get` is the one place a checkout blocks (on the queue, or connecting a new
    connection); SQLAlchemy's pool events fire only after it, so they cannot measure the wait.
    """

    gx_observer: _PoolObserver | None = None

    def _do_get(self) -> Any:
        started = time.perf_counter()
        try:
            return super()._do_get()
        except sa_exc.TimeoutError:
            if self.gx_observer is not None:
                self.gx_observer.timed_out()
            raise
        finally:
            if self.gx_observer is not None:
                self.gx_observer.waited(time.perf_counter() - started)

    def recreate(self) -> TimedPool:
        # dispose() and invalidation replace the pool with a fresh one: keep it observed.
        fresh = super().recreate()
        assert isinstance(fresh, TimedPool)
        fresh.gx_observer = self.gx_observer
        return fresh


class _PoolObserver:
    """The label children of one pool name (cached: `.labels()` per checkout costs a lookup)."""

    def __init__(self, metrics: PoolMetrics, name: str) -> None:
        self._wait = metrics.wait_seconds.labels(name)
        self._timeouts = metrics.timeouts.labels(name)

    def waited(self, seconds: float) -> None:
        self._wait.observe(seconds)

    def timed_out(self) -> None:
        self._timeouts.inc()


class _PoolCollector(Collector):
    """Reads size and in-use counts from the registered engines' pools at scrape time.

    Several engines under one pool name (tests run servers side by side) are summed: the
    gauges describe the process.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engines: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()

    def add(self, engine: Engine, name: str) -> None:
        with self._lock:
            self._engines[engine] = name

    def collect(self) -> Iterator[GaugeMetricFamily]:
        opened = GaugeMetricFamily(
            "gx_db_pool_connections",
            "Database connections the pool holds open (idle and in use).",
            labels=["pool"],
        )
        in_use = GaugeMetricFamily(
            "gx_db_pool_in_use_connections",
            "Database connections checked out of the pool right now.",
            labels=["pool"],
        )
        most = GaugeMetricFamily(
            "gx_db_pool_max_connections",
            "Connections the pool may open at most (pool_size + max_overflow).",
            labels=["pool"],
        )
        totals: dict[str, list[int]] = {}
        with self._lock:
            engines = list(self._engines.items())
        for engine, name in engines:
            pool = engine.pool
            if not isinstance(pool, AsyncAdaptedQueuePool):
                continue
            row = totals.setdefault(name, [0, 0, 0])
            row[0] += pool.checkedin() + pool.checkedout()
            row[1] += pool.checkedout()
            row[2] += pool.size() + max(pool._max_overflow, 0)
        for name, (open_count, used, limit) in sorted(totals.items()):
            opened.add_metric([name], open_count)
            in_use.add_metric([name], used)
            most.add_metric([name], limit)
        yield opened
        yield in_use
        yield most


class PoolMetrics(PerRegistry):
    """The pool families of one registry (`PoolMetrics.for_registry(registry)`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.wait_seconds = Histogram(
            "gx_db_pool_wait_seconds",
            "Time a checkout waited for a pooled database connection (connecting a new one included).",
            ["pool"],
            buckets=_WAIT_BUCKETS,
            registry=registry,
        )
        self.timeouts = Counter(
            "gx_db_pool_timeouts",
            "Checkouts that gave up after the pool timeout (every connection stayed busy).",
            ["pool"],
            registry=registry,
        )
        self._collector = _PoolCollector()
        registry.register(self._collector)

    def observe(self, engine: Engine, name: str) -> None:
        """Publish an engine's pool under `name` (its pool must be a `TimedPool` for waits)."""
        pool = engine.pool
        if isinstance(pool, TimedPool):
            pool.gx_observer = _PoolObserver(self, name)
        self._collector.add(engine, name)
