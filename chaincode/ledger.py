"""World-state layout and the shared operations on it: system state, parameters, accounts, users."""

from __future__ import annotations

import hashlib
from typing import cast

from google.protobuf.timestamp_pb2 import Timestamp
from gx.ledger.v1 import events_pb2 as ev
from gx.ledger.v1 import resources_pb2 as res

import ledger_rules as rules
from chaincode import codec
from chaincode.errors import NotFound
from chaincode.tx import Tx
from ledger_rules.errors import Rejection

# Key layout. Plain keys with '~' separators; every range scan uses an explicit prefix, so the
# Python shim's unrewritten empty start key (research: fabric.md §4.3 defect 5) never matters.
SYSTEM_KEY = "sys~state"


def account_key(account_id: str) -> str:
    return f"acct~{account_id}"


def accrual_prefix(account_id: str) -> str:
    return f"accr~{account_id}~"


def accrual_key(account_id: str, tx_id: str) -> str:
    """The operations fund's accrual shard for transaction *tx_id*."""
    shard = int.from_bytes(hashlib.sha256(tx_id.encode()).digest()[:4], "big") % ACCRUAL_SHARDS
    return f"{accrual_prefix(account_id)}{shard:04d}"


def credit_key(account_id: str, time: Timestamp, tx_id: str) -> str:
    """The key of one transaction's credit to *account_id*: unique (the tx id), and ordered by the
    credit's time (zero-padded seconds and nanos), so a fold replays credits in time order."""
    return f"{accrual_prefix(account_id)}{time.seconds:012d}.{time.nanos:09d}~{tx_id}"


def credit_time(key: str) -> Timestamp:
    """The transaction time a credit key carries."""
    seconds, nanos = key.split("~")[2].split(".")
    return Timestamp(seconds=int(seconds), nanos=int(nanos))


def user_key(user_id: str) -> str:
    return f"user~{user_id}"


def country_key(code: str) -> str:
    return f"country~{code}"


def request_key(request_id: str) -> str:
    return f"request~{request_id}"


