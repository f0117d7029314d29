"""One trace across the asynchronous hop: the recording request's traceparent is stored with the
command (real PostgreSQL), the outbox worker logs under it while it processes the command, and
the projector logs under it when it applies that command's transaction."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from gx.ledger.v1 import events_pb2
from gx.type.v1 import command_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from projector import store
from projector.runner import apply_event
from services.common.logging import JsonFormatter, LogKey, TraceContext, trace_var
from tests.workers.conftest import command_row, record
from tests.workers.test_outbox_processor import ScriptedPeer, _claim_one, _processor, _transfer
from tests.workers.test_projector_apply import NAME, _events

TRACE = "5c1e0a7e9d2b4f6a8c3e1d0b9a7f6e5d"
SPAN = "1a2b3c4d5e6f7a8b"


@contextmanager
def json_lines(logger: str) -> Iterator[list[dict[str, object]]]:
    """The JSON lines `logger` writes inside the block (filled in on exit)."""
    stream, lines = io.StringIO(), []
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test"))
    log = logging.getLogger(logger)
    old_level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


async def test_a_commands_trace_is_stored_then_logged_by_the_worker_and_the_projector(
    engine: AsyncEngine,
) -> None:
    token = trace_var.set(TraceContext(TRACE, SPAN))
    try:
        traced = await record(engine, "TRANSFER_TOKENS", _transfer())
    finally:
        trace_var.reset(token)
    untraced = await record(engine, "TRANSFER_TOKENS", _transfer())
    assert (await command_row(engine, traced)).traceparent == f"00-{TRACE}-{SPAN}-01"  # type: ignore[attr-defined]
    assert (await command_row(engine, untraced)).traceparent is None  # type: ignore[attr-defined]

    processor, repo = _processor(engine, ScriptedPeer(engine))
    claimed = await _claim_one(repo, traced)
    assert claimed.traceparent == f"00-{TRACE}-{SPAN}-01"
    with json_lines("outbox.processor") as worker_lines:
        await processor.process(claimed)
    row = await command_row(engine, traced)
    assert row.status == "COMMITTED"  # type: ignore[attr-defined]
    (committed,) = [line for line in worker_lines if "committed" in str(line[LogKey.MESSAGE])]
    assert committed[LogKey.TRACE_ID] == TRACE and committed[LogKey.SPAN_ID] != SPAN
    assert trace_var.get() is None  # the worker's own context is left as it was

    country = events_pb2.LedgerEvent(
        country_initialized=events_pb2.CountryInitialized(
            country_code="LK", name="Sri Lanka", share_bps=10_000, treasury_account_id="treasury_LK"
        )
    )
    async with engine.connect() as conn:
        async with conn.begin():
            generation = (await store.load_checkpoint(conn, NAME)).generation
        with json_lines("projector.runner") as projector_lines:
            await apply_event(
                conn, NAME, generation, 7, row.tx_id, "LedgerEvents",  # type: ignore[attr-defined]
                _events(command_pb2.COMMAND_TYPE_INITIALIZE_COUNTRY, country),
            )  # fmt: skip
            # A transaction no outbox command became is applied under a trace of its own.
            await apply_event(
                conn, NAME, generation, 8, "tx-from-elsewhere", "LedgerEvents",
                _events(command_pb2.COMMAND_TYPE_INITIALIZE_COUNTRY, country, second=1),
            )  # fmt: skip
    ours, other = [line for line in projector_lines if "applying transaction" in str(line[LogKey.MESSAGE])]
    assert ours[LogKey.TRACE_ID] == TRACE
    assert other[LogKey.TRACE_ID] != TRACE and len(str(other[LogKey.TRACE_ID])) == 32
