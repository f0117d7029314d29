"""Kept history pages (services/wallet/history_pages.py) against the real wallet server and PostgreSQL:
a page is answered again only while the wallet's history version is unchanged, so no read is ever
older than the read model; and every change to a wallet's entries takes a new version (migration 0020).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import grpc
from gx.wallet.v1 import wallet_pb2
from gx.wallet.v1 import wallet_service_pb2 as svc
from prometheus_client import REGISTRY

from tests.grpc.wallet.wallet_harness import GX, Wallet, failure, now


def _count(result: str) -> float:
    return REGISTRY.get_sample_value("gx_wallet_history_pages_total", {"result": result}) or 0.0


async def _page(wallet: Wallet, user: str, token: str = "", size: int = 0) -> svc.ListTransactionsResponse:
    return await wallet.wallets.ListTransactions(
        svc.ListTransactionsRequest(wallet_id="me", page_size=size, page_token=token),
        metadata=wallet.token(user),
    )


async def _version(wallet: Wallet, wallet_id: str) -> int:
    """The wallet's history version (0: no entry yet)."""
    found = await wallet.sql(
        "SELECT version FROM ledger.wallet_history_versions WHERE wallet_id = :w", w=wallet_id
    )
    return int(found[0][0]) if found else 0


async def test_an_unchanged_history_is_answered_from_the_kept_page(wallet: Wallet) -> None:
    alice = await wallet.user()
    await wallet.history(alice, "RECEIVED", GX, time=now())
    hits, misses = _count("hit"), _count("miss")
    first = await _page(wallet, alice)
    again = await _page(wallet, alice)
    assert again == first and len(again.transactions) == 1
    assert (_count("miss") - misses, _count("hit") - hits) == (1, 1)


async def test_an_entry_projected_after_a_read_is_in_the_very_next_read(wallet: Wallet) -> None:
    alice = await wallet.user()
    base = now() - timedelta(hours=1)
    # Each read follows a commit of the projector's kind; none may miss an entry committed before it.
    for i in range(6):
        await wallet.history(alice, "RECEIVED", (i + 1) * GX, time=base + timedelta(minutes=i))
        page = await _page(wallet, alice)
        assert [t.amount_qirat for t in page.transactions] == [(n + 1) * GX for n in reversed(range(i + 1))]
        assert await _page(wallet, alice) == page  # and, unchanged, the kept page is the same page


async def test_a_changed_entry_and_a_removed_entry_are_seen_at_once(wallet: Wallet) -> None:
    alice = await wallet.user()
    tx = await wallet.history(alice, "RECEIVED", GX, time=now())
    await _page(wallet, alice)
    await wallet.sql("UPDATE ledger.transactions SET amount_qirat = 7 WHERE fabric_tx_id = :tx", tx=tx)
    assert [t.amount_qirat for t in (await _page(wallet, alice)).transactions] == [7]
    await wallet.sql("DELETE FROM ledger.transactions WHERE fabric_tx_id = :tx", tx=tx)
    assert list((await _page(wallet, alice)).transactions) == []


async def test_a_page_kept_for_the_owner_is_not_found_for_anyone_else(wallet: Wallet) -> None:
    alice, mallory = await wallet.user(), await wallet.user()
    await wallet.history(alice, "RECEIVED", GX, time=now())
    assert len((await _page(wallet, alice)).transactions) == 1  # kept now
    stolen = await failure(
        wallet.wallets.ListTransactions(
            svc.ListTransactionsRequest(wallet_id=alice), metadata=wallet.token(mallory)
        )
    )
    assert stolen.code == grpc.StatusCode.NOT_FOUND and stolen.reason == "WALLET_NOT_FOUND"


async def test_a_rebuild_never_answers_a_page_from_before_it(wallet: Wallet) -> None:
    alice = await wallet.user(user_id=None)
    await wallet.history(alice, "RECEIVED", GX, time=now())
    before = await _version(wallet, alice)
    assert len((await _page(wallet, alice)).transactions) == 1
    # As `gx projector rebuild` does: every read model emptied, ids restarted; then the replay
    # brings the wallet back, here with one different entry under the same id.
    await wallet.sql("TRUNCATE ledger.wallets, ledger.users, ledger.transactions RESTART IDENTITY CASCADE")
    await wallet.user(user_id=alice)
    await wallet.history(alice, "SENT", 3 * GX, time=now())
    assert await _version(wallet, alice) > before  # the sequence is not restarted
    page = await _page(wallet, alice)
    assert [(t.type, t.amount_qirat) for t in page.transactions] == [
        (wallet_pb2.TRANSACTION_TYPE_SENT, 3 * GX)
    ]


