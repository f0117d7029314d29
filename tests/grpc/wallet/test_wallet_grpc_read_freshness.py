"""A balance read is never older than the read model: the fast read path keeps no snapshot or cache."""

from __future__ import annotations

import grpc
from gx.wallet.v1 import wallet_service_pb2 as svc

from tests.grpc.wallet.wallet_harness import GX, Wallet, failure


async def test_every_read_after_a_projection_sees_it(wallet: Wallet) -> None:
    await wallet.system()
    alice = await wallet.user(balance=GX)
    read = svc.GetWalletRequest(wallet_id="me")
    # More reads than the read pool has connections, so every pooled connection is asked again
    # after each change: none may answer from an older snapshot or a remembered row.
    for balance in range(2 * GX, 2 * GX + 12):
        await wallet.sql(
            "UPDATE ledger.wallets SET balance_qirat = :b, block_number = block_number + 1 WHERE wallet_id = :w",
            b=balance,
            w=alice,
        )
        for _ in range(6):
            got = await wallet.wallets.GetWallet(read, metadata=wallet.token(alice))
            assert got.wallet.balance_qirat == balance


async def test_an_admin_still_reads_any_wallet_and_a_user_only_their_own(wallet: Wallet) -> None:
    await wallet.system()
    alice, bob = await wallet.user(balance=7 * GX), await wallet.user()
    admin = await wallet.wallets.GetWallet(
        svc.GetWalletRequest(wallet_id=alice), metadata=wallet.token(bob, "USER", "ADMIN")
    )
    assert admin.wallet.balance_qirat == 7 * GX
    bad = await failure(
        wallet.wallets.GetWallet(svc.GetWalletRequest(wallet_id=alice), metadata=wallet.token(bob))
    )
    assert (bad.code, bad.reason) == (grpc.StatusCode.NOT_FOUND, "WALLET_NOT_FOUND")
