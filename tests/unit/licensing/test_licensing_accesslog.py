"""The edge's access-log entries → pending usage counters (errors and bytes per licence and minute)."""

from __future__ import annotations

from envoy.data.accesslog.v3 import accesslog_pb2
from google.protobuf import struct_pb2

from services.licensing.accesslog import aggregate, license_of

LICENSE = "6f1c2a8e-6d1f-4a55-9a43-3a1e3e0d3f10"


def _entry(
    status: int, *, license_id: str | None = LICENSE, second: int = 1_800_000_030, body: int = 100
) -> accesslog_pb2.HTTPAccessLogEntry:
    entry = accesslog_pb2.HTTPAccessLogEntry()
    entry.common_properties.start_time.seconds = second
    if license_id is not None:
        meta = struct_pb2.Struct()
        meta.update({"license_id": license_id, "partner_id": "p"})
        entry.common_properties.metadata.filter_metadata["envoy.filters.http.ext_authz"].CopyFrom(meta)
    entry.request.request_headers_bytes = 50
    entry.request.request_body_bytes = 0
    entry.response.response_headers_bytes = 20
    entry.response.response_body_bytes = body
    entry.response.response_code.value = status
    return entry


def test_errors_and_bytes_per_licence_minute() -> None:
    minute = 1_800_000_030 // 60 * 60
    counts = aggregate([_entry(200), _entry(404), _entry(503, body=0), _entry(200, second=1_800_000_090)])
    assert counts == {
        f"{LICENSE}|{minute}|e": 2,
        f"{LICENSE}|{minute}|b": 170 + 170 + 70,
        f"{LICENSE}|{minute + 60}|b": 170,
    }


def test_entries_without_a_licence_are_not_counted() -> None:
    unkeyed = _entry(500, license_id=None)
    assert license_of(unkeyed) is None
    assert aggregate([unkeyed]) == {}
