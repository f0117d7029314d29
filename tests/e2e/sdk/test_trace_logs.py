"""One request followed across processes: a transfer sent through the real Envoy edge (REST) with a
W3C traceparent leaves lines with its trace_id in the wallet's, the outbox worker's and the
projector's logs, and `gx dev logs --trace ID` prints them from the stack's log files in time order.

It lives in this package to reuse its whole mesh and bootstrapped admin (no second mesh to start)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from datetime import datetime

import httpx
import pytest
from gx_client import Client

from tests.e2e.sdk.test_sdk_python_journey import GX, _onboard
from tests.support.stack import EdgeStack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(400)]


def _trace_lines(mesh: EdgeStack, trace: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gx_cli.main", "dev", "logs", "--trace", trace],
        env={**os.environ, "GX_STATE_DIR": str(mesh.state_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_transfers_trace_id_is_in_every_process_it_crossed(mesh: EdgeStack, admin: Client) -> None:
    _, alice = _onboard(mesh, admin)
    bob_id, bob = _onboard(mesh, admin)
    trace_id = secrets.token_hex(16)
    token = alice.session.token(renew=False)
    with httpx.Client(base_url=mesh.rest_url, timeout=30) as http:
        sent = http.post(
            "/v1/wallets/me:transfer",
            json={"amountQirat": str(GX), "toUserId": bob_id, "requestId": str(uuid.uuid4())},
            headers={
                "authorization": f"Bearer {token}",
                "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01",
            },
        )
    assert sent.status_code == 202, sent.text
    alice.operation(sent.json()["name"]).wait()

    # The projector applies the transaction shortly after the commit the wait saw.
    deadline = time.monotonic() + 30
    while True:
        done = _trace_lines(mesh, trace_id)
        parts = {line.split("|", 1)[0].strip() for line in done.stdout.splitlines()}
        if {"edge", "wallet", "outbox", "projector"} <= parts or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert done.returncode == 0, done.stderr
    assert {"edge", "wallet", "outbox", "projector"} <= parts, done.stdout
    records = [
        (line.split("|", 1)[0].strip(), json.loads(line.split("| ", 1)[1]))
        for line in done.stdout.splitlines()
    ]
    # Envoy's access line carries the header as sent; every line of our processes its trace_id.
    assert all(r["traceparent"].split("-")[1] == trace_id for part, r in records if part == "edge")
    ours = [(part, r) for part, r in records if part != "edge"]
    assert all(r["trace_id"] == trace_id for _, r in ours)
    times = [datetime.fromisoformat(r["time"]) for _, r in ours]
    assert times == sorted(times)
    # The first of our lines is the edge-facing service's: the request comes before the work it caused.
    assert ours[0][0] == "wallet", done.stdout

    unknown = _trace_lines(mesh, secrets.token_hex(16))
    assert unknown.returncode == 1 and "no line of trace" in unknown.stderr
    alice.close()
    bob.close()
