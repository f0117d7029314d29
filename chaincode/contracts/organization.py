"""Organization contract: propose → endorse → activate; payments and rule changes approved by multisig (ledger_rules.multisig)."""

from __future__ import annotations

from fabric_chaincode_python.fabric_contract_api import TransactionContext
from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import events_pb2 as ev
from gx.ledger.v1 import queries_pb2 as qry
from gx.ledger.v1 import resources_pb2 as res

from chaincode import ledger, transfers
from chaincode.contracts.base import (
    GxContract,
    check_amount,
    check_country,
    check_id,
    check_text,
    check_uuid,
    need,
    run_command,
    run_query,
)
from chaincode.errors import NotFound
from chaincode.tx import Tx
from ledger_rules import multisig
from ledger_rules.errors import Rejection

_MAX_STAKEHOLDERS = 50


def _org_key(organization_id: str) -> str:
    return f"org~{organization_id}"


def _msig_key(multisig_tx_id: str) -> str:
    return f"msig~{multisig_tx_id}"


class OrganizationContract(GxContract):
    """Organisations and their multisig wallets; stakeholders act through the custodial backend."""

    Name = "organization"
    QUERIES = ("GetOrganization", "GetMultisigTx")

    async def ProposeOrganization(self, ctx: TransactionContext, request: str) -> str:
        """Proposes an organisation."""
        return await run_command(ctx, cmd.ProposeOrganizationRequest, request, _propose)

    async def ProposeGovernmentOrganization(self, ctx: TransactionContext, request: str) -> str:
        """Proposes a GOVERNMENT organisation; its gx_admin submitter is declared on the request message."""
        return await run_command(ctx, cmd.ProposeGovernmentOrganizationRequest, request, _propose_government)

    async def EndorseMembership(self, ctx: TransactionContext, request: str) -> str:
        """A stakeholder endorses a proposed organisation; once all have, it is ENDORSED."""
        return await run_command(ctx, cmd.EndorseMembershipRequest, request, _endorse)

    async def ActivateOrganization(self, ctx: TransactionContext, request: str) -> str:
        """Activates an organisation every stakeholder endorsed and opens its account."""
        return await run_command(ctx, cmd.ActivateOrganizationRequest, request, _activate)

    async def DefineAuthRule(self, ctx: TransactionContext, request: str) -> str:
        """Proposes adding or replacing (same threshold) a multisig tier; it takes effect once approved."""
        return await run_command(ctx, cmd.DefineAuthRuleRequest, request, _define_rule)

    async def RemoveAuthRule(self, ctx: TransactionContext, request: str) -> str:
        """Proposes removing a multisig tier; it takes effect once approved."""
        return await run_command(ctx, cmd.RemoveAuthRuleRequest, request, _remove_rule)

    async def InitiateMultisigTx(self, ctx: TransactionContext, request: str) -> str:
        """Starts a transfer out of an organisation's account."""
        return await run_command(ctx, cmd.InitiateMultisigTxRequest, request, _initiate)

    async def ApproveMultisigTx(self, ctx: TransactionContext, request: str) -> str:
        """Records one approval; executes the proposal when approvals suffice (and, to pay, funds allow)."""
        return await run_command(ctx, cmd.ApproveMultisigTxRequest, request, _approve)

    async def ExecuteMultisigTx(self, ctx: TransactionContext, request: str) -> str:
        """Executes an APPROVED multisig transfer that could not execute when its last approval arrived."""
        return await run_command(ctx, cmd.ExecuteMultisigTxRequest, request, _execute)

    async def GetOrganization(self, ctx: TransactionContext, request: str) -> str:
        """Reads one organisation."""
        return await run_query(ctx, qry.GetOrganizationRequest, request, _get_org)

    async def GetMultisigTx(self, ctx: TransactionContext, request: str) -> str:
        """Reads one multisig transfer."""
        return await run_query(ctx, qry.GetMultisigTxRequest, request, _get_msig)


async def _require_org(tx: Tx, organization_id: str) -> res.Organization:
    check_id(organization_id, "organization_id")
    org = await tx.get_msg(_org_key(organization_id), res.Organization)
    if org is None:
        raise NotFound("organization", organization_id)
    return org


async def _require_msig(tx: Tx, multisig_tx_id: str) -> res.MultisigTx:
    check_id(multisig_tx_id, "multisig_tx_id")
    found = await tx.get_msg(_msig_key(multisig_tx_id), res.MultisigTx)
    if found is None:
        raise NotFound("multisig_tx", multisig_tx_id)
    return found


