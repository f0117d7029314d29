"""Unit tests of the webhook wire format: the event body and the recorded answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from services.common.webhook_events import (
    OPERATION_COMMITTED,
    OPERATION_FAILED,
    event_body,
    parse_response_record,
    response_record,
)

# What the trigger of migration 0015 stores: to_jsonb of the command's columns.
SNAPSHOT = {
    "id": "6f1c5a2e-9a53-4b53-9f7a-2f0c7c1e6d10",
    "command_type": "TRANSFER_TOKENS",
    "status": "COMMITTED",
    "tx_id": "ab12",
    "block_number": 7,
    "error_code": None,
    "error_message": None,
    "result_json": None,
    "created_at": "2026-12-06T06:40:00.123456+00:00",
    "updated_at": "2026-12-06T06:40:01+00:00",
}


def test_event_body_carries_id_type_created_and_the_operation() -> None:
    created = datetime(2026, 12, 6, 6, 40, 2, tzinfo=UTC)
    body = json.loads(event_body("e-1", OPERATION_COMMITTED, created, SNAPSHOT))
    assert body["id"] == "e-1"
    assert body["type"] == "operation.committed"
    assert body["created"] == int(created.timestamp())
    operation = body["data"]["operation"]
    assert operation["name"] == f"operations/{SNAPSHOT['id']}"
    assert operation["state"] == "OPERATION_STATE_COMMITTED"
    assert operation["commandType"] == "COMMAND_TYPE_TRANSFER_TOKENS"
    assert operation["done"] is True
    assert operation["blockNumber"] == "7"
    assert operation["createTime"] == "2026-12-06T06:40:00.123456Z"


def test_event_body_is_the_same_bytes_every_time() -> None:
    created = datetime(2026, 12, 6, tzinfo=UTC)
    assert event_body("e", OPERATION_COMMITTED, created, SNAPSHOT) == event_body(
        "e", OPERATION_COMMITTED, created, dict(SNAPSHOT)
    )


def test_a_failed_operation_carries_its_error() -> None:
    failed = {
        **SNAPSHOT,
        "status": "FAILED",
        "error_code": "INSUFFICIENT_BALANCE",
        "error_message": "too little",
    }
    body = json.loads(event_body("e", OPERATION_FAILED, datetime(2026, 12, 6, tzinfo=UTC), failed))
    assert body["data"]["operation"]["error"]["reason"] == "INSUFFICIENT_BALANCE"
    assert body["data"]["operation"]["error"]["message"] == "too little"


def test_response_records_round_trip_and_are_cut_short() -> None:
    assert parse_response_record(response_record(500, "boom")) == (500, "boom")
    status, body = parse_response_record(response_record(200, "x" * 2000))
    assert status == 200 and len(body) == 500
    assert parse_response_record(None) == (0, "")
    assert parse_response_record("not json") == (0, "not json")
