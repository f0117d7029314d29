"""Organisations: propose → endorse → activate, tiered multisig, merchant/B2B/government fees."""

from __future__ import annotations

import uuid

from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import queries_pb2 as qry
from gx.ledger.v1 import resources_pb2 as res

import ledger_rules as rules
from tests.chaincode.conftest import new_user, rid, transfer
from tests.chaincode.fake_ledger import FakeLedger

GX = rules.QIRAT_PER_GX
PA = "gx_partner_api"


async def _org(
    gx: FakeLedger,
    stakeholders: list[str],
    kind: int = res.ORGANIZATION_TYPE_BUSINESS,
    country: str = "LK",
    role: str = PA,
) -> str:
    org_id = str(uuid.uuid4())
    fields = {
        "organization_id": org_id,
        "name": "Acme",
        "country_code": country,
        "stakeholder_ids": stakeholders,
        "proposer_id": stakeholders[0],
        "request_id": rid(),
    }
    if kind == res.ORGANIZATION_TYPE_GOVERNMENT:
        # Its own command, submitted as the gx_admin its request message declares.
        out = await gx.invoke(
            "ProposeGovernmentOrganization", cmd.ProposeGovernmentOrganizationRequest(**fields), role=role
        )
    else:
        out = await gx.invoke(
            "ProposeOrganization", cmd.ProposeOrganizationRequest(type=kind, **fields), role=role
        )
    assert out.ok, out.message
    for other in stakeholders[1:]:
        out = await gx.invoke(
            "EndorseMembership",
            cmd.EndorseMembershipRequest(organization_id=org_id, stakeholder_id=other, request_id=rid()),
            role=PA,
        )
        assert out.ok, out.message
    out = await gx.invoke(
        "ActivateOrganization",
        cmd.ActivateOrganizationRequest(organization_id=org_id, request_id=rid()),
        role=PA,
    )
    assert out.ok, out.message
    return org_id


async def _rule(gx: FakeLedger, org_id: str, by: str, threshold: int, required: int, approvers: list[str]):
    return await gx.invoke(
        "DefineAuthRule",
        cmd.DefineAuthRuleRequest(
            organization_id=org_id,
            defined_by=by,
            request_id=rid(),
            rule=res.AuthRule(
                amount_threshold_qirat=threshold, required_approvals=required, approver_ids=approvers
            ),
        ),
        role=PA,
    )


async def _initiate(gx: FakeLedger, org_id: str, to: str, amount: int, by: str):
    return await gx.invoke(
        "InitiateMultisigTx",
        cmd.InitiateMultisigTxRequest(
            organization_id=org_id, to_account_id=to, amount_qirat=amount, initiator_id=by, request_id=rid()
        ),
        role=PA,
    )


async def _approve(gx: FakeLedger, msig_id: str, by: str):
    return await gx.invoke(
        "ApproveMultisigTx",
        cmd.ApproveMultisigTxRequest(multisig_tx_id=msig_id, approver_id=by, request_id=rid()),
        role=PA,
    )