def _require_stakeholder(org: res.Organization, user_id: str, field: str) -> None:
    need(
        user_id in org.stakeholder_ids,
        "NOT_A_STAKEHOLDER",
        f"{field} {user_id!r} is not a stakeholder of {org.organization_id}",
    )


async def _propose(tx: Tx, request: cmd.ProposeOrganizationRequest) -> cmd.ProposeOrganizationResult:
    need(request.type != res.ORGANIZATION_TYPE_UNSPECIFIED, "INVALID_ARGUMENT", "type is required")
    # A government organisation is a command of its own, so the identity it needs is declared in
    # the protos (where the API's access rules are checked against it), not decided here.
    need(
        request.type != res.ORGANIZATION_TYPE_GOVERNMENT,
        "GOVERNMENT_ORGANIZATION_COMMAND_REQUIRED",
        "a GOVERNMENT organisation is proposed with ProposeGovernmentOrganization",
    )
    return cmd.ProposeOrganizationResult(organization=await _new_organization(tx, request))


async def _propose_government(
    tx: Tx, request: cmd.ProposeGovernmentOrganizationRequest
) -> cmd.ProposeGovernmentOrganizationResult:
    proposal = cmd.ProposeOrganizationRequest(
        organization_id=request.organization_id,
        name=request.name,
        type=res.ORGANIZATION_TYPE_GOVERNMENT,
        country_code=request.country_code,
        stakeholder_ids=request.stakeholder_ids,
        proposer_id=request.proposer_id,
        request_id=request.request_id,
    )
    return cmd.ProposeGovernmentOrganizationResult(organization=await _new_organization(tx, proposal))


async def _new_organization(tx: Tx, request: cmd.ProposeOrganizationRequest) -> res.Organization:
    check_uuid(request.organization_id, "organization_id")
    check_text(request.name, "name", 200)
    check_country(request.country_code)
    stakeholders = list(request.stakeholder_ids)
    need(
        1 <= len(stakeholders) <= _MAX_STAKEHOLDERS,
        "INVALID_ARGUMENT",
        f"stakeholder_ids must have 1 to {_MAX_STAKEHOLDERS} entries",
    )
    need(len(set(stakeholders)) == len(stakeholders), "INVALID_ARGUMENT", "stakeholder_ids has duplicates")
    need(request.proposer_id in stakeholders, "NOT_A_STAKEHOLDER", "the proposer must be a stakeholder")
    for user_id in stakeholders:
        check_id(user_id, "stakeholder_ids")
        await ledger.require_user(tx, user_id)
    await ledger.require_country(tx, request.country_code)
    need(
        await tx.get(_org_key(request.organization_id)) is None,
        "ORGANIZATION_EXISTS",
        f"organisation {request.organization_id} exists",
    )
    need(
        await ledger.account(tx, request.organization_id) is None,
        "ACCOUNT_EXISTS",
        f"account {request.organization_id} exists",
    )
    org = res.Organization(
        organization_id=request.organization_id,
        name=request.name,
        type=request.type,
        country_code=request.country_code,
        stakeholder_ids=stakeholders,
        endorser_ids=[request.proposer_id],
        status=res.ORGANIZATION_STATUS_PENDING_ENDORSEMENT,
    )
    org.create_time.CopyFrom(tx.time)
    if len(org.endorser_ids) == len(org.stakeholder_ids):
        org.status = res.ORGANIZATION_STATUS_ENDORSED
    tx.put_msg(_org_key(org.organization_id), org)
    tx.emit(organization_proposed=ev.OrganizationProposed(organization=org))
    return org


async def _endorse(tx: Tx, request: cmd.EndorseMembershipRequest) -> cmd.EndorseMembershipResult:
    org = await _require_org(tx, request.organization_id)
    need(
        org.status == res.ORGANIZATION_STATUS_PENDING_ENDORSEMENT,
        "WRONG_STATUS",
        f"organisation {org.organization_id} is not waiting for endorsements",
    )
    _require_stakeholder(org, request.stakeholder_id, "stakeholder_id")
    need(
        request.stakeholder_id not in org.endorser_ids,
        "ALREADY_ENDORSED",
        f"{request.stakeholder_id} endorsed already",
    )
    org.endorser_ids.append(request.stakeholder_id)
    if len(org.endorser_ids) == len(org.stakeholder_ids):
        org.status = res.ORGANIZATION_STATUS_ENDORSED
    tx.put_msg(_org_key(org.organization_id), org)
    tx.emit(
        membership_endorsed=ev.MembershipEndorsed(
            organization_id=org.organization_id,
            stakeholder_id=request.stakeholder_id,
            status=org.status,
        )
    )
    return cmd.EndorseMembershipResult(organization=org)


