"""The key check's record cache against the real PostgreSQL: one read per key at a time, refreshed ahead, never older than its TTL.

The directory's clock is a test's own number (no wall-clock timing); the reads are counted on the
engine's cursor executions, and revocations go through the real RPC.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc
from sqlalchemy import event

from services.licensing import keys
from services.licensing.authz import KeyDirectory
from tests.grpc.licensing.licensing_harness import Mesh
from tests.grpc.licensing.partners import active_partner, licence


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def key_reads(mesh: Mesh) -> Iterator[list[str]]:
    """Every key lookup licensing's engine sends to PostgreSQL from now on."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if statement.startswith("SELECT k.id AS key_id"):
            seen.append(statement)

    event.listen(mesh.engine.sync_engine, "before_cursor_execute", note)
    yield seen
    event.remove(mesh.engine.sync_engine, "before_cursor_execute", note)


async def _key(mesh: Mesh) -> tuple[bytes, svc.RevokeApiKeyRequest]:
    partner = await active_partner(mesh)
    lic = await licence(mesh, partner, pb.LICENSE_TIER_BASIC)
    created = await mesh.stub.CreateApiKey(
        svc.CreateApiKeyRequest(
            partner_id="me", license_id=lic.license_id, environment=pb.API_KEY_ENVIRONMENT_LIVE
        ),
        metadata=partner.owner,
    )
    revoke = svc.RevokeApiKeyRequest(
        partner_id=lic.partner_id, license_id=lic.license_id, key_id=created.api_key.key_id
    )
    return keys.hash_secret(created.secret), revoke


async def test_checks_that_miss_together_share_one_read(mesh: Mesh, key_reads: list[str]) -> None:
    secret_hash, _ = await _key(mesh)
    directory = KeyDirectory(mesh.engine, ttl_seconds=1.0, clock=_Clock())
    records = await asyncio.gather(*(directory.find(secret_hash) for _ in range(20)))
    assert {r.key_state if r else None for r in records} == {"ACTIVE"}
    assert len(key_reads) == 1


async def test_a_cancelled_check_does_not_cancel_the_read_others_wait_for(
    mesh: Mesh, key_reads: list[str]
) -> None:
    secret_hash, _ = await _key(mesh)
    directory = KeyDirectory(mesh.engine, ttl_seconds=1.0, clock=_Clock())
    first = asyncio.ensure_future(directory.find(secret_hash))
    second = asyncio.ensure_future(directory.find(secret_hash))
    await asyncio.sleep(0)
    first.cancel()
    record = await second
    assert record is not None and record.key_state == "ACTIVE"
    assert first.cancelled() and len(key_reads) == 1


async def test_a_record_past_half_its_life_is_served_and_refreshed_in_the_background(
    mesh: Mesh, key_reads: list[str]
) -> None:
    secret_hash, revoke = await _key(mesh)
    clock = _Clock()
    directory = KeyDirectory(mesh.engine, ttl_seconds=1.0, clock=clock)
    assert (await directory.find(secret_hash)).key_state == "ACTIVE"  # type: ignore[union-attr]
    await mesh.stub.RevokeApiKey(revoke, metadata=await mesh.admin())
    clock.now = 0.4
    assert (await directory.find(secret_hash)).key_state == "ACTIVE"  # type: ignore[union-attr]
    await directory.settled()
    assert len(key_reads) == 1  # young: no refresh
    clock.now = 0.6
    # Still within its TTL, so served as it was read; the refresh starts behind it.
    assert (await directory.find(secret_hash)).key_state == "ACTIVE"  # type: ignore[union-attr]
    await directory.settled()
    assert len(key_reads) == 2
    clock.now = 0.7
    assert (await directory.find(secret_hash)).key_state == "REVOKED"  # type: ignore[union-attr]
    assert len(key_reads) == 2


async def test_no_record_is_served_at_its_ttl_or_later(mesh: Mesh, key_reads: list[str]) -> None:
    secret_hash, revoke = await _key(mesh)
    clock = _Clock()
    directory = KeyDirectory(mesh.engine, ttl_seconds=1.0, clock=clock)
    assert (await directory.find(secret_hash)).key_state == "ACTIVE"  # type: ignore[union-attr]
    await mesh.stub.RevokeApiKey(revoke, metadata=await mesh.admin())
    clock.now = 1.0  # no check in between, so nothing refreshed it ahead
    assert (await directory.find(secret_hash)).key_state == "REVOKED"  # type: ignore[union-attr]
    assert len(key_reads) == 2