async def test_organisation_needs_every_stakeholder_before_activation(gx: FakeLedger) -> None:
    alice, bob, carol, dave = [await new_user(gx) for _ in range(4)]
    org_id = str(uuid.uuid4())
    propose = cmd.ProposeOrganizationRequest(
        organization_id=org_id,
        name="Co-op",
        type=res.ORGANIZATION_TYPE_NGO,
        country_code="LK",
        stakeholder_ids=[alice, bob, carol],
        proposer_id=alice,
        request_id=rid(),
    )
    out = await gx.invoke("ProposeOrganization", propose, role=PA)
    org = out.result(cmd.ProposeOrganizationResult).organization
    assert org.status == res.ORGANIZATION_STATUS_PENDING_ENDORSEMENT and list(org.endorser_ids) == [alice]
    activate = cmd.ActivateOrganizationRequest(organization_id=org_id, request_id=rid())
    assert (await gx.invoke("ActivateOrganization", activate, role=PA)).message.startswith("WRONG_STATUS")
    outsider = cmd.EndorseMembershipRequest(organization_id=org_id, stakeholder_id=dave, request_id=rid())
    assert (await gx.invoke("EndorseMembership", outsider, role=PA)).message.startswith("NOT_A_STAKEHOLDER")
    for who in (bob, carol):
        out = await gx.invoke(
            "EndorseMembership",
            cmd.EndorseMembershipRequest(organization_id=org_id, stakeholder_id=who, request_id=rid()),
            role=PA,
        )
        assert out.ok
    assert out.result(cmd.EndorseMembershipResult).organization.status == res.ORGANIZATION_STATUS_ENDORSED
    out = await gx.invoke(
        "ActivateOrganization",
        cmd.ActivateOrganizationRequest(organization_id=org_id, request_id=rid()),
        role=PA,
    )
    assert out.result(cmd.ActivateOrganizationResult).account.type == res.ACCOUNT_TYPE_ORGANIZATION
    assert out.domain_events() == ["organization_activated"]


async def test_government_organisations_are_their_own_command_with_an_admin_submitter(gx: FakeLedger) -> None:
    alice = await new_user(gx)
    fields = {
        "name": "Ministry",
        "country_code": "LK",
        "stakeholder_ids": [alice],
        "proposer_id": alice,
    }
    # Under PROPOSE_ORGANIZATION a government organisation is refused whoever submits it.
    as_payload_value = cmd.ProposeOrganizationRequest(
        organization_id=str(uuid.uuid4()), type=res.ORGANIZATION_TYPE_GOVERNMENT, request_id=rid(), **fields
    )
    for role in (PA, "gx_admin"):
        refused = await gx.invoke("ProposeOrganization", as_payload_value, role=role)
        assert (refused.status, refused.writes) == (400, {})
        assert "GOVERNMENT_ORGANIZATION_COMMAND_REQUIRED" in refused.message
    # Its own command needs the gx_admin its request message declares, and makes it GOVERNMENT.
    request = cmd.ProposeGovernmentOrganizationRequest(
        organization_id=str(uuid.uuid4()), request_id=rid(), **fields
    )
    assert (await gx.invoke("ProposeGovernmentOrganization", request, role=PA)).status == 403
    out = await gx.invoke("ProposeGovernmentOrganization", request, role="gx_admin")
    org = out.result(cmd.ProposeGovernmentOrganizationResult).organization
    assert (org.organization_id, org.type) == (request.organization_id, res.ORGANIZATION_TYPE_GOVERNMENT)
    assert out.domain_events() == ["organization_proposed"]


async def _enacted(gx: FakeLedger, org_id: str, outcome, approvers: list[str]) -> None:
    """Approve a rule-change proposal by *approvers* until it takes effect."""
    msig = outcome.result(cmd.DefineAuthRuleResult).multisig_tx
    for who in approvers:
        msig = (await _approve(gx, msig.multisig_tx_id, who)).result(cmd.ApproveMultisigTxResult).multisig_tx
    assert msig.status == res.MULTISIG_TX_STATUS_EXECUTED, msig


async def _org_rules(gx: FakeLedger, org_id: str) -> list[tuple[int, int, list[str]]]:
    out = await gx.invoke("GetOrganization", qry.GetOrganizationRequest(organization_id=org_id))
    org = out.result(qry.GetOrganizationResult).organization
    return [(r.amount_threshold_qirat, r.required_approvals, list(r.approver_ids)) for r in org.auth_rules]


