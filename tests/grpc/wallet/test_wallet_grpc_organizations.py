"""Organisations over real gRPC: proposal to multisig, checks before acceptance, public ids, reads."""

from __future__ import annotations

import json
import uuid

import grpc
from gx.wallet.v1 import organization_service_pb2 as org
from gx.wallet.v1 import organization_service_pb2_grpc, wallet_pb2
from gx.wallet.v1 import wallet_service_pb2 as wsvc

from tests.grpc.wallet.wallet_harness import GX, Wallet, failure, now


def _rid() -> str:
    return str(uuid.uuid4())


def _stub(wallet: Wallet) -> organization_service_pb2_grpc.OrganizationServiceStub:
    return organization_service_pb2_grpc.OrganizationServiceStub(wallet.channel)


async def _proposed(wallet: Wallet, a: str, b: str) -> tuple[str, str]:
    """Propose an organisation of (a, b) as a, and project it; returns (public id, ledger id)."""
    op = await _stub(wallet).ProposeOrganization(
        org.ProposeOrganizationRequest(
            request_id=_rid(),
            name="Tea Co",
            type=wallet_pb2.ORGANIZATION_TYPE_BUSINESS,
            stakeholder_user_ids=[a, b],
        ),
        metadata=wallet.token(a),
    )
    row = (await wallet.commands("PROPOSE_ORGANIZATION"))[-1]
    await wallet.sql(
        "INSERT INTO ledger.organizations (org_id, name, type, country_code, status, stakeholder_ids, endorser_ids,"
        " create_time, block_number) VALUES (:o, 'Tea Co', 'BUSINESS', 'LK', 'PENDING_ENDORSEMENT', CAST(:s AS jsonb),"
        " CAST(:e AS jsonb), now(), 6)",
        o=row.request_id,
        s=json.dumps([a, b]),
        e=json.dumps([a]),
    )
    return op.name.removeprefix("operations/"), row.request_id


async def _activate(wallet: Wallet, ledger_id: str, balance: int = 100 * GX) -> None:
    await wallet.sql("UPDATE ledger.organizations SET status = 'ACTIVE' WHERE org_id = :o", o=ledger_id)
    await wallet.sql(
        "INSERT INTO ledger.wallets (wallet_id, account_type, country_code, balance_qirat, block_number, fabric_tx_id)"
        " VALUES (:o, 'ORGANIZATION', 'LK', :b, 7, 't')",
        o=ledger_id,
        b=balance,
    )


async def test_propose_records_the_caller_and_the_org_is_known_by_its_operation_id(wallet: Wallet) -> None:
    a, b = await wallet.user(country="LK"), await wallet.user(country="IN")
    public, ledger_id = await _proposed(wallet, a, b)
    (row,) = await wallet.commands()
    assert row.payload["organizationId"] == ledger_id == row.request_id
    assert (row.payload["proposerId"], row.payload["countryCode"], row.payload["type"]) == (
        a,
        "LK",
        "ORGANIZATION_TYPE_BUSINESS",
    )
    got = (
        await _stub(wallet).GetOrganization(
            org.GetOrganizationRequest(org_id=public), metadata=wallet.token(b)
        )
    ).organization
    assert (got.org_id, got.state, list(got.stakeholder_user_ids)) == (
        public,
        wallet_pb2.ORGANIZATION_STATE_PROPOSED,
        [a, b],
    )
    assert list(got.endorser_user_ids) == [a]
    outsider = await failure(
        _stub(wallet).GetOrganization(
            org.GetOrganizationRequest(org_id=public), metadata=wallet.token(str(uuid.uuid4()))
        )
    )
    assert outsider.code == grpc.StatusCode.NOT_FOUND
    mine = await _stub(wallet).ListOrganizations(org.ListOrganizationsRequest(), metadata=wallet.token(b))
    assert [o.org_id for o in mine.organizations] == [public]
    theirs = await _stub(wallet).ListOrganizations(
        org.ListOrganizationsRequest(), metadata=wallet.token(str(uuid.uuid4()))
    )
    assert list(theirs.organizations) == []


