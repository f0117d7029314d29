"""Recording a ledger command under AIP-155 idempotency: the one write path of the wallet service."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from google.protobuf.message import Message
from gx.type.v1 import operation_pb2
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.common import outbox
from services.common.auth import Principal
from services.common.idempotency import Idempotency
from services.common.operations import get_operation

# Builds the ledger payload inside the transaction, after its checks; gets the ledger request id.
# A pre-check that accepted an in-flight prerequisite returns `outbox.Dependent` to record it.
PayloadBuilder = Callable[[AsyncSession, str], Awaitable[Message | outbox.Dependent]]


class CommandRecorder:
    """Validates, records the command in the outbox and answers its operation, exactly once per request id."""

    def __init__(self, engine: AsyncEngine, idempotency: Idempotency) -> None:
        """Wraps the engine (to refresh replayed operations) and the idempotency helper."""
        self._engine = engine
        self._idem = idempotency

    async def record(
        self,
        *,
        scope: str,
        principal: Principal,
        request: Message,
        request_id: str,
        command_type: int,
        build: PayloadBuilder,
        owner: str | None = None,
    ) -> operation_pb2.Operation:
        """Run `build` and record its payload in one transaction with the idempotency record.

        Args:
            scope: The use case (`wallet.Transfer`); part of the derived ledger request id.
            principal: The caller.
            request: The API request, fingerprinted for replay detection.
            request_id: The client's request id (required by the contract).
            command_type: The gx.type.v1.CommandType to record.
            build: Checks the read models and returns the ledger payload for a request id.
            owner: Who may follow the operation; default: the caller.

        Returns:
            The command's operation; on an identical replay, the same operation as it stands now.
        """
        # Derived, not random: the same client request always maps to one ledger request id,
        # so even a command recorded twice would have one effect on the chain.
        ledger_request_id = outbox.derive_request_id(scope, principal.user_id, request_id)

        async def work(session: AsyncSession) -> operation_pb2.Operation:
            built = await build(session, ledger_request_id)
            payload, depends_on = (built.payload, built.depends_on) if isinstance(built, outbox.Dependent) else (built, None)
            return await outbox.record_command(
                session,
                command_type,
                payload,
                ledger_request_id,
                principal_id=owner or principal.user_id,
                depends_on=depends_on,
            )

        result = await self._idem.run(
            scope=scope, principal=principal.user_id, request_id=request_id, request=request, handler=work
        )
        if not result.replayed:
            return result.response
        # A replay answers the same operation, but as it stands now rather than as first answered.
        current = await get_operation(
            self._engine, uuid.UUID(result.response.name.removeprefix("operations/"))
        )
        return current[0] if current is not None else result.response
