"""Licensing's own Prometheus metrics: the edge's key decisions and the batches behind usage."""

from __future__ import annotations

import weakref

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram


class LicensingMetrics:
    """Counters on licensing's /metrics, created once per registry (tests run several servers in
    one process, and a name may be registered only once per registry)."""

    _by_registry: weakref.WeakKeyDictionary[CollectorRegistry, LicensingMetrics] = weakref.WeakKeyDictionary()

    def __init__(self, registry: CollectorRegistry) -> None:
        self.decisions = Counter(
            "gx_licensing_authz_decisions_total",
            "Edge API-key checks by outcome (OK or the refusal's reason).",
            ("outcome",),
            registry=registry,
        )
        self.decision_seconds = Histogram(
            "gx_licensing_authz_decision_seconds",
            "Time to decide one keyed request, inside licensing.",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=registry,
        )
        self.partner_request_seconds = Histogram(
            "gx_licensing_partner_request_seconds",
            "Latency of keyed requests the edge served, end to end at the edge (from its access log).",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=registry,
        )

    @classmethod
    def for_registry(cls, registry: CollectorRegistry | None = None) -> LicensingMetrics:
        """The metrics of a registry (the process default when None), created once."""
        registry = registry or REGISTRY
        metrics = cls._by_registry.get(registry)
        if metrics is None:
            metrics = cls(registry)
            cls._by_registry[registry] = metrics
        return metrics
