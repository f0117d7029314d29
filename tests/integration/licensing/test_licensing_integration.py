"""Licensing against the real PostgreSQL and Redis: races the database settles, and what a pg_dump holds."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import uuid
from datetime import timedelta
from urllib.parse import urlparse

import grpc
from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc

from devstack.postgres import bin_dir
from services.licensing.lastused import LastUsed
from tests.grpc.licensing.licensing_harness import Mesh, now
from tests.grpc.licensing.partners import active_partner, licence


async def _outcome(call: object) -> grpc.StatusCode:
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


async def test_concurrent_applications_with_one_email_make_one_partner(mesh: Mesh) -> None:
    request = svc.CreatePartnerRequest(name="Race", email="race@acme.example", contact_person="R")
    codes = await asyncio.gather(*(_outcome(mesh.stub.CreatePartner(request)) for _ in range(8)))
    assert sorted(c.name for c in codes) == ["ALREADY_EXISTS"] * 7 + ["OK"]
    rows = await mesh.sql("SELECT id FROM licensing.partners WHERE email = 'race@acme.example'")
    assert len(rows) == 1


async def test_concurrent_approvals_activate_once(mesh: Mesh) -> None:
    _, _, md = await mesh.user()
    partner = (
        await mesh.stub.CreatePartner(
            svc.CreatePartnerRequest(name="Once", email="once@acme.example", contact_person="O"), metadata=md
        )
    ).partner
    admin = await mesh.admin()
    approve = svc.ApprovePartnerRequest(partner_id=partner.partner_id)
    codes = await asyncio.gather(
        *(_outcome(mesh.stub.ApprovePartner(approve, metadata=admin)) for _ in range(5))
    )
    assert sorted(c.name for c in codes) == ["FAILED_PRECONDITION"] * 4 + ["OK"]


async def test_two_replicas_touching_one_key_keep_the_latest_minute(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    lic = await licence(mesh, partner)
    key = (
        await mesh.stub.CreateApiKey(
            svc.CreateApiKeyRequest(
                partner_id="me", license_id=lic.license_id, environment=pb.API_KEY_ENVIRONMENT_LIVE
            ),
            metadata=partner.owner,
        )
    ).api_key
    late = now().replace(second=0, microsecond=0)
    early = late - timedelta(minutes=1)
    first, second = LastUsed(mesh.redis), LastUsed(mesh.redis)
    await first.touch(key.key_id, late)
    await second.touch(key.key_id, early)
    assert (await first.pending([key.key_id]))[key.key_id] == late
    await mesh.flusher.flush()
    assert await first.pending([key.key_id]) == {}
    (row,) = await mesh.sql("SELECT last_used_at FROM licensing.api_keys")
    assert row.last_used_at == late


async def test_a_pg_dump_holds_key_hashes_and_never_a_secret(mesh: Mesh, database_url: str) -> None:
    partner = await active_partner(mesh)
    lic = await licence(mesh, partner)
    secrets = []
    for _ in range(3):
        created = await mesh.stub.CreateApiKey(
            svc.CreateApiKeyRequest(
                partner_id="me",
                license_id=lic.license_id,
                environment=pb.API_KEY_ENVIRONMENT_TEST,
                request_id=str(uuid.uuid4()),
            ),
            metadata=partner.owner,
        )
        secrets.append(created.secret)
    rotated = await mesh.stub.RotateApiKey(
        svc.RotateApiKeyRequest(partner_id="me", license_id=lic.license_id, key_id=created.api_key.key_id),
        metadata=partner.owner,
    )
    secrets.append(rotated.secret)
    url = urlparse(database_url.replace("postgresql+psycopg", "postgresql"))
    argv = [
        str(bin_dir() / "pg_dump"),
        "-h",
        url.hostname or "",
        "-p",
        str(url.port),
        "-U",
        url.username or "",
        url.path[1:],
    ]
    done = await asyncio.to_thread(subprocess.run, argv, capture_output=True, timeout=60, check=True)
    dump: bytes = done.stdout
    assert b"COPY licensing.api_keys" in dump
    for secret in secrets:
        assert secret.encode() not in dump
        # Not its body either (a dump must not hold the key in any spelling).
        assert secret[8:40].encode() not in dump
        # What is there is the hash (bytea, hex output).
        assert hashlib.sha256(secret.encode()).hexdigest().encode() in dump
