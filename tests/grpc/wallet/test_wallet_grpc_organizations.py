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
    await wallet.sql(
        "UPDATE ledger.multisig_txs SET status = 'APPROVED' WHERE multisig_tx_id = :m", m=init.request_id
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
    assert got.state == wallet_pb2.MULTISIG_TRANSACTION_STATE_APPROVED and list(got.approver_user_ids) == [a]
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
