"""Property: no sequence of calls lets fewer stakeholders move an organisation's money than its rules say.

Random sequences of rule changes (define, replace, remove), payments (initiate), approvals and
executions, by random stakeholders of two overlapping organisations and by outsiders, with
repeated request ids, run against the fake peer. After EVERY step:
- a rejected call changed nothing and emitted nothing;
- an organisation's balance moved only by executed multisig payments (plus money paid in), each of
  which had, when it executed, the approvals its amount required under the rules then in force;
- an organisation's rules changed only by an executed rule change that had the approvals every
  rule then in force required (every stakeholder when it had none);
- every approval recorded on chain was really given (by that user, for that proposal), by a
  stakeholder, once.

The oracle below is written apart from `ledger_rules.multisig` on purpose: it restates the rules from
issue 9 in the simplest way, so a mistake in the shared pure functions cannot hide itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid

from google.protobuf import json_format
from google.protobuf.message import Message
from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import resources_pb2 as res
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ledger_rules as rules
from tests.chaincode.fake_ledger import FakeLedger, Outcome

GX = rules.QIRAT_PER_GX
PA = "gx_partner_api"
THRESHOLDS = [0, 10 * GX, 50 * GX]
AMOUNTS = [1, 5 * GX, 10 * GX, 10 * GX + 1, 30 * GX, 50 * GX + 1, 90 * GX, 10_000 * GX]


def _org(world: dict[str, bytes], org_id: str) -> res.Organization:
    return json_format.Parse(world[f"org~{org_id}"], res.Organization())


def _msig(world: dict[str, bytes], msig_id: str) -> res.MultisigTx | None:
    raw = world.get(f"msig~{msig_id}")
    return json_format.Parse(raw, res.MultisigTx()) if raw else None


def _balance(world: dict[str, bytes], account_id: str) -> int:
    total = 0
    for key, value in world.items():
        if key == f"acct~{account_id}":
            total += int(json.loads(value).get("balanceQirat", "0"))
        elif key.startswith(f"accr~{account_id}~"):
            # An accrued credit: a bare integer, or proto JSON with amountQirat.
            total += int(json.loads(value)["amountQirat"]) if value.startswith(b"{") else int(value)
    return total


def _oracle_ok(stakeholders: list[str], needs: list[tuple[int, list[str]]], approvals: list[str]) -> bool:
    """Every (required, group) met by distinct approvals of stakeholders in the group (empty: all)."""
    for required, group in needs:
        eligible = {a for a in approvals if a in stakeholders and (not group or a in group)}
        if len(eligible) < required:
            return False
    return True


def _payment_needs(org: res.Organization, amount: int) -> list[tuple[int, list[str]]]:
    covering = [r for r in org.auth_rules if amount > r.amount_threshold_qirat]
    if not covering:
        return [(len(org.stakeholder_ids), [])]
    tier = max(covering, key=lambda r: r.amount_threshold_qirat)
    return [(tier.required_approvals, list(tier.approver_ids))]


def _rule_change_needs(org: res.Organization) -> list[tuple[int, list[str]]]:
    if not org.auth_rules:
        return [(len(org.stakeholder_ids), [])]
    return [(r.required_approvals, list(r.approver_ids)) for r in org.auth_rules]


@dataclasses.dataclass
class World:
    """What the test knows: the ledger, the organisations and who really approved what."""

    ledger: FakeLedger
    users: list[str]
    orgs: dict[str, list[str]]
    msigs: list[str] = dataclasses.field(default_factory=list)
    # (msig id) -> users whose initiate/define/approve call on it committed
    given: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    done: dict[str, tuple[str, str, str]] = dataclasses.field(default_factory=dict)
    n: int = 0

    def rid(self) -> str:
        self.n += 1
        return str(uuid.UUID(int=self.n))


async def step(w: World, function: str, request: Message, actor: str | None) -> Outcome:
    """Run one call and check the multisig invariants against the state before and after it."""
    fake = w.ledger
    before = dict(fake.world)
    body = json_format.MessageToJson(request)
    out = await fake.invoke(function, body, role=PA)
    assert out.ok or out.status in (400, 403, 404), (function, out.status, out.message)
    rid = request.request_id  # type: ignore[attr-defined]
    if not out.ok:
        assert fake.world == before and out.events == [], f"rejected {function} changed something"
        return out
    first = w.done.get(rid)
    if first is not None:
        assert (first[0], first[1], first[2]) == (function, body, out.payload)
        assert fake.world == before
        return out
    w.done[rid] = (function, body, out.payload)
    msig_id = getattr(request, "multisig_tx_id", "") or rid
    if actor is not None and function != "TransferTokens":
        w.given.setdefault(msig_id, set()).add(actor)
    executed = {
        e.multisig_tx_executed.multisig_tx_id
        for e in out.ledger_events().events
        if e.WhichOneof("event") == "multisig_tx_executed"
    }
    for org_id, members in w.orgs.items():
        old, new = _org(before, org_id), _org(fake.world, org_id)
        spent = 0
        changed_rules = False
        for mid in executed:
            msig = _msig(fake.world, mid)
            assert msig is not None and msig.status == res.MULTISIG_TX_STATUS_EXECUTED
            if msig.organization_id != org_id:
                continue
            # Judged by the rules in force when it executed (the organisation before this step).
            if msig.HasField("rule_change"):
                needs = _rule_change_needs(old)
                changed_rules = True
            else:
                needs = _payment_needs(old, msig.amount_qirat)
                spent += msig.amount_qirat
            approvals = list(msig.approval_ids)
            assert _oracle_ok(members, needs, approvals), (function, mid, needs, approvals)
        if not changed_rules:
            assert list(new.auth_rules) == list(old.auth_rules), (function, "rules changed without approval")
        delta = _balance(fake.world, org_id) - _balance(before, org_id)
        paid_in = (
            request.amount_qirat
            if function == "TransferTokens" and request.to_account_id == org_id  # type: ignore[attr-defined]
            else 0
        )
        if spent:
            # Out went the approved amounts plus their fees (at most 10% each), nothing more.
            assert -delta - paid_in >= spent and -delta - paid_in <= spent + spent // 10, (delta, spent)
        else:
            assert delta == paid_in, (function, org_id, delta, paid_in)
    # Every approval on chain was given by that user for that proposal, by a stakeholder, once.
    for mid in [*w.msigs, rid]:
        msig = _msig(fake.world, mid)
        if msig is None:
            continue
        approvals = list(msig.approval_ids)
        assert len(set(approvals)) == len(approvals)
        assert set(approvals) <= w.given.get(mid, set()), (mid, approvals, w.given.get(mid))
        assert set(approvals) <= set(w.orgs[msig.organization_id])
    fake.assert_conserved()
    return out


async def run(data: st.DataObject) -> None:
    draw = data.draw
    fake = FakeLedger()
    assert (await fake.invoke("BootstrapSystem", cmd.BootstrapSystemRequest(request_id=str(uuid.uuid4())))).ok
    countries = cmd.InitializeCountriesRequest(request_id=str(uuid.uuid4()))
    countries.countries.add(country_code="LK", name="Sri Lanka", share_bps=10_000)
    assert (await fake.invoke("InitializeCountries", countries)).ok
    users = []
    for _ in range(6):
        user_id = str(uuid.uuid4())
        created = cmd.CreateUserRequest(
            user_id=user_id, country_code="LK", date_of_birth="1990-05-01", request_id=str(uuid.uuid4())
        )
        assert (await fake.invoke("CreateUser", created, role="gx_admin")).ok
        users.append(user_id)
    # Two organisations sharing members; users[5] belongs to neither.
    size_a = draw(st.integers(1, 4), label="size_a")
    members = {str(uuid.uuid4()): users[:size_a], str(uuid.uuid4()): users[2:5]}
    for org_id, stake in members.items():
        proposed = cmd.ProposeOrganizationRequest(
            organization_id=org_id,
            name="Co",
            type=res.ORGANIZATION_TYPE_BUSINESS,
            country_code="LK",
            stakeholder_ids=stake,
            proposer_id=stake[0],
            request_id=str(uuid.uuid4()),
        )
        assert (await fake.invoke("ProposeOrganization", proposed, role=PA)).ok
        for other in stake[1:]:
            endorse = cmd.EndorseMembershipRequest(
                organization_id=org_id, stakeholder_id=other, request_id=str(uuid.uuid4())
            )
            assert (await fake.invoke("EndorseMembership", endorse, role=PA)).ok
        activate = cmd.ActivateOrganizationRequest(organization_id=org_id, request_id=str(uuid.uuid4()))
        assert (await fake.invoke("ActivateOrganization", activate, role=PA)).ok
    w = World(fake, users, members)
    orgs = list(members)
    for _ in range(draw(st.integers(10, 50), label="steps")):
        op = draw(
            st.sampled_from(
                ["fund", "define", "define", "remove", "initiate", "initiate"]
                + ["approve"] * 6
                + ["execute", "execute", "repeat"]
            ),
            label="op",
        )
        org_id = draw(st.sampled_from(orgs), label="org")
        # Mostly stakeholders of the organisation, sometimes anyone (outsiders included).
        who = draw(st.sampled_from(members[org_id] * 3 + users), label="who")
        if op == "fund":
            request: Message = cmd.TransferTokensRequest(
                from_account_id=who, to_account_id=org_id, amount_qirat=60 * GX, request_id=w.rid()
            )
            await step(w, "TransferTokens", request, None)
        elif op == "define":
            approvers = draw(st.lists(st.sampled_from(users), max_size=4, unique=True), label="approvers")
            request = cmd.DefineAuthRuleRequest(
                organization_id=org_id,
                defined_by=who,
                rule=res.AuthRule(
                    amount_threshold_qirat=draw(st.sampled_from(THRESHOLDS), label="threshold"),
                    required_approvals=draw(st.integers(0, 4), label="required"),
                    approver_ids=approvers,
                ),
                request_id=w.rid(),
            )
            if (await step(w, "DefineAuthRule", request, who)).ok:
                w.msigs.append(request.request_id)
        elif op == "remove":
            request = cmd.RemoveAuthRuleRequest(
                organization_id=org_id,
                amount_threshold_qirat=draw(st.sampled_from(THRESHOLDS), label="threshold"),
                removed_by=who,
                request_id=w.rid(),
            )
            if (await step(w, "RemoveAuthRule", request, who)).ok:
                w.msigs.append(request.request_id)
        elif op == "initiate":
            request = cmd.InitiateMultisigTxRequest(
                organization_id=org_id,
                to_account_id=draw(st.sampled_from(users), label="to"),
                amount_qirat=draw(st.sampled_from(AMOUNTS), label="amount"),
                initiator_id=who,
                request_id=w.rid(),
            )
            if (await step(w, "InitiateMultisigTx", request, who)).ok:
                w.msigs.append(request.request_id)
        elif op == "approve" and w.msigs:
            msig_id = draw(st.sampled_from(w.msigs), label="msig")
            request = cmd.ApproveMultisigTxRequest(
                multisig_tx_id=msig_id, approver_id=who, request_id=w.rid()
            )
            await step(w, "ApproveMultisigTx", request, who)
        elif op == "execute" and w.msigs:
            msig_id = draw(st.sampled_from(w.msigs), label="msig")
            request = cmd.ExecuteMultisigTxRequest(multisig_tx_id=msig_id, request_id=w.rid())
            await step(w, "ExecuteMultisigTx", request, None)
        elif op == "repeat" and w.done:
            rid = draw(st.sampled_from(sorted(w.done)), label="repeat")
            function, body, _ = w.done[rid]
            again = json_format.Parse(body, getattr(cmd, f"{function}Request")())
            await step(w, function, again, None)


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_no_call_sequence_moves_organisation_money_without_the_approvals_its_rules_require(
    data: st.DataObject,
) -> None:
    asyncio.run(run(data))
