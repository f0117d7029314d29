"""Envoy's gRPC access log (`envoy.service.accesslog.v3.AccessLogService`): errors, bytes and latency of partner calls.

The edge streams one entry per keyed request it served (its access-log filter keeps only
entries whose ext_authz decision left a `license_id` in the dynamic metadata). Requests and
throttles are counted exactly by the decision itself (limiter.py); this stream adds what only
the edge knows afterwards: whether the call ended with an error status (4xx/5xx), its request
and response bytes, and its latency.

Each message Envoy sends (a batch of entries, flushed by Envoy about every second) becomes one
Redis pipeline of HINCRBYs into the same pending hash the decisions use, aggregated per licence
and minute first; `metering.UsageFlusher` writes that hash to PostgreSQL in batches. Latency is
a histogram on /metrics (`gx_licensing_partner_request_seconds`), not a per-licence column: the
contract's usage has no latency field, and percentiles do not add up across minutes.

If Redis refuses a batch it is logged and dropped (the access log is a measurement, not the
record of what was served: request counts do not depend on it).

The stream lives as long as Envoy's connection; when licensing begins to stop, `close()` ends
every open stream (after the batch in hand), so a shutdown does not wait out its whole grace
period, and Envoy opens a new stream to another replica (or to this one when it is back).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Final

import grpc
from envoy.data.accesslog.v3 import accesslog_pb2
from envoy.service.accesslog.v3 import als_pb2, als_pb2_grpc
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.licensing.limiter import USAGE_KEY
from services.licensing.metrics import LicensingMetrics

_log = logging.getLogger("gx.licensing.accesslog")
LICENSE_ID_KEY: Final = "license_id"


def license_of(entry: accesslog_pb2.HTTPAccessLogEntry) -> str | None:
    """The licence the edge's key check charged for this request, from its dynamic metadata."""
    for struct in entry.common_properties.metadata.filter_metadata.values():
        value = struct.fields.get(LICENSE_ID_KEY)
        if value is not None and value.string_value:
            return str(value.string_value)
    return None


def aggregate(entries: list[accesslog_pb2.HTTPAccessLogEntry]) -> dict[str, int]:
    """Pending-hash increments (`<licence>|<minute>|e` errors, `…|b` bytes) for a batch of entries."""
    counts: dict[str, int] = defaultdict(int)
    for entry in entries:
        license_id = license_of(entry)
        if license_id is None:
            continue
        minute = entry.common_properties.start_time.seconds // 60 * 60
        prefix = f"{license_id}|{minute}|"
        if entry.response.response_code.value >= 400:
            counts[prefix + "e"] += 1
        request, response = entry.request, entry.response
        counts[prefix + "b"] += (
            request.request_headers_bytes
            + request.request_body_bytes
            + response.response_headers_bytes
            + response.response_body_bytes
        )
    return {field: count for field, count in counts.items() if count}


class AccessLogServicer(als_pb2_grpc.AccessLogServiceServicer):  # type: ignore[misc]
    """Receives the edge's access-log stream and adds it to the pending usage counters."""

    def __init__(self, redis: Redis, metrics: LicensingMetrics | None = None) -> None:
        self._redis = redis
        self._metrics = metrics or LicensingMetrics.for_registry()
        self._closing = asyncio.Event()

    def close(self) -> None:
        """End the open streams and refuse new ones (the server is stopping)."""
        self._closing.set()

    async def add(self, entries: list[accesslog_pb2.HTTPAccessLogEntry]) -> int:
        """Count one batch; returns how many counters were incremented."""
        for entry in entries:
            if license_of(entry) is not None and entry.common_properties.HasField(
                "time_to_last_downstream_tx_byte"
            ):
                latency = entry.common_properties.time_to_last_downstream_tx_byte
                self._metrics.partner_request_seconds.observe(latency.seconds + latency.nanos / 1e9)
        counts = aggregate(entries)
        if not counts:
            return 0
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for field, count in counts.items():
                    pipe.hincrby(USAGE_KEY, field, count)
                await pipe.execute()
        except RedisError as exc:
            _log.warning("access-log batch of %d entries not counted: %s", len(entries), exc)
            return 0
        return len(counts)

    async def StreamAccessLogs(
        self,
        request_iterator: AsyncIterator[als_pb2.StreamAccessLogsMessage],
        context: grpc.aio.ServicerContext,
    ) -> als_pb2.StreamAccessLogsResponse:
        messages = aiter(request_iterator)
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            while not self._closing.is_set():
                following = asyncio.ensure_future(anext(messages))
                await asyncio.wait({following, closing}, return_when=asyncio.FIRST_COMPLETED)
                if not following.done():
                    following.cancel()
                    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                        await following
                    break
                try:
                    message = following.result()
                except StopAsyncIteration:
                    break
                if message.HasField("http_logs"):
                    await self.add(list(message.http_logs.log_entry))
        finally:
            closing.cancel()
        return als_pb2.StreamAccessLogsResponse()
