"""Prometheus metrics of the devnet peer, in a registry of its own (no global state at import)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class DevnetMetrics:
    """Blocks, transactions by validation code, endorsement latency, height and chaincode connections."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.blocks = Counter("devnet_blocks_committed", "Blocks committed", registry=self.registry)
        self.transactions = Counter(
            "devnet_transactions_committed",
            "Transactions committed by validation code",
            ["code"],
            registry=self.registry,
        )
        self.height = Gauge("devnet_ledger_height", "Ledger height (blocks)", registry=self.registry)
        self.endorse_seconds = Histogram(
            "devnet_endorse_seconds",
            "Endorse and Evaluate latency (unpack, validate, simulate, sign)",
            ["rpc"],
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.requests = Counter(
            "devnet_gateway_requests",
            "Gateway RPCs by method and gRPC code",
            ["method", "code"],
            registry=self.registry,
        )
        self.chaincode_connected = Gauge(
            "devnet_chaincode_connected",
            "1 while the chaincode stream is up",
            ["chaincode"],
            registry=self.registry,
        )
