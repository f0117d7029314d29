"""Transfer admissibility: whether a transfer may happen, and why not, decided once for both sides."""

from __future__ import annotations

import dataclasses

from gx.ledger.v1 import resources_pb2 as res

from ledger_rules.fees import Party, fee_for

# The chaincode's transfer and the wallet's pre-checks both call `check_transfer` with the facts
# each side knows (the ledger's state, or the read models), so they cannot disagree.

# Why a transfer is refused. The names are the public contract's (protos/gx/wallet/v1/
# wallet_service.proto): a client sees the same reason whether the wallet refused the transfer
# up front or the ledger failed its operation.
INVALID_AMOUNT = "INVALID_AMOUNT"
RECIPIENT_NOT_FOUND = "RECIPIENT_NOT_FOUND"
SELF_TRANSFER = "SELF_TRANSFER"
SYSTEM_PAUSED = "SYSTEM_PAUSED"
WALLET_FROZEN = "WALLET_FROZEN"
WALLET_NOT_ACTIVE = "WALLET_NOT_ACTIVE"
RECIPIENT_NOT_ACTIVE = "RECIPIENT_NOT_ACTIVE"
INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"


@dataclasses.dataclass(frozen=True)
class TransferSide:
    """One account of a transfer, as far as the transfer rules look at it.

    Attributes:
        account_id: The ledger account id.
        party: What the fee table looks at.
        balance_qirat: The spendable balance (the sender's; pending credits folded in).
        frozen: Whether it may not send. A frozen account still receives (FreezeWallet).
        active: Whether its owner is active: on the ledger any existing user account and any
            organisation account (opened at activation) is; the read models say so per row.
    """

    account_id: str
    party: Party
    balance_qirat: int
    frozen: bool
    active: bool = True


@dataclasses.dataclass(frozen=True)
class TransferVerdict:
    """What `check_transfer` decided: a refusal reason (None: allowed) and the price."""

    refusal: str | None
    detail: str = ""
    category: res.TransferCategory = res.TRANSFER_CATEGORY_UNSPECIFIED
    fee_bps: int = 0
    fee_qirat: int = 0


def check_transfer(
    sender: TransferSide, receiver: TransferSide | None, amount: int, *, paused: bool, fee_cap_bps: int
) -> TransferVerdict:
    """Decide a transfer of *amount* Qirat (the receiver gets it; the sender pays the fee on top).

    The checks run in this order and the first that fails is the answer: a positive amount, an
    existing recipient, not to oneself, the system not paused, the sender neither frozen nor
    inactive, the recipient active (frozen or not), amount + fee within the sender's balance.

    Args:
        sender: The sending account.
        receiver: The receiving account, or None when it does not exist.
        amount: The amount in Qirat.
        paused: Whether value movement is paused.
        fee_cap_bps: The `transfer_fee_cap_bps` parameter in force.
    """
    if amount <= 0:
        return TransferVerdict(INVALID_AMOUNT, f"amount_qirat must be positive, got {amount}")
    if receiver is None:
        return TransferVerdict(RECIPIENT_NOT_FOUND, "the recipient does not exist on the ledger")
    if receiver.account_id == sender.account_id:
        return TransferVerdict(SELF_TRANSFER, "a wallet cannot send to itself")
    if paused:
        return TransferVerdict(SYSTEM_PAUSED, "value movement is paused")
    if sender.frozen:
        return TransferVerdict(WALLET_FROZEN, f"account {sender.account_id} is frozen and cannot send")
    if not sender.active:
        return TransferVerdict(WALLET_NOT_ACTIVE, f"account {sender.account_id} is not active")
    if not receiver.active:
        return TransferVerdict(RECIPIENT_NOT_ACTIVE, f"account {receiver.account_id} is not active")
    category, bps, fee = fee_for(sender.party, receiver.party, amount, fee_cap_bps)
    if sender.balance_qirat < amount + fee:
        return TransferVerdict(
            INSUFFICIENT_FUNDS,
            f"account {sender.account_id} has {sender.balance_qirat} Qirat, needs {amount} + fee {fee}",
            category,
            bps,
            fee,
        )
    return TransferVerdict(None, "", category, bps, fee)
