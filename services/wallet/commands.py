"""Recording a ledger command under AIP-155 idempotency: the one write path of the wallet service."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from google.protobuf.message import Message
from gx.type.v1 import operation_pb2
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.common import idempotency, names, outbox
from services.common.auth import Principal
from services.common.coalesced_notify import CoalescedNotify
from services.common.db import Fetchable, autocommit_reads
from services.common.errors import Aborted, GxError
from services.common.idempotency import Idempotency, request_hash
from services.common.operations import get_operation

# Builds the ledger payload inside the transaction, after its checks; gets the ledger request id.
# A pre-check that accepted an in-flight prerequisite returns `outbox.Dependent` to record it.
PayloadBuilder = Callable[[AsyncSession, str], Awaitable[Message | outbox.Dependent]]
# The same for `accept`, whose checks read on an autocommit connection (no transaction), which
# may be a driver connection: they read through `db.fetch_all`.
Checks = Callable[[Fetchable, str], Awaitable[Message | outbox.Dependent]]


# How long the first accept of a burst waits for others before the outbox is woken: at most 200
# NOTIFYs a second per process, whatever the accept rate, for 5 ms more before a worker claims
# (a ledger commit takes far longer). Without it, at a few hundred accepts a second nearly every
# accept sent its own NOTIFY, one more round trip each.
WAKE_GATHER_SECONDS = 0.005


def outbox_wake(read_pool: AsyncConnectionPool) -> CoalescedNotify:
    """The accept's wake-up of the outbox workers, on connections of the read pool."""
    return CoalescedNotify(read_pool, names.OUTBOX_NOTIFY_CHANNEL, gather_seconds=WAKE_GATHER_SECONDS)


def _split(built: Message | outbox.Dependent) -> tuple[Message, uuid.UUID | None]:
    return (built.payload, built.depends_on) if isinstance(built, outbox.Dependent) else (built, None)


class CommandRecorder:
    """Validates, records the command in the outbox and answers its operation, exactly once per request id."""

    def __init__(
        self,
        engine: AsyncEngine,
        idempotency: Idempotency,
        *,
        read_pool: AsyncConnectionPool | None = None,
        wake: CoalescedNotify | None = None,
    ) -> None:
        """Wraps the engine (to refresh replayed operations), the idempotency helper and, for
        `accept`, the pool of autocommit driver connections (`db.open_autocommit_pool`)."""
        self._engine = engine
        # `accept`'s statement must commit on its own, whatever engine the caller passed.
        self._autocommit_engine = autocommit_reads(engine)
        self._idem = idempotency
        self._pool = read_pool
        # With the pool, accepted commands wake the outbox after their commit, one NOTIFY for
        # every burst of accepts (see services.common.coalesced_notify), not one inside each.
        # `wake` lets the process flush it before the pool closes (server.build).
        self.wake = wake if wake is not None or read_pool is None else outbox_wake(read_pool)

    @contextlib.asynccontextmanager
    async def _autocommit(self) -> AsyncIterator[Fetchable]:
        # The pool's connections skip SQLAlchemy's checkout work (about 0.15 ms of CPU).
        if self._pool is not None:
            async with self._pool.connection() as pooled:
                yield pooled
        else:
            async with self._autocommit_engine.connect() as conn:
                yield conn

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
            payload, depends_on = _split(await build(session, ledger_request_id))
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
        return await self._as_it_stands(result.response)

    async def _as_it_stands(self, answered: operation_pb2.Operation) -> operation_pb2.Operation:
        # A replay answers the same operation, but as it stands now rather than as first answered.
        current = await get_operation(self._engine, uuid.UUID(answered.name.removeprefix("operations/")))
        return current[0] if current is not None else answered

    async def accept(
        self,
        *,
        scope: str,
        principal: Principal,
        request: Message,
        request_id: str,
        command_type: int,
        checks: Checks,
        owner: str | None = None,
    ) -> operation_pb2.Operation:
        """`record`'s semantics in two round trips and without Redis: the hot accept path.

        The checks read on an autocommit connection (one statement for a transfer), then
        `outbox.accept_command` writes the command and the idempotency record in one statement.
        Only what that statement could not record costs more: a replay or a reuse of the
        request id (answered from its record), a duplicate in flight (ABORTED), or a request whose
        record expired (answered by its command when it is the same one, as `record` does).
        A request whose checks fail is first looked up too, so a replay is answered as before
        even when the read models changed since (the balance was spent).

        Args: as for `record`; `checks` runs the checks and returns the ledger payload.

        Raises:
            InvalidArgument: REQUEST_ID_REUSED.
            Aborted: REQUEST_IN_FLIGHT when a duplicate is being recorded at this moment.
        """
        if not request_id:
            # No idempotency asked for: the general path has nothing to save here.
            return await self.record(
                scope=scope,
                principal=principal,
                request=request,
                request_id=request_id,
                command_type=command_type,
                build=checks,
                owner=owner,
            )
        ledger_request_id = outbox.derive_request_id(scope, principal.user_id, request_id)
        remember = outbox.Remember(
            scope, principal.user_id, request_id, request_hash(request), self._idem.ttl_seconds
        )
        async with self._autocommit() as conn:
            try:
                payload, depends_on = _split(await checks(conn, ledger_request_id))
            except GxError:
                replay = await self._answered(conn, remember)
                if replay is None:
                    raise
                return replay
            accepted = await outbox.accept_command(
                conn,
                command_type,
                payload,
                ledger_request_id,
                remember,
                principal_id=owner or principal.user_id,
                depends_on=depends_on,
                wake=self.wake.poke if self.wake is not None else None,
            )
            if accepted.operation is not None:
                return accepted.operation
            if accepted.in_flight:
                raise Aborted(
                    "a request with this request_id is still being processed; retry shortly",
                    reason=idempotency.REQUEST_IN_FLIGHT,
                )
            replay = await self._answered(conn, remember)
            if replay is not None:
                return replay
            existing = await outbox.find_existing(conn, ledger_request_id)
        if existing is None:
            # Taken a moment ago and gone again (archived in between): the client's retry settles it.
            raise Aborted(
                "a request with this request_id completed concurrently; retry to get its answer",
                reason=idempotency.REQUEST_IN_FLIGHT,
            )
        # The record expired but the command is there: the same command answers as `record` does.
        return outbox.operation_of_same_command(existing, command_type, payload)

    async def _answered(self, conn: Fetchable, remember: outbox.Remember) -> operation_pb2.Operation | None:
        """The operation a live record answers (as it stands now), None without one; REQUEST_ID_REUSED
        when the record is of another request."""
        stored = await idempotency.find_record(
            conn,
            scope=remember.scope,
            principal=remember.principal,
            request_id=remember.request_id,
            ttl_seconds=remember.ttl_seconds,
        )
        if stored is None:
            return None
        answered = idempotency.replay_or_refuse(stored, remember.request_hash)
        assert isinstance(answered, operation_pb2.Operation)
        return await self._as_it_stands(answered)
