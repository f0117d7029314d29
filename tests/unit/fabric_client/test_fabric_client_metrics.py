"""Client metrics: counts by method and outcome, latency only where it means something, breaker state."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from fabric_client.breaker import BreakerState, CircuitBreaker
from fabric_client.metrics import ClientMetrics


def test_calls_are_counted_by_method_and_outcome_with_latency() -> None:
    registry = CollectorRegistry()
    metrics = ClientMetrics(registry)
    metrics.observe("endorse", "ok", 0.02)
    metrics.observe("endorse", "aborted", 0.5)
    metrics.observe("endorse", "circuit_open")  # refused locally: counted, no latency sample

    def calls(outcome: str) -> float | None:
        return registry.get_sample_value(
            "gx_fabric_client_calls_total", {"method": "endorse", "outcome": outcome}
        )

    assert (calls("ok"), calls("aborted"), calls("circuit_open")) == (1, 1, 1)
    assert (
        registry.get_sample_value("gx_fabric_client_call_duration_seconds_count", {"method": "endorse"}) == 2
    )
    assert (
        registry.get_sample_value("gx_fabric_client_call_duration_seconds_sum", {"method": "endorse"}) == 0.52
    )


def test_breaker_transitions_are_published() -> None:
    registry = CollectorRegistry()
    metrics = ClientMetrics(registry)
    breaker = CircuitBreaker("peer0:7051", failure_threshold=1, reset_timeout=60)
    breaker.add_listener(metrics.set_breaker)
    metrics.set_breaker(breaker.name, breaker.state)

    def state() -> float | None:
        return registry.get_sample_value("gx_fabric_client_breaker_state", {"peer": "peer0:7051"})

    assert state() == 0
    breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and state() == 2
