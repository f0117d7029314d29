"""The projector keeps organisations and multisig transactions equal to the ledger through rule changes.

A chaincode run on the fake peer (rule changes proposed, approved, executed and removed; a payment
re-judged after a tightening; refusals in between) produces LedgerEvents; applied to a real
PostgreSQL with `apply_event`, the read models' rules, proposals and balances must equal the
ledger's, and applying every transaction twice changes nothing.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import resources_pb2 as res
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import ledger_rules as rules
from projector import rebuild, store
from projector.runner import apply_event
from tests.chaincode.fake_ledger import FakeLedger, Outcome

NAME = "gxchannel/gx"
GX = rules.QIRAT_PER_GX
PA = "gx_partner_api"


class _Run:
    def __init__(self) -> None:
        self.ledger = FakeLedger()
        self.payloads: list[bytes] = []

    async def ok(self, function: str, request: Message, role: str = PA) -> Outcome:
        out = await self.ledger.invoke(function, request, role=role)
        assert out.ok, out.message
        self.payloads.append(out.events[0][1])
        return out

    async def refused(self, function: str, request: Message, reason: str) -> None:
        out = await self.ledger.invoke(function, request, role=PA)
        assert out.message.startswith(reason), out.message
        assert out.events == []


def _rid() -> str:
    return str(uuid.uuid4())


async def _scenario() -> tuple[_Run, str, list[str]]:
    run = _Run()
    await run.ok("BootstrapSystem", cmd.BootstrapSystemRequest(request_id=_rid()), "gx_super_admin")
    countries = cmd.InitializeCountriesRequest(request_id=_rid())
    countries.countries.add(country_code="LK", name="Sri Lanka", share_bps=10_000)
    await run.ok("InitializeCountries", countries, "gx_super_admin")
    users = [str(uuid.uuid4()) for _ in range(4)]
    for user in users:
        await run.ok(
            "CreateUser",
            cmd.CreateUserRequest(
                user_id=user, country_code="LK", date_of_birth="1990-05-01", request_id=_rid()
            ),
            "gx_admin",
        )
    alice, bob, carol, payee = users
    org = str(uuid.uuid4())
    await run.ok(
        "ProposeOrganization",
        cmd.ProposeOrganizationRequest(
            organization_id=org,
            name="Co",
            type=res.ORGANIZATION_TYPE_NGO,
            country_code="LK",
            stakeholder_ids=[alice, bob, carol],
            proposer_id=alice,
            request_id=_rid(),
        ),
    )
    for who in (bob, carol):
        await run.ok(
            "EndorseMembership",
            cmd.EndorseMembershipRequest(organization_id=org, stakeholder_id=who, request_id=_rid()),
        )
    await run.ok(
        "ActivateOrganization", cmd.ActivateOrganizationRequest(organization_id=org, request_id=_rid())
    )
    await run.ok(
        "TransferTokens",
        cmd.TransferTokensRequest(
            from_account_id=bob, to_account_id=org, amount_qirat=100 * GX, request_id=_rid()
        ),
    )

    def define(by: str, threshold: int, required: int, approvers: list[str]) -> cmd.DefineAuthRuleRequest:
        return cmd.DefineAuthRuleRequest(
            organization_id=org,
            defined_by=by,
            rule=res.AuthRule(
                amount_threshold_qirat=threshold, required_approvals=required, approver_ids=approvers
            ),
            request_id=_rid(),
        )

    def approve(msig_id: str, by: str) -> cmd.ApproveMultisigTxRequest:
        return cmd.ApproveMultisigTxRequest(multisig_tx_id=msig_id, approver_id=by, request_id=_rid())

    # The attack: alice alone proposes a 1-of-1 rule and a payment to herself; neither takes effect.
    attack = await run.ok("DefineAuthRule", define(alice, 0, 1, [alice]))
    attack_id = attack.result(cmd.DefineAuthRuleResult).multisig_tx.multisig_tx_id
    grab = cmd.InitiateMultisigTxRequest(
        organization_id=org, to_account_id=alice, amount_qirat=90 * GX, initiator_id=alice, request_id=_rid()
    )
    await run.ok("InitiateMultisigTx", grab)
    await run.refused(
        "ExecuteMultisigTx",
        cmd.ExecuteMultisigTxRequest(multisig_tx_id=grab.request_id, request_id=_rid()),
        "WRONG_STATUS",
    )
    await run.refused("ApproveMultisigTx", approve(attack_id, alice), "ALREADY_APPROVED")
    # A 2-of-anyone tier, approved by all three (the organisation has no rule yet).
    tier = await run.ok("DefineAuthRule", define(bob, 0, 2, []))
    tier_id = tier.result(cmd.DefineAuthRuleResult).multisig_tx.multisig_tx_id
    await run.ok("ApproveMultisigTx", approve(tier_id, alice))
    await run.ok("ApproveMultisigTx", approve(tier_id, carol))
    # Carol starts a payment: one of the two approvals it needs under 2-of-anyone.
    pay = cmd.InitiateMultisigTxRequest(
        organization_id=org, to_account_id=payee, amount_qirat=10 * GX, initiator_id=carol, request_id=_rid()
    )
    await run.ok("InitiateMultisigTx", pay)
    # A tightening to 3 (alice + bob suffice under 2-of-anyone), then the pending payment needs 3.
    tighter = await run.ok("DefineAuthRule", define(alice, 0, 3, []))
    await run.ok(
        "ApproveMultisigTx", approve(tighter.result(cmd.DefineAuthRuleResult).multisig_tx.multisig_tx_id, bob)
    )
    await run.ok("ApproveMultisigTx", approve(pay.request_id, bob))
    await run.ok("ApproveMultisigTx", approve(pay.request_id, alice))
    # A second tier, then its removal.
    high = await run.ok("DefineAuthRule", define(carol, 50 * GX, 2, [alice, bob]))
    for who in (alice, bob):
        await run.ok(
            "ApproveMultisigTx",
            approve(high.result(cmd.DefineAuthRuleResult).multisig_tx.multisig_tx_id, who),
        )
    remove = cmd.RemoveAuthRuleRequest(
        organization_id=org, amount_threshold_qirat=50 * GX, removed_by=bob, request_id=_rid()
    )
    await run.ok("RemoveAuthRule", remove)
    await run.refused(
        "RemoveAuthRule",
        cmd.RemoveAuthRuleRequest(
            organization_id=org, amount_threshold_qirat=7, removed_by=bob, request_id=_rid()
        ),
        "AUTH_RULE_NOT_FOUND",
    )
    for who in (alice, carol):
        await run.ok("ApproveMultisigTx", approve(remove.request_id, who))
    return run, org, users


def _ledger_org(world: dict[str, bytes], org: str) -> res.Organization:
    return json_format.Parse(world[f"org~{org}"], res.Organization())


def _ledger_msigs(world: dict[str, bytes]) -> dict[str, res.MultisigTx]:
    return {
        key.removeprefix("msig~"): json_format.Parse(value, res.MultisigTx())
        for key, value in world.items()
        if key.startswith("msig~")
    }


async def _apply(engine: AsyncEngine, payloads: list[bytes], twice: bool) -> None:
    async with engine.connect() as conn:
        async with conn.begin():
            generation = (await store.load_checkpoint(conn, NAME)).generation
        for n, payload in enumerate(payloads):
            block, tx_id = n + 1, f"tx-{n + 1:05d}"
            assert await apply_event(conn, NAME, generation, block, tx_id, "LedgerEvents", payload) is True
            if twice:
                assert (
                    await apply_event(conn, NAME, generation, block, tx_id, "LedgerEvents", payload) is False
                )


def _jsonb(value: Any) -> Any:
    return value if not isinstance(value, str) else json.loads(value)


async def test_rule_changes_and_rejudged_payments_project_equal_to_the_ledger(engine: AsyncEngine) -> None:
    run, org, (alice, *_, payee) = await _scenario()
    world = run.ledger.world
    ledger_org = _ledger_org(world, org)
    assert [(r.amount_threshold_qirat, r.required_approvals) for r in ledger_org.auth_rules] == [(0, 3)]
    msigs = _ledger_msigs(world)
    for twice in (False, True):
        async with engine.begin() as conn:
            await rebuild.reset(conn, NAME)
        await _apply(engine, run.payloads, twice)
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT o.auth_rules, w.balance_qirat FROM ledger.organizations o"
                        " JOIN ledger.wallets w ON w.wallet_id = o.org_id WHERE o.org_id = :o"
                    ),
                    {"o": org},
                )
            ).one()
            rows = (
                await conn.execute(
                    text(
                        "SELECT multisig_tx_id, status, approval_ids, required_approvals, rule_change, transfer_id"
                        " FROM ledger.multisig_txs WHERE org_id = :o"
                    ),
                    {"o": org},
                )
            ).all()
        projected_rules = _jsonb(row.auth_rules)
        # Each rule is named by the executed proposal that enacted it (the API's rule_id).
        for rule in projected_rules:
            enacted = msigs[rule.pop("ruleId")]
            assert enacted.status == res.MULTISIG_TX_STATUS_EXECUTED
            assert enacted.rule_change.set_rule.amount_threshold_qirat == rule["amountThresholdQirat"]
        assert projected_rules == [
            {
                "amountThresholdQirat": r.amount_threshold_qirat,
                "requiredApprovals": r.required_approvals,
                "approverIds": list(r.approver_ids),
            }
            for r in ledger_org.auth_rules
        ]
        assert row.balance_qirat == run.ledger.balance(org)
        async with engine.connect() as conn:
            paid = (
                await conn.execute(
                    text("SELECT balance_qirat FROM ledger.wallets WHERE wallet_id = :w"), {"w": payee}
                )
            ).scalar_one()
        assert paid == run.ledger.balance(payee) > 0
        projected = {r.multisig_tx_id: r for r in rows}
        assert set(projected) == set(msigs)
        for msig_id, msig in msigs.items():
            got = projected[msig_id]
            status = res.MultisigTxStatus.Name(msig.status).removeprefix("MULTISIG_TX_STATUS_")
            assert (got.status, _jsonb(got.approval_ids)) == (status, list(msig.approval_ids)), msig_id
            if msig.HasField("rule_change"):
                assert _jsonb(got.rule_change) == json_format.MessageToDict(msig.rule_change)
                assert got.transfer_id is None
            else:
                assert got.rule_change is None
            if msig.status == res.MULTISIG_TX_STATUS_PENDING:
                assert got.required_approvals == msig.required_approvals
        # The attacker's rule and payment are still pending with alice's approval only; the rest executed.
        pending = sorted(
            (r.rule_change is None, _jsonb(r.approval_ids)) for r in rows if r.status == "PENDING"
        )
        assert pending == [(False, [alice]), (True, [alice])]
        assert sum(r.status == "EXECUTED" for r in rows) == len(rows) - 2
