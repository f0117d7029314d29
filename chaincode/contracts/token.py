"""Token contract: transfers with fees, genesis retries, freezing, balances."""

from __future__ import annotations

from fabric_chaincode_python.fabric_contract_api import TransactionContext
from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import events_pb2 as ev
from gx.ledger.v1 import queries_pb2 as qry
from gx.ledger.v1 import resources_pb2 as res

import ledger_rules as rules
from chaincode import certs, codec, genesis, ledger, transfers
from chaincode.contracts.base import (
    GxContract,
    check_id,
    check_text,
    is_id,
    need,
    run_command,
    run_query,
)
from chaincode.errors import PermissionDenied
from chaincode.tx import Tx
from ledger_rules.errors import Rejection

_FREEZABLE = (res.ACCOUNT_TYPE_USER, res.ACCOUNT_TYPE_ORGANIZATION)


class TokenContract(GxContract):
    """Value movement between accounts and wallet administration."""

    Name = "token"
    QUERIES = ("GetBalance", "ListAccounts")

    async def TransferTokens(self, ctx: TransactionContext, request: str) -> str:
        """Moves tokens from a user (or, for gx_admin submitters, an active treasury) to any account."""
        return await run_command(ctx, cmd.TransferTokensRequest, request, _transfer, _transfer_reads)

    async def DistributeGenesis(self, ctx: TransactionContext, request: str) -> str:
        """Pays genesis to a user who was created while the system was paused."""
        return await run_command(ctx, cmd.DistributeGenesisRequest, request, _distribute_genesis)

    async def FreezeWallet(self, ctx: TransactionContext, request: str) -> str:
        """Stops a user or organisation account from sending; it can still receive."""
        return await run_command(ctx, cmd.FreezeWalletRequest, request, _freeze)

    async def UnfreezeWallet(self, ctx: TransactionContext, request: str) -> str:
        """Lets a frozen account send again."""
        return await run_command(ctx, cmd.UnfreezeWalletRequest, request, _unfreeze)

    async def GetBalance(self, ctx: TransactionContext, request: str) -> str:
        """Reads one account."""
        return await run_query(ctx, qry.GetBalanceRequest, request, _get_balance)

    async def ListAccounts(self, ctx: TransactionContext, request: str) -> str:
        """Lists accounts in account id order, a page at a time."""
        return await run_query(ctx, qry.ListAccountsRequest, request, _list_accounts)


async def _transfer(tx: Tx, request: cmd.TransferTokensRequest) -> cmd.TransferTokensResult:
    check_id(request.from_account_id, "from_account_id")
    check_id(request.to_account_id, "to_account_id")
    check_text(request.remark, "remark", 256, required=False)
    source = await ledger.require_account(tx, request.from_account_id)
    # The amount and a missing recipient are decided by rules.check_transfer (in transfers.transfer),
    # the rule the wallet's pre-checks share, so both answer the same reason.
    target = await ledger.account(tx, request.to_account_id)
    if source.type == res.ACCOUNT_TYPE_TREASURY:
        # Spending public money is an admin act, whatever identity submits user transfers.
        if not certs.role_at_least(tx.role, "gx_admin"):
            raise PermissionDenied("a treasury sends only with a gx_admin submitter")
    elif source.type != res.ACCOUNT_TYPE_USER:
        raise Rejection(
            "INVALID_ARGUMENT",
            f"{source.account_id} cannot send with TransferTokens (organisations use multisig)",
        )
    return await transfers.transfer(tx, source, target, request.amount_qirat, request.remark)


def _transfer_reads(tx: Tx, request: cmd.TransferTokensRequest) -> list[str]:
    """What a transfer reads by key, read with its request guard in one round trip when the peer
    batches reads: both accounts, the system record and the fee shard this transaction would
    credit (read, and so validated, even by a transfer below the fee threshold: 1 in 4,096 that it
    meets a concurrent fee on that shard)."""
    accounts = [request.from_account_id, request.to_account_id]
    keys = [ledger.account_key(a) for a in accounts if is_id(a)]
    return [*keys, ledger.SYSTEM_KEY, ledger.accrual_key(rules.OPERATIONS_FUND, tx.tx_id)]


async def _distribute_genesis(tx: Tx, request: cmd.DistributeGenesisRequest) -> cmd.DistributeGenesisResult:
    check_id(request.user_id, "user_id")
    user = await ledger.require_user(tx, request.user_id)
    need(not user.genesis_done, "GENESIS_DONE", f"genesis for {request.user_id} was decided already")
    await ledger.require_not_paused(tx)
    outcome = await genesis.distribute(tx, user)
    ledger.save_user(tx, user)
    return cmd.DistributeGenesisResult(user=user, genesis=outcome)


async def _freezable(tx: Tx, account_id: str) -> res.Account:
    check_id(account_id, "account_id")
    # Freezing stores the account (re-applying the velocity timer rule): fold its credits first.
    acct = await ledger.load_for_update(tx, account_id)
    need(acct.type in _FREEZABLE, "INVALID_ARGUMENT", "only user and organisation accounts can be frozen")
    return acct


async def _freeze(tx: Tx, request: cmd.FreezeWalletRequest) -> cmd.FreezeWalletResult:
    check_text(request.reason, "reason", 500)
    acct = await _freezable(tx, request.account_id)
    need(not acct.frozen, "ALREADY_FROZEN", f"account {acct.account_id} is frozen already")
    acct.frozen = True
    await ledger.save_account(tx, acct)
    tx.emit(
        wallet_frozen=ev.WalletFrozen(
            account_id=acct.account_id,
            reason=request.reason,
            velocity_timer_start_time=ledger.holding_start(acct),
        )
    )
    return cmd.FreezeWalletResult(account=acct)


async def _unfreeze(tx: Tx, request: cmd.UnfreezeWalletRequest) -> cmd.UnfreezeWalletResult:
    check_text(request.reason, "reason", 500, required=False)
    acct = await _freezable(tx, request.account_id)
    need(acct.frozen, "NOT_FROZEN", f"account {acct.account_id} is not frozen")
    acct.frozen = False
    await ledger.save_account(tx, acct)
    tx.emit(
        wallet_unfrozen=ev.WalletUnfrozen(
            account_id=acct.account_id,
            reason=request.reason,
            velocity_timer_start_time=ledger.holding_start(acct),
        )
    )
    return cmd.UnfreezeWalletResult(account=acct)


async def _get_balance(tx: Tx, request: qry.GetBalanceRequest) -> qry.GetBalanceResult:
    check_id(request.account_id, "account_id")
    acct = await ledger.require_account(tx, request.account_id)
    return qry.GetBalanceResult(account=await ledger.with_balance(tx, acct))


async def _list_accounts(tx: Tx, request: qry.ListAccountsRequest) -> qry.ListAccountsResult:
    need(0 <= request.page_size <= 1000, "INVALID_ARGUMENT", "page_size must be within [0, 1000]")
    size = request.page_size or 100
    prefix = ledger.account_key("")
    start = prefix + request.page_token if request.page_token else prefix
    rows = await tx.range(start, ledger.prefix_end(prefix), limit=size + 1)
    out = qry.ListAccountsResult()
    for _, raw in rows[:size]:
        out.accounts.append(await ledger.with_balance(tx, codec.parse(raw, res.Account)))
    if len(rows) > size:
        out.next_page_token = rows[size][0][len(prefix) :]
    return out