async def test_propose_checks_the_stakeholders(wallet: Wallet) -> None:
    a, b = await wallet.user(), await wallet.user()
    stub = _stub(wallet)

    def request(
        members: list[str], kind: int = wallet_pb2.ORGANIZATION_TYPE_NGO
    ) -> org.ProposeOrganizationRequest:
        return org.ProposeOrganizationRequest(
            request_id=_rid(), name="X", type=kind, stakeholder_user_ids=members
        )

    bad = await failure(stub.ProposeOrganization(request([a, a]), metadata=wallet.token(a)))
    assert "stakeholder_user_ids[1]" in bad.fields
    bad = await failure(stub.ProposeOrganization(request([b]), metadata=wallet.token(a)))
    assert bad.reason == "NOT_A_STAKEHOLDER"
    ghost = str(uuid.uuid4())
    bad = await failure(stub.ProposeOrganization(request([a, ghost]), metadata=wallet.token(a)))
    assert bad.reason == "USER_NOT_FOUND" and "stakeholder_user_ids[1]" in bad.fields
    # A government organisation has its own RPC (admins only; the ledger submits it as gx_admin).
    bad = await failure(
        stub.ProposeOrganization(
            request([a], wallet_pb2.ORGANIZATION_TYPE_GOVERNMENT), metadata=wallet.token(a)
        )
    )
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
    assert bad.reason == "GOVERNMENT_ORGANIZATION_RPC_REQUIRED" and "type" in bad.fields
    government = org.ProposeGovernmentOrganizationRequest(
        request_id=_rid(), name="X", stakeholder_user_ids=[a]
    )
    bad = await failure(stub.ProposeGovernmentOrganization(government, metadata=wallet.token(a)))
    assert bad.code == grpc.StatusCode.PERMISSION_DENIED
    bad = await failure(
        stub.ProposeOrganization(
            request([a], wallet_pb2.ORGANIZATION_TYPE_UNSPECIFIED), metadata=wallet.token(a)
        )
    )
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT and "type" in bad.fields
    assert await wallet.commands() == []


async def test_an_admin_proposes_a_government_organisation_as_its_own_command(wallet: Wallet) -> None:
    minister, aide = await wallet.user(country="LK"), await wallet.user(country="LK")
    op = await _stub(wallet).ProposeGovernmentOrganization(
        org.ProposeGovernmentOrganizationRequest(
            request_id=_rid(), name="Ministry", stakeholder_user_ids=[minister, aide]
        ),
        metadata=wallet.token(minister, "ADMIN"),
    )
    (row,) = await wallet.commands()
    # Its own command type, whose request message declares the gx_admin submitter.
    assert row.command_type == "PROPOSE_GOVERNMENT_ORGANIZATION"
    assert row.payload["organizationId"] == row.request_id and "type" not in row.payload
    assert (row.payload["proposerId"], row.payload["stakeholderIds"]) == (minister, [minister, aide])
    await wallet.sql(
        "INSERT INTO ledger.organizations (org_id, name, type, country_code, status, stakeholder_ids, endorser_ids,"
        " create_time, block_number) VALUES (:o, 'Ministry', 'GOVERNMENT', 'LK', 'PENDING_ENDORSEMENT',"
        " CAST(:s AS jsonb), CAST(:e AS jsonb), now(), 6)",
        o=row.request_id,
        s=json.dumps([minister, aide]),
        e=json.dumps([minister]),
    )
    # Known by its operation id, like every organisation.
    public = op.name.removeprefix("operations/")
    got = (
        await _stub(wallet).GetOrganization(
            org.GetOrganizationRequest(org_id=public), metadata=wallet.token(aide)
        )
    ).organization
    assert (got.org_id, got.type) == (public, wallet_pb2.ORGANIZATION_TYPE_GOVERNMENT)


