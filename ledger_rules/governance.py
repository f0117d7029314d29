"""Governance: when a closed vote on a parameter change passes."""

from __future__ import annotations


def proposal_passes(votes_for: int, votes_against: int, *, quorum_votes: int, approval_bps: int) -> bool:
    """Whether a proposal whose voting has ended passes.

    It needs the quorum (`governance_quorum_votes`) of votes cast, at least `governance_approval_bps`
    of them for, and more for than against: the last guard keeps a tie from passing whatever the
    approval share says.
    """
    total = votes_for + votes_against
    return total >= quorum_votes and votes_for * 10_000 >= approval_bps * total and votes_for > votes_against