async def test_tiered_multisig_executes_when_approvals_suffice(gx: FakeLedger) -> None:
    alice, bob, carol = [await new_user(gx) for _ in range(3)]
    payee = await new_user(gx)
    org = await _org(gx, [alice, bob, carol])
    funded = (await transfer(gx, alice, org, 300 * GX)).result(cmd.TransferTokensResult)
    assert (funded.category, funded.fee_bps) == (res.TRANSFER_CATEGORY_MERCHANT_LOCAL, 15)
    assert (await transfer(gx, bob, org, 100 * GX)).ok
    # Without tiers every rule change needs all three; then each needs what every tier requires.
    await _enacted(gx, org, await _rule(gx, org, alice, 0, 1, []), [bob, carol])
    await _enacted(gx, org, await _rule(gx, org, alice, 100 * GX, 2, [alice, bob]), [])
    await _enacted(gx, org, await _rule(gx, org, alice, 200 * GX, 3, []), [bob])
    assert (await _rule(gx, org, alice, 0, 4, [])).message.startswith(
        "INVALID_ARGUMENT"
    )  # 4 > 3 stakeholders
    assert await _org_rules(gx, org) == [(0, 1, []), (100 * GX, 2, [alice, bob]), (200 * GX, 3, [])]

    # Tier 0: one approval; the initiator's own counts, so it executes at once.
    small = await _initiate(gx, org, payee, 50 * GX, carol)
    result = small.result(cmd.InitiateMultisigTxResult)
    assert result.multisig_tx.status == res.MULTISIG_TX_STATUS_EXECUTED
    assert small.domain_events() == [
        "multisig_tx_initiated",
        "multisig_tx_approved",
        "transfer_completed",
        "fee_collected",
        "multisig_tx_executed",
    ]
    assert result.transfer.fee_qirat == 50 * GX * 15 // 10_000

    # Tier 100 GX: two of alice/bob; carol may initiate but her approval does not count.
    mid = (await _initiate(gx, org, payee, 150 * GX, carol)).result(cmd.InitiateMultisigTxResult).multisig_tx
    assert (mid.status, mid.required_approvals, list(mid.approval_ids)) == (
        res.MULTISIG_TX_STATUS_PENDING,
        2,
        [],
    )
    assert (await _approve(gx, mid.multisig_tx_id, carol)).message.startswith("NOT_AN_APPROVER")
    first = (await _approve(gx, mid.multisig_tx_id, alice)).result(cmd.ApproveMultisigTxResult)
    assert first.multisig_tx.status == res.MULTISIG_TX_STATUS_PENDING and not first.HasField("transfer")
    assert (await _approve(gx, mid.multisig_tx_id, alice)).message.startswith("ALREADY_APPROVED")
    before = gx.balance(payee)
    done = (await _approve(gx, mid.multisig_tx_id, bob)).result(cmd.ApproveMultisigTxResult)
    assert done.multisig_tx.status == res.MULTISIG_TX_STATUS_EXECUTED
    assert gx.balance(payee) == before + 150 * GX

    # Tier 200 GX: three approvals, and the organisation cannot pay yet: it stays APPROVED.
    big = (await _initiate(gx, org, payee, 250 * GX, alice)).result(cmd.InitiateMultisigTxResult).multisig_tx
    await _approve(gx, big.multisig_tx_id, bob)
    stuck = (await _approve(gx, big.multisig_tx_id, carol)).result(cmd.ApproveMultisigTxResult)
    assert stuck.multisig_tx.status == res.MULTISIG_TX_STATUS_APPROVED and not stuck.HasField("transfer")
    execute = cmd.ExecuteMultisigTxRequest(multisig_tx_id=big.multisig_tx_id, request_id=rid())
    assert (await gx.invoke("ExecuteMultisigTx", execute, role=PA)).message.startswith("INSUFFICIENT_FUNDS")
    rich = await new_user(gx)
    assert (await transfer(gx, rich, org, 200 * GX)).ok
    execute.request_id = rid()
    out = await gx.invoke("ExecuteMultisigTx", execute, role=PA)
    assert out.result(cmd.ExecuteMultisigTxResult).multisig_tx.status == res.MULTISIG_TX_STATUS_EXECUTED
    msig = (
        await gx.invoke("GetMultisigTx", qry.GetMultisigTxRequest(multisig_tx_id=big.multisig_tx_id))
    ).result(qry.GetMultisigTxResult)
    assert list(msig.multisig_tx.approval_ids) == [alice, bob, carol]


