"""Login lockout per account and per client address, through the real server."""

from __future__ import annotations

import uuid
from pathlib import Path

import grpc
import pytest
from gx.identity.v1 import identity_service_pb2 as svc

from tests.grpc.identity.identity_harness import (
    PASSWORD,
    login,
    migrated,
    new_user,
    register,
    rich_error,
    running_identity,
    unique_email,
)


def _forwarded(client: str) -> tuple[tuple[str, str], ...]:
    # The client's claim first, then the address the edge saw (the one that counts).
    return (("x-forwarded-for", f"203.0.113.50, {client}"),)


def _address() -> str:
    return f"198.51.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


async def test_account_locks_after_repeated_failures_with_retry_after(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    await migrated(database_url)
    async with running_identity(
        database_url,
        redis_url,
        tmp_path,
        lockout_account_limit=3,
        lockout_ip_limit=1000,
        lockout_window_seconds=120,
        # Long delays, so the 4th attempt surely falls inside the first one.
        lockout_delay_base_seconds=60,
        lockout_delay_max_seconds=120,
    ) as identity:
        _, email, _ = await new_user(identity)
        for _ in range(3):
            with pytest.raises(grpc.aio.AioRpcError) as wrong:
                await login(identity, email, PASSWORD + "!")
            assert wrong.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # Even the right password is refused while the lock lasts.
        with pytest.raises(grpc.aio.AioRpcError) as locked:
            await login(identity, email)
        assert locked.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        info, _ = rich_error(locked.value)
        assert info is not None and info.reason == "ACCOUNT_LOCKED"
        assert 1 <= int(info.metadata["retry_after_seconds"]) <= 60


async def test_client_address_locks_across_accounts(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    async with running_identity(
        database_url,
        redis_url,
        tmp_path,
        lockout_account_limit=100,
        lockout_ip_limit=3,
        lockout_window_seconds=120,
    ) as identity:
        client = _address()
        for _ in range(3):
            with pytest.raises(grpc.aio.AioRpcError):
                await identity.stub.Login(
                    svc.LoginRequest(email=unique_email("nobody"), password="whatever it is 1"),
                    metadata=_forwarded(client),
                )
        email = unique_email()
        await register(identity, email)
        with pytest.raises(grpc.aio.AioRpcError) as locked:
            await identity.stub.Login(
                svc.LoginRequest(email=email, password=PASSWORD), metadata=_forwarded(client)
            )
        assert locked.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert rich_error(locked.value)[0].reason == "CLIENT_LOCKED"  # type: ignore[union-attr]
        # The same person from another address is fine: only the last (trusted) hop counts.
        other = await identity.stub.Login(
            svc.LoginRequest(email=email, password=PASSWORD), metadata=_forwarded(_address())
        )
        assert other.access_token
