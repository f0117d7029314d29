"""The Operation a client sees: done only when committed AND projected (services/common/operations.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from gx.type.v1 import operation_pb2

from services.common.operations import operation_from_command, parse_operation_name


def _row(status: str, projected: bool, **extra: object) -> SimpleNamespace:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    data = {
        "id": uuid.uuid4(),
        "command_type": "TRANSFER_TOKENS",
        "status": status,
        "tx_id": "tx1" if status != "PENDING" else None,
        "block_number": 7 if status == "COMMITTED" else None,
        "error_code": None,
        "error_message": None,
        "result_json": None,
        "created_at": now,
        "updated_at": now,
        "principal_id": None,
        "projected": projected,
        **extra,
    }
    return SimpleNamespace(_mapping=data, **data)


def test_committed_but_not_projected_is_still_submitted_and_not_done() -> None:
    op = operation_from_command(_row("COMMITTED", projected=False))
    assert (op.state, op.done, op.fabric_tx_id, op.block_number) == (
        operation_pb2.OPERATION_STATE_SUBMITTED,
        False,
        "tx1",
        7,
    )


def test_committed_and_projected_is_done() -> None:
    op = operation_from_command(_row("COMMITTED", projected=True, result_json='{"a":1}'))
    assert (op.state, op.done, op.result_json) == (operation_pb2.OPERATION_STATE_COMMITTED, True, '{"a":1}')


def test_failed_is_done_with_the_reason() -> None:
    op = operation_from_command(
        _row("FAILED", projected=False, error_code="INSUFFICIENT_FUNDS", error_message="no")
    )
    assert (op.state, op.done, op.error.reason, op.error.message) == (
        operation_pb2.OPERATION_STATE_FAILED,
        True,
        "INSUFFICIENT_FUNDS",
        "no",
    )


def test_pending_is_not_done() -> None:
    op = operation_from_command(_row("PENDING", projected=False))
    assert (op.state, op.done) == (operation_pb2.OPERATION_STATE_PENDING, False)
    assert op.name.startswith("operations/")


def test_operation_names_parse() -> None:
    cid = uuid.uuid4()
    assert parse_operation_name(f"operations/{cid}") == cid
    assert parse_operation_name(str(cid)) == cid
    assert parse_operation_name("operations/nope") is None
