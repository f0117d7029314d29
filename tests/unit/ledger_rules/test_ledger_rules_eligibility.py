"""The eligibility rules moved into ledger_rules (genesis phases and age window, loans, governance) at their edges.

The chaincode's tests (tests/chaincode) run these through real transactions; here each rule's
boundaries are pinned directly, so a change to one shows up as a change to the rule itself.
"""

from __future__ import annotations

import datetime

import pytest

import ledger_rules as rules
from ledger_rules import genesis


def _seconds(day: datetime.date) -> int:
    return int(datetime.datetime(day.year, day.month, day.day, 12, tzinfo=datetime.UTC).timestamp())


@pytest.mark.parametrize(
    ("born", "eligible"),
    [
        ("2008-06-15", True),  # 18 on the transaction's day
        ("2008-06-16", False),  # 18 tomorrow
        ("1961-06-15", True),  # 65 today
        ("1960-06-15", False),  # 66 today
        ("1960-06-16", True),  # 66 tomorrow: still 65
    ],
)
def test_genesis_age_window_is_inclusive_and_taken_on_the_transaction_date(born: str, eligible: bool) -> None:
    assert rules.age_eligible(born, _seconds(datetime.date(2026, 6, 15)), 18, 65) is eligible


@pytest.mark.parametrize("born", ["2008-6-15", "2008-02-30", "15/06/2008", ""])
def test_genesis_refuses_a_date_of_birth_that_is_not_a_calendar_date(born: str) -> None:
    with pytest.raises(rules.Rejection) as refused:
        rules.age_eligible(born, _seconds(datetime.date(2026, 6, 15)), 18, 65)
    assert refused.value.reason == "INVALID_ARGUMENT"


def test_a_country_moves_past_full_phases_and_runs_out_after_the_last() -> None:
    # 50% of the world: phase 1 has 50,000,000 slots.
    assert genesis.advance_phase(1, 49_999_999, 5_000) == (1, 49_999_999)
    assert genesis.advance_phase(1, 50_000_000, 5_000) == (2, 0)
    # A country without a share has no slot in any phase.
    assert genesis.advance_phase(1, 0, 0) == (len(rules.PHASES) + 1, 0)
    last = len(rules.PHASES)
    assert genesis.advance_phase(last, rules.phase_slots(last, 1), 1) == (last + 1, 0)


def test_loan_rules_refuse_in_the_ledger_s_words() -> None:
    assert rules.amount_refusal(100, 100, 200) is None
    assert rules.amount_refusal(200, 100, 200) is None
    refused = rules.amount_refusal(201, 100, 200)
    assert refused is not None and refused.reason == "AMOUNT_OUT_OF_RANGE"
    # Standing: an inactive borrower is refused before a frozen one.
    inactive = rules.standing_refusal("u1", active=False, frozen=True)
    assert inactive is not None and inactive.reason == "USER_NOT_ACTIVE"
    frozen = rules.standing_refusal("u1", active=True, frozen=True)
    assert frozen is not None and frozen.reason == rules.WALLET_FROZEN
    assert rules.standing_refusal("u1", active=True, frozen=False) is None
    assert rules.trust_refusal(75, 75) is None
    low = rules.trust_refusal(74, 75)
    assert low is not None and low.reason == "TRUST_TOO_LOW"
    assert rules.repayment_refusal(40, 40) is None
    over = rules.repayment_refusal(41, 40)
    assert over is not None and over.reason == "OVERPAYMENT"


def test_repaying_earns_trust_up_to_the_cap() -> None:
    assert rules.trust_after_repayment(rules.INITIAL_TRUST_SCORE) == rules.INITIAL_TRUST_SCORE + 5
    assert rules.trust_after_repayment(rules.MAX_TRUST_SCORE - 1) == rules.MAX_TRUST_SCORE
    assert rules.trust_after_repayment(rules.MAX_TRUST_SCORE) == rules.MAX_TRUST_SCORE


@pytest.mark.parametrize(
    ("votes_for", "votes_against", "passes"),
    [
        (60, 40, True),  # exactly the 60% approval share, quorum met
        (59, 41, False),  # just under the share
        (59, 0, False),  # under the quorum of 60 votes
        (30, 30, False),  # a tie never passes
    ],
)
def test_a_proposal_passes_with_quorum_share_and_a_majority(
    votes_for: int, votes_against: int, passes: bool
) -> None:
    assert rules.proposal_passes(votes_for, votes_against, quorum_votes=60, approval_bps=6_000) is passes


def test_a_tie_fails_even_where_the_approval_share_alone_would_pass_it() -> None:
    # approval_bps is bounded below by 5001, but the tie guard holds on its own too.
    assert not rules.proposal_passes(50, 50, quorum_votes=1, approval_bps=5_000)
