"""Fixtures for the chaincode rule tests: a fake peer, checked for conservation after every test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from gx.ledger.v1 import commands_pb2 as cmd

from tests.chaincode.fake_ledger import FakeLedger

COUNTRIES = [("LK", "Sri Lanka", 5_000), ("IN", "India", 3_000), ("US", "United States", 2_000)]


def rid() -> str:
    """A fresh request id."""
    return str(uuid.uuid4())


@pytest.fixture
async def ledger() -> AsyncIterator[FakeLedger]:
    fake = FakeLedger()
    yield fake
    # Conservation: whatever the test did, every Qirat minted is still in exactly one account.
    fake.assert_conserved()


@pytest.fixture
async def gx(ledger: FakeLedger) -> FakeLedger:
    """A bootstrapped ledger with three countries."""
    out = await ledger.invoke("BootstrapSystem", cmd.BootstrapSystemRequest(request_id=rid()))
    assert out.ok, out.message
    request = cmd.InitializeCountriesRequest(request_id=rid())
    for code, name, share in COUNTRIES:
        request.countries.add(country_code=code, name=name, share_bps=share)
    out = await ledger.invoke("InitializeCountries", request)
    assert out.ok, out.message
    return ledger


async def new_user(ledger: FakeLedger, country: str = "LK", dob: str = "1990-05-01") -> str:
    """Create a user (genesis paid when eligible) and return their id."""
    user_id = str(uuid.uuid4())
    out = await ledger.invoke(
        "CreateUser",
        cmd.CreateUserRequest(user_id=user_id, country_code=country, date_of_birth=dob, request_id=rid()),
        role="gx_admin",
    )
    assert out.ok, out.message
    return user_id


async def transfer(ledger: FakeLedger, src: str, dst: str, amount: int, request_id: str | None = None):
    """Submit TransferTokens as the partner API identity."""
    return await ledger.invoke(
        "TransferTokens",
        cmd.TransferTokensRequest(
            from_account_id=src, to_account_id=dst, amount_qirat=amount, request_id=request_id or rid()
        ),
        role="gx_partner_api",
    )
