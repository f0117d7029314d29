"""Organisation use cases: propose, endorse, activate, rules and multisig transfers (ledger commands) and reads.

Organisations and multisig transfers are named by the operation that created them (the
contract); on the ledger their id is that command's request id (see `services.wallet.ids`).
The caller always acts as themself: their user id goes into the command, and the chaincode
checks it against the organisation's stakeholders again.

Who must approve a payment or a rule change is decided by the chaincode's own pure rules
(`ledger_rules.multisig`), applied here to the read models as a pre-check: a rule change is itself
a multisig transaction, no rule means every stakeholder, and approvals are judged by the rules in
force now. The ledger decides again at commit time; the read models may be a block behind.
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf.message import Message
from gx.ledger.v1 import commands_pb2 as ledger
from gx.ledger.v1 import resources_pb2 as res
from gx.type.v1 import command_pb2, operation_pb2
from gx.wallet.v1 import organization_service_pb2 as svc
from gx.wallet.v1 import wallet_pb2
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ledger_rules import multisig
from ledger_rules.errors import Rejection
from projector.tables import multisig_txs, users
from services.common import outbox, paging
from services.common.auth import Principal
from services.common.commands import declared_command
from services.common.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.wallet import convert, errors, ids, readmodels
from services.wallet.admin_audit import audited
from services.wallet.commands import CommandRecorder

ORG_COMMAND = ids.ORGANIZATION_COMMANDS
# A multisig transaction is a payment or a rule change; any of these commands creates one.
MULTISIG_COMMAND = ("INITIATE_MULTISIG_TX", "DEFINE_AUTH_RULE", "REMOVE_AUTH_RULE")
_DEFAULT_PAGE = 50
_ORG_COLUMNS = (
    "o.org_id, o.name, o.type, o.country_code, o.status, o.stakeholder_ids, o.endorser_ids, o.auth_rules,"
    " o.create_time, o.activate_time, COALESCE(w.balance_qirat, 0) AS balance_qirat"
)
_ORG_FROM = "ledger.organizations o LEFT JOIN ledger.wallets w ON w.wallet_id = o.org_id"
# Every column of a multisig transaction but its bookkeeping (block, update time, transfer id).
_MSIG_ROW = tuple(c for c in multisig_txs.c if c.name not in ("block_number", "update_time", "transfer_id"))
_MSIG_COLUMNS = ", ".join(column.name for column in _MSIG_ROW)
_MSIG_STATES = {
    "PENDING": wallet_pb2.MULTISIG_TRANSACTION_STATE_PENDING,
    "APPROVED": wallet_pb2.MULTISIG_TRANSACTION_STATE_APPROVED,
    "EXECUTED": wallet_pb2.MULTISIG_TRANSACTION_STATE_EXECUTED,
    "FAILED": wallet_pb2.MULTISIG_TRANSACTION_STATE_FAILED,
}
_MSIG_STATUS_OF = {v: k for k, v in _MSIG_STATES.items()}


def _org_not_found() -> NotFound:
    return NotFound("organization not found", reason="ORGANIZATION_NOT_FOUND")


def _msig_not_found() -> NotFound:
    return NotFound("multisig transaction not found", reason="MULTISIG_TRANSACTION_NOT_FOUND")


def _ids(value: Any) -> list[Any]:
    # psycopg decodes jsonb to Python lists; tolerate text too (a driver without the codec).
    return list(value if isinstance(value, list) else json.loads(value or "[]"))


def _rule_ids(rows: Any) -> list[str]:
    """The ledger ids of the proposals that enacted the rules of *rows* (organisations)."""
    return [str(r["ruleId"]) for row in rows for r in _ids(row.auth_rules) if r.get("ruleId")]


def _organization(row: Any, public_id: str, rule_ids: dict[str, str]) -> wallet_pb2.Organization:
    out = wallet_pb2.Organization(
        org_id=public_id,
        name=row.name,
        type=wallet_pb2.OrganizationType.Value(f"ORGANIZATION_TYPE_{row.type}"),
        # Endorsed but not yet activated is still "proposed" to the API's two states.
        state=wallet_pb2.ORGANIZATION_STATE_ACTIVE
        if row.status == "ACTIVE"
        else wallet_pb2.ORGANIZATION_STATE_PROPOSED,
        stakeholder_user_ids=_ids(row.stakeholder_ids),
        endorser_user_ids=_ids(row.endorser_ids),
        balance_qirat=row.balance_qirat,
    )
    for rule in _ids(row.auth_rules):
        out.auth_rules.append(
            wallet_pb2.AuthRule(
                amount_threshold_qirat=int(rule["amountThresholdQirat"]),
                required_approvers=int(rule["requiredApprovals"]),
                approver_user_ids=list(rule.get("approverIds", [])),
                rule_id=rule_ids.get(str(rule.get("ruleId", "")), ""),
            )
        )
    for field in ("create_time", "activate_time"):
        ts = convert.timestamp(getattr(row, field))
        if ts is not None:
            getattr(out, field).CopyFrom(ts)
    return out


def _change(value: Any) -> dict[str, Any] | None:
    """A multisig row's rule change (the ledger's AuthRuleChange as proto JSON), None for a payment."""
    if value is None:
        return None
    return dict(value if isinstance(value, dict) else json.loads(value))


def _rule_change(change: dict[str, Any]) -> wallet_pb2.AuthRuleChange:
    if "setRule" in change:
        rule = change["setRule"]
        return wallet_pb2.AuthRuleChange(
            rule=wallet_pb2.AuthRule(
                amount_threshold_qirat=int(rule.get("amountThresholdQirat", 0)),
                required_approvers=int(rule.get("requiredApprovals", 0)),
                approver_user_ids=list(rule.get("approverIds", [])),
            )
        )
    return wallet_pb2.AuthRuleChange(
        remove=True,
        rule=wallet_pb2.AuthRule(amount_threshold_qirat=int(change.get("removeThresholdQirat", 0))),
    )


def _org_rules(org: Any) -> list[multisig.Rule]:
    return [
        multisig.Rule(
            int(r.get("amountThresholdQirat", 0)),
            int(r.get("requiredApprovals", 0)),
            tuple(r.get("approverIds", [])),
        )
        for r in _ids(org.auth_rules)
    ]


def _requirements(org: Any, msig: Any) -> list[multisig.Requirement]:
    """What *msig* needs under the organisation's rules in force (as the read model knows them)."""
    stakeholders = _ids(org.stakeholder_ids)
    if _change(msig.rule_change) is not None:
        return multisig.rule_change_requirements(stakeholders, _org_rules(org))
    return multisig.payment_requirements(stakeholders, _org_rules(org), msig.amount_qirat)


