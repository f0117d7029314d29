"""Prometheus metrics of the outbox worker."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

# Breaker states as numbers, so one gauge can be graphed and alerted on (open = 2).
BREAKER_STATE_VALUES = {"closed": 0, "half_open": 1, "open": 2}


class OutboxMetrics:
    """The worker's metrics, created once per process (never at import time).

    Args:
        registry: where to register; tests pass a fresh `CollectorRegistry` so several
            workers can live in one test process.
    """

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.submitted = Counter(
            "gx_outbox_commands_submitted_total",
            "Transactions submitted to the orderer, by command type.",
            ["command_type"],
            registry=registry,
        )
        self.committed = Counter(
            "gx_outbox_commands_committed_total",
            "Commands committed as VALID on the ledger, by command type.",
            ["command_type"],
            registry=registry,
        )
        self.rejected = Counter(
            "gx_outbox_commands_rejected_total",
            "Commands that ended FAILED, by command type and reason.",
            ["command_type", "reason"],
            registry=registry,
        )
        self.retried = Counter(
            "gx_outbox_command_retries_total",
            "Attempts rescheduled after a transient failure or a read conflict, by reason.",
            ["command_type", "reason"],
            registry=registry,
        )
        self.conflicts = Counter(
            "gx_outbox_read_conflicts_total",
            "Transactions that committed as MVCC/phantom read conflicts and were rebuilt (no attempt spent).",
            ["command_type", "code"],
            registry=registry,
        )
        self.blocked = Gauge(
            "gx_outbox_blocked_commands",
            "Due commands waiting for an earlier command on one of their ordering keys (or a prerequisite).",
            registry=registry,
        )
        self.handed_over = Counter(
            "gx_outbox_handed_over_total",
            "Successors claimed by the statement that recorded their predecessor COMMITTED and started at once.",
            registry=registry,
        )
        self.statements = Counter(
            "gx_outbox_statements_total",
            "Hot-path statements run (claim, store_envelopes, record_committed, next_in_line, update), each one"
            " round trip; grouped ones carry several commands.",
            ["statement"],
            registry=registry,
        )
        self.step = Histogram(
            "gx_outbox_step_seconds",
            "Wall time of each step of a command: endorse, submit, store (the envelope, before its commit is awaited),"
            " commit_status (waiting for the block), record (the outcome, with the hand-over).",
            ["step"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=registry,
        )
        self.speculations = Counter(
            "gx_outbox_speculative_endorsements_total",
            "Successors endorsed while their predecessor's outcome was recorded (outbox/speculation.py),"
            " by outcome: used, failed (endorsed again the ordinary way), discarded (not handed over, or"
            " freed by a later block).",
            ["outcome"],
            registry=registry,
        )
        self.submit_to_commit = Histogram(
            "gx_outbox_submit_to_commit_seconds",
            "Time from the first Submit of a transaction to its commit status.",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=registry,
        )
        self.pickup = Histogram(
            "gx_outbox_pickup_seconds",
            "Time from a command being recorded to its first claim by a worker.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.queue_depth = Gauge(
            "gx_outbox_queue_depth",
            "Commands not yet terminal, by status.",
            ["status"],
            registry=registry,
        )
        self.oldest_pending_age = Gauge(
            "gx_outbox_oldest_pending_age_seconds",
            "Age of the oldest command that is not terminal yet (0 when none).",
            registry=registry,
        )
        self.breaker_state = Gauge(
            "gx_outbox_breaker_state",
            "The Fabric peer circuit breaker: 0 closed, 1 half-open, 2 open.",
            registry=registry,
        )
        self.in_flight = Gauge(
            "gx_outbox_in_flight",
            "Commands this worker is processing right now.",
            registry=registry,
        )
