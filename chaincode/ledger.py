"""World-state layout and the shared operations on it: system state, parameters, accounts, users."""

from __future__ import annotations

import hashlib

from google.protobuf.timestamp_pb2 import Timestamp
from gx.ledger.v1 import resources_pb2 as res

from chaincode import rules
from chaincode.errors import NotFound, Rejection
from chaincode.tx import Tx

# Key layout. Plain keys with '~' separators; every range scan uses an explicit prefix, so the
# Python shim's unrewritten empty start key (research: fabric.md §4.3 defect 5) never matters.
SYSTEM_KEY = "sys~state"


def account_key(account_id: str) -> str:
    return f"acct~{account_id}"


def accrual_prefix(account_id: str) -> str:
    return f"accr~{account_id}~"


def accrual_key(account_id: str, tx_id: str) -> str:
    shard = int.from_bytes(hashlib.sha256(tx_id.encode()).digest()[:4], "big") % ACCRUAL_SHARDS
    return f"{accrual_prefix(account_id)}{shard:04d}"


def user_key(user_id: str) -> str:
    return f"user~{user_id}"


def country_key(code: str) -> str:
    return f"country~{code}"


def param_key(name: str) -> str:
    return f"param~{name}"


def request_key(request_id: str) -> str:
    return f"request~{request_id}"


def prefix_end(prefix: str) -> str:
    """The exclusive end key of a range over every key starting with *prefix* (which ends in '~')."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def treasury_id(country_code: str) -> str:
    return f"treasury_{country_code}"


# Accounts credited through accrual shards instead of their own record: every fee-paying transfer
# credits the operations fund, and as one hot key it would make concurrent transfers of unrelated
# users fail MVCC validation. A credit goes to one of ACCRUAL_SHARDS keys chosen by the transaction
# id (deterministic on every endorser), so two transactions in a block rarely touch the same key, and
# reading the balance stays bounded (at most ACCRUAL_SHARDS keys). Such accounts are never debited.
ACCRUAL_SHARDS = 4096
ACCRUAL_ACCOUNTS = frozenset({rules.OPERATIONS_FUND})


async def system(tx: Tx) -> res.SystemStatus:
    """The stored global state (bootstrapped, paused, supply, country totals)."""
    return await tx.get_msg(SYSTEM_KEY, res.SystemStatus) or res.SystemStatus()


def save_system(tx: Tx, status: res.SystemStatus) -> None:
    tx.put_msg(SYSTEM_KEY, status)


async def require_bootstrapped(tx: Tx) -> res.SystemStatus:
    status = await system(tx)
    if not status.bootstrapped:
        raise Rejection("NOT_BOOTSTRAPPED", "the system has not been bootstrapped")
    return status


async def require_not_paused(tx: Tx) -> None:
    status = await system(tx)
    if status.paused:
        raise Rejection("SYSTEM_PAUSED", f"value movement is paused: {status.pause_reason}")


async def is_paused(tx: Tx) -> bool:
    return (await system(tx)).paused


async def param(tx: Tx, name: str) -> int:
    """The current value of system parameter *name*."""
    stored = await tx.get_msg(param_key(name), res.SystemParameter)
    return stored.value if stored is not None else rules.PARAMETERS[name].default


async def set_param(tx: Tx, name: str, value: int) -> int:
    """Set parameter *name* (bounds already checked); return the previous value."""
    previous = await param(tx, name)
    tx.put_msg(param_key(name), res.SystemParameter(name=name, value=value))
    return previous


async def account(tx: Tx, account_id: str) -> res.Account | None:
    if not account_id:
        return None
    return await tx.get_msg(account_key(account_id), res.Account)


async def require_account(tx: Tx, account_id: str) -> res.Account:
    found = await account(tx, account_id)
    if found is None:
        raise NotFound("account", account_id)
    return found


async def balance_of(tx: Tx, acct: res.Account) -> int:
    """The account's balance including accrued credits."""
    if acct.account_id not in ACCRUAL_ACCOUNTS:
        return acct.balance_qirat
    prefix = accrual_prefix(acct.account_id)
    total = acct.balance_qirat
    for _, value in await tx.range(prefix, prefix_end(prefix)):
        total += int(value)
    return total