def prefix_end(prefix: str) -> str:
    """The exclusive end key of a range over every key starting with *prefix* (which ends in '~')."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def treasury_id(country_code: str) -> str:
    return f"treasury_{country_code}"


# Credits never touch the receiver's account record. Fabric validates every key a transaction READ
# (MVCC), so N payers crediting one merchant by read-modify-write of its record would conflict with
# each other: all but one per block fail. Instead each credit writes a key of its own,
# `accr~<account>~<time>~<tx id>` (credit_key), without reading the record's balance or the other
# credits, so credits to one account never conflict. The balance is the record plus its credits.
# Whoever debits (or otherwise stores) the account folds the credits into the record and deletes
# them (fold), so they never pile up past the account's next movement; the fold's range read gives
# Fabric's phantom protection against a credit committed meanwhile (PHANTOM_READ_CONFLICT, which the
# outbox retries without spending an attempt).
#
# System pools and treasuries are credited by very many transactions (every fee, every genesis of a
# country, every tax) and debited seldom or never (the operations fund only receives), so one key per
# credit would pile up between folds and make their balance an ever longer read. Their credits go
# instead to one of ACCRUAL_SHARDS keys chosen by the transaction id (read-modify-write of that shard
# only, a bare integer): two transactions in a block touch the same shard with probability 1/4096,
# and their balance is a bounded read (at most ACCRUAL_SHARDS keys). A debit folds the shards too.
ACCRUAL_SHARDS = 4096
ACCRUAL_ACCOUNTS = frozenset({rules.OPERATIONS_FUND})  # only receive: never debited, never folded
_SHARDED_TYPES = (res.ACCOUNT_TYPE_SYSTEM_POOL, res.ACCOUNT_TYPE_TREASURY)


# The system record is the ledger's one configuration key: bootstrapped, the pause flag, the supply,
# the country totals AND every system parameter (`SystemStatus.parameters`, sorted by name). A
# transfer needs the pause flag and two parameters; as separate keys (`param~<name>`) that was three
# GetState round trips to the peer per transfer, now one, decoded once per transaction (_config).
# Only admin and governance paths write it (bootstrap, countries, pause/resume, a parameter update or
# an executed proposal), all rare; the price is that such a write now invalidates (MVCC) every
# transaction in flight that read any of it, not only those that read the changed parameter.


async def system(tx: Tx) -> res.SystemStatus:
    """The stored global state (bootstrapped, paused, supply, country totals, parameters set)."""
    return await tx.get_msg(SYSTEM_KEY, res.SystemStatus) or res.SystemStatus()


def save_system(tx: Tx, status: res.SystemStatus) -> None:
    tx.put_msg(SYSTEM_KEY, status)


_Config = tuple[bool, str, dict[str, int]]


async def _config(tx: Tx) -> _Config:
    """(paused, pause reason, parameters set) from the system record, read once per transaction:
    a transfer asks for the pause flag once and for parameters up to four times."""
    found = tx.memo.get(SYSTEM_KEY)
    if found is None:
        status = await system(tx)
        found = (status.paused, status.pause_reason, {p.name: p.value for p in status.parameters})
        tx.memo[SYSTEM_KEY] = found  # Tx drops it when the record is written
    return cast(_Config, found)  # only _config memoises the system key


async def require_bootstrapped(tx: Tx) -> res.SystemStatus:
    status = await system(tx)
    if not status.bootstrapped:
        raise Rejection("NOT_BOOTSTRAPPED", "the system has not been bootstrapped")
    return status


async def require_not_paused(tx: Tx) -> None:
    paused, reason, _ = await _config(tx)
    if paused:
        raise Rejection("SYSTEM_PAUSED", f"value movement is paused: {reason}")


async def is_paused(tx: Tx) -> bool:
    return (await _config(tx))[0]


async def param(tx: Tx, name: str) -> int:
    """The current value of system parameter *name* (its default until one is stored)."""
    _, _, stored = await _config(tx)
    value = stored.get(name)
    return value if value is not None else rules.PARAMETERS[name].default


async def set_param(tx: Tx, name: str, value: int) -> int:
    """Set parameter *name* (bounds already checked) in the system record; return the previous value."""
    previous = await param(tx, name)
    status = await system(tx)
    kept = [p for p in status.parameters if p.name != name]
    kept.append(res.SystemParameter(name=name, value=value))
    del status.parameters[:]
    status.parameters.extend(sorted(kept, key=lambda p: p.name))
    save_system(tx, status)
    return previous


async def account(tx: Tx, account_id: str) -> res.Account | None:
    if not account_id:
        return None
    return await tx.get_msg(account_key(account_id), res.Account)


def accrual_account(account_id: str) -> res.Account:
    """An ACCRUAL_ACCOUNTS account as the target of a credit, without reading its record.

    A credit to it touches one shard only and its record never changes after bootstrap, so the
    record would be one more state read per fee (and one more read-set key) that nothing uses.
    """
    if account_id not in ACCRUAL_ACCOUNTS:
        raise ValueError(f"{account_id} is not an accrual account")
    return res.Account(account_id=account_id, type=res.ACCOUNT_TYPE_SYSTEM_POOL)


async def require_account(tx: Tx, account_id: str) -> res.Account:
    found = await account(tx, account_id)
    if found is None:
        raise NotFound("account", account_id)
    return found


async def _credits(tx: Tx, account_id: str) -> list[tuple[str, ev.AccruedCredit]]:
    """The account's pending credits in key order (= credit time order), this transaction's included;
    a shard (a bare integer) reads as a credit without a timer rule."""
    prefix = accrual_prefix(account_id)
    return [
        (
            key,
            codec.parse(raw, ev.AccruedCredit)
            if raw.startswith(b"{")
            else ev.AccruedCredit(amount_qirat=int(raw)),
        )
        for key, raw in await tx.range(prefix, prefix_end(prefix))
    ]


def _replay(acct: res.Account, credits: list[tuple[str, ev.AccruedCredit]]) -> None:
    """Add *credits* to *acct* in order, applying the velocity-timer rule of each credit as if the
    account had been stored at that credit with the threshold then in force (what a projector
    following the credit events does, one event at a time)."""
    for key, credit in credits:
        acct.balance_qirat += credit.amount_qirat
        if not credit.velocity_timer:
            continue
        if acct.balance_qirat > credit.velocity_tax_threshold_qirat:
            if not acct.HasField("velocity_timer_start_time"):
                acct.velocity_timer_start_time.CopyFrom(credit_time(key))
        else:
            acct.ClearField("velocity_timer_start_time")


async def balance_of(tx: Tx, acct: res.Account) -> int:
    """The account's balance including its pending credits."""
    return (await with_balance(tx, acct)).balance_qirat


