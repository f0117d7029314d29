"""Organization contract: propose → endorse → activate, tiered multisig rules and transfers."""

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
from chaincode.errors import NotFound, Rejection
from chaincode.tx import Tx

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
        """Adds or replaces (same threshold) a multisig tier of an active organisation."""
        return await run_command(ctx, cmd.DefineAuthRuleRequest, request, _define_rule)

    async def InitiateMultisigTx(self, ctx: TransactionContext, request: str) -> str:
        """Starts a transfer out of an organisation's account."""
        return await run_command(ctx, cmd.InitiateMultisigTxRequest, request, _initiate)

    async def ApproveMultisigTx(self, ctx: TransactionContext, request: str) -> str:
        """Records one approval; executes the transfer when approvals suffice and funds allow."""
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


async def _define_rule(tx: Tx, request: cmd.DefineAuthRuleRequest) -> cmd.DefineAuthRuleResult:
    org = await _require_org(tx, request.organization_id)
    need(org.status == res.ORGANIZATION_STATUS_ACTIVE, "WRONG_STATUS", "the organisation is not active")
    _require_stakeholder(org, request.defined_by, "defined_by")
    rule = request.rule
    approvers = list(rule.approver_ids)
    need(len(set(approvers)) == len(approvers), "INVALID_ARGUMENT", "approver_ids has duplicates")
    for approver in approvers:
        _require_stakeholder(org, approver, "approver_ids")
    pool = len(approvers) or len(org.stakeholder_ids)
    need(rule.amount_threshold_qirat >= 0, "INVALID_ARGUMENT", "amount_threshold_qirat must not be negative")
    need(
        1 <= rule.required_approvals <= pool,
        "INVALID_ARGUMENT",
        f"required_approvals must be within [1, {pool}]",
    )
    kept = [r for r in org.auth_rules if r.amount_threshold_qirat != rule.amount_threshold_qirat]
    kept.append(rule)
    kept.sort(key=lambda r: r.amount_threshold_qirat)
    del org.auth_rules[:]
    org.auth_rules.extend(kept)
    tx.put_msg(_org_key(org.organization_id), org)
    tx.emit(
        auth_rule_defined=ev.AuthRuleDefined(
            organization_id=org.organization_id,
            rule=rule,
            defined_by=request.defined_by,
        )
    )
    return cmd.DefineAuthRuleResult(organization=org)


def _may_approve(org: res.Organization, msig: res.MultisigTx, user_id: str) -> bool:
    if user_id not in org.stakeholder_ids:
        return False
    return not msig.approver_ids or user_id in msig.approver_ids


async def _try_execute(
    tx: Tx, org: res.Organization, msig: res.MultisigTx, strict: bool
) -> cmd.TransferTokensResult | None:
    """Execute an APPROVED transfer. With *strict* False a paused system, a frozen account or too
    little money leaves it APPROVED (the approval itself still commits); with True they reject."""
    source = await ledger.require_account(tx, org.organization_id)
    target = await ledger.require_account(tx, msig.to_account_id)
    try:
        result = await transfers.transfer(
            tx, source, target, msig.amount_qirat, msig.remark, msig.multisig_tx_id
        )
    except Rejection as exc:
        if strict or exc.reason not in ("SYSTEM_PAUSED", "WALLET_FROZEN", "INSUFFICIENT_FUNDS"):
            raise
        return None
    msig.status = res.MULTISIG_TX_STATUS_EXECUTED
    tx.emit(
        multisig_tx_executed=ev.MultisigTxExecuted(
            multisig_tx_id=msig.multisig_tx_id,
            organization_id=org.organization_id,
            transfer_id=result.transfer_id,
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
    multisig_tx_id = request.request_id
    need(await tx.get(_msig_key(multisig_tx_id)) is None, "MULTISIG_TX_EXISTS", f"{multisig_tx_id} exists")
    # The tier is the rule with the highest threshold the amount exceeds; below every rule,
    # one approval by any stakeholder suffices.
    tier = None
    for rule in org.auth_rules:
        if request.amount_qirat > rule.amount_threshold_qirat:
            tier = rule
    msig = res.MultisigTx(
        multisig_tx_id=multisig_tx_id,
        organization_id=org.organization_id,
        to_account_id=request.to_account_id,
        amount_qirat=request.amount_qirat,
        remark=request.remark,
        initiator_id=request.initiator_id,
        required_approvals=tier.required_approvals if tier else 1,
        approver_ids=list(tier.approver_ids) if tier else [],
        status=res.MULTISIG_TX_STATUS_PENDING,
    )
    msig.create_time.CopyFrom(tx.time)
    if _may_approve(org, msig, request.initiator_id):
        msig.approval_ids.append(request.initiator_id)
    tx.emit(multisig_tx_initiated=ev.MultisigTxInitiated(multisig_tx=msig))
    result = cmd.InitiateMultisigTxResult()
    if len(msig.approval_ids) >= msig.required_approvals:
        msig.status = res.MULTISIG_TX_STATUS_APPROVED
        tx.emit(multisig_tx_approved=_approved_event(msig, request.initiator_id))
        executed = await _try_execute(tx, org, msig, strict=False)
        if executed is not None:
            result.transfer.CopyFrom(executed)
    tx.put_msg(_msig_key(multisig_tx_id), msig)
    result.multisig_tx.CopyFrom(msig)
    return result


async def _approve(tx: Tx, request: cmd.ApproveMultisigTxRequest) -> cmd.ApproveMultisigTxResult:
    msig = await _require_msig(tx, request.multisig_tx_id)
    org = await _require_org(tx, msig.organization_id)
    need(
        msig.status == res.MULTISIG_TX_STATUS_PENDING,
        "WRONG_STATUS",
        f"multisig transfer {msig.multisig_tx_id} is not waiting for approvals",
    )
    need(
        _may_approve(org, msig, request.approver_id),
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
    if len(msig.approval_ids) >= msig.required_approvals:
        msig.status = res.MULTISIG_TX_STATUS_APPROVED
    tx.emit(multisig_tx_approved=_approved_event(msig, request.approver_id))
    if msig.status == res.MULTISIG_TX_STATUS_APPROVED:
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
    executed = await _try_execute(tx, org, msig, strict=True)
    assert executed is not None  # strict mode raises instead
    tx.put_msg(_msig_key(msig.multisig_tx_id), msig)
    return cmd.ExecuteMultisigTxResult(multisig_tx=msig, transfer=executed)


async def _get_org(tx: Tx, request: qry.GetOrganizationRequest) -> qry.GetOrganizationResult:
    org = await _require_org(tx, request.organization_id)
    out = qry.GetOrganizationResult(organization=org)
    acct = await ledger.account(tx, org.organization_id)
    if acct is not None:
        out.account.CopyFrom(acct)
    return out


async def _get_msig(tx: Tx, request: qry.GetMultisigTxRequest) -> qry.GetMultisigTxResult:
    return qry.GetMultisigTxResult(multisig_tx=await _require_msig(tx, request.multisig_tx_id))