async def test_endorse_then_activate(wallet: Wallet) -> None:
    a, b = await wallet.user(), await wallet.user()
    public, ledger_id = await _proposed(wallet, a, b)
    stub = _stub(wallet)
    again = await failure(
        stub.EndorseMembership(
            org.EndorseMembershipRequest(request_id=_rid(), org_id=public), metadata=wallet.token(a)
        )
    )
    assert again.reason == "ALREADY_ENDORSED"
    outsider = await failure(
        stub.EndorseMembership(
            org.EndorseMembershipRequest(request_id=_rid(), org_id=public),
            metadata=wallet.token(str(uuid.uuid4())),
        )
    )
    assert outsider.code == grpc.StatusCode.NOT_FOUND
    early = await failure(
        stub.ActivateOrganization(
            org.ActivateOrganizationRequest(request_id=_rid(), org_id=public), metadata=wallet.token(a)
        )
    )
    assert early.reason == "NOT_FULLY_ENDORSED"
    await stub.EndorseMembership(
        org.EndorseMembershipRequest(request_id=_rid(), org_id=public), metadata=wallet.token(b)
    )
    await wallet.sql(
        "UPDATE ledger.organizations SET status = 'ENDORSED', endorser_ids = CAST(:e AS jsonb) WHERE org_id = :o",
        o=ledger_id,
        e=json.dumps([a, b]),
    )
    await stub.ActivateOrganization(
        org.ActivateOrganizationRequest(request_id=_rid(), org_id=public), metadata=wallet.token(a)
    )
    rows = await wallet.commands()
    assert [(r.command_type, r.payload["organizationId"]) for r in rows[1:]] == [
        ("ENDORSE_MEMBERSHIP", ledger_id),
        ("ACTIVATE_ORGANIZATION", ledger_id),
    ]
    assert rows[1].payload["stakeholderId"] == b


