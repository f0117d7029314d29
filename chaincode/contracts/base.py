"""What every GX contract function shares: decoding, role checks, the request-id guard, the one event."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fabric_chaincode_python.fabric_contract_api import Contract
from google.protobuf.message import Message
from gx.ledger.v1 import events_pb2, options_pb2

from chaincode import certs, codec, ledger
from chaincode.tx import Tx
from ledger_rules.errors import Rejection

M = TypeVar("M", bound=Message)
EVENT_NAME = "LedgerEvents"
# Request ids become parts of state keys and of ids (loan, proposal, multisig), so the alphabet
# is restricted: no '~' (the key separator), no whitespace.
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_REJECTION_ATTR = "_gx_rejection"
# The chaincode puts its MSP allow-list for roles on each stub (see app.GxChaincode).
ROLE_MSPS_ATTR = "_gx_role_msps"


def command_options(cls: type[Message]) -> options_pb2.CommandOptions:
    """The `gx.ledger.v1.command` option of a request message class."""
    options: options_pb2.CommandOptions = cls.DESCRIPTOR.GetOptions().Extensions[options_pb2.command]
    return options


def query_options(cls: type[Message]) -> options_pb2.QueryOptions:
    """The `gx.ledger.v1.query` option of a request message class."""
    options: options_pb2.QueryOptions = cls.DESCRIPTOR.GetOptions().Extensions[options_pb2.query]
    return options


def rejection_of(stub: Any) -> Rejection | None:
    """The business rejection the last function raised on *stub*, if any."""
    return getattr(stub, _REJECTION_ATTR, None)


def _digest(request: Message) -> str:
    # The request without its id: a repeat must carry the same command, whatever else differs.
    copy = type(request)()
    copy.CopyFrom(request)
    copy.ClearField("request_id")
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


async def run_command(
    ctx: Any,
    cls: type[M],
    raw: str,
    handler: Callable[[Tx, M], Awaitable[Message]],
    reads: Callable[[Tx, M], list[str]] | None = None,
) -> str:
    """Run one state-changing function.

    Decodes the request, checks the submitter's role (from the request message's command
    option), applies the request-id guard, runs *handler*, records the result under
    `request~<request_id>`, flushes the writes and emits the ONE `LedgerEvents` event.

    *reads* names keys the handler reads by key: when the peer batches reads (Fabric 3.1), they
    and the guard are read in one GET_STATE_MULTIPLE. They join the read set even when the guard
    finds a replay (which then fails validation if one of them changed meanwhile, and is sent
    again: still no second effect), so name only keys the function reads on its normal path.

    Returns:
        The proto JSON of the result (the first result, for a repeated request id).

    Raises:
        Rejection: The request breaks a rule (recorded on the stub for the status mapping).
    """
    stub = ctx.get_stub()
    opts = command_options(cls)
    try:
        role = certs.submitter_role(stub.get_creator(), getattr(stub, ROLE_MSPS_ATTR, None))
        certs.require_role(role, opts.submitter_role, opts.function)
        request = codec.parse(raw, cls)
        request_id = request.request_id
        if not _REQUEST_ID.fullmatch(request_id):
            raise Rejection("INVALID_ARGUMENT", "request_id must be 1-128 characters of [A-Za-z0-9._:-]")
        tx = Tx(stub, role)
        digest = _digest(request)
        guard = ledger.request_key(request_id)
        if reads is not None:
            await tx.prefetch([guard, *reads(tx, request)])
        recorded = await tx.get(guard)
        envelope = events_pb2.LedgerEvents(
            request_id=request_id, command_type=opts.type, function=opts.function
        )
        envelope.time.CopyFrom(tx.time)
        if recorded is not None:
            record = json.loads(recorded)
            if record["function"] != opts.function or record["digest"] != digest:
                raise Rejection(
                    "REQUEST_ID_REUSED",
                    f"request id {request_id} was used by another request ({record['function']})",
                )
            envelope.replayed = True
            envelope.replay_of_tx_id = str(record["txId"])
            stub.set_event(EVENT_NAME, codec.to_json(envelope))
            return str(record["result"])
        result_json = codec.to_json(await handler(tx, request))
        tx.put(
            ledger.request_key(request_id),
            json.dumps(
                {"function": opts.function, "digest": digest, "result": result_json, "txId": tx.tx_id},
                separators=(",", ":"),
                sort_keys=True,
            ),
        )
        await tx.flush()
        envelope.events.extend(tx.events)
        stub.set_event(EVENT_NAME, codec.to_json(envelope))
        return result_json
    except Rejection as exc:
        setattr(stub, _REJECTION_ATTR, exc)
        raise


async def run_query(ctx: Any, cls: type[M], raw: str, handler: Callable[[Tx, M], Awaitable[Message]]) -> str:
    """Run one read-only function: decode, run *handler*, return the proto JSON of its result."""
    stub = ctx.get_stub()
    try:
        request = codec.parse(raw, cls)
        return codec.to_json(await handler(Tx(stub), request))
    except Rejection as exc:
        setattr(stub, _REJECTION_ATTR, exc)
        raise


class GxContract(Contract):  # type: ignore[misc]  # fabric-chaincode-python ships no type information
    """Base of the GX contracts: names query functions so the metadata tags them EVALUATE."""

    QUERIES: tuple[str, ...] = ()

    def get_evaluate_transactions(self) -> list[str]:
        return list(self.QUERIES)


# --- argument checks shared by the contracts -------------------------------------------------


def need(condition: bool, reason: str, detail: str) -> None:
    """Raise Rejection(reason, detail) unless *condition*."""
    if not condition:
        raise Rejection(reason, detail)


def is_id(value: str) -> bool:
    """Whether *value* passes check_id (for naming keys before the checks run)."""
    return bool(_ID.fullmatch(value))


def check_uuid(value: str, field: str) -> None:
    need(bool(_UUID.fullmatch(value)), "INVALID_ARGUMENT", f"{field} must be a UUID, got {value!r}")


def check_id(value: str, field: str) -> None:
    need(
        bool(_ID.fullmatch(value)), "INVALID_ARGUMENT", f"{field} must be 1-128 characters of [A-Za-z0-9._:-]"
    )


def check_country(value: str, field: str = "country_code") -> None:
    need(
        bool(_COUNTRY.fullmatch(value)),
        "INVALID_ARGUMENT",
        f"{field} must be an upper-case ISO alpha-2 code, got {value!r}",
    )


def check_text(value: str, field: str, max_len: int, required: bool = True) -> None:
    if required:
        need(bool(value.strip()), "INVALID_ARGUMENT", f"{field} is required")
    need(len(value) <= max_len, "INVALID_ARGUMENT", f"{field} may have at most {max_len} characters")


def check_amount(value: int, field: str = "amount_qirat") -> None:
    need(value > 0, "INVALID_ARGUMENT", f"{field} must be positive, got {value}")