async def with_balance(tx: Tx, acct: res.Account) -> res.Account:
    """A copy of *acct* with its pending credits added (balance and velocity timer), never stored:
    for answers and checks that must not write. Reads the account's credit range."""
    out = res.Account()
    out.CopyFrom(acct)
    _replay(out, await _credits(tx, acct.account_id))
    return out


async def fold(tx: Tx, acct: res.Account) -> res.Account:
    """Fold *acct*'s pending credits into it, in place, and compact them: the record is written with
    the folded balance and timer and the credit keys are deleted, in this transaction. Whoever is
    about to debit or store an account folds it first (load_for_update), so checks see the whole
    balance and the credits never outlive the account's next movement. Folding twice in one
    transaction finds nothing more. The operations fund (it only receives) is never folded."""
    if acct.account_id in ACCRUAL_ACCOUNTS:
        return acct
    credits = await _credits(tx, acct.account_id)
    if credits:
        _replay(acct, credits)
        for key, _ in credits:
            tx.delete(key)
        # The effective balance and timer do not change, so no event is needed; a later
        # save_account in this transaction overwrites this write.
        tx.put_msg(account_key(acct.account_id), acct)
    tx.folded.add(acct.account_id)
    return acct


async def load_for_update(tx: Tx, account_id: str) -> res.Account:
    """The account, folded (see fold): what a debit, a freeze or a tax starts from."""
    return await fold(tx, await require_account(tx, account_id))


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


async def credit(tx: Tx, target: res.Account, amount: int) -> ev.AccruedCredit | None:
    """Credit *amount* to *target* without reading its balance or its other credits.

    Returns the AccruedCredit written (events carry it instead of a balance afterwards), or None
    when this transaction stores *target*'s record anyway (created or folded here): then the
    credit goes into the record, which *target* then mirrors, and the balance is known.
    """
    if tx.written(account_key(target.account_id)):
        current = await require_account(tx, target.account_id)
        current.balance_qirat += amount
        await save_account(tx, current)
        target.CopyFrom(current)
        return None
    if target.account_id in ACCRUAL_ACCOUNTS or target.type in _SHARDED_TYPES:
        shard = accrual_key(target.account_id, tx.tx_id)
        tx.put(shard, str(int(await tx.get(shard) or b"0") + amount))
        return ev.AccruedCredit(amount_qirat=amount)
    made = ev.AccruedCredit(amount_qirat=amount, velocity_timer=rules.pays_velocity_tax(target.type))
    if made.velocity_timer:
        # Reading the parameter is safe: credits never write it, so it does not make them conflict.
        made.velocity_tax_threshold_qirat = await param(tx, "velocity_tax_threshold_qirat")
    key = credit_key(target.account_id, tx.time, tx.tx_id)
    stored = made
    if tx.written(key):  # a second credit to the same account in this transaction
        stored = codec.parse(await tx.get(key) or b"{}", ev.AccruedCredit)
        stored.amount_qirat += amount
    tx.put_msg(key, stored)
    return made


async def move(tx: Tx, source: res.Account, target: res.Account, amount: int) -> ev.AccruedCredit | None:
    """Move *amount* Qirat from *source* (folded: load_for_update) to *target*; store the debit.

    Returns what credit() returns for *target*.

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
    if source.account_id not in tx.folded and not tx.written(account_key(source.account_id)):
        # A debit of an unfolded record would check and store a balance without its credits.
        raise RuntimeError(f"debit of {source.account_id} without load_for_update")
    if source.balance_qirat < amount:
        raise Rejection(
            "INSUFFICIENT_FUNDS",
            f"account {source.account_id} has {source.balance_qirat} Qirat, needs {amount}",
        )
    source.balance_qirat -= amount
    await save_account(tx, source)
    return await credit(tx, target, amount)


def new_account(
    tx: Tx, account_id: str, kind: res.AccountType, country_code: str = "", balance: int = 0
) -> res.Account:
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
