"""Account lockout through the edge: 429 with the delay in both the JSON body and Retry-After."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.stack import EdgeStack

pytestmark = pytest.mark.e2e

_PASSWORD = "E2e lockout phrase 1234"


def test_a_locked_account_answers_429_with_retry_after(identity_edge: EdgeStack) -> None:
    email = f"lock-{uuid.uuid4().hex[:12]}@example.com"
    with httpx.Client(base_url=identity_edge.rest_url, timeout=30) as http:
        assert http.post("/v1/users:register", json={"email": email, "password": _PASSWORD}).status_code == 200
        statuses = [
            http.post("/v1/auth:login", json={"email": email, "password": "not the password 1"}).status_code
            for _ in range(5)
        ]
        locked = http.post("/v1/auth:login", json={"email": email, "password": _PASSWORD})
    # Five wrong passwords are plain 401s; then even the right password is refused while locked.
    assert statuses == [401] * 5
    assert locked.status_code == 429, locked.text
    body = locked.json()
    info = next(d for d in body["details"] if d["@type"].endswith("google.rpc.ErrorInfo"))
    assert info["reason"] == "ACCOUNT_LOCKED"
    retry = next(d for d in body["details"] if d["@type"].endswith("google.rpc.RetryInfo"))
    seconds = int(retry["retryDelay"].rstrip("s").split(".")[0])
    assert seconds > 0
    assert locked.headers["retry-after"] == str(seconds)
    assert int(info["metadata"]["retry_after_seconds"]) == seconds