async def _activate(tx: Tx, request: cmd.ActivateOrganizationRequest) -> cmd.ActivateOrganizationResult:
    org = await _require_org(tx, request.organization_id)
    need(
        org.status == res.ORGANIZATION_STATUS_ENDORSED,
        "WRONG_STATUS",
        f"organisation {org.organization_id} needs every stakeholder's endorsement first",
    )
    org.status = res.ORGANIZATION_STATUS_ACTIVE
    tx.put_msg(_org_key(org.organization_id), org)
    acct = ledger.new_account(tx, org.organization_id, res.ACCOUNT_TYPE_ORGANIZATION, org.country_code)
    await ledger.save_account(tx, acct)
    tx.emit(
        organization_activated=ev.OrganizationActivated(organization_id=org.organization_id, account=acct)
    )
    return cmd.ActivateOrganizationResult(organization=org, account=acct)


def _rules(org: res.Organization) -> list[multisig.Rule]:
    return [
        multisig.Rule(r.amount_threshold_qirat, r.required_approvals, tuple(r.approver_ids))
        for r in org.auth_rules
    ]


def _requirements(org: res.Organization, msig: res.MultisigTx) -> list[multisig.Requirement]:
    """What *msig* needs under the tiers in force NOW (never pinned at initiation)."""
    if msig.HasField("rule_change"):
        return multisig.rule_change_requirements(org.stakeholder_ids, _rules(org))
    return multisig.payment_requirements(org.stakeholder_ids, _rules(org), msig.amount_qirat)


def _refresh(org: res.Organization, msig: res.MultisigTx) -> bool:
    """Re-evaluate *msig* against the tiers in force: its shown requirement and its status
    (APPROVED exactly when its approvals satisfy them). Returns whether they do."""
    needs = _requirements(org, msig)
    msig.required_approvals = multisig.required_approvals(needs)
    del msig.approver_ids[:]
    msig.approver_ids.extend(multisig.approver_group(needs))
    ok = multisig.satisfied(org.stakeholder_ids, needs, msig.approval_ids)
    msig.status = res.MULTISIG_TX_STATUS_APPROVED if ok else res.MULTISIG_TX_STATUS_PENDING
    return ok


async def _open_proposal(
    tx: Tx, org: res.Organization, msig: res.MultisigTx
) -> cmd.TransferTokensResult | None:
    """Record a new proposal with its initiator's approval (if it counts) and execute it at once
    when that already suffices. Returns the transfer if a payment executed."""
    need(
        await tx.get(_msig_key(msig.multisig_tx_id)) is None,
        "MULTISIG_TX_EXISTS",
        f"{msig.multisig_tx_id} exists",
    )
    msig.organization_id = org.organization_id
    msig.status = res.MULTISIG_TX_STATUS_PENDING
    msig.create_time.CopyFrom(tx.time)
    if multisig.may_approve(org.stakeholder_ids, _requirements(org, msig), msig.initiator_id):
        msig.approval_ids.append(msig.initiator_id)
    approved = _refresh(org, msig)
    # The event shows the proposal as initiated: PENDING, with the initiator's approval.
    initiated = res.MultisigTx()
    initiated.CopyFrom(msig)
    initiated.status = res.MULTISIG_TX_STATUS_PENDING
    tx.emit(multisig_tx_initiated=ev.MultisigTxInitiated(multisig_tx=initiated))
    executed = None
    if approved:
        tx.emit(multisig_tx_approved=_approved_event(msig, msig.initiator_id))
        executed = await _try_execute(tx, org, msig, strict=False)
    tx.put_msg(_msig_key(msig.multisig_tx_id), msig)
    return executed


async def _propose_rule_change(
    tx: Tx, organization_id: str, proposer: str, change: res.AuthRuleChange, request_id: str
) -> tuple[res.Organization, res.MultisigTx]:
    org = await _require_org(tx, organization_id)
    need(org.status == res.ORGANIZATION_STATUS_ACTIVE, "WRONG_STATUS", "the organisation is not active")
    _require_stakeholder(org, proposer, "proposer")
    # Checked now so a proposal that could never take effect is refused, and again at execution.
    _changed_rules(org, change)
    msig = res.MultisigTx(multisig_tx_id=request_id, initiator_id=proposer, rule_change=change)
    await _open_proposal(tx, org, msig)
    return org, msig