async def test_rules_and_multisig_from_initiation_to_execution(wallet: Wallet) -> None:
    a, b = await wallet.user(), await wallet.user()
    payee = await wallet.user()
    public, ledger_id = await _proposed(wallet, a, b)
    await _activate(wallet, ledger_id)
    stub = _stub(wallet)
    bad = await failure(
        stub.DefineAuthRule(
            org.DefineAuthRuleRequest(
                request_id=_rid(),
                org_id=public,
                amount_threshold_qirat=0,
                required_approvers=2,
                approver_user_ids=[a],
            ),
            metadata=wallet.token(a),
        )
    )
    assert "required_approvers" in bad.fields
    bad = await failure(
        stub.DefineAuthRule(
            org.DefineAuthRuleRequest(
                request_id=_rid(),
                org_id=public,
                amount_threshold_qirat=0,
                required_approvers=1,
                approver_user_ids=[payee],
            ),
            metadata=wallet.token(a),
        )
    )
    assert bad.reason == "NOT_A_STAKEHOLDER"
    await stub.DefineAuthRule(
        org.DefineAuthRuleRequest(
            request_id=_rid(),
            org_id=public,
            amount_threshold_qirat=GX,
            required_approvers=2,
            approver_user_ids=[a, b],
        ),
        metadata=wallet.token(a),
    )
    rule = (await wallet.commands("DEFINE_AUTH_RULE"))[0].payload
    assert rule["rule"] == {"amountThresholdQirat": str(GX), "requiredApprovals": 2, "approverIds": [a, b]}

    too_much = await failure(
        stub.InitiateMultisigTransaction(
            org.InitiateMultisigTransactionRequest(
                request_id=_rid(), org_id=public, to_user_id=payee, amount_qirat=101 * GX
            ),
            metadata=wallet.token(a),
        )
    )
    assert too_much.reason == "INSUFFICIENT_FUNDS"
    op = await stub.InitiateMultisigTransaction(
        org.InitiateMultisigTransactionRequest(
            request_id=_rid(), org_id=public, to_user_id=payee, amount_qirat=10 * GX, remark="salary"
        ),
        metadata=wallet.token(a),
    )
    init = (await wallet.commands("INITIATE_MULTISIG_TX"))[0]
    assert (init.payload["toAccountId"], init.payload["initiatorId"]) == (payee, a)
    await wallet.sql(
        "INSERT INTO ledger.multisig_txs (multisig_tx_id, org_id, to_account_id, amount_qirat, remark, initiator_id,"
        " required_approvals, approver_ids, approval_ids, status, create_time, block_number)"
        " VALUES (:m, :o, :to, :amt, 'salary', :a, 2, CAST(:g AS jsonb), CAST(:ap AS jsonb), 'PENDING', now(), 8)",
        m=init.request_id,
        o=ledger_id,
        to=payee,
        amt=10 * GX,
        a=a,
        g=json.dumps([a, b]),
        ap=json.dumps([a]),
    )
    msig_public = op.name.removeprefix("operations/")
    again = await failure(
        stub.ApproveMultisigTransaction(
            org.ApproveMultisigTransactionRequest(
                request_id=_rid(), org_id=public, multisig_transaction_id=msig_public
            ),
            metadata=wallet.token(a),
        )
    )
    assert again.reason == "ALREADY_APPROVED"
    not_yet = await failure(
        stub.ExecuteMultisigTransaction(
            org.ExecuteMultisigTransactionRequest(
                request_id=_rid(), org_id=public, multisig_transaction_id=msig_public
            ),
            metadata=wallet.token(a),
        )
    )
    assert not_yet.reason == "MULTISIG_NOT_APPROVED"
    await stub.ApproveMultisigTransaction(
        org.ApproveMultisigTransactionRequest(
            request_id=_rid(), org_id=public, multisig_transaction_id=msig_public
        ),
        metadata=wallet.token(b),
    )
    approve = (await wallet.commands("APPROVE_MULTISIG_TX"))[0].payload
    assert (approve["multisigTxId"], approve["approverId"]) == (init.request_id, b)
    # The projector records bob's approval: with no rule, both stakeholders were needed.
    await wallet.sql(
        "UPDATE ledger.multisig_txs SET status = 'APPROVED', approval_ids = CAST(:ap AS jsonb)"
        " WHERE multisig_tx_id = :m",
        m=init.request_id,
        ap=json.dumps([a, b]),
    )
    await stub.ExecuteMultisigTransaction(
        org.ExecuteMultisigTransactionRequest(
            request_id=_rid(), org_id=public, multisig_transaction_id=msig_public
        ),
        metadata=wallet.token(b),
    )
    got = (
        await stub.GetMultisigTransaction(
            org.GetMultisigTransactionRequest(org_id=public, multisig_transaction_id=msig_public),
            metadata=wallet.token(b),
        )
    ).multisig_transaction
    assert (got.multisig_transaction_id, got.org_id, got.to_user_id) == (msig_public, public, payee)
    assert got.state == wallet_pb2.MULTISIG_TRANSACTION_STATE_APPROVED and list(got.approver_user_ids) == [
        a,
        b,
    ]
    assert got.kind == wallet_pb2.MULTISIG_TRANSACTION_KIND_PAYMENT and not got.HasField("rule_change")
    listed = await stub.ListMultisigTransactions(
        org.ListMultisigTransactionsRequest(
            org_id=public, state=wallet_pb2.MULTISIG_TRANSACTION_STATE_APPROVED
        ),
        metadata=wallet.token(str(uuid.uuid4()), "ADMIN"),
    )
    assert [m.multisig_transaction_id for m in listed.multisig_transactions] == [msig_public]


