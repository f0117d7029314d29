"""Ledger operations as handles: `client.transfer(...).wait()` follows one to its end."""

from __future__ import annotations

import time
from typing import Any

import grpc
from google.protobuf import duration_pb2

from gx.type.v1 import operation_pb2
from gx.wallet.v1 import wallet_service_pb2
from gx_client.errors import DeadlineExceeded, OperationFailed, code_of

# Each WaitOperation long-poll asks the server for at most this long, well under the edge's
# route timeout, so a slow commit is a loop of short waits rather than one cut-off call.
_POLL_SECONDS = 5.0


class Operation:
    """A ledger command in flight (`gx.type.v1.Operation`), with `wait()` and `refresh()`."""

    def __init__(self, proto: operation_pb2.Operation, wallet: Any) -> None:
        self.proto = proto
        self._wallet = wallet

    @property
    def id(self) -> str:
        """The operation id (the part after `operations/`)."""
        return str(self.proto.name).removeprefix("operations/")

    @property
    def done(self) -> bool:
        """True once COMMITTED or FAILED."""
        return bool(self.proto.done)

    @property
    def state(self) -> str:
        """The state's enum name, e.g. `OPERATION_STATE_COMMITTED`."""
        return str(operation_pb2.OperationState.Name(self.proto.state))

    def refresh(self) -> Operation:
        """Read the operation's current state once."""
        request = wallet_service_pb2.GetOperationRequest(operation_id=self.id)
        self.proto = self._wallet.GetOperation(request)
        return self

    def wait(self, timeout: float = 120.0) -> operation_pb2.Operation:
        """Block until the operation is done and return it.

        Raises:
            OperationFailed: It ended FAILED; `reason` is its error reason (e.g. INSUFFICIENT_FUNDS).
            DeadlineExceeded: Not done within `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        while not self.proto.done:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceeded(
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                    f"operation {self.id} not done in {timeout}s (state {self.state})",
                    reason="OPERATION_WAIT_TIMEOUT",
                )
            step = min(_POLL_SECONDS, remaining)
            request = wallet_service_pb2.WaitOperationRequest(
                operation_id=self.id, timeout=duration_pb2.Duration(seconds=max(1, int(step)))
            )
            self.proto = self._wallet.WaitOperation(request, timeout=step + 10)
        if self.proto.state == operation_pb2.OPERATION_STATE_FAILED:
            error = self.proto.error
            raise OperationFailed(self.proto, code_of(error.code), error.message, error.reason)
        return self.proto

    def __repr__(self) -> str:
        return f"Operation({self.proto.name!r}, {self.state})"