async def test_one_member_alone_cannot_write_themselves_a_rule_and_drain_the_organisation(
    gx: FakeLedger,
) -> None:
    # The attack from issue 9: one of three defines a 1-of-1 rule for themself and pays themself.
    alice, bob, carol = [await new_user(gx) for _ in range(3)]
    org = await _org(gx, [alice, bob, carol])
    assert (await transfer(gx, bob, org, 100 * GX)).ok
    outsider = await new_user(gx)
    before = dict(gx.world)
    defined = await _rule(gx, org, alice, 0, 1, [alice])
    proposal = defined.result(cmd.DefineAuthRuleResult).multisig_tx
    assert proposal.status == res.MULTISIG_TX_STATUS_PENDING
    assert (proposal.required_approvals, list(proposal.approval_ids)) == (3, [alice])
    assert proposal.rule_change.set_rule.approver_ids == [alice]
    assert defined.domain_events() == ["multisig_tx_initiated"]
    assert await _org_rules(gx, org) == []
    org_balance = gx.balance(org)
    pay = (await _initiate(gx, org, alice, 90 * GX, alice)).result(cmd.InitiateMultisigTxResult)
    assert pay.multisig_tx.status == res.MULTISIG_TX_STATUS_PENDING and not pay.HasField("transfer")
    assert pay.multisig_tx.required_approvals == 3  # no rule: every stakeholder
    # Nothing alice can do alone moves it: again, execute, a second rule, her own second approval.
    for msig_id in (pay.multisig_tx.multisig_tx_id, proposal.multisig_tx_id):
        assert (await _approve(gx, msig_id, alice)).message.startswith("ALREADY_APPROVED")
        execute = cmd.ExecuteMultisigTxRequest(multisig_tx_id=msig_id, request_id=rid())
        assert (await gx.invoke("ExecuteMultisigTx", execute, role=PA)).message.startswith("WRONG_STATUS")
    assert (await _approve(gx, proposal.multisig_tx_id, outsider)).message.startswith("NOT_A_STAKEHOLDER")
    assert (await _rule(gx, org, outsider, 0, 1, [outsider])).message.startswith("NOT_A_STAKEHOLDER")
    assert gx.balance(org) == org_balance
    assert {k: v for k, v in gx.world.items() if k.startswith(("acct~", "accr~", "org~"))} == {
        k: v for k, v in before.items() if k.startswith(("acct~", "accr~", "org~"))
    }
    # Two of three are still not everyone.
    assert (await _approve(gx, pay.multisig_tx.multisig_tx_id, bob)).result(
        cmd.ApproveMultisigTxResult
    ).multisig_tx.status == res.MULTISIG_TX_STATUS_PENDING
    assert gx.balance(org) == org_balance
    last = (await _approve(gx, pay.multisig_tx.multisig_tx_id, carol)).result(cmd.ApproveMultisigTxResult)
    assert last.multisig_tx.status == res.MULTISIG_TX_STATUS_EXECUTED
    assert gx.balance(org) < org_balance


