"""Recording ledger commands in `outbox.commands`, in the caller's transaction, and reading them as Operations.

Tables: `services.common.outbox_tables` (the queue, the resource id map, the archive, the
operations view).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from google.protobuf import json_format
from google.protobuf.message import Message
from gx.type.v1 import operation_pb2
from psycopg.rows import tuple_row
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.common import command_types, commands, idempotency, names, operations, ordering
from services.common.auth import current_principal
from services.common.db import Fetchable, Queryable, driver_connection, fetch_all
from services.common.errors import InvalidArgument
from services.common.logging import current_traceparent
from services.common.operations import operation_from_row

__all__ = [
    "DEFAULT_TENANT",
    "NOTIFY_CHANNEL",
    "Acceptance",
    "Dependent",
    "Prerequisite",
    "Remember",
    "accept_command",
    "command_type_name",
    "derive_request_id",
    "find_existing",
    "find_prerequisite",
    "find_recorded",
    "new_command_id",
    "operation_from_row",
    "operation_of_same_command",
    "payload_json",
    "record_command",
]

NOTIFY_CHANNEL: Final = names.OUTBOX_NOTIFY_CHANNEL
DEFAULT_TENANT: Final = "gx"
# UUIDv7 layout (new_command_id): version 7 in bits 76-79, variant 0b10 in bits 62-63; the other
# 74 of the low 80 bits random.
_VERSION_7_VARIANT: Final = 0x7 << 76 | 0b10 << 62
_RANDOM_74: Final = ((1 << 80) - 1) & ~(0xF << 76) & ~(0b11 << 62)
# Fixed forever: derived request ids must stay the same across releases.
_REQUEST_ID_NAMESPACE: Final = uuid.UUID("3f1d1f8e-6a53-4b53-9f7a-2f0c7c1e6d10")

# The insert, its resource id mapping and its NOTIFY in one statement (one round trip per
# command). The id is the payload so a woken worker could fetch just that row; delivered on
# commit, and only when a row was inserted (no row on a conflict, so no notification).
# psycopg syntax: it runs straight on the driver (db.fetch_all), once per accepted command.
# The ordering keys (services/common/ordering.py) go in with the row: `seq` (the recording
# order) comes from its sequence default, so the keys and their order need no second statement.
# A request id stays taken once its command is archived (the NOT EXISTS; the unique constraint
# covers the live queue). A command that creates a resource (`kind`) maps its operation id (the
# resource's public id) to its request id (the ledger id) in `resource_ids`, only if it was inserted.
# `gate` decides whether the row may go in: always for `record_command`; for `accept_command`
# only when this statement holds the request's in-flight lock and no live idempotency record
# answers the request id already.
_COMMAND = """
        INSERT INTO outbox.commands (id, tenant, command_type, payload, request_id, principal_id,
                                     order_keys, exclusive_keys, depends_on, traceparent, partner_id)
        SELECT %(id)s, %(tenant)s, %(command_type)s, CAST(%(payload)s AS jsonb), %(request_id)s, %(principal_id)s,
               CAST(%(order_keys)s AS text[]), CAST(%(exclusive_keys)s AS text[]), %(depends_on)s, %(traceparent)s,
               CAST(%(partner_id)s AS uuid)
          FROM gate
         WHERE gate.open AND NOT EXISTS (SELECT 1 FROM outbox.archived_commands a
                                          WHERE a.tenant = %(tenant)s AND a.request_id = %(request_id)s)
        ON CONFLICT (tenant, request_id) DO NOTHING
        RETURNING id, command_type, status, tx_id, block_number, error_code, error_message, result_json,
                  created_at, updated_at
"""
_MAPPED = """
        INSERT INTO outbox.resource_ids (public_id, tenant, ledger_id, kind, command_type)
        SELECT inserted.id, %(tenant)s, %(request_id)s, CAST(%(kind)s AS text), inserted.command_type
          FROM inserted WHERE CAST(%(kind)s AS text) IS NOT NULL
