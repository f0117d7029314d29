"""The key decision's order and failure modes, with fakes for the database and Redis (pure logic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

from services.common.auth import PARTNER_TOKEN_HEADER
from services.licensing import keys
from services.licensing.authz import KeyAuthorizer, KeyDirectory, KeyRecord, Verdict, check_response
from services.licensing.limiter import Decision
from services.licensing.partner_tokens import PartnerTokenUnavailable

# Taken at collection, so only for times far from the edge of a window (a day, or already past):
# a whole suite may run for minutes between collection and a test.
_NOW = datetime.now(UTC)


def _record(**changes: Any) -> KeyRecord:
    base: dict[str, Any] = {
        "key_id": "k",
        "key_state": "ACTIVE",
        "key_expire_at": None,
        "license_id": "l",
        "license_state": "ACTIVE",
        "license_expire_at": _NOW + timedelta(days=1),
        "tier": "FREE",
        "partner_id": "p",
        "partner_state": "ACTIVE",
    }
    return KeyRecord(**{**base, **changes})


class _Directory:
    def __init__(self, record: KeyRecord | None = None, error: Exception | None = None) -> None:
        self.record, self.error, self.calls = record, error, 0

    async def find(self, secret_hash: bytes) -> KeyRecord | None:
        self.calls += 1
        if self.error:
            raise self.error
        return self.record


class _Limiter:
    def __init__(self, allowed: bool = True, error: Exception | None = None) -> None:
        self.allowed, self.error, self.calls = allowed, error, 0

    async def take(self, license_id: str, quota: int) -> Decision:
        self.calls += 1
        if self.error:
            raise self.error
        return Decision(self.allowed, quota, 5 if self.allowed else 0, 3, 0 if self.allowed else 2)


class _LastUsed:
    def __init__(self, error: Exception | None = None) -> None:
        self.error, self.touched = error, 0

    async def touch(self, key_id: str, when: datetime) -> None:
        self.touched += 1
        if self.error:
            raise self.error


def _authorizer(
    directory: _Directory, limiter: _Limiter, last_used: _LastUsed | None = None
) -> KeyAuthorizer:
    return KeyAuthorizer(directory, limiter, last_used or _LastUsed(), {"FREE": 60})  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "Bearer x", "gx_live_" + "0" * 38, keys.generate("LIVE").secret[:-1]])
async def test_a_malformed_key_is_refused_before_any_database_or_redis_work(bad: str) -> None:
    directory, limiter = _Directory(error=AssertionError("db")), _Limiter(error=AssertionError("redis"))
    verdict = await _authorizer(directory, limiter).authorize(bad)
    assert (verdict.http_status, verdict.reason) == (401, "API_KEY_INVALID")
    assert directory.calls == limiter.calls == 0


@pytest.mark.parametrize(
    ("record", "status", "reason"),
    [
        (_record(key_state="REVOKED"), 401, "API_KEY_REVOKED"),
        (_record(key_state="ROTATING", key_expire_at=_NOW - timedelta(seconds=1)), 401, "API_KEY_REVOKED"),
        (_record(partner_state="SUSPENDED"), 403, "PARTNER_SUSPENDED"),
        (_record(license_state="SUSPENDED"), 403, "LICENSE_SUSPENDED"),
        (_record(license_expire_at=_NOW - timedelta(seconds=1)), 403, "LICENSE_EXPIRED"),
    ],
)
async def test_refusals_take_no_quota(record: KeyRecord, status: int, reason: str) -> None:
    limiter = _Limiter()
    verdict = await _authorizer(_Directory(record), limiter).authorize(keys.generate("LIVE").secret)
    assert (verdict.http_status, verdict.reason) == (status, reason)
    assert limiter.calls == 0


async def test_a_rotating_key_in_its_grace_period_passes() -> None:
    record = _record(key_state="ROTATING", key_expire_at=datetime.now(UTC) + timedelta(minutes=5))
    verdict = await _authorizer(_Directory(record), _Limiter()).authorize(keys.generate("TEST").secret)
    assert verdict.http_status == 200


@pytest.mark.parametrize(
    ("directory", "limiter"),
    [
        (_Directory(error=OperationalError("SELECT", {}, Exception("down"))), _Limiter()),
        (_Directory(_record()), _Limiter(error=RedisConnectionError("down"))),
    ],
)
async def test_licensing_failures_fail_closed_with_503(directory: _Directory, limiter: _Limiter) -> None:
    verdict = await _authorizer(directory, limiter).authorize(keys.generate("LIVE").secret)
    assert (verdict.http_status, verdict.reason) == (503, "LICENSING_UNAVAILABLE")
    response = check_response(verdict)
    assert response.denied_response.status.code == 503


async def test_a_lost_last_used_note_does_not_refuse_the_request() -> None:
    last_used = _LastUsed(error=RedisConnectionError("down"))
    verdict = await _authorizer(_Directory(_record()), _Limiter(), last_used).authorize(
        keys.generate("LIVE").secret
    )
    assert verdict.http_status == 200 and last_used.touched == 1


async def test_over_quota_answers_429_with_retry_after() -> None:
    verdict = await _authorizer(_Directory(_record()), _Limiter(allowed=False)).authorize(
        keys.generate("LIVE").secret
    )
    response = check_response(verdict)
    headers = {h.header.key: h.header.value for h in response.denied_response.headers}
    assert response.denied_response.status.code == 429
    assert (headers["retry-after"], headers["ratelimit-remaining"], headers["ratelimit-limit"]) == (
        "2",
        "0",
        "60",
    )


class _Result:
    def __init__(self, row: Any) -> None:
        self._row = row

    def first(self) -> Any:
        return self._row


class _Engine:
    """Counts reads; answers one fixed row."""

    def __init__(self) -> None:
        self.reads = 0

    def connect(self) -> _Engine:
        return self

    async def __aenter__(self) -> _Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def execute(self, statement: Any, params: Any) -> _Result:
        self.reads += 1
        return _Result(None)


async def test_the_directory_remembers_for_its_ttl_only() -> None:
    engine = _Engine()
    cached = KeyDirectory(engine, ttl_seconds=60)  # type: ignore[arg-type]
    assert await cached.find(b"h") is None and await cached.find(b"h") is None
    assert engine.reads == 1
    uncached = KeyDirectory(engine, ttl_seconds=0)  # type: ignore[arg-type]
    await uncached.find(b"h")
    await uncached.find(b"h")
    assert engine.reads == 3


class _Tokens:
    """Stands in for PartnerTokens: a fixed token per partner, or identity down."""

    def __init__(self, down: bool = False) -> None:
        self.down, self.asked = down, 0

    async def token_for(self, partner_id: str) -> str:
        self.asked += 1
        if self.down:
            raise PartnerTokenUnavailable("UNAVAILABLE")
        return f"token-of-{partner_id}"


def _with_tokens(tokens: _Tokens, limiter: _Limiter) -> KeyAuthorizer:
    return KeyAuthorizer(_Directory(_record()), limiter, _LastUsed(), {"FREE": 60}, tokens)  # type: ignore[arg-type]


def _ok(verdict: Verdict) -> tuple[dict[str, str], list[str]]:
    ok = check_response(verdict).ok_response
    return {h.header.key: h.header.value for h in ok.headers}, list(ok.headers_to_remove)


async def test_a_key_with_a_users_token_sends_the_partner_as_proof_not_as_the_caller() -> None:
    verdict = await _with_tokens(_Tokens(), _Limiter()).authorize(
        keys.generate("LIVE").secret, as_partner=False
    )
    assert (verdict.http_status, verdict.token, verdict.partner_token) == (200, None, "token-of-p")
    headers, removed = _ok(verdict)
    assert headers == {PARTNER_TOKEN_HEADER: "token-of-p"}
    assert removed == ["x-api-key"]


async def test_a_key_alone_makes_the_partner_the_caller_and_removes_any_partner_header() -> None:
    verdict = await _with_tokens(_Tokens(), _Limiter()).authorize(
        keys.generate("LIVE").secret, as_partner=True
    )
    assert (verdict.token, verdict.partner_token) == ("token-of-p", None)
    headers, removed = _ok(verdict)
    assert headers == {"authorization": "Bearer token-of-p"}
    assert removed == ["x-api-key", PARTNER_TOKEN_HEADER]


@pytest.mark.parametrize("as_partner", [True, False])
async def test_without_the_partners_token_a_keyed_request_fails_closed_and_takes_no_quota(
    as_partner: bool,
) -> None:
    limiter = _Limiter()
    verdict = await _with_tokens(_Tokens(down=True), limiter).authorize(
        keys.generate("LIVE").secret, as_partner=as_partner
    )
    assert (verdict.http_status, verdict.reason) == (503, "IDENTITY_UNAVAILABLE")
    assert limiter.calls == 0


class _FlakyEngine(_Engine):
    """Answers one row, then fails every read (PostgreSQL gone)."""

    async def execute(self, statement: Any, params: Any) -> _Result:
        self.reads += 1
        if self.reads > 1:
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        return _Result(None)


async def test_a_failed_background_refresh_leaves_the_record_to_expire_then_fails_closed() -> None:
    engine = _FlakyEngine()
    now = [0.0]
    directory = KeyDirectory(engine, ttl_seconds=1.0, clock=lambda: now[0])  # type: ignore[arg-type]
    assert await directory.find(b"h") is None
    now[0] = 0.6
    assert await directory.find(b"h") is None  # served; the refresh behind it fails
    await directory.settled()
    assert engine.reads == 2
    now[0] = 0.9
    assert await directory.find(b"h") is None  # the failed refresh left the record as it was
    now[0] = 1.0
    with pytest.raises(OperationalError):
        await directory.find(b"h")
