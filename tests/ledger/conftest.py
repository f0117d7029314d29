"""Fixtures for the client wire tests: a real devnet and kv chaincode over real gRPC, and gateways to it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from fabric_client import CircuitBreaker, Gateway, Timeouts
from fabric_client.identity import load_identity
from fabric_client.metrics import ClientMetrics
from tests.support.ledger import Ledger, running_ledger

# Long enough that transactions submitted together land in one block (multi-tx blocks are what
# the checkpoint and MVCC tests need), short enough to keep the suite quick.
BATCH_TIMEOUT = 0.25


@pytest.fixture(scope="session")
async def ledger(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ledger]:
    """One devnet + kv chaincode for the wire tests that do not restart it."""
    async with running_ledger(
        tmp_path_factory.mktemp("ledger"), chaincode="kv", batch_timeout=BATCH_TIMEOUT, batch_size=10
    ) as running:
        yield running


def connect(
    ledger: Ledger,
    user: str = "User1",
    *,
    registry: CollectorRegistry | None = None,
    breaker: CircuitBreaker | None = None,
    timeouts: Timeouts | None = None,
) -> Gateway:
    """Open a gateway to ``ledger`` as ``user`` (metrics in a private registry)."""
    who = ledger.user(user)
    identity, signer = load_identity(who.msp_id, who.cert_path, who.key_path)
    return Gateway.connect(
        ledger.peer_address,
        identity,
        signer,
        timeouts=timeouts or Timeouts(evaluate=10, endorse=20, submit=10, commit_status=30),
        breaker=breaker,
        metrics=ClientMetrics(registry or CollectorRegistry()),
    )


@pytest.fixture()
async def gateway(ledger: Ledger) -> AsyncIterator[Gateway]:
    """A gateway to the shared ledger as User1."""
    async with connect(ledger) as gw:
        yield gw


@pytest.fixture()
def unique() -> Callable[[str], str]:
    """Make keys unique per test so tests sharing one ledger never see each other's state."""
    run = uuid.uuid4().hex[:8]
    return lambda name: f"{run}-{name}"


@pytest.fixture()
def state_dir(tmp_path: Path) -> Path:
    """A fresh state directory for tests that need a ledger of their own."""
    return tmp_path / "devnet"
