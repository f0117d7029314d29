"""Prometheus metrics of the projector."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram


class ProjectorMetrics:
    """The projector's metrics, created once per process (never at import time)."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.active = Gauge(
            "gx_projector_active",
            "1 while this process holds the projection lock, 0 as a standby.",
            registry=registry,
        )
        self.halted = Gauge(
            "gx_projector_halted", "1 after a poison event stopped the projection.", registry=registry
        )
        self.transactions = Counter(
            "gx_projector_transactions_total",
            "Chaincode events (one per transaction) applied, by outcome (applied, replayed, duplicate).",
            ["outcome"],
            registry=registry,
        )
        self.domain_events = Counter(
            "gx_projector_domain_events_total", "Domain events applied, by kind.", ["kind"], registry=registry
        )
        self.checkpoint_block = Gauge(
            "gx_projector_checkpoint_block", "Block number of the last applied event.", registry=registry
        )
        self.lag_blocks = Gauge(
            "gx_projector_lag_blocks",
            "Committed blocks with GX commands not yet projected (0 on a quiet, caught-up chain).",
            registry=registry,
        )
        self.lag_seconds = Gauge(
            "gx_projector_lag_seconds",
            "Age of the oldest committed command not yet projected (0 when caught up, also on a quiet chain).",
            registry=registry,
        )
        self.apply_seconds = Histogram(
            "gx_projector_apply_seconds",
            "Time to apply one transaction's events and move the checkpoint.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
            registry=registry,
        )
        self.batch_size = Histogram(
            "gx_projector_batch_transactions",
            "Transactions applied per database transaction (a replay's batches are large, a live block's small).",
            buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
            registry=registry,
        )
        self.batch_fallbacks = Counter(
            "gx_projector_batch_fallbacks_total",
            "Batches that failed and were applied again one by one (a poison event, or a fault to look into).",
            registry=registry,
        )
        self.event_delay = Histogram(
            "gx_projector_event_delay_seconds",
            "Time from the transaction's timestamp to its projection.",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=registry,
        )