def _changed_rules(org: res.Organization, change: res.AuthRuleChange) -> list[multisig.Rule]:
    if change.WhichOneof("change") == "set_rule":
        rule = multisig.Rule(
            change.set_rule.amount_threshold_qirat,
            change.set_rule.required_approvals,
            tuple(change.set_rule.approver_ids),
        )
        multisig.check_rule(org.stakeholder_ids, rule)
        return multisig.set_rule(_rules(org), rule)
    return multisig.remove_rule(_rules(org), change.remove_threshold_qirat)


async def _define_rule(tx: Tx, request: cmd.DefineAuthRuleRequest) -> cmd.DefineAuthRuleResult:
    for approver in request.rule.approver_ids:
        check_id(approver, "approver_ids")
    change = res.AuthRuleChange(set_rule=request.rule)
    org, msig = await _propose_rule_change(
        tx, request.organization_id, request.defined_by, change, request.request_id
    )
    return cmd.DefineAuthRuleResult(organization=org, multisig_tx=msig)


async def _remove_rule(tx: Tx, request: cmd.RemoveAuthRuleRequest) -> cmd.RemoveAuthRuleResult:
    change = res.AuthRuleChange(remove_threshold_qirat=request.amount_threshold_qirat)
    org, msig = await _propose_rule_change(
        tx, request.organization_id, request.removed_by, change, request.request_id
    )
    return cmd.RemoveAuthRuleResult(organization=org, multisig_tx=msig)


def _enact_rule_change(tx: Tx, org: res.Organization, msig: res.MultisigTx) -> None:
    """Apply an approved rule change to *org* (the caller writes it) and emit what changed."""
    change = msig.rule_change
    rules = _changed_rules(org, change)
    del org.auth_rules[:]
    org.auth_rules.extend(
        res.AuthRule(
            amount_threshold_qirat=r.threshold, required_approvals=r.required, approver_ids=r.approvers
        )
        for r in rules
    )
    tx.put_msg(_org_key(org.organization_id), org)
    if change.WhichOneof("change") == "set_rule":
        tx.emit(
            auth_rule_defined=ev.AuthRuleDefined(
                organization_id=org.organization_id,
                rule=change.set_rule,
                defined_by=msig.initiator_id,
                multisig_tx_id=msig.multisig_tx_id,
            )
        )
    else:
        tx.emit(
            auth_rule_removed=ev.AuthRuleRemoved(
                organization_id=org.organization_id,
                amount_threshold_qirat=change.remove_threshold_qirat,
                removed_by=msig.initiator_id,
                multisig_tx_id=msig.multisig_tx_id,
            )
        )


# Failures that leave an approved proposal APPROVED (the approval itself still commits), to be
# executed later; anything else rejects the whole transaction.
_SOFT_PAYMENT = ("SYSTEM_PAUSED", "WALLET_FROZEN", "INSUFFICIENT_FUNDS")
_SOFT_RULE_CHANGE = ("AUTH_RULE_NOT_FOUND", "TOO_MANY_AUTH_RULES")


async def _try_execute(
    tx: Tx, org: res.Organization, msig: res.MultisigTx, strict: bool
) -> cmd.TransferTokensResult | None:
    """Execute an APPROVED proposal. With *strict* False a paused system, a frozen account or too
    little money (a rule change: a tier that no longer fits) leaves it APPROVED (the approval itself
    still commits); with True they reject."""
    result = None
    try:
        if msig.HasField("rule_change"):
            _enact_rule_change(tx, org, msig)
        else:
            source = await ledger.require_account(tx, org.organization_id)
            target = await ledger.require_account(tx, msig.to_account_id)
            result = await transfers.transfer(
                tx, source, target, msig.amount_qirat, msig.remark, msig.multisig_tx_id
            )
    except Rejection as exc:
        soft = _SOFT_RULE_CHANGE if msig.HasField("rule_change") else _SOFT_PAYMENT
        if strict or exc.reason not in soft:
            raise
        return None
    msig.status = res.MULTISIG_TX_STATUS_EXECUTED
    tx.emit(
        multisig_tx_executed=ev.MultisigTxExecuted(
            multisig_tx_id=msig.multisig_tx_id,
            organization_id=org.organization_id,
            transfer_id=result.transfer_id if result is not None else "",
        )
    )
    return result


