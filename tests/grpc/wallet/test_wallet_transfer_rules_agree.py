"""The wallet's transfer pre-checks and the chaincode decide every transfer alike (hypothesis).

Random transfers (balances, frozen flags, a paused system, amounts of 0, negative, at and over
the balance, self-transfers, unknown recipients, cross-border fees) go through both sides with
the same facts: the wallet's `plan_transfer` over real read models in PostgreSQL, and the
chaincode's TransferTokens on the fake peer. Both must accept or refuse, with the same reason,
and when both accept, with the same fee. A recipient the ledger does not know is also absent
from the read models (they are projected from the ledger), so "unknown" and "not yet created on
chain" are the same case here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from google.protobuf import json_format
from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import resources_pb2 as res
from gx.wallet.v1 import wallet_service_pb2 as svc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chaincode import codec, ledger
from services.common.auth import Principal
from services.common.errors import GxError
from services.wallet.usecases import plan_transfer
from tests.chaincode.conftest import COUNTRIES, rid
from tests.chaincode.fake_ledger import FakeLedger
from tests.grpc.wallet.wallet_harness import GX, Wallet

_BASE: dict[str, bytes] = {}


async def _bootstrapped() -> FakeLedger:
    """A fresh fake peer with the system bootstrapped and countries initialised (built once, copied)."""
    fake = FakeLedger()
    if not _BASE:
        assert (await fake.invoke("BootstrapSystem", cmd.BootstrapSystemRequest(request_id=rid()))).ok
        countries = cmd.InitializeCountriesRequest(request_id=rid())
        for code, name, share in COUNTRIES:
            countries.countries.add(country_code=code, name=name, share_bps=share)
        assert (await fake.invoke("InitializeCountries", countries)).ok
        _BASE.update(fake.world)
    fake.world = dict(_BASE)
    return fake


@dataclass(frozen=True)
class Holder:
    """One user account as both sides will know it."""

    balance: int
    frozen: bool
    country: str


def _put_user(fake: FakeLedger, user_id: str, holder: Holder) -> None:
    account = res.Account(
        account_id=user_id,
        type=res.ACCOUNT_TYPE_USER,
        country_code=holder.country,
        balance_qirat=holder.balance,
        frozen=holder.frozen,
    )
    user = res.User(
        user_id=user_id, country_code=holder.country, status=res.USER_STATUS_ACTIVE, genesis_done=True
    )
    fake.world[ledger.account_key(user_id)] = codec.to_json(account).encode()
    fake.world[ledger.user_key(user_id)] = codec.to_json(user).encode()


def _pause(fake: FakeLedger) -> None:
    status = json_format.Parse(fake.world[ledger.SYSTEM_KEY], res.SystemStatus())
    status.paused, status.pause_reason = True, "maintenance"
    fake.world[ledger.SYSTEM_KEY] = codec.to_json(status).encode()


holders = st.builds(
    Holder,
    balance=st.one_of(st.integers(0, 3), st.integers(0, 1_000 * GX), st.sampled_from([100 * GX, 3 * GX])),
    frozen=st.booleans(),
    country=st.sampled_from(["LK", "IN"]),
)


@dataclass(frozen=True)
class Case:
    """One random transfer."""

    sender: Holder
    recipient: Holder | None  # None: the sender itself or an unknown account (see `to`)
    to: str  # "other", "self" or "unknown"
    paused: bool
    amount: int


@st.composite
def cases(draw: st.DrawFn) -> Case:
    sender = draw(holders)
    to = draw(st.sampled_from(["other", "other", "other", "self", "unknown"]))
    recipient = draw(holders) if to == "other" else None
    # Amounts around the interesting edges: nothing, negative, exactly the balance (fee makes it
    # short unless the fee is 0), a fee-tier boundary, and anything up to past the balance.
    amount = draw(
        st.one_of(
            st.sampled_from([0, -1, -GX, 1, 3 * GX - 1, 3 * GX, 100 * GX, 100 * GX + 1, sender.balance]),
            st.integers(1, sender.balance + 2 * GX),
        )
    )
    return Case(sender, recipient, to, draw(st.booleans()), amount)


async def _wallet_side(wallet: Wallet, case: Case, sender_id: str, target_id: str) -> tuple[str | None, int]:
    principal = Principal(user_id=sender_id, roles=frozenset({1}), token_id="t", claims={})
    request = svc.TransferRequest(
        wallet_id="me", to_user_id=target_id, amount_qirat=case.amount, request_id=str(uuid.uuid4())
    )
    try:
        async with wallet.engine.connect() as conn:
            plan = await plan_transfer(conn, principal, request)
    except GxError as refusal:
        return refusal.reason, 0
    return None, plan.fee.fee_qirat


async def _chain_side(case: Case, sender_id: str, target_id: str) -> tuple[str | None, int]:
    fake = await _bootstrapped()
    _put_user(fake, sender_id, case.sender)
    if case.recipient is not None:
        _put_user(fake, target_id, case.recipient)
    if case.paused:
        _pause(fake)
    request = cmd.TransferTokensRequest(
        from_account_id=sender_id, to_account_id=target_id, amount_qirat=case.amount, request_id=rid()
    )
    out = await fake.invoke("TransferTokens", request, role="gx_partner_api")
    if not out.ok:
        assert out.status in (400, 404), out.message  # a business refusal, never a fault
        return out.message.split(":", 1)[0], 0
    return None, out.result(cmd.TransferTokensResult).fee_qirat


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
async def test_the_wallet_and_the_chaincode_decide_every_transfer_alike(
    wallet_server: Wallet, case: Case
) -> None:
    wallet = wallet_server
    await wallet.reset()
    await wallet.system(paused=case.paused, reason="maintenance" if case.paused else None)
    sender_id = await wallet.user(
        balance=case.sender.balance, frozen=case.sender.frozen, country=case.sender.country
    )
    if case.to == "self":
        target_id = sender_id
    elif case.to == "unknown":
        target_id = str(uuid.uuid4())
    else:
        assert case.recipient is not None
        target_id = await wallet.user(
            balance=case.recipient.balance, frozen=case.recipient.frozen, country=case.recipient.country
        )
    wallet_says = await _wallet_side(wallet, case, sender_id, target_id)
    chain_says = await _chain_side(case, sender_id, target_id)
    assert wallet_says == chain_says, case


async def test_the_cases_reach_every_reason(wallet_server: Wallet) -> None:
    # Guards against a vacuous agreement: the fixed cases below hit each reason on both sides.
    wallet = wallet_server
    rich, broke = Holder(1_000 * GX, False, "LK"), Holder(0, False, "LK")
    expected = {
        None: Case(rich, broke, "other", False, GX),
        "INVALID_AMOUNT": Case(rich, broke, "other", False, 0),
        "RECIPIENT_NOT_FOUND": Case(rich, None, "unknown", False, GX),
        "SELF_TRANSFER": Case(rich, None, "self", False, GX),
        "SYSTEM_PAUSED": Case(rich, broke, "other", True, GX),
        "WALLET_FROZEN": Case(Holder(GX, True, "LK"), broke, "other", False, 1),
        "INSUFFICIENT_FUNDS": Case(rich, broke, "other", False, 1_000 * GX),
    }
    # A frozen recipient still receives, on both sides.
    expected_frozen_recipient = Case(rich, Holder(0, True, "IN"), "other", False, GX)
    for reason, case in [*expected.items(), (None, expected_frozen_recipient)]:
        await wallet.reset()
        await wallet.system(paused=case.paused, reason="maintenance")
        sender_id = await wallet.user(
            balance=case.sender.balance, frozen=case.sender.frozen, country=case.sender.country
        )
        if case.to == "other":
            assert case.recipient is not None
            target_id = await wallet.user(
                balance=case.recipient.balance, frozen=case.recipient.frozen, country=case.recipient.country
            )
        else:
            target_id = sender_id if case.to == "self" else str(uuid.uuid4())
        wallet_says = await _wallet_side(wallet, case, sender_id, target_id)
        assert wallet_says[0] == reason, (reason, wallet_says)
        assert await _chain_side(case, sender_id, target_id) == wallet_says