async def test_a_user_pays_an_organisation_by_its_public_id(wallet: Wallet) -> None:
    await wallet.system()
    a, b = await wallet.user(), await wallet.user()
    public, ledger_id = await _proposed(wallet, a, b)
    await _activate(wallet, ledger_id, balance=0)
    customer = await wallet.user()
    await wallet.wallets.Transfer(
        wsvc.TransferRequest(wallet_id="me", request_id=_rid(), to_wallet_id=public, amount_qirat=5 * GX),
        metadata=wallet.token(customer),
    )
    row = (await wallet.commands("TRANSFER_TOKENS"))[0]
    assert row.payload["toAccountId"] == ledger_id


async def test_admins_read_an_organisation_wallet_and_history_by_its_public_id(wallet: Wallet) -> None:
    a, b = await wallet.user(), await wallet.user()
    public, ledger_id = await _proposed(wallet, a, b)
    await _activate(wallet, ledger_id, balance=9 * GX)
    await wallet.history(ledger_id, "RECEIVED", 9 * GX, time=now())
    admin = wallet.token(str(uuid.uuid4()), "ADMIN")
    got = (await wallet.wallets.GetWallet(wsvc.GetWalletRequest(wallet_id=public), metadata=admin)).wallet
    assert (got.wallet_id, got.balance_qirat) == (ledger_id, 9 * GX)
    history = await wallet.wallets.ListTransactions(
        wsvc.ListTransactionsRequest(wallet_id=public), metadata=admin
    )
    assert [t.amount_qirat for t in history.transactions] == [9 * GX]
    # Stakeholders read their organisation through OrganizationService; the wallet is the operators'.
    bad = await failure(
        wallet.wallets.GetWallet(wsvc.GetWalletRequest(wallet_id=public), metadata=wallet.token(a))
    )
    assert bad.code == grpc.StatusCode.NOT_FOUND


async def _msig_row(
    wallet: Wallet,
    msig_id: str,
    org_id: str,
    initiator: str,
    approvals: list[str],
    *,
    status: str = "PENDING",
    amount: int = 10 * GX,
    to: str = "",
    change: dict | None = None,
) -> None:
    """A multisig transaction as the projector writes it (a rule change has no payee or amount)."""
    await wallet.sql(
        "INSERT INTO ledger.multisig_txs (multisig_tx_id, org_id, to_account_id, amount_qirat, remark, initiator_id,"
        " required_approvals, approver_ids, approval_ids, status, create_time, block_number, rule_change)"
        " VALUES (:m, :o, :to, :amt, '', :i, 2, '[]', CAST(:ap AS jsonb), :st, now(), 9, CAST(:ch AS jsonb))",
        m=msig_id,
        o=org_id,
        to=to,
        amt=0 if change else amount,
        i=initiator,
        ap=json.dumps(approvals),
        st=status,
        ch=json.dumps(change) if change else None,
    )


async def _set_rules(wallet: Wallet, ledger_id: str, rules: list[tuple[int, int, list[str]]]) -> None:
    await wallet.sql(
        "UPDATE ledger.organizations SET auth_rules = CAST(:r AS jsonb) WHERE org_id = :o",
        o=ledger_id,
        r=json.dumps(
            [{"amountThresholdQirat": t, "requiredApprovals": n, "approverIds": g} for t, n, g in rules]
        ),
    )


