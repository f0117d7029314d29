"""Licensing's own Prometheus metrics: the edge's key decisions and the batches behind usage."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from services.common.metrics import PerRegistry


class LicensingMetrics(PerRegistry):
    """Counters on licensing's /metrics (`LicensingMetrics.for_registry(registry)`)."""

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
