"""Who must approve an organisation's decisions: the multisig rules as pure functions (no state, no clock).

The chaincode decides with these functions and the wallet service pre-checks with the very same
ones (both import ledger_rules), so the API and the ledger cannot disagree about
how many approvals a payment or a rule change needs.

The rules, and why:
- A payment needs the tier with the highest threshold strictly below its amount. An amount no tier
  covers, and any payment of an organisation without tiers, needs EVERY stakeholder: the
  organisation has not agreed to anything weaker, so the safe default is unanimity (a tier at
  threshold 0 is how an organisation opts into cheaper small payments).
- Setting, replacing or removing a tier is itself an organisation decision. It needs what EVERY
  tier in force requires at once (each tier's number of approvals from its group), which is at
  least what the strictest tier requires and avoids having to rank tiers with different groups;
  without tiers, every stakeholder. Otherwise one stakeholder could write themselves a 1-of-1 tier
  and pay themselves (issue 9).
- Approvals are counted, never trusted: distinct user ids only, stakeholders only, and for a tier
  with an approver group only its members. The initiator's approval counts, once, if they may
  approve: "N approvals" means N distinct people, the initiator among them, and not counting the
  initiator would make an all-stakeholder requirement impossible to meet. One person therefore
  suffices only where the requirement is 1 (or the organisation has one stakeholder).
- Requirements are evaluated against the tiers in force at every approval and at execution, never
  pinned at initiation: a pending payment cannot outlive a tightening that was properly approved.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from ledger_rules.errors import Rejection

MAX_RULES = 20


@dataclasses.dataclass(frozen=True)
class Rule:
    """One tier: amounts strictly above *threshold* need *required* approvals from *approvers*
    (empty: any stakeholder)."""

    threshold: int
    required: int
    approvers: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Requirement:
    """*required* distinct approvals from *approvers* (empty: any stakeholder)."""

    required: int
    approvers: tuple[str, ...] = ()


def _everyone(stakeholders: Sequence[str]) -> Requirement:
    return Requirement(len(set(stakeholders)))


def payment_requirements(
    stakeholders: Sequence[str], rules: Iterable[Rule], amount: int
) -> list[Requirement]:
    """What a payment of *amount* Qirat needs: the tier with the highest threshold below it, or
    every stakeholder when no tier covers it."""
    tier: Rule | None = None
    for rule in rules:
        if amount > rule.threshold and (tier is None or rule.threshold > tier.threshold):
            tier = rule
    if tier is None:
        return [_everyone(stakeholders)]
    return [Requirement(tier.required, tier.approvers)]


def rule_change_requirements(stakeholders: Sequence[str], rules: Iterable[Rule]) -> list[Requirement]:
    """What a rule change needs: every tier's requirement at once; every stakeholder without tiers."""
    out: list[Requirement] = []
    for rule in rules:
        need = Requirement(rule.required, rule.approvers)
        if need not in out:
            out.append(need)
    return out or [_everyone(stakeholders)]


def counted(stakeholders: Sequence[str], requirement: Requirement, approvals: Iterable[str]) -> int:
    """How many of *approvals* count towards *requirement*: distinct stakeholders in its group."""
    eligible = set(stakeholders)
    if requirement.approvers:
        eligible &= set(requirement.approvers)
    return len(eligible & set(approvals))


def satisfied(
    stakeholders: Sequence[str], requirements: Sequence[Requirement], approvals: Iterable[str]
) -> bool:
    """Whether *approvals* meet every one of *requirements* (an empty list is never satisfied)."""
    given = list(approvals)
    return bool(requirements) and all(counted(stakeholders, r, given) >= r.required for r in requirements)


def may_approve(stakeholders: Sequence[str], requirements: Sequence[Requirement], user_id: str) -> bool:
    """Whether *user_id*'s approval counts towards at least one of *requirements*."""
    if user_id not in stakeholders:
        return False
    return any(not r.approvers or user_id in r.approvers for r in requirements)


def required_approvals(requirements: Sequence[Requirement]) -> int:
    """The most approvals any one of *requirements* asks for (what a reader is shown)."""
    return max((r.required for r in requirements), default=0)


def approver_group(requirements: Sequence[Requirement]) -> list[str]:
    """Who may approve, for a reader: empty (any stakeholder) if any requirement is open to all."""
    if any(not r.approvers for r in requirements):
        return []
    group: list[str] = []
    for r in requirements:
        group.extend(a for a in r.approvers if a not in group)
    return group


def check_rule(stakeholders: Sequence[str], rule: Rule) -> None:
    """Check a tier an organisation proposes.

    Raises:
        Rejection: INVALID_ARGUMENT (threshold below 0, an approver listed twice, required outside
            [1, size of the group]) or NOT_A_STAKEHOLDER (an approver who is not a stakeholder).
    """
    if rule.threshold < 0:
        raise Rejection("INVALID_ARGUMENT", "amount_threshold_qirat must not be negative")
    if len(set(rule.approvers)) != len(rule.approvers):
        raise Rejection("INVALID_ARGUMENT", "approver_ids has duplicates")
    for approver in rule.approvers:
        if approver not in stakeholders:
            raise Rejection("NOT_A_STAKEHOLDER", f"approver {approver!r} is not a stakeholder")
    pool = len(rule.approvers) or len(set(stakeholders))
    if not 1 <= rule.required <= pool:
        raise Rejection("INVALID_ARGUMENT", f"required_approvals must be within [1, {pool}]")


def set_rule(rules: Sequence[Rule], rule: Rule) -> list[Rule]:
    """The tiers after adding *rule* (replacing the tier with its threshold), sorted by threshold.

    Raises:
        Rejection: TOO_MANY_AUTH_RULES when it would add a tier beyond MAX_RULES.
    """
    kept = [r for r in rules if r.threshold != rule.threshold]
    if len(kept) >= MAX_RULES:
        raise Rejection("TOO_MANY_AUTH_RULES", f"an organisation has at most {MAX_RULES} tiers")
    return sorted([*kept, rule], key=lambda r: r.threshold)


def remove_rule(rules: Sequence[Rule], threshold: int) -> list[Rule]:
    """The tiers without the one at *threshold*.

    Raises:
        Rejection: AUTH_RULE_NOT_FOUND when no tier has that threshold.
    """
    kept = [r for r in rules if r.threshold != threshold]
    if len(kept) == len(rules):
        raise Rejection("AUTH_RULE_NOT_FOUND", f"no tier has the threshold {threshold}")
    return kept
