"""The one client interceptor: request ids, credentials, deadlines, retries with backoff, typed errors."""

from __future__ import annotations

import random
import time
import uuid
from collections import namedtuple
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import descriptor
from google.protobuf.message import Message

from gx_client.errors import GxError, Unauthenticated, from_rpc_error
from gx_client.policy import is_public, method_policy
from gx_client.session import Session


class _Details(
    namedtuple("_Details", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")),
    grpc.ClientCallDetails,  # type: ignore[misc, unused-ignore]  # grpc ships no type information
):
    """The call details with our metadata and deadline filled in."""


def with_request_id(request: Message) -> Message:
    """A copy of `request` with a new UUID in an empty `request_id`; the request itself when it has one.

    The id is made once per call, before the first attempt, so every retry of that call carries the
    same id and the server applies the command once. The caller's message is not changed: reusing
    it for another call gives that call its own id.
    """
    field = request.DESCRIPTOR.fields_by_name.get("request_id")
    if field is None or field.type != descriptor.FieldDescriptor.TYPE_STRING or request.request_id:  # type: ignore[attr-defined, unused-ignore]
        return request
    copy = type(request)()
    copy.CopyFrom(request)
    copy.request_id = str(uuid.uuid4())  # type: ignore[attr-defined, unused-ignore]
    return copy


class CallInterceptor(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Wraps every unary call of the SDK's stubs.

    Args:
        session: Supplies the bearer token; None for the channel Login and RefreshToken use.
        api_key: Sent as `x-api-key` on every call (the partner edge meters and authorises by it).
        sleep: Pauses between attempts (a test passes a recorder).
        jitter: A number in [0, 1) that scales each backoff ceiling (gRPC's full jitter).
    """

    def __init__(
        self,
        session: Session | None,
        api_key: str | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._session, self._api_key = session, api_key
        self._sleep, self._jitter = sleep, jitter

    def intercept_unary_unary(self, continuation: Any, details: grpc.ClientCallDetails, request: Any) -> Any:
        method = details.method.decode() if isinstance(details.method, bytes) else str(details.method)
        policy = method_policy(method)
        request = with_request_id(request)
        timeout = details.timeout if details.timeout is not None else policy.timeout
        attempt, renewed = 0, False
        while True:
            attempt += 1
            token = self._session.token(renew=not is_public(method)) if self._session else None
            metadata = list(details.metadata or [])
            if token:
                metadata.append(("authorization", f"Bearer {token}"))
            if self._api_key:
                metadata.append(("x-api-key", self._api_key))
            call = continuation(
                _Details(method, timeout, metadata, details.credentials, details.wait_for_ready, None),
                request,
            )
            try:
                call.result()
                return call
            except grpc.RpcError as rpc_error:
                error: GxError = from_rpc_error(rpc_error)
            if (
                isinstance(error, Unauthenticated)
                and token
                and self._session
                and not renewed
                and self._session.reject(token)
            ):
                # Expired or revoked between our check and the server's: renew once and try again.
                renewed, attempt = True, attempt - 1
                continue
            retry = policy.retry
            if retry and error.code.name in retry.codes and attempt < retry.max_attempts:
                self._sleep(self._jitter() * retry.backoff(attempt))
                continue
            raise error from None