async def with_balance(tx: Tx, acct: res.Account) -> res.Account:
    """A copy of *acct* whose balance includes accrued credits (for answers, never stored)."""
    out = res.Account()
    out.CopyFrom(acct)
    out.balance_qirat = await balance_of(tx, acct)
    return out


async def save_account(tx: Tx, acct: res.Account) -> None:
    """Store *acct*, keeping its velocity-tax timer: started when a user's balance rises above the
    threshold, cleared when it falls to or below it."""
    if rules.pays_velocity_tax(acct.type):
        threshold = await param(tx, "velocity_tax_threshold_qirat")
        if acct.balance_qirat > threshold:
            if not acct.HasField("velocity_timer_start_time"):
                acct.velocity_timer_start_time.CopyFrom(tx.time)
        else:
            acct.ClearField("velocity_timer_start_time")
    tx.put_msg(account_key(acct.account_id), acct)


def holding_start(acct: res.Account) -> Timestamp | None:
    """The account's velocity-tax timer for an event (None while none runs), so the read models
    can hold it and the wallet can preview the tax with the same rule."""
    return acct.velocity_timer_start_time if acct.HasField("velocity_timer_start_time") else None


async def move(tx: Tx, source: res.Account, target: res.Account, amount: int) -> None:
    """Move *amount* Qirat from *source* to *target* and store both.

    Raises:
        Rejection: INSUFFICIENT_FUNDS, or INVALID_ARGUMENT for a non-positive amount or a debit
            of an accrual account.
    """
    if amount <= 0:
        raise Rejection("INVALID_ARGUMENT", f"amount must be positive, got {amount}")
    if source.account_id == target.account_id:
        raise Rejection("INVALID_ARGUMENT", "an account cannot pay itself")
    if source.account_id in ACCRUAL_ACCOUNTS:
        raise Rejection("INVALID_ARGUMENT", f"{source.account_id} only receives")
    if source.balance_qirat < amount:
        raise Rejection(
            "INSUFFICIENT_FUNDS",
            f"account {source.account_id} has {source.balance_qirat} Qirat, needs {amount}",
        )
    source.balance_qirat -= amount
    await save_account(tx, source)
    if target.account_id in ACCRUAL_ACCOUNTS:
        key = accrual_key(target.account_id, tx.tx_id)
        tx.put(key, str(int(await tx.get(key) or b"0") + amount))
    else:
        target.balance_qirat += amount
        await save_account(tx, target)


def new_account(tx: Tx, account_id: str, kind: int, country_code: str = "", balance: int = 0) -> res.Account:
    """A new account created at the transaction time (not stored yet)."""
    acct = res.Account(account_id=account_id, type=kind, country_code=country_code, balance_qirat=balance)
    acct.create_time.CopyFrom(tx.time)
    return acct


async def user(tx: Tx, user_id: str) -> res.User | None:
    if not user_id:
        return None
    return await tx.get_msg(user_key(user_id), res.User)


async def require_user(tx: Tx, user_id: str) -> res.User:
    found = await user(tx, user_id)
    if found is None:
        raise NotFound("user", user_id)
    return found


def save_user(tx: Tx, found: res.User) -> None:
    tx.put_msg(user_key(found.user_id), found)


async def country(tx: Tx, code: str) -> res.Country | None:
    if not code:
        return None
    return await tx.get_msg(country_key(code), res.Country)


async def require_country(tx: Tx, code: str) -> res.Country:
    found = await country(tx, code)
    if found is None:
        raise NotFound("country", code)
    return found


def save_country(tx: Tx, found: res.Country) -> None:
    tx.put_msg(country_key(found.country_code), found)