def _approved_event(msig: res.MultisigTx, approver_id: str) -> ev.MultisigTxApproved:
    return ev.MultisigTxApproved(
        multisig_tx_id=msig.multisig_tx_id,
        approver_id=approver_id,
        approvals=len(msig.approval_ids),
        required_approvals=msig.required_approvals,
        status=msig.status,
    )


async def _initiate(tx: Tx, request: cmd.InitiateMultisigTxRequest) -> cmd.InitiateMultisigTxResult:
    org = await _require_org(tx, request.organization_id)
    need(org.status == res.ORGANIZATION_STATUS_ACTIVE, "WRONG_STATUS", "the organisation is not active")
    _require_stakeholder(org, request.initiator_id, "initiator_id")
    check_id(request.to_account_id, "to_account_id")
    check_amount(request.amount_qirat)
    check_text(request.remark, "remark", 256, required=False)
    await ledger.require_account(tx, request.to_account_id)
    need(
        request.to_account_id != org.organization_id, "INVALID_ARGUMENT", "an organisation cannot pay itself"
    )
    msig = res.MultisigTx(
        multisig_tx_id=request.request_id,
        to_account_id=request.to_account_id,
        amount_qirat=request.amount_qirat,
        remark=request.remark,
        initiator_id=request.initiator_id,
    )
    result = cmd.InitiateMultisigTxResult()
    executed = await _open_proposal(tx, org, msig)
    if executed is not None:
        result.transfer.CopyFrom(executed)
    result.multisig_tx.CopyFrom(msig)
    return result


async def _approve(tx: Tx, request: cmd.ApproveMultisigTxRequest) -> cmd.ApproveMultisigTxResult:
    msig = await _require_msig(tx, request.multisig_tx_id)
    org = await _require_org(tx, msig.organization_id)
    # APPROVED too: a tier tightened since may need approvals it did not have.
    need(
        msig.status in (res.MULTISIG_TX_STATUS_PENDING, res.MULTISIG_TX_STATUS_APPROVED),
        "WRONG_STATUS",
        f"multisig transfer {msig.multisig_tx_id} is executed",
    )
    _require_stakeholder(org, request.approver_id, "approver_id")
    need(
        multisig.may_approve(org.stakeholder_ids, _requirements(org, msig), request.approver_id),
        "NOT_AN_APPROVER",
        f"{request.approver_id!r} may not approve this transfer",
    )
    need(
        request.approver_id not in msig.approval_ids,
        "ALREADY_APPROVED",
        f"{request.approver_id} approved already",
    )
    msig.approval_ids.append(request.approver_id)
    result = cmd.ApproveMultisigTxResult()
    approved = _refresh(org, msig)
    tx.emit(multisig_tx_approved=_approved_event(msig, request.approver_id))
    if approved:
        executed = await _try_execute(tx, org, msig, strict=False)
        if executed is not None:
            result.transfer.CopyFrom(executed)
    tx.put_msg(_msig_key(msig.multisig_tx_id), msig)
    result.multisig_tx.CopyFrom(msig)
    return result


async def _execute(tx: Tx, request: cmd.ExecuteMultisigTxRequest) -> cmd.ExecuteMultisigTxResult:
    msig = await _require_msig(tx, request.multisig_tx_id)
    org = await _require_org(tx, msig.organization_id)
    need(
        msig.status == res.MULTISIG_TX_STATUS_APPROVED,
        "WRONG_STATUS",
        f"multisig transfer {msig.multisig_tx_id} is not approved and unexecuted",
    )
    need(
        _refresh(org, msig),
        "APPROVALS_INSUFFICIENT",
        f"the approvals of {msig.multisig_tx_id} no longer satisfy the organisation's rules in force",
    )
    executed = await _try_execute(tx, org, msig, strict=True)
    tx.put_msg(_msig_key(msig.multisig_tx_id), msig)
    out = cmd.ExecuteMultisigTxResult(multisig_tx=msig)
    if executed is not None:
        out.transfer.CopyFrom(executed)
    return out


async def _get_org(tx: Tx, request: qry.GetOrganizationRequest) -> qry.GetOrganizationResult:
    org = await _require_org(tx, request.organization_id)
    out = qry.GetOrganizationResult(organization=org)
    acct = await ledger.account(tx, org.organization_id)
    if acct is not None:
        out.account.CopyFrom(await ledger.with_balance(tx, acct))  # pending credits included
    return out


async def _get_msig(tx: Tx, request: qry.GetMultisigTxRequest) -> qry.GetMultisigTxResult:
    return qry.GetMultisigTxResult(multisig_tx=await _require_msig(tx, request.multisig_tx_id))
