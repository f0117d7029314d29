"""Prometheus metrics of the notifier."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram


class NotifierMetrics:
    """The notifier's metrics, created once per process (never at import time).

    Args:
        registry: where to register; tests pass a fresh `CollectorRegistry`.
    """

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.sent = Counter(
            "gx_notifier_messages_sent_total",
            "Messages the receiver accepted, by channel.",
            ["channel"],
            registry=registry,
        )
        self.failed = Counter(
            "gx_notifier_messages_failed_total",
            "Messages given up (permanent error or too old), by channel and reason.",
            ["channel", "reason"],
            registry=registry,
        )
        self.skipped = Counter(
            "gx_notifier_messages_skipped_total",
            "Messages with nothing to send (preference off, no recipient), by channel and reason.",
            ["channel", "reason"],
            registry=registry,
        )
        self.retried = Counter(
            "gx_notifier_message_retries_total",
            "Attempts that failed and were rescheduled, by channel and reason.",
            ["channel", "reason"],
            registry=registry,
        )
        self.queued = Gauge(
            "gx_notifier_queued_messages", "PENDING messages, by channel.", ["channel"], registry=registry
        )
        self.oldest_age = Gauge(
            "gx_notifier_oldest_queued_age_seconds",
            "Age of the oldest PENDING message, by channel (0 when none).",
            ["channel"],
            registry=registry,
        )
        self.delivery_latency = Histogram(
            "gx_notifier_delivery_seconds",
            "From recording a message to the receiver's acceptance, by channel.",
            ["channel"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400),
            registry=registry,
        )
