"""Ordering keys: derivation from the ledger protos' options, and the runnable rule (pure logic)."""

from __future__ import annotations

import random

import pytest
from gx.ledger.v1 import commands_pb2 as c
from gx.ledger.v1 import options_pb2

from outbox.commands import command_table
from services.common import ordering
from services.common.ordering import SYSTEM_KEY, OrderingKeys, conflicts, keys_of, runnable

_SYSTEM_EXCLUSIVE = {
    "BOOTSTRAP_SYSTEM",
    "INITIALIZE_COUNTRY",
    "UPDATE_SYSTEM_PARAMETER",
    "PAUSE_SYSTEM",
    "RESUME_SYSTEM",
    "EXECUTE_PROPOSAL",
}


def test_every_command_declares_its_system_lock_and_only_string_keys() -> None:
    table = command_table()  # raises at start-up when a declaration is missing or wrong
    for name, spec in table.items():
        assert ordering.declaration_problems(spec.request_type.DESCRIPTOR) == [], name
        keys = keys_of(spec.request_type())
        expected = "exclusive" if name in _SYSTEM_EXCLUSIVE else "shared"
        assert SYSTEM_KEY in getattr(keys, expected), name


def test_a_transfer_debits_its_sender_exclusive_and_credits_its_recipient_shared() -> None:
    keys = keys_of(
        c.TransferTokensRequest(from_account_id="alice", to_account_id="shop", amount_qirat=5, request_id="r")
    )
    assert keys == OrderingKeys(exclusive=("account:alice",), shared=("account:shop", SYSTEM_KEY))


def test_nested_and_repeated_fields_give_one_key_per_value() -> None:
    keys = keys_of(
        c.InitializeCountriesRequest(
            countries=[
                c.CountryShare(country_code="LK", share_bps=1),
                c.CountryShare(country_code="US", share_bps=2),
            ]
        )
    )
    assert keys.exclusive == ("country:LK", "country:US", SYSTEM_KEY) and keys.shared == ()
    org = keys_of(
        c.ProposeOrganizationRequest(
            organization_id="o1", country_code="LK", stakeholder_ids=["u1", "u2"], proposer_id="u1"
        )
    )
    assert org.exclusive == ("organization:o1",)
    assert org.shared == ("account:u1", "account:u2", "country:LK", SYSTEM_KEY)


def test_one_field_can_hold_two_aggregates_and_the_request_id_names_what_it_creates() -> None:
    keys = keys_of(
        c.InitiateMultisigTxRequest(
            organization_id="o1", to_account_id="u9", initiator_id="u1", request_id="m1"
        )
    )
    assert keys.exclusive == ("account:o1", "multisig_tx:m1", "organization:o1")
    assert keys.shared == ("account:u1", "account:u9", SYSTEM_KEY)
    assert keys_of(c.ApplyForLoanRequest(borrower_id="u1", request_id="l1")).exclusive == (
        "account:u1",
        "loan:l1",
    )


def test_empty_values_hold_nothing_and_a_key_held_both_ways_is_exclusive() -> None:
    assert keys_of(c.TransferTokensRequest()) == OrderingKeys(shared=(SYSTEM_KEY,))
    # Paying oneself: the sender's exclusive hold wins over the recipient's shared one.
    assert keys_of(c.TransferTokensRequest(from_account_id="a", to_account_id="a")) == OrderingKeys(
        exclusive=("account:a",), shared=(SYSTEM_KEY,)
    )


def test_a_message_without_command_options_still_waits_for_system_changes() -> None:
    assert keys_of(c.CountryShare(country_code="LK")) == OrderingKeys(
        exclusive=("country:LK",), shared=(SYSTEM_KEY,)
    )


def test_a_non_string_ordering_key_or_missing_system_lock_is_reported() -> None:
    # CountryShare carries a key but no command option: as a command it would be refused.
    problems = ordering.declaration_problems(c.CountryShare.DESCRIPTOR)
    assert problems == ["gx.ledger.v1.CountryShare: (gx.ledger.v1.command).system_lock is not declared"]
    assert options_pb2.LOCK_MODE_UNSPECIFIED == 0


def _k(ex: str = "", sh: str = "") -> OrderingKeys:
    return OrderingKeys.of(ex.split(), sh.split())


@pytest.mark.parametrize(
    ("earlier", "later", "blocked"),
    [
        (_k("account:a"), _k("account:a"), True),  # two debits of one account: in order
        (_k(sh="account:m"), _k(sh="account:m"), False),  # two credits to one merchant: side by side
        (_k(sh="account:m"), _k("account:m"), True),  # the merchant's own send waits for earlier credits
        (_k("account:m"), _k(sh="account:m"), True),  # a credit waits for the merchant's earlier send
        (_k("account:a", "account:m"), _k("account:b", "account:m"), False),  # two payers, one payee
        (_k(sh=SYSTEM_KEY), _k(SYSTEM_KEY), True),  # a pause waits for every earlier command
        (_k(SYSTEM_KEY), _k(sh=SYSTEM_KEY), True),  # and every later one waits for it
        (_k("account:a"), _k("account:b"), False),  # unrelated
    ],
)
def test_conflict_is_a_read_write_lock_per_key(
    earlier: OrderingKeys, later: OrderingKeys, blocked: bool
) -> None:
    assert conflicts(earlier, later) is blocked


def test_only_earlier_unfinished_commands_block_so_a_later_flood_never_starves_a_debit() -> None:
    debit = _k("account:m", SYSTEM_KEY)
    later_credits = [_k(f"account:p{i}", f"account:m {SYSTEM_KEY}") for i in range(50)]
    assert runnable(debit, [])  # the debit sees only what was recorded before it
    assert all(not runnable(credit, [debit]) for credit in later_credits)
    assert runnable(later_credits[7], later_credits[:7])  # credits among themselves never wait


def test_the_runnable_rule_serialises_each_sender_in_recorded_order() -> None:
    # Random payments among six accounts, each run as soon as the rule allows: every sender's
    # debits finish in the order they were recorded, and nobody waits forever.
    rng = random.Random(9)
    commands = []
    for _ in range(200):
        a, b = rng.sample(range(6), 2)
        commands.append((a, _k(f"account:{a}", f"account:{b} {SYSTEM_KEY}")))
    unfinished = list(range(len(commands)))
    finished_by_sender: dict[int, list[int]] = {}
    while unfinished:
        ready = [
            i for i in unfinished if runnable(commands[i][1], [commands[j][1] for j in unfinished if j < i])
        ]
        assert ready, "nothing runnable: the rule deadlocked"
        done = rng.choice(ready)
        unfinished.remove(done)
        finished_by_sender.setdefault(commands[done][0], []).append(done)
    for order in finished_by_sender.values():
        assert order == sorted(order)