async def test_a_rule_change_is_a_multisig_transaction_approved_through_the_same_endpoints(
    wallet: Wallet,
) -> None:
    a, b = await wallet.user(), await wallet.user()
    public, ledger_id = await _proposed(wallet, a, b)
    await _activate(wallet, ledger_id)
    stub = _stub(wallet)
    op = await stub.DefineAuthRule(
        org.DefineAuthRuleRequest(
            request_id=_rid(),
            org_id=public,
            amount_threshold_qirat=0,
            required_approvers=1,
            approver_user_ids=[a],
        ),
        metadata=wallet.token(a),
    )
    define = (await wallet.commands("DEFINE_AUTH_RULE"))[0]
    change = {"setRule": {"amountThresholdQirat": "0", "requiredApprovals": 1, "approverIds": [a]}}
    await _msig_row(wallet, define.request_id, ledger_id, a, [a], change=change)
    proposal = op.name.removeprefix("operations/")
    # The proposal is named by the DefineAuthRule operation; b approves it like any multisig transaction.
    got = (
        await stub.GetMultisigTransaction(
            org.GetMultisigTransactionRequest(org_id=public, multisig_transaction_id=proposal),
            metadata=wallet.token(b),
        )
    ).multisig_transaction
    assert (got.multisig_transaction_id, got.kind, got.state) == (
        proposal,
        wallet_pb2.MULTISIG_TRANSACTION_KIND_RULE_CHANGE,
        wallet_pb2.MULTISIG_TRANSACTION_STATE_PENDING,
    )
    assert not got.rule_change.remove and list(got.rule_change.rule.approver_user_ids) == [a]
    again = await failure(
        stub.ApproveMultisigTransaction(
            org.ApproveMultisigTransactionRequest(
                request_id=_rid(), org_id=public, multisig_transaction_id=proposal
            ),
            metadata=wallet.token(a),
        )
    )
    assert again.reason == "ALREADY_APPROVED"
    # With no rule in force it needs both: executing on a's approval alone is refused.
    await wallet.sql(
        "UPDATE ledger.multisig_txs SET status = 'APPROVED' WHERE multisig_tx_id = :m", m=define.request_id
    )
    alone = await failure(
        stub.ExecuteMultisigTransaction(
            org.ExecuteMultisigTransactionRequest(
                request_id=_rid(), org_id=public, multisig_transaction_id=proposal
            ),
            metadata=wallet.token(a),
        )
    )
    assert (alone.code, alone.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "APPROVALS_INSUFFICIENT")
    assert await wallet.commands("EXECUTE_MULTISIG_TX") == []
    await stub.ApproveMultisigTransaction(
        org.ApproveMultisigTransactionRequest(
            request_id=_rid(), org_id=public, multisig_transaction_id=proposal
        ),
        metadata=wallet.token(b),
    )
    approve = (await wallet.commands("APPROVE_MULTISIG_TX"))[0].payload
    assert (approve["multisigTxId"], approve["approverId"]) == (define.request_id, b)
    # Once enacted, the rule is named by the operation that proposed it.
    await wallet.sql(
        "UPDATE ledger.organizations SET auth_rules = CAST(:r AS jsonb) WHERE org_id = :o",
        o=ledger_id,
        r=json.dumps([{**change["setRule"], "amountThresholdQirat": 0, "ruleId": define.request_id}]),
    )
    got_org = (
        await stub.GetOrganization(org.GetOrganizationRequest(org_id=public), metadata=wallet.token(b))
    ).organization
    assert [(r.rule_id, r.required_approvers, list(r.approver_user_ids)) for r in got_org.auth_rules] == [
        (proposal, 1, [a])
    ]
    listed = await stub.ListOrganizations(org.ListOrganizationsRequest(), metadata=wallet.token(a))
    assert [r.rule_id for r in listed.organizations[0].auth_rules] == [proposal]


