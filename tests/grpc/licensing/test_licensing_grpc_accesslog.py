"""Envoy's access-log stream (AccessLogService) into the real licensing server: errors and bytes reach GetUsage."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from envoy.data.accesslog.v3 import accesslog_pb2
from envoy.service.accesslog.v3 import als_pb2, als_pb2_grpc
from google.protobuf import struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from gx.licensing.v1 import licensing_service_pb2 as svc

from services.licensing.accesslog import AccessLogServicer
from tests.grpc.licensing.licensing_harness import Mesh
from tests.grpc.licensing.partners import active_partner, licence

_AT = datetime(2026, 11, 20, 10, 15, 30, tzinfo=UTC)


def _entry(license_id: str | None, status: int, body: int) -> accesslog_pb2.HTTPAccessLogEntry:
    entry = accesslog_pb2.HTTPAccessLogEntry()
    entry.common_properties.start_time.FromDatetime(_AT)
    entry.common_properties.time_to_last_downstream_tx_byte.FromMilliseconds(12)
    if license_id is not None:
        meta = struct_pb2.Struct()
        meta.update({"license_id": license_id})
        entry.common_properties.metadata.filter_metadata["envoy.filters.http.ext_authz"].CopyFrom(meta)
    entry.request.request_headers_bytes = 100
    entry.response.response_headers_bytes = 50
    entry.response.response_body_bytes = body
    entry.response.response_code.value = status
    return entry


def _ts(when: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(when)
    return ts


async def test_streamed_entries_add_errors_and_bytes_to_the_licence_minute(mesh: Mesh) -> None:
    partner = await active_partner(mesh)
    lic = await licence(mesh, partner)
    batch = als_pb2.StreamAccessLogsMessage(
        identifier=als_pb2.StreamAccessLogsMessage.Identifier(log_name="gx_partner_usage"),
        http_logs=als_pb2.StreamAccessLogsMessage.HTTPAccessLogEntries(
            log_entry=[
                _entry(lic.license_id, 200, 400),
                _entry(lic.license_id, 503, 0),
                _entry(None, 500, 999),
            ]
        ),
    )

    async def messages():  # type: ignore[no-untyped-def]
        yield batch

    await als_pb2_grpc.AccessLogServiceStub(mesh.channel).StreamAccessLogs(messages())
    assert await mesh.usage_flusher.flush() == 1
    request = svc.GetUsageRequest(
        partner_id="me",
        license_id=lic.license_id,
        start_time=_ts(_AT.replace(minute=0, second=0)),
        end_time=_ts(_AT.replace(minute=0, second=0) + timedelta(hours=1)),
    )
    usage = (await mesh.stub.GetUsage(request, metadata=partner.owner)).usage
    # The unkeyed entry (no licence in its metadata) is not anyone's usage.
    assert (usage.error_count, usage.byte_count, usage.request_count) == (1, 550 + 150, 0)


async def test_an_open_stream_ends_when_the_server_begins_to_stop(mesh: Mesh) -> None:
    # The servicer alone (over the real Redis): Envoy's stream never ends by itself.
    access_log = AccessLogServicer(mesh.redis)
    never = asyncio.Event()

    async def idle():  # type: ignore[no-untyped-def]
        await never.wait()
        yield als_pb2.StreamAccessLogsMessage()

    class _Context:
        pass

    stream = asyncio.ensure_future(access_log.StreamAccessLogs(idle(), _Context()))
    await asyncio.sleep(0.05)
    assert not stream.done()
    access_log.close()
    assert isinstance(await asyncio.wait_for(stream, 5), als_pb2.StreamAccessLogsResponse)