async def test_replacing_a_rule_needs_what_every_rule_in_force_requires(gx: FakeLedger) -> None:
    alice, bob, carol, dave = [await new_user(gx) for _ in range(4)]
    org = await _org(gx, [alice, bob, carol, dave])
    await _enacted(gx, org, await _rule(gx, org, alice, 0, 2, [alice, bob]), [bob, carol, dave])
    await _enacted(gx, org, await _rule(gx, org, alice, 100 * GX, 3, []), [bob])
    # Replacing tier 0 needs 2 of alice/bob AND 3 of anyone: alice and bob alone are not enough.
    weaker = await _rule(gx, org, alice, 0, 1, [alice])
    msig_id = weaker.result(cmd.DefineAuthRuleResult).multisig_tx.multisig_tx_id
    after_bob = (await _approve(gx, msig_id, bob)).result(cmd.ApproveMultisigTxResult).multisig_tx
    assert (after_bob.status, after_bob.required_approvals) == (res.MULTISIG_TX_STATUS_PENDING, 3)
    assert await _org_rules(gx, org) == [(0, 2, [alice, bob]), (100 * GX, 3, [])]
    # Carol and dave alone cannot satisfy the tier-0 group either.
    other = await _rule(gx, org, carol, 50 * GX, 1, [])
    other_id = other.result(cmd.DefineAuthRuleResult).multisig_tx.multisig_tx_id
    assert (await _approve(gx, other_id, dave)).result(
        cmd.ApproveMultisigTxResult
    ).multisig_tx.status == res.MULTISIG_TX_STATUS_PENDING
    out = await _approve(gx, msig_id, carol)
    assert out.result(cmd.ApproveMultisigTxResult).multisig_tx.status == res.MULTISIG_TX_STATUS_EXECUTED
    assert out.domain_events() == ["multisig_tx_approved", "auth_rule_defined", "multisig_tx_executed"]
    assert await _org_rules(gx, org) == [(0, 1, [alice]), (100 * GX, 3, [])]


async def test_a_pending_payment_is_judged_by_the_rules_in_force_when_it_executes(gx: FakeLedger) -> None:
    alice, bob, carol = [await new_user(gx) for _ in range(3)]
    payee = await new_user(gx)
    org = await _org(gx, [alice, bob, carol])
    await _enacted(gx, org, await _rule(gx, org, alice, 0, 2, []), [bob, carol])
    pay = (await _initiate(gx, org, payee, 10 * GX, alice)).result(cmd.InitiateMultisigTxResult).multisig_tx
    assert pay.required_approvals == 2
    # Bob approves while the organisation has no money: APPROVED but not executed.
    stuck = (await _approve(gx, pay.multisig_tx_id, bob)).result(cmd.ApproveMultisigTxResult).multisig_tx
    assert stuck.status == res.MULTISIG_TX_STATUS_APPROVED
    # Then the organisation properly tightens tier 0 to all three (alice + bob suffice under 2-of-any).
    await _enacted(gx, org, await _rule(gx, org, alice, 0, 3, []), [bob])
    assert (await transfer(gx, payee, org, 50 * GX)).ok
    execute = cmd.ExecuteMultisigTxRequest(multisig_tx_id=pay.multisig_tx_id, request_id=rid())
    refused = await gx.invoke("ExecuteMultisigTx", execute, role=PA)
    assert refused.status == 400 and refused.message.startswith("APPROVALS_INSUFFICIENT")
    assert refused.writes == {} and refused.events == []
    # It collects the approval the new rule asks for, and executes with it.
    before = gx.balance(payee)
    done = (await _approve(gx, pay.multisig_tx_id, carol)).result(cmd.ApproveMultisigTxResult)
    assert done.multisig_tx.status == res.MULTISIG_TX_STATUS_EXECUTED
    assert done.multisig_tx.required_approvals == 3
    assert gx.balance(payee) == before + 10 * GX