async def test_remove_rule_names_an_existing_tier_of_an_active_organisation(wallet: Wallet) -> None:
    a, b = await wallet.user(), await wallet.user()
    public, ledger_id = await _proposed(wallet, a, b)
    stub = _stub(wallet)

    def remove(threshold: int) -> org.RemoveAuthRuleRequest:
        return org.RemoveAuthRuleRequest(request_id=_rid(), org_id=public, amount_threshold_qirat=threshold)

    early = await failure(stub.RemoveAuthRule(remove(0), metadata=wallet.token(a)))
    assert early.reason == "ORGANIZATION_NOT_ACTIVE"
    await _activate(wallet, ledger_id)
    missing = await failure(stub.RemoveAuthRule(remove(GX), metadata=wallet.token(a)))
    assert (missing.code, missing.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "AUTH_RULE_NOT_FOUND")
    outsider = await failure(stub.RemoveAuthRule(remove(GX), metadata=wallet.token(str(uuid.uuid4()))))
    assert outsider.code == grpc.StatusCode.NOT_FOUND
    assert await wallet.commands("REMOVE_AUTH_RULE") == []
    await _set_rules(wallet, ledger_id, [(0, 1, []), (GX, 2, [a, b])])
    await stub.RemoveAuthRule(remove(GX), metadata=wallet.token(b))
    (row,) = await wallet.commands("REMOVE_AUTH_RULE")
    assert (row.payload["organizationId"], row.payload["amountThresholdQirat"], row.payload["removedBy"]) == (
        ledger_id,
        str(GX),
        b,
    )
    # A full policy refuses a new tier but still takes a replacement.
    await _set_rules(wallet, ledger_id, [(t, 1, []) for t in range(20)])
    full = await failure(
        stub.DefineAuthRule(
            org.DefineAuthRuleRequest(
                request_id=_rid(),
                org_id=public,
                amount_threshold_qirat=99,
                required_approvers=1,
                approver_user_ids=[a],
            ),
            metadata=wallet.token(a),
        )
    )
    assert full.reason == "TOO_MANY_AUTH_RULES"
    await stub.DefineAuthRule(
        org.DefineAuthRuleRequest(
            request_id=_rid(),
            org_id=public,
            amount_threshold_qirat=5,
            required_approvers=2,
            approver_user_ids=[a, b],
        ),
        metadata=wallet.token(a),
    )
    assert len(await wallet.commands("DEFINE_AUTH_RULE")) == 1


async def test_approvals_are_judged_by_the_rules_in_force_not_those_at_initiation(wallet: Wallet) -> None:
    a, b, c = await wallet.user(), await wallet.user(), await wallet.user()
    payee = await wallet.user()
    op = await _stub(wallet).ProposeOrganization(
        org.ProposeOrganizationRequest(
            request_id=_rid(),
            name="Trio",
            type=wallet_pb2.ORGANIZATION_TYPE_NGO,
            stakeholder_user_ids=[a, b, c],
        ),
        metadata=wallet.token(a),
    )
    ledger_id = (await wallet.commands("PROPOSE_ORGANIZATION"))[-1].request_id
    public = op.name.removeprefix("operations/")
    await wallet.sql(
        "INSERT INTO ledger.organizations (org_id, name, type, country_code, status, stakeholder_ids, endorser_ids,"
        " create_time, block_number) VALUES (:o, 'Trio', 'NGO', 'LK', 'ACTIVE', CAST(:s AS jsonb), CAST(:s AS jsonb),"
        " now(), 6)",
        o=ledger_id,
        s=json.dumps([a, b, c]),
    )
    await wallet.sql(
        "INSERT INTO ledger.wallets (wallet_id, account_type, country_code, balance_qirat, block_number, fabric_tx_id)"
        " VALUES (:o, 'ORGANIZATION', 'LK', :b, 7, 't')",
        o=ledger_id,
        b=100 * GX,
    )
    # Initiated (and approved by a and b) under "2 of anyone"; the organisation then made tier 0 "2 of a, c".
    msig_id = str(uuid.uuid4())
    await _msig_row(wallet, msig_id, ledger_id, a, [a, b], status="APPROVED", to=payee)
    await _set_rules(wallet, ledger_id, [(0, 2, [a, c])])
    stub = _stub(wallet)
    stale = await failure(
        stub.ExecuteMultisigTransaction(
            org.ExecuteMultisigTransactionRequest(
                request_id=_rid(), org_id=public, multisig_transaction_id=msig_id
            ),
            metadata=wallet.token(a),
        )
    )
    assert stale.reason == "APPROVALS_INSUFFICIENT"
    # b is no longer in the group: their approval does not count, so they may not add one.
    other = str(uuid.uuid4())
    await _msig_row(wallet, other, ledger_id, c, [c], to=payee)
    refused = await failure(
        stub.ApproveMultisigTransaction(
            org.ApproveMultisigTransactionRequest(
                request_id=_rid(), org_id=public, multisig_transaction_id=other
            ),
            metadata=wallet.token(b),
        )
    )
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_AN_APPROVER")
    assert await wallet.commands("APPROVE_MULTISIG_TX") == await wallet.commands("EXECUTE_MULTISIG_TX") == []
    # c may approve the APPROVED one (it needs c now), and then it may be executed.
    await stub.ApproveMultisigTransaction(
        org.ApproveMultisigTransactionRequest(
            request_id=_rid(), org_id=public, multisig_transaction_id=msig_id
        ),
        metadata=wallet.token(c),
    )
    await wallet.sql(
        "UPDATE ledger.multisig_txs SET approval_ids = CAST(:ap AS jsonb) WHERE multisig_tx_id = :m",
        m=msig_id,
        ap=json.dumps([a, b, c]),
    )
    await stub.ExecuteMultisigTransaction(
        org.ExecuteMultisigTransactionRequest(
            request_id=_rid(), org_id=public, multisig_transaction_id=msig_id
        ),
        metadata=wallet.token(b),
    )
    assert [r.payload["multisigTxId"] for r in await wallet.commands("EXECUTE_MULTISIG_TX")] == [msig_id]