"""
_INSERT = f"""
    WITH gate AS (SELECT true AS open), inserted AS ({_COMMAND}), mapped AS ({_MAPPED})
    SELECT inserted.*, pg_notify(%(channel)s, inserted.id::text) AS notified FROM inserted
    """
# `record_command` and the AIP-155 idempotency record in ONE autocommit statement (one round
# trip, no Redis, no BEGIN/COMMIT): the hot accept path. The advisory lock
# (idempotency.lock_id) is the in-flight marker: a concurrent duplicate finds it held and is
# refused ABORTED, and the statement's own commit releases it. A live record (a replay, a reuse)
# closes the gate. The record is written only with the command, so a stored response exists
# exactly when the command does; an expired record is replaced, as `Idempotency.run` does.
# `locked` tells the caller why nothing was inserted; `created_at` (NULL: nothing was) is all the
# new command's operation needs beyond what the caller knows already (`accept_command`).
_ACCEPT = f"""
    WITH claim AS (
        SELECT pg_try_advisory_xact_lock(%(lock_id)s) AS locked,
               NOT EXISTS (SELECT 1 FROM platform.idempotency_records r
                            WHERE r.scope = %(idem_scope)s AND r.principal = %(idem_principal)s
                              AND r.request_id = %(idem_request_id)s
                              AND r.created_at >= now() - make_interval(secs => %(ttl)s)) AS unclaimed
    ), gate AS (SELECT claim.locked AND claim.unclaimed AS open FROM claim),
    inserted AS ({_COMMAND}), mapped AS ({_MAPPED}), remembered AS (
        INSERT INTO platform.idempotency_records AS r
               (scope, principal, request_id, request_hash, response_type, response)
        SELECT %(idem_scope)s, %(idem_principal)s, %(idem_request_id)s, %(request_hash)s, %(response_type)s,
               %(response)s
          FROM inserted
        ON CONFLICT (scope, principal, request_id) DO UPDATE SET request_hash = EXCLUDED.request_hash,
               response_type = EXCLUDED.response_type, response = EXCLUDED.response, created_at = now()
         WHERE r.created_at < now() - make_interval(secs => %(ttl)s)
        RETURNING 1
    )
    SELECT claim.locked, inserted.created_at,
           CASE WHEN inserted.id IS NOT NULL THEN pg_notify(%(channel)s, inserted.id::text) END AS notified
      FROM claim LEFT JOIN inserted ON true
    """
# The same without its NOTIFY, for a caller that wakes the workers after the commit itself
# (`accept_command(wake=...)`, services.common.coalesced_notify): a NOTIFY in the statement makes
# every accept's commit wait for the previous one's (PostgreSQL's notify lock at commit).
_ACCEPT_QUIET = _ACCEPT.replace("pg_notify(%(channel)s, inserted.id::text)", "NULL::void")
assert _ACCEPT_QUIET != _ACCEPT
# Whether a command's effect is in the read models yet, as services/common/operations.py decides it.
_PROJECTED = f"{operations.PROJECTED_SQL} AS projected"
# The newest command of a type that has not failed (optionally holding a given key): what a
# pre-check accepts as a prerequisite on its way to the ledger.
# psycopg syntax: it runs straight on the driver (db.fetch_all), also on the read pool of the
# transfer accept (a payment to a user whose creation is on its way).
_PREREQUISITE = f"""
    SELECT c.id, c.status, c.seq, c.payload::text AS payload_json, {_PROJECTED}
      FROM outbox.commands c
     WHERE c.tenant = %(tenant)s AND c.command_type = %(command_type)s AND c.status <> 'FAILED'
       AND (CAST(%(key)s AS text) IS NULL OR c.order_keys @> ARRAY[CAST(%(key)s AS text)])
     ORDER BY c.seq DESC LIMIT 1
    """
# One recorded command by its id (its operation), if it is of one of the given types and has
# not failed: a resource a pre-check cannot find in the read models may be on its way.
_RECORDED = text(
    f"""
    SELECT c.id, c.status, c.seq, c.payload::text AS payload_json, {_PROJECTED}
      FROM outbox.commands c
     WHERE c.tenant = :tenant AND c.id = CAST(:id AS uuid) AND c.command_type = ANY(:types)
       AND c.status <> 'FAILED'
    """
)
# The command that holds a request id already, live or archived (a replay of the same request).
# psycopg syntax (db.fetch_all): it runs on a session or on the accept's pooled connection.
_EXISTING = """
    SELECT id, command_type, payload, status, tx_id, block_number, error_code, error_message, result_json,
           created_at, updated_at
      FROM outbox.operations WHERE tenant = %(tenant)s AND request_id = %(request_id)s
    """


# The stored spelling of a command type (`CREATE_USER`); kept here for existing callers.
command_type_name = command_types.short_name


def new_command_id() -> uuid.UUID:
    """A new command's id (its operation's, and the public id of what it creates): a UUIDv7.

    Time-ordered (48-bit Unix milliseconds first, then 74 random bits, RFC 9562), so a new
    command's entries in `commands_pkey` and `live_keys_command_idx` go to the right-hand edge of
    the index, not to a random leaf: after each checkpoint PostgreSQL writes a full 8 kB image of
    every page it touches first, and random UUIDv4 keys touched a new page with nearly every
    insert once the queue outgrew shared memory's recent pages.
    """
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big") & _RANDOM_74
    return uuid.UUID(int=value | _VERSION_7_VARIANT)


def derive_request_id(*parts: str) -> str:
    """A deterministic UUID from its parts, e.g. (scope, user id, client request id).

    Deriving the command's request id (rather than drawing a random one) means that if a
    use case ever records the same command twice, both rows carry one id: the outbox's
    unique index and the chaincode's request guard each keep a single effect.
    """
    return str(uuid.uuid5(_REQUEST_ID_NAMESPACE, "\x1f".join(parts)))


@dataclass(frozen=True)
class Prerequisite:
    """A command another one depends on, found by `find_prerequisite`.

    Attributes:
        command_id: its id (recorded as the dependent's `depends_on`).
        status: PENDING, SUBMITTED or COMMITTED (never FAILED).
        seq: its place in the recording order (newer is larger).
        projected: COMMITTED and already applied to the read models.
        payload: its ledger request as proto JSON (what a pre-check may need of a resource the
            read models do not have yet, such as a new user's country).
    """

    command_id: uuid.UUID
    status: str
    seq: int = 0
    projected: bool = False
    payload: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def in_flight(self) -> bool:
        """Not yet committed: the dependent must record it as its `depends_on`."""
        return self.status != "COMMITTED"

    @property
    def ahead_of_read_models(self) -> bool:
        """Its effect is not in the read models yet (in flight, or committed but not projected)."""
        return not self.projected


@dataclass(frozen=True)
class Dependent:
    """A ledger payload with the prerequisite command it was accepted on (see `find_prerequisite`).

    Attributes:
        payload: the `gx.ledger.v1` request.
        depends_on: the in-flight prerequisite's command id, or None.
    """

    payload: Message
    depends_on: uuid.UUID | None = None


async def find_prerequisite(
    session: Fetchable, command_type: int | str, *, key: str | None = None, tenant: str = DEFAULT_TENANT
) -> Prerequisite | None:
    """The newest recorded command of a type that has not FAILED, optionally one holding `key`.

    A pre-check whose prerequisite is missing from the read models calls this before refusing:
    a prerequisite that is recorded but not yet committed (or committed but not yet projected)
    is accepted, and the new command records it as `depends_on`, so it runs after it and fails
    PREREQUISITE_FAILED, naming it, if it fails. None means absent or failed: refuse.

    Args:
        session: The use case's session.
        command_type: The prerequisite's command type.
        key: An ordering key the prerequisite must hold (`country:LK`), when the type alone
            does not identify it.
        tenant: The tenant.
    """
    rows = await fetch_all(
        session,
        _PREREQUISITE,
        {"tenant": tenant, "command_type": command_type_name(command_type), "key": key},
    )
    return _prerequisite(rows[0]) if rows else None


def _prerequisite(row: Any) -> Prerequisite:
    return Prerequisite(row.id, row.status, int(row.seq), bool(row.projected), json.loads(row.payload_json))


async def find_recorded(
    session: Queryable, command_id: str, command_types: Iterable[int | str], *, tenant: str = DEFAULT_TENANT
) -> Prerequisite | None:
    """A command by its id (the public id of what it creates), with its payload, unless it FAILED.

    The by-id counterpart of `find_prerequisite`: a pre-check that cannot find a resource in
    the read models (a multisig transaction proposed a moment ago) accepts it while its
    creating command is on its way, and records that command as `depends_on`.

    Args:
        session: The use case's session.
        command_id: The command's id; anything that is not a UUID finds nothing.
        command_types: The commands that create the resource.
        tenant: The tenant.

    Returns:
        The command as a prerequisite (with its payload), or None.
    """
    try:
        uuid.UUID(command_id)
    except ValueError:
        return None
    types = [command_type_name(t) for t in command_types]
    row = (await session.execute(_RECORDED, {"tenant": tenant, "id": command_id, "types": types})).first()
    return None if row is None else _prerequisite(row)


def payload_json(payload: Message) -> str:
    """The canonical proto JSON of a ledger request, as the chaincode reads it."""
    return str(json_format.MessageToJson(payload, indent=None))


async def record_command(
    session: AsyncSession,
    command_type: int | str,
    payload: Message,
    request_id: str | None = None,
    tenant: str = DEFAULT_TENANT,
    principal_id: str | None = None,
    depends_on: uuid.UUID | None = None,
) -> operation_pb2.Operation:
    """Record a ledger command in the caller's transaction and return its Operation.

    Commit the session's transaction to publish it: the command and the service's own rows
    commit together or not at all, and `NOTIFY outbox_new` is delivered only on commit.

    Args:
        session: The use case's session, inside `async with session.begin()`.
        command_type: A `gx.type.v1.CommandType` value or name.
        payload: The `gx.ledger.v1` request message, stored as its proto JSON.
        request_id: Unique per tenant; the chaincode's request guard uses it too. Default:
            the payload's own `request_id`, else a new UUID. When the payload has an empty
            `request_id` field it is filled in (on a copy), so the outbox row and the
            chaincode's guard always share one id. Recording the same id again with the same
            command returns the first command's operation.
        tenant: The tenant (one today).
        principal_id: Who owns the operation (may read it); default: the current caller.
        depends_on: An in-flight prerequisite command (`find_prerequisite`): if it fails, this
            command fails PREREQUISITE_FAILED instead of being submitted.

    The current request's W3C `traceparent` (services.common.logging.trace_var) is stored with
    the command, in the same statement, and so is the partner whose API key the request came
    with (`Principal.partner_id`), for whom migration 0017's trigger records webhook events.

    The command's ordering keys are derived from the payload (`services.common.ordering`) and
    stored with it: the outbox runs it only after every earlier unfinished command it conflicts
    with has finished.

    Raises:
        InvalidArgument: REQUEST_ID_REUSED when the id is taken by a different command.
    """
    name, payload, params = _command_params(
        command_type, payload, request_id, tenant, principal_id, depends_on
    )
    rows = await fetch_all(session, _INSERT, params)
    if not rows:
        existing = await find_existing(session, params["request_id"], tenant)
        assert existing is not None  # the insert conflicted with it
        return operation_of_same_command(existing, name, payload)
    return operation_from_row(rows[0]._asdict())


def _command_params(
    command_type: int | str,
    payload: Message,
    request_id: str | None,
    tenant: str,
    principal_id: str | None,
    depends_on: uuid.UUID | None,
) -> tuple[str, Message, dict[str, Any]]:
    """The stored type name, the payload carrying its request id, and the insert's parameters."""
    name = command_type_name(command_type)
    # Only the command the serving RPC declares (gx.type.v1.records): the link the contract tests
    # check against its access rule and the ledger's submitter.
    commands.check_declared(command_types.value(name))
    rid, payload = _reconcile_request_id(payload, request_id)
    principal = current_principal()
    if principal_id is None:
        principal_id = principal.user_id if principal else None
    keys = ordering.keys_of(payload)
    params = {
        "id": new_command_id(),
        "tenant": tenant,
        "command_type": name,
        "payload": payload_json(payload),
        "request_id": rid,
        "principal_id": principal_id,
        "channel": NOTIFY_CHANNEL,
        "order_keys": list(keys.all),
        "exclusive_keys": list(keys.exclusive),
        "depends_on": depends_on,
        # The recording request's trace, so the worker and the projector log under it later.
        "traceparent": current_traceparent(),
        # The partner whose API key the request came with (its webhooks report the outcome).
        "partner_id": principal.partner_id if principal else None,
        # What the command creates, if anything: its operation id becomes that resource's public id.
        "kind": command_types.creates(name),
    }
    return name, payload, params


async def find_existing(db: Fetchable, request_id: str, tenant: str = DEFAULT_TENANT) -> Any | None:
    """The command (live or archived) that holds a ledger request id, with its payload, or None."""
    rows = await fetch_all(db, _EXISTING, {"tenant": tenant, "request_id": request_id})
    return rows[0] if rows else None


def operation_of_same_command(
    existing: Any, command_type: int | str, payload: Message
) -> operation_pb2.Operation:
    """The operation of `existing` (from `find_existing`) when it is this very command.

    Raises:
        InvalidArgument: REQUEST_ID_REUSED when the request id is taken by a different command.
    """
    same_payload = existing.payload == json_format.MessageToDict(payload)
    if existing.command_type != command_type_name(command_type) or not same_payload:
        raise InvalidArgument(
            "this request_id was already used for a different command", reason="REQUEST_ID_REUSED"
        )
    return operation_from_row(existing._asdict())


@dataclass(frozen=True)
class Remember:
    """The AIP-155 record `accept_command` writes with the command (see services.common.idempotency).

    Attributes:
        scope: The use case (`wallet.Transfer`).
        principal: The caller's id (None: anonymous).
        request_id: The client's request id.
        request_hash: `idempotency.request_hash` of the API request.
        ttl_seconds: How long a record answers replays; an older one is replaced.
    """

    scope: str
    principal: str | None
    request_id: str
    request_hash: bytes
    ttl_seconds: float


@dataclass(frozen=True)
class Acceptance:
    """What `accept_command` did.

    Attributes:
        operation: The new command's operation, or None when nothing was recorded.
        in_flight: Nothing was recorded because a duplicate holds the request's in-flight lock.
    """

    operation: operation_pb2.Operation | None
    in_flight: bool = False


async def accept_command(
    db: Fetchable,
    command_type: int | str,
    payload: Message,
    request_id: str,
    remember: Remember,
    *,
    tenant: str = DEFAULT_TENANT,
    principal_id: str | None = None,
    depends_on: uuid.UUID | None = None,
    wake: Callable[[], None] | None = None,
) -> Acceptance:
    """Record a ledger command and its idempotency record in ONE statement (one round trip).

    Run it on an autocommit connection (`db.autocommit_reads`): the statement is its own
    transaction, so the command, its resource id, the record and the NOTIFY commit together, and
    no BEGIN or COMMIT round trip is needed. Everything else is as in `record_command`.

    Nothing is recorded when the request id is answered already (a live record: a replay or a
    reuse), when its ledger request id is taken (the record expired, or a duplicate committed
    first), or when a duplicate is in flight (`in_flight`): the caller then looks up the answer
    (`idempotency.find_record`, `find_existing`) or refuses it.

    Args:
        db: An autocommit connection.
        command_type: A `gx.type.v1.CommandType` value or name.
        payload: The `gx.ledger.v1` request message.
        request_id: The ledger request id (derived from the client's, see `derive_request_id`).
        remember: The idempotency record to write with it.
        tenant: The tenant.
        principal_id: Who owns the operation; default: the current caller.
        depends_on: An in-flight prerequisite command (`find_prerequisite`).
        wake: Called once the statement has recorded (and so committed) a command, instead of
            the statement's own NOTIFY (`CoalescedNotify.poke`); None: the statement NOTIFYs.
    """
    name, payload, params = _command_params(
        command_type, payload, request_id, tenant, principal_id, depends_on
    )
    principal = remember.principal or idempotency.ANONYMOUS
    # What a replay answers if its command could not be read (it always can: archived commands
    # stay in outbox.operations). Replays answer the operation as it stands then, not this.
    stored = operation_pb2.Operation(
        name=f"operations/{params['id']}",
        state=operation_pb2.OPERATION_STATE_PENDING,
        command_type=command_types.value_or_unspecified(name),
    )
    params.update(
        lock_id=idempotency.lock_id(remember.scope, principal, remember.request_id),
        idem_scope=remember.scope,
        idem_principal=principal,
        idem_request_id=remember.request_id,
        request_hash=remember.request_hash,
        ttl=remember.ttl_seconds,
        response_type=stored.DESCRIPTOR.full_name,
        response=stored.SerializeToString(deterministic=True),
    )
    cursor = (await driver_connection(db)).cursor(row_factory=tuple_row)
    async with cursor:
        await cursor.execute(_ACCEPT if wake is None else _ACCEPT_QUIET, params)
        row = await cursor.fetchone()
    assert row is not None  # the claim's one row, whatever was inserted
    locked, created_at, _ = row
    if created_at is None:
        return Acceptance(None, in_flight=not locked)
    if wake is not None:
        wake()
    return Acceptance(_pending(stored, created_at))


def _pending(stored: operation_pb2.Operation, created_at: datetime) -> operation_pb2.Operation:
    """The operation of a command just recorded, as `operation_from_row` builds it from its row.

    Built from what the caller knows (its id and type) and the row's one server-side value: a new
    row is PENDING, with no transaction, block or result, and `updated_at` = `created_at` (both
    the statement's `now()`). Reading back the whole row cost the wallet a named tuple, a dict and
    the generic conversion per accept.
    """
    operation = operation_pb2.Operation()
    operation.CopyFrom(stored)
    created = operations.timestamp(created_at)
    assert created is not None
    operation.create_time.CopyFrom(created)
    operation.update_time.CopyFrom(created)
    return operation


def _reconcile_request_id(payload: Message, request_id: str | None) -> tuple[str, Message]:
    """Pick the command's request id and return a payload that carries it (never mutates the caller's)."""
    field = payload.DESCRIPTOR.fields_by_name.get("request_id")
    inner = getattr(payload, "request_id", "") if field is not None else ""
    if inner and request_id and inner != request_id:
        raise ValueError("request_id differs from the payload's request_id")
    rid = request_id or inner or str(uuid.uuid4())
    if field is not None and not inner:
        copy = type(payload)()
        copy.CopyFrom(payload)
        copy.request_id = rid
        return rid, copy
    return rid, payload