def _refused(exc: Rejection, field: str) -> InvalidArgument | FailedPrecondition:
    """The chaincode rule's refusal as this API's error, with the same reason."""
    if exc.reason in ("INVALID_ARGUMENT", "NOT_A_STAKEHOLDER"):
        return errors.bad_field(field, exc.detail, None if exc.reason == "INVALID_ARGUMENT" else exc.reason)
    return errors.precondition(exc.reason, exc.detail)


def _multisig(row: Any, public_id: str, org_public_id: str) -> wallet_pb2.MultisigTransaction:
    change = _change(row.rule_change)
    out = wallet_pb2.MultisigTransaction(
        multisig_transaction_id=public_id,
        org_id=org_public_id,
        initiator_user_id=row.initiator_id or "",
        to_user_id=row.to_account_id,
        amount_qirat=row.amount_qirat,
        remark=row.remark or "",
        state=_MSIG_STATES.get(row.status, wallet_pb2.MULTISIG_TRANSACTION_STATE_UNSPECIFIED),
        required_approvers=row.required_approvals,
        approver_user_ids=_ids(row.approval_ids),
        kind=wallet_pb2.MULTISIG_TRANSACTION_KIND_PAYMENT
        if change is None
        else wallet_pb2.MULTISIG_TRANSACTION_KIND_RULE_CHANGE,
    )
    if change is not None:
        out.rule_change.CopyFrom(_rule_change(change))
    for field in ("create_time", "execute_time"):
        ts = convert.timestamp(getattr(row, field))
        if ts is not None:
            getattr(out, field).CopyFrom(ts)
    return out


