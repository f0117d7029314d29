"""The per-call context the lane hands to a wrapped handler: what grpc.aio's ServicerContext offers
that GX code uses, with the same semantics (abort raises `grpc.aio.AbortError` after setting the
status, as grpc.aio does, so the call chain's `except grpc.aio.AbortError` is unchanged)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, NoReturn

import grpc

_log = logging.getLogger("gx.lane")

Metadata = tuple[tuple[str, str | bytes], ...]


class LaneContext:
    """One call's context; `invocation_metadata()` is the request's metadata as grpc.aio gives it.

    Attributes (set by the connection, read by it when the call ends): `initial` (metadata from
    `send_initial_metadata`), `headers_sent`, `finished`, `cancelled_flag`.
    """

    __slots__ = (
        "_aborted",
        "_code",
        "_deadline",
        "_details",
        "_loop",
        "_metadata",
        "_peer",
        "_trailing",
        "cancelled_flag",
        "finished",
        "headers_sent",
        "initial",
    )

    def __init__(
        self, metadata: Metadata, peer: str, deadline: float | None, loop: asyncio.AbstractEventLoop
    ) -> None:
        self._metadata = metadata
        self._peer = peer
        self._deadline = deadline
        self._loop = loop
        self._code: grpc.StatusCode | None = None
        self._details = ""
        self._trailing: Metadata = ()
        self._aborted = False
        self.initial: Metadata = ()
        self.headers_sent = False
        self.finished = False
        self.cancelled_flag = False

    def invocation_metadata(self) -> Metadata:
        """Every request header but HTTP/2's and gRPC's own; `-bin` values as bytes."""
        return self._metadata

    def peer(self) -> str:
        """`ipv4:host:port` or `ipv6:[host]:port`, as grpc.aio formats it."""
        return self._peer

    def time_remaining(self) -> float | None:
        """Seconds left before the deadline (0 when passed), None without one."""
        if self._deadline is None:
            return None
        return max(0.0, self._deadline - self._loop.time())

    def cancelled(self) -> bool:
        """Whether the client cancelled the call (or its deadline passed)."""
        return self.cancelled_flag

    def done(self) -> bool:
        """Whether the call's status has been sent."""
        return self.finished

    async def abort(
        self, code: grpc.StatusCode, details: str = "", trailing_metadata: Sequence[tuple[str, Any]] = ()
    ) -> NoReturn:
        """Set the status and raise `grpc.aio.AbortError` (grpc.aio turns an OK into UNKNOWN, so do we)."""
        if self._aborted:
            raise grpc.aio.UsageError("Abort was already called!")
        self._aborted = True
        if code == grpc.StatusCode.OK:
            _log.error("abort() called with StatusCode.OK; returning UNKNOWN")
            code = grpc.StatusCode.UNKNOWN
            details = ""
        self._code = code
        self._details = details
        if trailing_metadata:
            self._trailing = tuple(trailing_metadata)
        raise grpc.aio.AbortError()

    async def abort_with_status(self, status: grpc.Status) -> NoReturn:
        """`abort` with a `grpc.Status` (rich statuses: `grpc-status-details-bin` in its metadata)."""
        await self.abort(status.code, status.details, status.trailing_metadata)

    def set_code(self, code: grpc.StatusCode) -> None:
        self._code = code

    def set_details(self, details: str) -> None:
        self._details = details

    def set_trailing_metadata(self, trailing_metadata: Sequence[tuple[str, Any]]) -> None:
        self._trailing = tuple(trailing_metadata)

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> Metadata:
        return self._trailing

    async def send_initial_metadata(self, initial_metadata: Sequence[tuple[str, Any]]) -> None:
        """Headers sent with the response (the lane writes a response in one go, so they wait for it)."""
        if self.headers_sent:
            raise grpc.aio.UsageError("Send initial metadata failed: already sent")
        self.initial = tuple(initial_metadata)
        self.headers_sent = True

    def set_compression(self, compression: grpc.Compression) -> None:
        """Accepted and ignored: the lane sends identity-encoded messages only."""

    def disable_next_message_compression(self) -> None:
        """Nothing to disable: the lane never compresses."""
