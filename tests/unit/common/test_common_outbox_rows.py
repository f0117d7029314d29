"""Unit tests of the outbox's pure parts: command type names, derived ids, rows as Operations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from gx.ledger.v1 import commands_pb2
from gx.type.v1 import command_pb2, operation_pb2

from services.common import outbox


def test_command_type_names_drop_the_prefix_and_refuse_unknowns() -> None:
    assert outbox.command_type_name(command_pb2.COMMAND_TYPE_CREATE_USER) == "CREATE_USER"
    assert outbox.command_type_name("COMMAND_TYPE_TRANSFER_TOKENS") == "TRANSFER_TOKENS"
    assert outbox.command_type_name("TRANSFER_TOKENS") == "TRANSFER_TOKENS"
    for bad in ("NOPE", 0, "UNSPECIFIED"):
        with pytest.raises(ValueError):
            outbox.command_type_name(bad)


def test_derived_request_ids_are_stable_uuids_and_separate_their_parts() -> None:
    a = outbox.derive_request_id("identity.ApproveKyc", "user-1", "r1")
    assert a == outbox.derive_request_id("identity.ApproveKyc", "user-1", "r1")
    assert uuid.UUID(a).version == 5
    assert a != outbox.derive_request_id("identity.ApproveKyc", "user-1r", "1")
    assert a != outbox.derive_request_id("identity.ApproveKyc", "user-2", "r1")


def test_payload_json_is_canonical_camel_case_with_int64_strings() -> None:
    text = outbox.payload_json(commands_pb2.CreateUserRequest(user_id="u", country_code="LK"))
    assert text == '{"userId": "u", "countryCode": "LK"}'


def test_payload_request_id_mismatch_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        outbox._reconcile_request_id(commands_pb2.CreateUserRequest(request_id="a"), "b")


def _row(**kw: object) -> dict:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    base = {
        "id": uuid.UUID(int=7),
        "command_type": "CREATE_USER",
        "status": "PENDING",
        "tx_id": None,
        "block_number": None,
        "error_code": None,
        "error_message": None,
        "result_json": None,
        "created_at": now,
        "updated_at": now,
    }
    base.update(kw)
    return base


@pytest.mark.parametrize(
    ("status", "state", "done"),
    [
        ("PENDING", operation_pb2.OPERATION_STATE_PENDING, False),
        ("SUBMITTED", operation_pb2.OPERATION_STATE_SUBMITTED, False),
        ("COMMITTED", operation_pb2.OPERATION_STATE_COMMITTED, True),
        ("FAILED", operation_pb2.OPERATION_STATE_FAILED, True),
    ],
)
def test_row_states_map_to_operation_states(status: str, state: int, done: bool) -> None:
    op = outbox.operation_from_row(_row(status=status, error_code="X" if status == "FAILED" else None))
    assert (op.state, op.done) == (state, done)
    assert op.name == f"operations/{uuid.UUID(int=7)}"
    assert op.create_time.ToDatetime(tzinfo=UTC) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert op.HasField("error") == (status == "FAILED")


@pytest.mark.parametrize(
    ("error_code", "grpc_code"),
    [("MVCC_READ_CONFLICT", 10), ("PERMISSION_DENIED", 7), ("INSUFFICIENT_BALANCE", 9), ("UNAVAILABLE", 14)],
)
def test_failed_rows_carry_code_reason_and_message(error_code: str, grpc_code: int) -> None:
    op = outbox.operation_from_row(_row(status="FAILED", error_code=error_code, error_message="why"))
    assert (op.error.code, op.error.reason, op.error.message) == (grpc_code, error_code, "why")
