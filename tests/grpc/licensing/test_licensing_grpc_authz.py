"""The edge's key check (Envoy ext_authz Check) against the real licensing server, PostgreSQL and Redis."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from envoy.service.auth.v3 import attribute_context_pb2, external_auth_pb2, external_auth_pb2_grpc
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import code_pb2
from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc
from prometheus_client import REGISTRY

from services.licensing import keys
from tests.grpc.licensing.licensing_harness import Mesh, now
from tests.grpc.licensing.partners import Partner, active_partner, licence


def _check_request(key: str | None) -> external_auth_pb2.CheckRequest:
    headers = {":path": "/v1/partners/me", "x-request-id": "r1"}
    if key is not None:
        headers["x-api-key"] = key
    http = attribute_context_pb2.AttributeContext.HttpRequest(
        method="GET", path="/v1/partners/me", headers=headers
    )
    return external_auth_pb2.CheckRequest(
        attributes=attribute_context_pb2.AttributeContext(
            request=attribute_context_pb2.AttributeContext.Request(http=http)
        )
    )


async def _check(mesh: Mesh, key: str | None) -> external_auth_pb2.CheckResponse:
    stub = external_auth_pb2_grpc.AuthorizationStub(mesh.channel)
    response: external_auth_pb2.CheckResponse = await stub.Check(_check_request(key))
    return response


def _decisions(outcome: str) -> float:
    return REGISTRY.get_sample_value("gx_licensing_authz_decisions_total", {"outcome": outcome}) or 0.0


def _headers(options: Any) -> dict[str, str]:
    return {o.header.key: o.header.value for o in options}


def _denied(response: external_auth_pb2.CheckResponse) -> tuple[int, str, dict[str, str]]:
    assert response.status.code != code_pb2.OK
    body = json.loads(response.denied_response.body)
    assert body["code"] == response.status.code
    return (
        response.denied_response.status.code,
        body["details"][0]["reason"],
        _headers(response.denied_response.headers),
    )


async def _keyed(
    mesh: Mesh, tier: int = pb.LICENSE_TIER_BASIC
) -> tuple[Partner, pb.License, svc.CreateApiKeyResponse]:
    partner = await active_partner(mesh)
    lic = await licence(mesh, partner, tier)
    created = await mesh.stub.CreateApiKey(
        svc.CreateApiKeyRequest(
            partner_id="me", license_id=lic.license_id, environment=pb.API_KEY_ENVIRONMENT_LIVE
        ),
        metadata=partner.owner,
    )
    return partner, lic, created


async def test_requests_without_a_key_are_not_this_checks_business(mesh: Mesh) -> None:
    response = await _check(mesh, None)
    assert response.status.code == code_pb2.OK
    assert not response.HasField("denied_response")


async def test_a_valid_key_passes_with_rate_headers_and_is_stripped(mesh: Mesh) -> None:
    partner, lic, created = await _keyed(mesh)
    response = await _check(mesh, created.secret)
    assert response.status.code == code_pb2.OK
    ok = response.ok_response
    # The key never goes upstream, nor a partner-token header the answer did not set itself.
    assert list(ok.headers_to_remove) == ["x-api-key", "x-gx-partner-token"]
    rate = _headers(ok.response_headers_to_add)
    assert (rate["ratelimit-limit"], rate["ratelimit-remaining"]) == ("600", "599")
    assert int(rate["ratelimit-reset"]) >= 1
    assert response.dynamic_metadata["license_id"] == lic.license_id
    assert response.dynamic_metadata["partner_id"] == partner.partner_id
    # The accepted key's last use shows at once (from Redis, before any flush).
    listed = await mesh.stub.ListApiKeys(
        svc.ListApiKeysRequest(partner_id="me", license_id=lic.license_id), metadata=partner.owner
    )
    assert listed.api_keys[0].HasField("last_used_time")


async def test_malformed_unknown_and_revoked_keys_are_401(mesh: Mesh) -> None:
    _, lic, created = await _keyed(mesh)
    assert _denied(await _check(mesh, "gx_live_not-a-key"))[:2] == (401, "API_KEY_INVALID")
    typo = created.secret[:-1] + ("A" if created.secret[-1] != "A" else "B")
    assert _denied(await _check(mesh, typo))[:2] == (401, "API_KEY_INVALID")
    unknown = keys.generate("LIVE").secret
    assert _denied(await _check(mesh, unknown))[:2] == (401, "API_KEY_INVALID")
    await mesh.stub.RevokeApiKey(
        svc.RevokeApiKeyRequest(
            partner_id=lic.partner_id, license_id=lic.license_id, key_id=created.api_key.key_id
        ),
        metadata=await mesh.admin(),
    )
    status, reason, headers = _denied(await _check(mesh, created.secret))
    assert (status, reason, headers["content-type"]) == (401, "API_KEY_REVOKED", "application/json")


async def test_rotation_both_keys_work_in_grace_then_only_the_new_one(mesh: Mesh) -> None:
    partner, lic, created = await _keyed(mesh)
    rotated = await mesh.stub.RotateApiKey(
        svc.RotateApiKeyRequest(
            partner_id="me",
            license_id=lic.license_id,
            key_id=created.api_key.key_id,
            grace_period=Duration(seconds=600),
        ),
        metadata=partner.owner,
    )
    assert (await _check(mesh, created.secret)).status.code == code_pb2.OK
    assert (await _check(mesh, rotated.secret)).status.code == code_pb2.OK
    await mesh.sql(
        "UPDATE licensing.api_keys SET expire_at = now() - interval '1 second' WHERE state = 'ROTATING'"
    )
    assert _denied(await _check(mesh, created.secret))[:2] == (401, "API_KEY_REVOKED")
    assert (await _check(mesh, rotated.secret)).status.code == code_pb2.OK


async def test_suspended_partner_suspended_or_expired_licence_are_403(mesh: Mesh) -> None:
    partner, lic, created = await _keyed(mesh)
    await mesh.sql("UPDATE licensing.licenses SET expire_at = now() - interval '1 second'")
    assert _denied(await _check(mesh, created.secret))[:2] == (403, "LICENSE_EXPIRED")
    await mesh.stub.SuspendLicense(
        svc.SuspendLicenseRequest(partner_id=partner.partner_id, license_id=lic.license_id, reason="x"),
        metadata=partner.admin,
    )
    assert _denied(await _check(mesh, created.secret))[:2] == (403, "LICENSE_SUSPENDED")
    await mesh.stub.SuspendPartner(
        svc.SuspendPartnerRequest(partner_id=partner.partner_id, reason="x"), metadata=partner.admin
    )
    assert _denied(await _check(mesh, created.secret))[:2] == (403, "PARTNER_SUSPENDED")


async def test_a_burst_past_the_quota_is_429_and_every_decision_is_counted(mesh: Mesh) -> None:
    partner, lic, created = await _keyed(mesh, pb.LICENSE_TIER_FREE)
    started = now()
    throttled_before = _decisions("QUOTA_EXCEEDED")
    answers = [await _check(mesh, created.secret) for _ in range(65)]
    served = [a for a in answers if a.status.code == code_pb2.OK]
    refused = [a for a in answers if a.status.code != code_pb2.OK]
    # FREE allows 60 a minute, as a burst too; the calls take far less than the 1 s in which
    # one more request would be earned.
    assert len(served) == 60
    status, reason, headers = _denied(refused[0])
    assert (status, reason) == (429, "QUOTA_EXCEEDED")
    assert headers["ratelimit-remaining"] == "0" and headers["ratelimit-limit"] == "60"
    assert 1 <= int(headers["retry-after"]) <= 60
    assert _headers(served[-1].ok_response.response_headers_to_add)["ratelimit-remaining"] == "0"
    # Operators see the refusals on /metrics.
    assert _decisions("QUOTA_EXCEEDED") - throttled_before == len(refused)

    assert await mesh.usage_flusher.flush() >= 1
    start, end = Timestamp(), Timestamp()
    start.FromDatetime(started.replace(minute=0, second=0, microsecond=0))
    end.FromDatetime(now() + timedelta(minutes=1))
    usage = (
        await mesh.stub.GetUsage(
            svc.GetUsageRequest(partner_id="me", license_id=lic.license_id, start_time=start, end_time=end),
            metadata=partner.owner,
        )
    ).usage
    assert (usage.request_count, usage.throttled_count) == (60, len(refused))


async def test_a_tier_change_applies_to_the_next_check(mesh: Mesh) -> None:
    partner, lic, created = await _keyed(mesh, pb.LICENSE_TIER_FREE)
    first = await _check(mesh, created.secret)
    assert _headers(first.ok_response.response_headers_to_add)["ratelimit-limit"] == "60"
    change = pb.License(
        partner_id=partner.partner_id,
        license_id=lic.license_id,
        tier=pb.LICENSE_TIER_ENTERPRISE,
        expire_time=lic.expire_time,
    )
    await mesh.stub.UpdateLicense(svc.UpdateLicenseRequest(license=change), metadata=partner.admin)
    second = await _check(mesh, created.secret)
    assert _headers(second.ok_response.response_headers_to_add)["ratelimit-limit"] == "60000"
