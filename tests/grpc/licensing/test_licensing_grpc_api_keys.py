"""API keys over gRPC: create (secret once, hash only), list with last use, revoke, rotate with a grace period."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import grpc
from google.protobuf.duration_pb2 import Duration
from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc

from services.licensing import keys
from tests.grpc.licensing.licensing_harness import Mesh, new_request_id, now
from tests.grpc.licensing.partners import Partner, active_partner, licence
from tests.grpc.wallet.wallet_harness import failure


async def _key(
    mesh: Mesh, partner: Partner, license_id: str, env: int = pb.API_KEY_ENVIRONMENT_LIVE, **extra: str
) -> svc.CreateApiKeyResponse:
    request = svc.CreateApiKeyRequest(partner_id="me", license_id=license_id, environment=env, **extra)
    return await mesh.stub.CreateApiKey(request, metadata=partner.owner)


async def test_a_new_key_is_shown_once_and_stored_only_as_its_hash(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    lic = await licence(mesh, partner)
    created = await _key(mesh, partner, lic.license_id, pb.API_KEY_ENVIRONMENT_TEST, display_name="backend-1")
    assert created.secret.startswith("gx_test_")
    assert keys.parse(created.secret) == "TEST"
    key = created.api_key
    assert (key.state, key.environment, key.display_name) == (
        pb.API_KEY_STATE_ACTIVE,
        pb.API_KEY_ENVIRONMENT_TEST,
        "backend-1",
    )
    assert created.secret.startswith(key.display_prefix) and len(key.display_prefix) == len("gx_test_") + 4
    (row,) = await mesh.sql("SELECT secret_hash FROM licensing.api_keys")
    assert bytes(row.secret_hash) == hashlib.sha256(created.secret.encode()).digest()
    # No column of any licensing or platform table holds the secret, the idempotency record included.
    dump = await mesh.sql(
        "SELECT string_agg(t::text, ' ') AS all FROM (SELECT * FROM licensing.api_keys) t"
        " UNION ALL SELECT string_agg(encode(response, 'escape'), ' ') FROM platform.idempotency_records"
    )
    assert all(created.secret not in (r.all or "") for r in dump)


async def test_an_identical_retry_answers_the_same_key_without_its_secret(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    lic = await licence(mesh, partner)
    rid = new_request_id()
    first = await _key(mesh, partner, lic.license_id, request_id=rid)
    again = await _key(mesh, partner, lic.license_id, request_id=rid)
    assert first.secret and again.secret == ""
    assert again.api_key == first.api_key
    assert len(await mesh.sql("SELECT id FROM licensing.api_keys")) == 1


async def test_keys_need_an_active_licence_and_partner(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    lic = await licence(mesh, partner)
    await mesh.stub.SuspendLicense(
        svc.SuspendLicenseRequest(partner_id=partner.partner_id, license_id=lic.license_id, reason="x"),
        metadata=partner.admin,
    )
    refused = await failure(_key(mesh, partner, lic.license_id))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "LICENSE_NOT_ACTIVE")
    other = await licence(mesh, partner)
    await mesh.stub.SuspendPartner(
        svc.SuspendPartnerRequest(partner_id=partner.partner_id, reason="x"), metadata=partner.admin
    )
    suspended = await failure(_key(mesh, partner, other.license_id))
    assert (suspended.code, suspended.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "PARTNER_NOT_ACTIVE")
    unspecified = await failure(
        mesh.stub.CreateApiKey(
            svc.CreateApiKeyRequest(partner_id="me", license_id=other.license_id), metadata=partner.owner
        )
    )
    assert (unspecified.code, set(unspecified.fields)) == (grpc.StatusCode.INVALID_ARGUMENT, {"environment"})
    assert await mesh.sql("SELECT id FROM licensing.api_keys") == []


async def test_list_shows_keys_newest_first_with_last_use_before_and_after_the_flush(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    lic = await licence(mesh, partner)
    older = (await _key(mesh, partner, lic.license_id)).api_key
    newer = (await _key(mesh, partner, lic.license_id)).api_key
    used_at = now().replace(second=0, microsecond=0)
    await mesh.last_used.touch(older.key_id, used_at + timedelta(seconds=30))

    listed = await mesh.stub.ListApiKeys(
        svc.ListApiKeysRequest(partner_id="me", license_id=lic.license_id), metadata=partner.owner
    )
    assert [k.key_id for k in listed.api_keys] == [newer.key_id, older.key_id]
    assert listed.api_keys[1].last_used_time.ToDatetime().timestamp() == used_at.timestamp()
    assert not listed.api_keys[0].HasField("last_used_time")

    assert await mesh.flusher.flush() == 1
    (row,) = await mesh.sql(
        "SELECT last_used_at FROM licensing.api_keys WHERE id = :k", k=uuid.UUID(older.key_id)
    )
    assert row.last_used_at == used_at
    # An older time never moves it back.
    await mesh.last_used.touch(older.key_id, used_at - timedelta(hours=1))
    assert await mesh.flusher.flush() == 0


async def test_revoke_is_immediate_and_idempotent(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    lic = await licence(mesh, partner)
    key = (await _key(mesh, partner, lic.license_id)).api_key
    revoke = svc.RevokeApiKeyRequest(partner_id="me", license_id=lic.license_id, key_id=key.key_id)
    revoked = (await mesh.stub.RevokeApiKey(revoke, metadata=partner.owner)).api_key
    assert revoked.state == pb.API_KEY_STATE_REVOKED and revoked.HasField("revoke_time")
    # An admin names the partner (an admin's `me` is no partner).
    revoke.partner_id = partner.partner_id
    again = (await mesh.stub.RevokeApiKey(revoke, metadata=partner.admin)).api_key
    assert again.revoke_time == revoked.revoke_time
    rotate = await failure(
        mesh.stub.RotateApiKey(
            svc.RotateApiKeyRequest(partner_id="me", license_id=lic.license_id, key_id=key.key_id),
            metadata=partner.owner,
        )
    )
    assert (rotate.code, rotate.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "API_KEY_NOT_ACTIVE")


async def test_rotation_keeps_the_old_key_for_the_grace_period_then_it_reads_revoked(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    lic = await licence(mesh, partner)
    old = await _key(mesh, partner, lic.license_id, display_name="web")
    before = now()
    rotated = await mesh.stub.RotateApiKey(
        svc.RotateApiKeyRequest(
            partner_id="me",
            license_id=lic.license_id,
            key_id=old.api_key.key_id,
            grace_period=Duration(seconds=3600),
        ),
        metadata=partner.owner,
    )
    assert rotated.secret != old.secret and keys.parse(rotated.secret) == "LIVE"
    assert rotated.api_key.state == pb.API_KEY_STATE_ACTIVE and rotated.api_key.display_name == "web"
    assert rotated.old_api_key.state == pb.API_KEY_STATE_ROTATING
    assert rotated.old_api_key.replaced_by_key_id == rotated.api_key.key_id
    ends = rotated.old_api_key.expire_time.ToDatetime().timestamp()
    assert before.timestamp() + 3600 <= ends <= now().timestamp() + 3600
    # A rotating key cannot be rotated again.
    twice = await failure(
        mesh.stub.RotateApiKey(
            svc.RotateApiKeyRequest(partner_id="me", license_id=lic.license_id, key_id=old.api_key.key_id),
            metadata=partner.owner,
        )
    )
    assert twice.reason == "API_KEY_NOT_ACTIVE"
    # Once the grace period is over the old key reads REVOKED.
    await mesh.sql(
        "UPDATE licensing.api_keys SET expire_at = now() - interval '1 second' WHERE state = 'ROTATING'"
    )
    listed = await mesh.stub.ListApiKeys(
        svc.ListApiKeysRequest(partner_id="me", license_id=lic.license_id), metadata=partner.owner
    )
    states = {k.key_id: k.state for k in listed.api_keys}
    assert states == {
        rotated.api_key.key_id: pb.API_KEY_STATE_ACTIVE,
        old.api_key.key_id: pb.API_KEY_STATE_REVOKED,
    }


async def test_grace_period_bounds(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    lic = await licence(mesh, partner)
    key = (await _key(mesh, partner, lic.license_id)).api_key
    too_long = await failure(
        mesh.stub.RotateApiKey(
            svc.RotateApiKeyRequest(
                partner_id="me",
                license_id=lic.license_id,
                key_id=key.key_id,
                grace_period=Duration(seconds=7 * 86400 + 1),
            ),
            metadata=partner.owner,
        )
    )
    assert (too_long.code, set(too_long.fields)) == (grpc.StatusCode.INVALID_ARGUMENT, {"grace_period"})
    negative = await failure(
        mesh.stub.RotateApiKey(
            svc.RotateApiKeyRequest(
                partner_id="me",
                license_id=lic.license_id,
                key_id=key.key_id,
                grace_period=Duration(seconds=-1),
            ),
            metadata=partner.owner,
        )
    )
    assert set(negative.fields) == {"grace_period"}
    assert len(await mesh.sql("SELECT id FROM licensing.api_keys")) == 1
    # Zero: the old key stops at once.
    at_once = await mesh.stub.RotateApiKey(
        svc.RotateApiKeyRequest(
            partner_id="me", license_id=lic.license_id, key_id=key.key_id, grace_period=Duration()
        ),
        metadata=partner.owner,
    )
    assert at_once.old_api_key.state == pb.API_KEY_STATE_REVOKED
    # Default: 24 hours.
    default = await mesh.stub.RotateApiKey(
        svc.RotateApiKeyRequest(partner_id="me", license_id=lic.license_id, key_id=at_once.api_key.key_id),
        metadata=partner.owner,
    )
    hours = (
        default.old_api_key.expire_time.ToDatetime() - default.old_api_key.create_time.ToDatetime()
    ).total_seconds() / 3600
    assert 23.9 < hours < 24.1


async def test_a_rotation_retry_answers_the_same_new_key_without_its_secret(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    lic = await licence(mesh, partner)
    key = (await _key(mesh, partner, lic.license_id)).api_key
    request = svc.RotateApiKeyRequest(
        partner_id="me", license_id=lic.license_id, key_id=key.key_id, request_id=new_request_id()
    )
    first = await mesh.stub.RotateApiKey(request, metadata=partner.owner)
    again = await mesh.stub.RotateApiKey(request, metadata=partner.owner)
    assert first.secret and again.secret == ""
    assert again.api_key == first.api_key
    assert len(await mesh.sql("SELECT id FROM licensing.api_keys")) == 2


async def test_keys_of_another_partner_are_not_found(mesh: Mesh) -> None:
    mine = await active_partner(mesh)
    theirs = await active_partner(mesh)
    lic = await licence(mesh, theirs)
    key = (await _key(mesh, theirs, lic.license_id)).api_key
    listed = await failure(
        mesh.stub.ListApiKeys(
            svc.ListApiKeysRequest(partner_id="me", license_id=lic.license_id), metadata=mine.owner
        )
    )
    assert listed.reason == "LICENSE_NOT_FOUND"
    revoke = await failure(
        mesh.stub.RevokeApiKey(
            svc.RevokeApiKeyRequest(
                partner_id=theirs.partner_id, license_id=lic.license_id, key_id=key.key_id
            ),
            metadata=mine.owner,
        )
    )
    assert revoke.reason == "PARTNER_NOT_FOUND"
    mine_lic = await licence(mesh, mine)
    wrong = await failure(
        mesh.stub.RevokeApiKey(
            svc.RevokeApiKeyRequest(partner_id="me", license_id=mine_lic.license_id, key_id=key.key_id),
            metadata=mine.owner,
        )
    )
    assert wrong.reason == "API_KEY_NOT_FOUND"
