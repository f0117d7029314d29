"""GetUsage over gRPC: totals and zero-filled buckets from the per-minute table; bad periods refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from gx.licensing.v1 import licensing_pb2 as pb
from gx.licensing.v1 import licensing_service_pb2 as svc

from tests.grpc.licensing.licensing_harness import Mesh
from tests.grpc.licensing.partners import active_partner, licence
from tests.grpc.wallet.wallet_harness import failure

_DAY = datetime(2026, 11, 3, tzinfo=UTC)


def _ts(when: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(when)
    return ts


async def _minute(
    mesh: Mesh, license_id: str, at: datetime, requests: int, errors: int, throttled: int, size: int
) -> None:
    await mesh.sql(
        "INSERT INTO licensing.usage_minutes (license_id, minute, request_count, error_count, throttled_count, byte_count)"
        " VALUES (:l, :m, :r, :e, :t, :b)",
        l=uuid.UUID(license_id),
        m=at,
        r=requests,
        e=errors,
        t=throttled,
        b=size,
    )


async def test_hourly_buckets_total_and_zero_fill(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    lic = await licence(mesh, partner)
    await _minute(mesh, lic.license_id, _DAY + timedelta(minutes=5), 10, 1, 2, 1000)
    await _minute(mesh, lic.license_id, _DAY + timedelta(minutes=59), 5, 0, 0, 500)
    await _minute(mesh, lic.license_id, _DAY + timedelta(hours=2, minutes=1), 7, 3, 1, 70)
    # Outside the period: not counted.
    await _minute(mesh, lic.license_id, _DAY + timedelta(hours=3), 100, 0, 0, 1)

    request = svc.GetUsageRequest(
        partner_id="me",
        license_id=lic.license_id,
        start_time=_ts(_DAY + timedelta(minutes=30)),
        end_time=_ts(_DAY + timedelta(hours=3)),
    )
    usage = (await mesh.stub.GetUsage(request, metadata=partner.owner)).usage
    assert usage.granularity == pb.USAGE_GRANULARITY_HOUR
    # The start is rounded down to the hour.
    assert usage.start_time.ToDatetime(tzinfo=UTC) == _DAY
    assert [(b.request_count, b.error_count, b.throttled_count) for b in usage.buckets] == [
        (15, 1, 2),
        (0, 0, 0),
        (7, 3, 1),
    ]
    assert (usage.request_count, usage.error_count, usage.throttled_count, usage.byte_count) == (
        22,
        4,
        3,
        1570,
    )


async def test_long_periods_are_daily_and_bounded(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    lic = await licence(mesh, partner)
    await _minute(mesh, lic.license_id, _DAY + timedelta(days=1, hours=23), 4, 0, 0, 0)
    request = svc.GetUsageRequest(
        partner_id=partner.partner_id,
        license_id=lic.license_id,
        start_time=_ts(_DAY),
        end_time=_ts(_DAY + timedelta(days=10)),
    )
    usage = (await mesh.stub.GetUsage(request, metadata=partner.admin)).usage
    assert usage.granularity == pb.USAGE_GRANULARITY_DAY
    assert [b.request_count for b in usage.buckets] == [0, 4, 0, 0, 0, 0, 0, 0, 0, 0]

    request.end_time.CopyFrom(_ts(_DAY + timedelta(days=93, seconds=1)))
    too_long = await failure(mesh.stub.GetUsage(request, metadata=partner.admin))
    assert (too_long.code, set(too_long.fields)) == (grpc.StatusCode.INVALID_ARGUMENT, {"end_time"})
    request.end_time.CopyFrom(_ts(_DAY - timedelta(hours=1)))
    reversed_period = await failure(mesh.stub.GetUsage(request, metadata=partner.admin))
    assert (reversed_period.code, set(reversed_period.fields)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        {"end_time"},
    )
    missing = await failure(
        mesh.stub.GetUsage(
            svc.GetUsageRequest(partner_id="me", license_id=lic.license_id), metadata=partner.owner
        )
    )
    assert {"start_time", "end_time"} <= set(missing.fields)