async def _find_org(db: readmodels.Executor, public_id: str) -> Any | None:
    oid = await ids.ledger_id(db, public_id, ORG_COMMAND)
    return (
        await db.execute(text(f"SELECT {_ORG_COLUMNS} FROM {_ORG_FROM} WHERE o.org_id = :id"), {"id": oid})
    ).first()


async def _find_msig(db: readmodels.Executor, org: Any, public_id: str) -> Any:
    """The organisation's multisig transfer by its public id; NOT_FOUND when it has none such."""
    row = await _projected_msig(db, org, public_id)
    if row is None:
        raise _msig_not_found()
    return row


async def _projected_msig(db: readmodels.Executor, org: Any, public_id: str) -> Any | None:
    mid = await ids.ledger_id(db, public_id, MULTISIG_COMMAND)
    m = multisig_txs.c
    return (
        await db.execute(select(*_MSIG_ROW).where(m.multisig_tx_id == mid, m.org_id == org.org_id))
    ).first()


async def _msig_on_its_way(
    session: AsyncSession, org: Any, public_id: str
) -> tuple[str, outbox.Prerequisite]:
    """A multisig transaction of this organisation whose proposal is recorded but not yet in the
    read models: its ledger id and its proposing command. NOT_FOUND when there is none such
    (never proposed, proposed for another organisation, or its proposal FAILED)."""
    proposal = await outbox.find_recorded(session, public_id, MULTISIG_COMMAND)
    if proposal is None or proposal.payload.get("organizationId") != org.org_id:
        raise _msig_not_found()
    return str(proposal.payload["requestId"]), proposal


def _is_stakeholder(org: Any, user_id: str) -> bool:
    return user_id in _ids(org.stakeholder_ids)


