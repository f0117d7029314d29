"""Login throttling through the edge: 429 + Retry-After, concurrency cannot buy extra guesses,
and a client cannot pick the address it is counted against."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import httpx
import pytest
import redis

from tests.support.stack import EdgeStack

pytestmark = pytest.mark.e2e

_PASSWORD = "E2e lockout phrase 1234"
_VERIFICATIONS = "gx_identity_password_verifications_total"


def _register(http: httpx.Client) -> str:
    email = f"lock-{uuid.uuid4().hex[:12]}@example.com"
    assert http.post("/v1/users:register", json={"email": email, "password": _PASSWORD}).status_code == 200
    return email


def _metric(identity_edge: EdgeStack, name: str) -> float:
    """A counter read from the identity process's own /metrics."""
    text = httpx.get(f"http://{identity_edge.metrics['identity']}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def test_a_locked_account_answers_429_with_retry_after(identity_edge: EdgeStack) -> None:
    with httpx.Client(base_url=identity_edge.rest_url, timeout=30) as http:
        email = _register(http)
        statuses = [
            http.post("/v1/auth:login", json={"email": email, "password": "not the password 1"}).status_code
            for _ in range(5)
        ]
        locked = http.post("/v1/auth:login", json={"email": email, "password": _PASSWORD})
    # Five wrong passwords are plain 401s; then even the right password waits out the delay.
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


def test_thirty_concurrent_wrong_passwords_verify_at_most_five(identity_edge: EdgeStack) -> None:
    with httpx.Client(base_url=identity_edge.rest_url, timeout=30) as http:
        email = _register(http)

    async def burst() -> list[int]:
        limits = httpx.Limits(max_connections=30)
        async with httpx.AsyncClient(base_url=identity_edge.rest_url, timeout=60, limits=limits) as client:
            answers = await asyncio.gather(
                *(
                    client.post("/v1/auth:login", json={"email": email, "password": f"guess {i} wrong"})
                    for i in range(30)
                )
            )
        return [a.status_code for a in answers]

    before = _metric(identity_edge, _VERIFICATIONS)
    statuses = asyncio.run(burst())
    verified = _metric(identity_edge, _VERIFICATIONS) - before
    assert verified <= 5, f"{verified} passwords verified"
    assert statuses.count(401) == verified and statuses.count(429) == 30 - verified, statuses


def _address_counters(store: redis.Redis) -> dict[str, int]:
    prefix = "gx:identity:login:ip:"
    return {
        key.decode().removeprefix(prefix): int(store.get(key) or 0)
        for key in store.scan_iter(match=prefix + "*")
    }


def test_a_spoofed_x_forwarded_for_does_not_choose_the_address_counted(identity_edge: EdgeStack) -> None:
    spoofed = f"203.0.113.{uuid.uuid4().int % 250}"
    store = redis.Redis.from_url(identity_edge.redis_url)
    try:
        before = _address_counters(store)
        with httpx.Client(base_url=identity_edge.rest_url, timeout=30) as http:
            email = _register(http)
            wrong = http.post(
                "/v1/auth:login",
                json={"email": email, "password": "not the password 1"},
                headers={
                    "x-forwarded-for": spoofed,
                    "x-real-ip": spoofed,
                    "x-envoy-external-address": spoofed,
                },
            )
        assert wrong.status_code == 401
        after = _address_counters(store)
        # Counted once, against the address the edge saw (Envoy names a loopback peer by the
        # host's own address), never against the one the client wrote.
        grown = {ip: n for ip, n in after.items() if n != before.get(ip, 0)}
        assert len(grown) == 1 and spoofed not in after, (before, after)
        (counted,) = grown
        assert grown[counted] == before.get(counted, 0) + 1
        account = "gx:identity:login:acct:" + hashlib.sha256(email.encode()).hexdigest()
        assert store.exists(account)
    finally:
        store.close()
