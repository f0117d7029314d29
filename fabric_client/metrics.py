"""Prometheus metrics for Gateway calls: counts by method and outcome, latency, breaker state."""

from __future__ import annotations

import functools

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from fabric_client.breaker import BreakerState

_BREAKER_VALUES = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}
# Endorse/commit status on a real network take from milliseconds to the 2 s batch timeout and more.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class ClientMetrics:
    """The client's metric families, registered once per registry.

    Outcomes are ``ok``, ``circuit_open`` or the lower-case gRPC code name (``unavailable``,
    ``aborted``...); commit status adds ``invalid`` when the transaction committed as invalid.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        """Create and register the families in ``registry`` (the default registry if None)."""
        registry = REGISTRY if registry is None else registry
        self.calls = Counter(
            "gx_fabric_client_calls",
            "Fabric Gateway calls by method and outcome.",
            ["method", "outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "gx_fabric_client_call_duration_seconds",
            "Latency of Fabric Gateway calls by method.",
            ["method"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.breaker_state = Gauge(
            "gx_fabric_client_breaker_state",
            "Circuit breaker state per peer: 0 closed, 1 half-open, 2 open.",
            ["peer"],
            registry=registry,
        )
        self.events = Counter(
            "gx_fabric_client_chaincode_events",
            "Chaincode events received, by chaincode.",
            ["chaincode"],
            registry=registry,
        )

    def observe(self, method: str, outcome: str, seconds: float | None = None) -> None:
        """Record one finished call; ``seconds`` None counts it without a latency sample.

        Calls refused by the breaker and event-stream messages have no meaningful latency, and
        zeros would drag the histogram's quantiles down.
        """
        self.calls.labels(method, outcome).inc()
        if seconds is not None:
            self.latency.labels(method).observe(seconds)

    def set_breaker(self, peer: str, state: BreakerState) -> None:
        """Publish a breaker transition."""
        self.breaker_state.labels(peer).set(_BREAKER_VALUES[state])


@functools.cache
def default_metrics() -> ClientMetrics:
    """Return the metrics registered in the default registry, created on first use (not at import)."""
    return ClientMetrics()
