"""PreviewVelocityTax and ApplyVelocityTax over real gRPC against seeded read models."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
from gx.wallet.v1 import tax_service_pb2 as tax
from gx.wallet.v1 import tax_service_pb2_grpc

import ledger_rules as rules
from tests.grpc.wallet.wallet_harness import GX, Wallet, failure

DAY = timedelta(days=1)


def _rid() -> str:
    return str(uuid.uuid4())


async def _holding_since(wallet: Wallet, wallet_id: str, start: datetime | None) -> None:
    """Set the holding timer as the projector would from the events."""
    await wallet.sql(
        "UPDATE ledger.wallets SET velocity_timer_start_time = :t WHERE wallet_id = :w", t=start, w=wallet_id
    )


async def _param(wallet: Wallet, name: str, value: int) -> None:
    await wallet.sql(
        "INSERT INTO ledger.system_parameters (name, value, block_number) VALUES (:n, :v, 1)",
        n=name,
        v=value,
    )


def _stub(wallet: Wallet) -> tax_service_pb2_grpc.TaxServiceStub:
    return tax_service_pb2_grpc.TaxServiceStub(wallet.channel)


async def test_a_user_previews_their_own_taxable_wallet(wallet: Wallet) -> None:
    await wallet.system()
    alice = await wallet.user(balance=500 * GX)
    start = datetime.now(UTC).replace(microsecond=0) - 361 * DAY
    await _holding_since(wallet, alice, start)
    out = await _stub(wallet).PreviewVelocityTax(
        tax.PreviewVelocityTaxRequest(wallet_id="me"), metadata=wallet.token(alice)
    )
    due = 400 * GX * 300 // 10_000  # defaults: 3% of the part above 100 GX
    assert (out.taxable, out.balance_qirat, out.taxable_balance_qirat, out.rate_bps) == (
        True,
        500 * GX,
        400 * GX,
        300,
    )
    assert (out.tax_qirat, out.treasury_share_qirat, out.charity_share_qirat) == (
        due,
        due * 70 // 100,
        due - due * 70 // 100,
    )
    assert out.holding_start_time.ToDatetime(tzinfo=UTC) == start
    assert not out.HasField("taxable_time")  # taxable already


async def test_a_recent_holding_is_not_due_yet_and_says_when_it_will_be(wallet: Wallet) -> None:
    await wallet.system()
    bob = await wallet.user(balance=250 * GX)
    start = datetime.now(UTC).replace(microsecond=0) - 10 * DAY
    await _holding_since(wallet, bob, start)
    out = await _stub(wallet).PreviewVelocityTax(
        tax.PreviewVelocityTaxRequest(wallet_id=bob), metadata=wallet.token(bob)
    )
    assert (out.taxable, out.tax_qirat, out.taxable_balance_qirat) == (False, 0, 150 * GX)
    assert out.holding_start_time.ToDatetime(tzinfo=UTC) == start
    assert out.taxable_time.ToDatetime(tzinfo=UTC) == start + 360 * DAY


async def test_the_parameters_in_the_read_model_are_the_ones_applied(wallet: Wallet) -> None:
    await wallet.system()
    carol = await wallet.user(balance=500 * GX)
    await _holding_since(wallet, carol, datetime.now(UTC) - 40 * DAY)
    await _param(wallet, "velocity_tax_period_days", 30)
    await _param(wallet, "velocity_tax_rate_bps", 600)
    await _param(wallet, "velocity_tax_threshold_qirat", 200 * GX)
    out = await _stub(wallet).PreviewVelocityTax(
        tax.PreviewVelocityTaxRequest(wallet_id="me"), metadata=wallet.token(carol)
    )
    assert (out.taxable, out.rate_bps, out.taxable_balance_qirat, out.tax_qirat) == (
        True,
        600,
        300 * GX,
        300 * GX * 600 // 10_000,
    )


async def test_at_or_below_the_threshold_nothing_is_held(wallet: Wallet) -> None:
    await wallet.system()
    dave = await wallet.user(balance=rules.PARAMETERS["velocity_tax_threshold_qirat"].default)
    # A timer the read model still has from before a threshold rise means nothing now.
    await _holding_since(wallet, dave, datetime.now(UTC) - 400 * DAY)
    out = await _stub(wallet).PreviewVelocityTax(
        tax.PreviewVelocityTaxRequest(wallet_id="me"), metadata=wallet.token(dave)
    )
    assert (out.taxable, out.tax_qirat, out.taxable_balance_qirat, out.balance_qirat) == (
        False,
        0,
        0,
        100 * GX,
    )
    assert not out.HasField("holding_start_time") and not out.HasField("taxable_time")


async def test_only_the_owner_or_an_admin_may_preview(wallet: Wallet) -> None:
    await wallet.system()
    alice, eve = await wallet.user(balance=500 * GX), await wallet.user()
    await _holding_since(wallet, alice, datetime.now(UTC) - 400 * DAY)
    stranger = await failure(
        _stub(wallet).PreviewVelocityTax(
            tax.PreviewVelocityTaxRequest(wallet_id=alice), metadata=wallet.token(eve)
        )
    )
    assert (stranger.code, stranger.reason) == (grpc.StatusCode.NOT_FOUND, "WALLET_NOT_FOUND")
    admin = wallet.token(str(uuid.uuid4()), "ADMIN")
    seen = await _stub(wallet).PreviewVelocityTax(
        tax.PreviewVelocityTaxRequest(wallet_id=alice), metadata=admin
    )
    assert seen.taxable
    missing = await failure(
        _stub(wallet).PreviewVelocityTax(
            tax.PreviewVelocityTaxRequest(wallet_id=str(uuid.uuid4())), metadata=admin
        )
    )
    assert missing.code == grpc.StatusCode.NOT_FOUND
    malformed = await failure(
        _stub(wallet).PreviewVelocityTax(tax.PreviewVelocityTaxRequest(wallet_id="nope"), metadata=admin)
    )
    assert malformed.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_organisation_wallets_are_exempt(wallet: Wallet) -> None:
    await wallet.system()
    org = await wallet.organization()
    await wallet.sql("UPDATE ledger.wallets SET balance_qirat = :b WHERE wallet_id = :w", b=900 * GX, w=org)
    out = await _stub(wallet).PreviewVelocityTax(
        tax.PreviewVelocityTaxRequest(wallet_id=org), metadata=wallet.token(str(uuid.uuid4()), "ADMIN")
    )
    assert (out.taxable, out.tax_qirat, out.balance_qirat) == (False, 0, 900 * GX)
    assert not out.HasField("holding_start_time")


async def test_apply_refuses_a_wallet_that_is_not_taxable_and_records_nothing(wallet: Wallet) -> None:
    await wallet.system()
    alice = await wallet.user(balance=500 * GX)
    await _holding_since(wallet, alice, datetime.now(UTC) - 5 * DAY)
    admin = wallet.token(str(uuid.uuid4()), "ADMIN")
    early = await failure(
        _stub(wallet).ApplyVelocityTax(
            tax.ApplyVelocityTaxRequest(wallet_id=alice, request_id=_rid()), metadata=admin
        )
    )
    assert (early.code, early.reason, early.metadata) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "NOT_TAXABLE",
        {"skip_reason": "NOT_DUE"},
    )
    assert await wallet.commands() == []
    await _holding_since(wallet, alice, datetime.now(UTC) - 360 * DAY - timedelta(minutes=1))
    await _stub(wallet).ApplyVelocityTax(
        tax.ApplyVelocityTaxRequest(wallet_id=alice, request_id=_rid()), metadata=admin
    )
    assert [r.command_type for r in await wallet.commands()] == ["APPLY_VELOCITY_TAX"]