async def test_a_proposal_still_on_its_way_can_be_approved_and_the_approval_runs_after_it(
    wallet: Wallet,
) -> None:
    a, b, payee = await wallet.user(), await wallet.user(), await wallet.user()
    public, ledger_id = await _proposed(wallet, a, b)
    await _activate(wallet, ledger_id)
    stub = _stub(wallet)
    op = await stub.InitiateMultisigTransaction(
        org.InitiateMultisigTransactionRequest(
            request_id=_rid(), org_id=public, to_user_id=payee, amount_qirat=10 * GX
        ),
        metadata=wallet.token(a),
    )
    msig_public = op.name.removeprefix("operations/")
    init = (await wallet.commands("INITIATE_MULTISIG_TX"))[-1]
    # Not projected yet: b approves at once (the prerequisite is recorded, not absent).
    await stub.ApproveMultisigTransaction(
        org.ApproveMultisigTransactionRequest(
            request_id=_rid(), org_id=public, multisig_transaction_id=msig_public
        ),
        metadata=wallet.token(b),
    )
    [approval] = await wallet.sql(
        "SELECT payload, depends_on FROM outbox.commands WHERE command_type = 'APPROVE_MULTISIG_TX'"
    )
    assert approval.payload["multisigTxId"] == init.request_id and approval.payload["approverId"] == b
    assert approval.depends_on == init.id  # runs after the proposal; fails PREREQUISITE_FAILED if it fails

    # Another organisation's member cannot reach it through their own organisation.
    c, d = await wallet.user(), await wallet.user()
    other_public, other_ledger = await _proposed(wallet, c, d)
    await _activate(wallet, other_ledger)
    elsewhere = await failure(
        stub.ApproveMultisigTransaction(
            org.ApproveMultisigTransactionRequest(
                request_id=_rid(), org_id=other_public, multisig_transaction_id=msig_public
            ),
            metadata=wallet.token(c),
        )
    )
    assert elsewhere.reason == "MULTISIG_TRANSACTION_NOT_FOUND"
    # A proposal that failed is absent: approving it is refused and records nothing.
    await wallet.sql("UPDATE outbox.commands SET status = 'FAILED' WHERE id = :id", id=init.id)
    failed = await failure(
        stub.ApproveMultisigTransaction(
            org.ApproveMultisigTransactionRequest(
                request_id=_rid(), org_id=public, multisig_transaction_id=msig_public
            ),
            metadata=wallet.token(a),
        )
    )
    assert failed.reason == "MULTISIG_TRANSACTION_NOT_FOUND"
    assert len(await wallet.commands("APPROVE_MULTISIG_TX")) == 1