class OrganizationUseCases:
    """The OrganizationService's commands and reads."""

    def __init__(self, engine: AsyncEngine, recorder: CommandRecorder) -> None:
        """Wires the use cases over the engine and the command recorder."""
        self._engine = engine
        self._recorder = recorder

    async def _record(
        self, rpc: str, principal: Principal, request: Any, command_type: int, build: Any
    ) -> operation_pb2.Operation:
        return await self._recorder.record(
            scope=f"wallet.{rpc}",
            principal=principal,
            request=request,
            request_id=request.request_id,
            command_type=command_type,
            build=build,
        )

    async def _active_member_org(
        self, session: readmodels.Executor, principal: Principal, org_id: str
    ) -> Any:
        org = await self._member_org(session, principal, org_id)
        if org.status != "ACTIVE":
            raise errors.precondition("ORGANIZATION_NOT_ACTIVE", "the organisation is not active")
        return org

    async def _member_org(
        self, session: readmodels.Executor, principal: Principal, org_id: str, *, admin_ok: bool = False
    ) -> Any:
        org = await _find_org(session, org_id)
        if org is None or not (_is_stakeholder(org, principal.user_id) or (admin_ok and principal.is_admin)):
            raise _org_not_found()
        return org

    async def propose(
        self, principal: Principal, request: svc.ProposeOrganizationRequest
    ) -> operation_pb2.Operation:
        """PROPOSE_ORGANIZATION with the caller among distinct, existing ledger stakeholders."""
        if request.type == wallet_pb2.ORGANIZATION_TYPE_GOVERNMENT:
            # Its own RPC and command: the ledger submits it as gx_admin, and only that RPC's
            # access rule (admins) is checked against that identity.
            raise errors.bad_field(
                "type",
                "a GOVERNMENT organisation is proposed with ProposeGovernmentOrganization",
                "GOVERNMENT_ORGANIZATION_RPC_REQUIRED",
            )
        kind = res.OrganizationType.Value(wallet_pb2.OrganizationType.Name(request.type))
        return await self._propose("ProposeOrganization", principal, request, kind)

    async def propose_government(
        self, principal: Principal, request: svc.ProposeGovernmentOrganizationRequest
    ) -> operation_pb2.Operation:
        """PROPOSE_GOVERNMENT_ORGANIZATION (admins, by the RPC's access rule), like `propose`."""
        return await self._propose(
            "ProposeGovernmentOrganization", principal, request, res.ORGANIZATION_TYPE_GOVERNMENT
        )

    async def _propose(
        self, rpc: str, principal: Principal, request: Any, kind: res.OrganizationType
    ) -> operation_pb2.Operation:
        stakeholders = [s.lower() for s in request.stakeholder_user_ids]
        violations = [
            FieldViolation(f"stakeholder_user_ids[{i}]", "listed twice")
            for i, s in enumerate(stakeholders)
            if s in stakeholders[:i]
        ]
        if violations:
            raise InvalidArgument(violations=violations)
        if principal.user_id not in stakeholders:
            raise errors.bad_field(
                "stakeholder_user_ids", "the caller must be one of the stakeholders", "NOT_A_STAKEHOLDER"
            )

        async def build(session: AsyncSession, rid: str) -> Message:
            rows = (
                await session.execute(
                    select(users.c.user_id, users.c.country_code).where(users.c.user_id.in_(stakeholders))
                )
            ).all()
            known = {r.user_id: r.country_code for r in rows}
            missing = [
                FieldViolation(f"stakeholder_user_ids[{i}]", "no such user on the ledger")
                for i, s in enumerate(stakeholders)
                if s not in known
            ]
            if missing:
                raise InvalidArgument(violations=missing, reason="USER_NOT_FOUND")
            fields = {
                # The ledger id is the command's request id, as for every created resource.
                "organization_id": rid,
                "name": request.name,
                # The organisation belongs to its proposer's country (local or cross-border fees).
                "country_code": known[principal.user_id],
                "stakeholder_ids": stakeholders,
                "proposer_id": principal.user_id,
                "request_id": rid,
            }
            if kind == res.ORGANIZATION_TYPE_GOVERNMENT:
                return ledger.ProposeGovernmentOrganizationRequest(**fields)
            return ledger.ProposeOrganizationRequest(type=kind, **fields)

        # Only admins propose a government organisation: an admin action, audited.
        recorded: Any = (
            audited(f"wallet.{rpc}", request, build, subject="organizations")
            if kind == res.ORGANIZATION_TYPE_GOVERNMENT
            else build
        )
        return await self._record(
            rpc, principal, request, declared_command(svc, "OrganizationService", rpc), recorded
        )

    async def endorse(
        self, principal: Principal, request: svc.EndorseMembershipRequest
    ) -> operation_pb2.Operation:
        """ENDORSE_MEMBERSHIP by a stakeholder who has not endorsed yet."""

        async def build(session: AsyncSession, rid: str) -> Message:
            org = await self._member_org(session, principal, request.org_id)
            if org.status != "PENDING_ENDORSEMENT":
                raise errors.precondition(
                    "ORGANIZATION_NOT_PENDING", "the organisation is not waiting for endorsements"
                )
            if principal.user_id in _ids(org.endorser_ids):
                raise errors.precondition("ALREADY_ENDORSED", "you endorsed this organisation already")
            return ledger.EndorseMembershipRequest(
                organization_id=org.org_id, stakeholder_id=principal.user_id, request_id=rid
            )

        return await self._record(
            "EndorseMembership", principal, request, command_pb2.COMMAND_TYPE_ENDORSE_MEMBERSHIP, build
        )

    async def activate(
        self, principal: Principal, request: svc.ActivateOrganizationRequest
    ) -> operation_pb2.Operation:
        """ACTIVATE_ORGANIZATION once every stakeholder endorsed it."""

        async def build(session: AsyncSession, rid: str) -> Message:
            org = await self._member_org(session, principal, request.org_id, admin_ok=True)
            if org.status != "ENDORSED":
                raise errors.precondition("NOT_FULLY_ENDORSED", "every stakeholder must endorse it first")
            return ledger.ActivateOrganizationRequest(organization_id=org.org_id, request_id=rid)

        return await self._record(
            "ActivateOrganization", principal, request, command_pb2.COMMAND_TYPE_ACTIVATE_ORGANIZATION, build
        )

    async def define_rule(
        self, principal: Principal, request: svc.DefineAuthRuleRequest
    ) -> operation_pb2.Operation:
        """DEFINE_AUTH_RULE: propose a tier of an active organisation, approvers drawn from its stakeholders."""
        approvers = [a.lower() for a in request.approver_user_ids]
        if len(set(approvers)) != len(approvers):
            raise errors.bad_field("approver_user_ids", "an approver is listed twice")
        if request.required_approvers > len(approvers):
            raise errors.bad_field("required_approvers", "cannot exceed the number of approvers")
        rule = multisig.Rule(request.amount_threshold_qirat, request.required_approvers, tuple(approvers))

        async def build(session: AsyncSession, rid: str) -> Message:
            org = await self._active_member_org(session, principal, request.org_id)
            try:
                multisig.check_rule(_ids(org.stakeholder_ids), rule)
            except Rejection as exc:
                raise _refused(exc, "approver_user_ids") from None
            try:
                multisig.set_rule(_org_rules(org), rule)
            except Rejection as exc:
                raise _refused(exc, "amount_threshold_qirat") from None
            return ledger.DefineAuthRuleRequest(
                organization_id=org.org_id,
                rule=res.AuthRule(
                    amount_threshold_qirat=rule.threshold,
                    required_approvals=rule.required,
                    approver_ids=approvers,
                ),
                defined_by=principal.user_id,
                request_id=rid,
            )

        return await self._record(
            "DefineAuthRule", principal, request, command_pb2.COMMAND_TYPE_DEFINE_AUTH_RULE, build
        )

    async def remove_rule(
        self, principal: Principal, request: svc.RemoveAuthRuleRequest
    ) -> operation_pb2.Operation:
        """REMOVE_AUTH_RULE: propose removing an existing tier of an active organisation."""

        async def build(session: AsyncSession, rid: str) -> Message:
            org = await self._active_member_org(session, principal, request.org_id)
            try:
                multisig.remove_rule(_org_rules(org), request.amount_threshold_qirat)
            except Rejection as exc:
                raise _refused(exc, "amount_threshold_qirat") from None
            return ledger.RemoveAuthRuleRequest(
                organization_id=org.org_id,
                amount_threshold_qirat=request.amount_threshold_qirat,
                removed_by=principal.user_id,
                request_id=rid,
            )

        rpc = "RemoveAuthRule"
        return await self._record(
            rpc, principal, request, declared_command(svc, "OrganizationService", rpc), build
        )

    async def initiate(
        self, principal: Principal, request: svc.InitiateMultisigTransactionRequest
    ) -> operation_pb2.Operation:
        """INITIATE_MULTISIG_TX from an active organisation to an existing user, within its known balance."""
        to_user = request.to_user_id.lower()

        async def build(session: AsyncSession, rid: str) -> Message:
            org = await self._member_org(session, principal, request.org_id)
            if org.status != "ACTIVE":
                raise errors.precondition("ORGANIZATION_NOT_ACTIVE", "the organisation is not active")
            target = await readmodels.account(session, to_user)
            if target is None or target.account_type != "USER":
                raise errors.bad_field("to_user_id", "no such user on the ledger", errors.RECIPIENT_NOT_FOUND)
            if request.amount_qirat > org.balance_qirat:
                raise errors.precondition(
                    errors.INSUFFICIENT_FUNDS, f"the organisation holds {org.balance_qirat} Qirat"
                )
            return ledger.InitiateMultisigTxRequest(
                organization_id=org.org_id,
                to_account_id=to_user,
                amount_qirat=request.amount_qirat,
                remark=request.remark,
                initiator_id=principal.user_id,
                request_id=rid,
            )

        return await self._record(
            "InitiateMultisigTransaction",
            principal,
            request,
            command_pb2.COMMAND_TYPE_INITIATE_MULTISIG_TX,
            build,
        )

    async def approve(
        self, principal: Principal, request: svc.ApproveMultisigTransactionRequest
    ) -> operation_pb2.Operation:
        """APPROVE_MULTISIG_TX by a stakeholder whose approval counts under the rules in force, once."""

        async def build(session: AsyncSession, rid: str) -> Message | outbox.Dependent:
            org = await self._member_org(session, principal, request.org_id)
            msig = await _projected_msig(session, org, request.multisig_transaction_id)
            if msig is None:
                # Proposed a moment ago and not projected yet: a pre-check refuses only a
                # prerequisite that is absent or failed. The approval runs after the proposal
                # (depends_on) and the chaincode judges it against the rules then in force; if
                # the proposal fails, the approval fails PREREQUISITE_FAILED, naming it.
                ledger_id, proposal = await _msig_on_its_way(session, org, request.multisig_transaction_id)
                approval = ledger.ApproveMultisigTxRequest(
                    multisig_tx_id=ledger_id, approver_id=principal.user_id, request_id=rid
                )
                return outbox.Dependent(approval, proposal.command_id if proposal.in_flight else None)
            # APPROVED too: a rule tightened since may ask for approvals it does not have.
            if msig.status not in ("PENDING", "APPROVED"):
                raise errors.precondition(
                    "MULTISIG_NOT_PENDING", "the transaction is not collecting approvals"
                )
            if not multisig.may_approve(
                _ids(org.stakeholder_ids), _requirements(org, msig), principal.user_id
            ):
                raise PermissionDenied(
                    "your approval does not count for this transaction under the rules in force",
                    reason="NOT_AN_APPROVER",
                )
            if principal.user_id in _ids(msig.approval_ids):
                raise errors.precondition("ALREADY_APPROVED", "you approved this transfer already")
            return ledger.ApproveMultisigTxRequest(
                multisig_tx_id=msig.multisig_tx_id, approver_id=principal.user_id, request_id=rid
            )

        return await self._record(
            "ApproveMultisigTransaction",
            principal,
            request,
            command_pb2.COMMAND_TYPE_APPROVE_MULTISIG_TX,
            build,
        )

    async def execute(
        self, principal: Principal, request: svc.ExecuteMultisigTransactionRequest
    ) -> operation_pb2.Operation:
        """EXECUTE_MULTISIG_TX of an approved transfer, by a stakeholder."""

        async def build(session: AsyncSession, rid: str) -> Message:
            org = await self._member_org(session, principal, request.org_id)
            msig = await _find_msig(session, org, request.multisig_transaction_id)
            if msig.status != "APPROVED":
                raise errors.precondition(
                    "MULTISIG_NOT_APPROVED", "the transfer is not approved and unexecuted"
                )
            # Judged by the rules in force now, not those it was approved under.
            if not multisig.satisfied(
                _ids(org.stakeholder_ids), _requirements(org, msig), _ids(msig.approval_ids)
            ):
                raise errors.precondition(
                    "APPROVALS_INSUFFICIENT",
                    "its approvals no longer satisfy the organisation's rules in force; more must approve",
                )
            return ledger.ExecuteMultisigTxRequest(multisig_tx_id=msig.multisig_tx_id, request_id=rid)

        return await self._record(
            "ExecuteMultisigTransaction",
            principal,
            request,
            command_pb2.COMMAND_TYPE_EXECUTE_MULTISIG_TX,
            build,
        )

    async def get(self, principal: Principal, org_id: str) -> svc.GetOrganizationResponse:
        """An organisation, to its stakeholders and admins."""
        async with self._engine.connect() as conn:
            org = await _find_org(conn, org_id)
            if org is None or not (principal.is_admin or _is_stakeholder(org, principal.user_id)):
                raise _org_not_found()
            public = (await ids.public_ids(conn, [org.org_id], ORG_COMMAND))[org.org_id]
            rules = await ids.public_ids(conn, _rule_ids([org]), "DEFINE_AUTH_RULE")
        return svc.GetOrganizationResponse(organization=_organization(org, public, rules))

    async def list(
        self, principal: Principal, request: svc.ListOrganizationsRequest
    ) -> svc.ListOrganizationsResponse:
        """Organisations newest first: the caller's (or all, for admins), optionally in one state."""
        statuses: tuple[str, ...] = ()
        if request.state == wallet_pb2.ORGANIZATION_STATE_ACTIVE:
            statuses = ("ACTIVE",)
        elif request.state == wallet_pb2.ORGANIZATION_STATE_PROPOSED:
            statuses = ("PENDING_ENDORSEMENT", "ENDORSED")
        member = "" if principal.is_admin else principal.user_id
        key = f"orgs|{member}|{','.join(statuses)}"
        page = paging.request(request.page_size, request.page_token, key, default=_DEFAULT_PAGE)
        clauses: list[str] = ["true"]
        params: dict[str, Any] = {"limit": page.limit}
        if member:
            clauses.append("o.stakeholder_ids @> CAST(:member AS jsonb)")
            params["member"] = json.dumps([member])
        if statuses:
            clauses.append("o.status = ANY(:statuses)")
            params["statuses"] = list(statuses)
        if (after := page.after_clause("o.create_time, o.org_id", params)) is not None:
            clauses.append(after)
        sql = (
            f"SELECT {_ORG_COLUMNS} FROM {_ORG_FROM} WHERE {' AND '.join(clauses)}"
            " ORDER BY o.create_time DESC, o.org_id DESC LIMIT :limit"
        )
        async with self._engine.connect() as conn:
            rows, token = page.finish(
                (await conn.execute(text(sql), params)).all(), lambda r: (r.create_time, r.org_id)
            )
            public = await ids.public_ids(conn, [r.org_id for r in rows], ORG_COMMAND)
            rules = await ids.public_ids(conn, _rule_ids(rows), "DEFINE_AUTH_RULE")
        return svc.ListOrganizationsResponse(
            organizations=[_organization(r, public[r.org_id], rules) for r in rows], next_page_token=token
        )

    async def get_multisig(
        self, principal: Principal, request: svc.GetMultisigTransactionRequest
    ) -> svc.GetMultisigTransactionResponse:
        """One multisig transfer, to the organisation's stakeholders and admins."""
        async with self._engine.connect() as conn:
            org = await self._member_org(conn, principal, request.org_id, admin_ok=True)
            msig = await _find_msig(conn, org, request.multisig_transaction_id)
            org_public = (await ids.public_ids(conn, [org.org_id], ORG_COMMAND))[org.org_id]
            public = (await ids.public_ids(conn, [msig.multisig_tx_id], MULTISIG_COMMAND))[
                msig.multisig_tx_id
            ]
        return svc.GetMultisigTransactionResponse(multisig_transaction=_multisig(msig, public, org_public))

    async def list_multisig(
        self, principal: Principal, request: svc.ListMultisigTransactionsRequest
    ) -> svc.ListMultisigTransactionsResponse:
        """An organisation's multisig transfers, newest first, optionally in one state."""
        status = _MSIG_STATUS_OF.get(request.state, "")
        async with self._engine.connect() as conn:
            org = await self._member_org(conn, principal, request.org_id, admin_ok=True)
            page = paging.request(
                request.page_size, request.page_token, f"msig|{org.org_id}|{status}", default=_DEFAULT_PAGE
            )
            clauses: list[str] = ["org_id = :org"]
            params: dict[str, Any] = {"org": org.org_id, "limit": page.limit}
            if status:
                clauses.append("status = :s")
                params["s"] = status
            if (after := page.after_clause("create_time, multisig_tx_id", params)) is not None:
                clauses.append(after)
            found = list(
                (
                    await conn.execute(
                        text(
                            f"SELECT {_MSIG_COLUMNS} FROM ledger.multisig_txs WHERE {' AND '.join(clauses)}"
                            " ORDER BY create_time DESC, multisig_tx_id DESC LIMIT :limit"
                        ),
                        params,
                    )
                ).all()
            )
            rows, token = page.finish(found, lambda r: (r.create_time, r.multisig_tx_id))
            org_public = (await ids.public_ids(conn, [org.org_id], ORG_COMMAND))[org.org_id]
            public = await ids.public_ids(conn, [r.multisig_tx_id for r in rows], MULTISIG_COMMAND)
        return svc.ListMultisigTransactionsResponse(
            multisig_transactions=[_multisig(r, public[r.multisig_tx_id], org_public) for r in rows],
            next_page_token=token,
        )