async def test_removing_a_rule_is_approved_like_any_rule_change(gx: FakeLedger) -> None:
    alice, bob = await new_user(gx), await new_user(gx)
    org = await _org(gx, [alice, bob])
    await _enacted(gx, org, await _rule(gx, org, alice, 0, 1, []), [bob])
    # Under "one of anyone" alice alone may add a tier; from then on both are needed.
    await _enacted(gx, org, await _rule(gx, org, alice, 100 * GX, 2, []), [])

    def remove(threshold: int, by: str) -> cmd.RemoveAuthRuleRequest:
        return cmd.RemoveAuthRuleRequest(
            organization_id=org, amount_threshold_qirat=threshold, removed_by=by, request_id=rid()
        )

    missing = await gx.invoke("RemoveAuthRule", remove(5, alice), role=PA)
    assert missing.status == 400 and missing.message.startswith("AUTH_RULE_NOT_FOUND")
    outsider = await new_user(gx)
    assert (await gx.invoke("RemoveAuthRule", remove(0, outsider), role=PA)).message.startswith(
        "NOT_A_STAKEHOLDER"
    )
    # Removing tier 100 GX (2-of-2) needs both: one alone leaves it in force.
    out = await gx.invoke("RemoveAuthRule", remove(100 * GX, alice), role=PA)
    proposal = out.result(cmd.RemoveAuthRuleResult).multisig_tx
    assert proposal.status == res.MULTISIG_TX_STATUS_PENDING
    assert proposal.rule_change.remove_threshold_qirat == 100 * GX
    assert await _org_rules(gx, org) == [(0, 1, []), (100 * GX, 2, [])]
    done = await _approve(gx, proposal.multisig_tx_id, bob)
    assert done.domain_events() == ["multisig_tx_approved", "auth_rule_removed", "multisig_tx_executed"]
    removed = done.ledger_events().events[1].auth_rule_removed
    assert (removed.amount_threshold_qirat, removed.removed_by, removed.multisig_tx_id) == (
        100 * GX,
        alice,
        proposal.multisig_tx_id,
    )
    assert await _org_rules(gx, org) == [(0, 1, [])]
    # Under "one of anyone" a single stakeholder may now change the rules: that was agreed by both.
    out = await gx.invoke("RemoveAuthRule", remove(0, bob), role=PA)
    assert out.result(cmd.RemoveAuthRuleResult).multisig_tx.status == res.MULTISIG_TX_STATUS_EXECUTED
    assert await _org_rules(gx, org) == []


async def test_a_one_person_organisation_decides_alone(gx: FakeLedger) -> None:
    alice, payee = await new_user(gx), await new_user(gx)
    org = await _org(gx, [alice])
    assert (await transfer(gx, alice, org, 10 * GX)).ok
    defined = (await _rule(gx, org, alice, GX, 1, [])).result(cmd.DefineAuthRuleResult)
    assert defined.multisig_tx.status == res.MULTISIG_TX_STATUS_EXECUTED
    assert [r.amount_threshold_qirat for r in defined.organization.auth_rules] == [GX]
    paid = (await _initiate(gx, org, payee, GX // 2, alice)).result(cmd.InitiateMultisigTxResult)
    assert paid.multisig_tx.status == res.MULTISIG_TX_STATUS_EXECUTED


async def test_b2b_and_government_fee_tiers(gx: FakeLedger) -> None:
    alice, bob = await new_user(gx, "LK"), await new_user(gx, "IN")
    seller = await _org(gx, [alice])
    supplier_abroad = await _org(gx, [bob], country="IN")
    ministry = await _org(gx, [bob], kind=res.ORGANIZATION_TYPE_GOVERNMENT, country="LK", role="gx_admin")
    assert (await transfer(gx, alice, seller, 400 * GX)).ok
    b2b = (
        (await _initiate(gx, seller, supplier_abroad, 100 * GX, alice))
        .result(cmd.InitiateMultisigTxResult)
        .transfer
    )
    assert (b2b.category, b2b.fee_bps) == (res.TRANSFER_CATEGORY_B2B_CROSS_BORDER, 40)
    gov = (
        (await _initiate(gx, seller, ministry, 100 * GX, alice)).result(cmd.InitiateMultisigTxResult).transfer
    )
    assert (gov.category, gov.fee_bps) == (res.TRANSFER_CATEGORY_GOVERNMENT_LOCAL, 10)
    merchant_abroad = (await transfer(gx, bob, seller, 10 * GX)).result(cmd.TransferTokensResult)
    assert (merchant_abroad.category, merchant_abroad.fee_bps) == (
        res.TRANSFER_CATEGORY_MERCHANT_CROSS_BORDER,
        30,
    )


async def test_organisations_cannot_use_plain_transfers(gx: FakeLedger) -> None:
    alice, bob = await new_user(gx), await new_user(gx)
    org = await _org(gx, [alice])
    assert (await transfer(gx, alice, org, 10 * GX)).ok
    out = await transfer(gx, org, bob, GX)
    assert out.status == 400 and "multisig" in out.message