async def test_pages_after_the_first_are_kept_and_refreshed_each_by_its_own_key(wallet: Wallet) -> None:
    alice = await wallet.user()
    base = now() - timedelta(hours=1)
    for i in range(5):
        await wallet.history(alice, "RECEIVED", (i + 1) * GX, time=base + timedelta(minutes=i))
    first = await _page(wallet, alice, size=2)
    second = await _page(wallet, alice, first.next_page_token, size=2)
    assert [t.amount_qirat for t in second.transactions] == [3 * GX, 2 * GX]
    hits = _count("hit")
    assert await _page(wallet, alice, first.next_page_token, size=2) == second
    assert _count("hit") - hits == 1
    # A new entry arrives at the top: the second page (after the same cursor) reads the same rows,
    # at the new version, and the first page now starts with the new entry.
    await wallet.history(alice, "FEE", 9, time=base + timedelta(minutes=9))
    assert [t.amount_qirat for t in (await _page(wallet, alice, size=2)).transactions] == [9, 5 * GX]
    assert (await _page(wallet, alice, first.next_page_token, size=2)).transactions == second.transactions


async def test_reads_racing_the_projector_never_see_less_than_was_committed_before_them(
    wallet: Wallet,
) -> None:
    alice = await wallet.user()
    base = now() - timedelta(hours=1)
    committed = 0

    async def project() -> None:
        nonlocal committed
        for i in range(30):
            await wallet.history(alice, "RECEIVED", GX, time=base + timedelta(seconds=i))
            committed = i + 1
            await asyncio.sleep(0)

    async def read() -> None:
        while committed < 30:
            floor = committed  # committed before this read starts
            page = await _page(wallet, alice, size=50)
            assert len(page.transactions) >= floor

    await asyncio.gather(project(), read(), read(), read())
    assert len((await _page(wallet, alice, size=50)).transactions) == 30


async def test_every_change_to_a_wallets_entries_takes_a_new_version_and_only_its_own(wallet: Wallet) -> None:
    alice, bob = await wallet.user(), await wallet.user()
    assert (await _version(wallet, alice), await _version(wallet, bob)) == (0, 0)  # no entry yet

    async def bumped(statement: str, **params: object) -> tuple[bool, bool]:
        a, b = await _version(wallet, alice), await _version(wallet, bob)
        await wallet.sql(statement, **params)
        return await _version(wallet, alice) != a, await _version(wallet, bob) != b

    tx = await wallet.history(alice, "RECEIVED", GX, time=now())
    assert await _version(wallet, alice) > 0 and await _version(wallet, bob) == 0
    assert await bumped("UPDATE ledger.transactions SET remark = 'x' WHERE fabric_tx_id = :tx", tx=tx) == (
        True,
        False,
    )
    # One statement for two wallets (as the projector writes a batch): both change, once each.
    assert await bumped(
        "INSERT INTO ledger.transactions (fabric_tx_id, event_index, leg, wallet_id, type, amount_qirat,"
        " block_number, time) VALUES ('two', 0, 0, :a, 'SENT', 1, 6, now()), ('two', 0, 1, :b, 'RECEIVED', 1, 6, now())",
        a=alice,
        b=bob,
    ) == (True, True)
    # An entry moved to another wallet changes both histories.
    assert await bumped(
        "UPDATE ledger.transactions SET wallet_id = :b WHERE fabric_tx_id = :tx", tx=tx, b=bob
    ) == (
        True,
        True,
    )
    assert await bumped("DELETE FROM ledger.transactions WHERE wallet_id = :b", b=bob) == (False, True)
    assert await bumped("TRUNCATE ledger.transactions") == (True, True)
    assert await bumped("UPDATE ledger.wallets SET balance_qirat = 1 WHERE wallet_id = :a", a=alice) == (
        False,
        False,
    )
    versions = await wallet.sql("SELECT wallet_id, version FROM ledger.wallet_history_versions")
    assert len({v for _, v in versions}) == len(versions)  # never shared


async def test_an_empty_history_is_kept_until_the_first_entry(wallet: Wallet) -> None:
    alice = await wallet.user()
    assert await _version(wallet, alice) == 0  # no entry yet, no version row
    hits = _count("hit")
    assert list((await _page(wallet, alice)).transactions) == []
    assert list((await _page(wallet, alice)).transactions) == []
    assert _count("hit") - hits == 1
    await wallet.history(alice, "RECEIVED", GX, time=now())
    assert [t.amount_qirat for t in (await _page(wallet, alice)).transactions] == [GX]
