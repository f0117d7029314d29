"""The wallet end to end over plain HTTP through the real Envoy edge, with the whole mesh behind it.

PostgreSQL, Redis, migrations, chaincode, devnet, identity, wallet, outbox, projector and Envoy
run as real processes started by the same code as `gx dev up`. The journey: an admin bootstraps
and initialises the countries; two users register, pass KYC, are approved and become ACTIVE with
genesis; A sends to B; balances and histories include the fee; an Idempotency-Key replay answers
the same operation; a frozen wallet cannot send; a paused system refuses transfers. At the end
the chain conserves the supply and the read models equal the chain.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy
from google.protobuf import json_format
from gx.ledger.v1 import queries_pb2

import ledger_rules as rules
from devstack.envoy import ensure_descriptor
from devstack.parts import devnet_org_dir
from fabric_client import Gateway, load_msp_identity
from tests.support.edge_rest import committed, create_super_admin, login, wait_operation
from tests.support.mail_queue import verify_email_over_rest
from tests.support.stack import EdgeStack, running_edge_stack

pytestmark = pytest.mark.e2e

GX = 1_000_000
PASSWORD = "Wallet e2e pass 2026!"
_MESH = (
    "postgres",
    "redis",
    "migrations",
    "chaincode",
    "devnet",
    "identity",
    "wallet",
    "outbox",
    "projector",
    "edge",
)


@pytest.fixture(scope="module")
def mesh() -> Iterator[EdgeStack]:
    """The whole mesh on free ports in a temp directory, stopped at the end of the module."""
    with running_edge_stack(parts=_MESH) as stack:
        yield stack


@pytest.fixture(scope="module")
def http(mesh: EdgeStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mesh.rest_url, timeout=30) as client:
        yield client


def _auth(token: str, **headers: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", **headers}


def _reason(response: httpx.Response) -> str:
    for detail in response.json().get("details", []):
        if detail.get("@type", "").endswith("google.rpc.ErrorInfo"):
            return str(detail["reason"])
    return ""


def _fields(response: httpx.Response) -> list[str]:
    for detail in response.json().get("details", []):
        if detail.get("@type", "").endswith("google.rpc.BadRequest"):
            return [v["field"] for v in detail.get("fieldViolations", [])]
    return []


# The names this module and its siblings (access, ordering, archive) follow operations by.
_wait, _committed = wait_operation, committed


@pytest.fixture(scope="module")
def root(mesh: EdgeStack, http: httpx.Client) -> str:
    """A super-admin's access token (made with the operator command, logged in through the edge)."""
    return login(http, create_super_admin(mesh.database_url, PASSWORD), PASSWORD)


@pytest.fixture(scope="module")
def system(http: httpx.Client, root: str) -> None:
    """Bootstrapped, with the shipped country table."""
    _committed(
        http,
        root,
        http.post("/v1/system:bootstrap", json={"requestId": str(uuid.uuid4())}, headers=_auth(root)),
    )
    _committed(
        http,
        root,
        http.post(
            "/v1/system/countries:initialize", json={"requestId": str(uuid.uuid4())}, headers=_auth(root)
        ),
    )
    status = http.get("/v1/system", headers=_auth(root)).json()["systemStatus"]
    assert status["bootstrapped"] and status["countryCount"] == 200
    assert int(status["totalSupplyQirat"]) == rules.TOTAL_SUPPLY


def _onboard(http: httpx.Client, root: str, country: str = "LK") -> tuple[str, str]:
    """Register, log in, verify the email with the mailed code, submit KYC, get approved and wait
    until ACTIVE; returns (user id, token)."""
    email = f"u-{uuid.uuid4().hex[:10]}@example.com"
    registered = http.post(
        "/v1/users:register", json={"email": email, "password": PASSWORD, "countryCode": country}
    )
    assert registered.status_code == 200, registered.text
    user_id = registered.json()["user"]["userId"]
    token = http.post("/v1/auth:login", json={"email": email, "password": PASSWORD}).json()["accessToken"]
    verify_email_over_rest(http, email, token)
    docs = [{"type": "KYC_DOCUMENT_TYPE_PASSPORT", "sha256": hashlib.sha256(email.encode()).hexdigest()}]
    kyc = {
        "firstName": "A",
        "lastName": "B",
        "dateOfBirth": "1990-05-17",
        "nationality": country,
        "documents": docs,
    }
    submitted = http.post("/v1/users/me/kyc:submit", json=kyc, headers=_auth(token))
    assert submitted.status_code == 200, submitted.text
    approved = http.post(
        f"/v1/users/{user_id}/kyc:approve", json={"requestId": str(uuid.uuid4())}, headers=_auth(root)
    )
    _committed(http, root, approved)
    user = http.get("/v1/users/me", headers=_auth(token)).json()["user"]
    assert user["state"] == "USER_STATE_ACTIVE", user
    return user_id, token


def _wallet(http: httpx.Client, token: str) -> dict[str, Any]:
    got = http.get("/v1/wallets/me", headers=_auth(token))
    assert got.status_code == 200, got.text
    return dict(got.json()["wallet"])


def _history(http: httpx.Client, token: str, **params: Any) -> list[dict[str, Any]]:
    got = http.get("/v1/wallets/me/transactions", params=params, headers=_auth(token))
    assert got.status_code == 200, got.text
    return list(got.json().get("transactions", []))


def _outbox_count(mesh: EdgeStack) -> int:
    engine = sqlalchemy.create_engine(mesh.database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sqlalchemy.text("SELECT count(*) FROM outbox.commands")).scalar_one())
    finally:
        engine.dispose()


def test_the_whole_journey(mesh: EdgeStack, http: httpx.Client, root: str, system: None) -> None:
    alice, alice_token = _onboard(http, root)
    bob, bob_token = _onboard(http, root)
    genesis = rules.PHASES[0][1] * GX
    a0, b0 = _wallet(http, alice_token), _wallet(http, bob_token)
    assert (int(a0["balanceQirat"]), int(b0["balanceQirat"])) == (genesis, genesis)
    assert a0["genesisReceived"] and a0["walletId"] == alice and a0["countryCode"] == "LK"

    # A previews, then sends 50 GX to B; the Idempotency-Key header stands in for requestId.
    amount, fee = 50 * GX, 50 * GX * 5 // 10_000
    preview = http.post(
        "/v1/wallets/me:previewTransfer",
        json={"toUserId": bob, "amountQirat": str(amount)},
        headers=_auth(alice_token),
    )
    assert preview.status_code == 200, preview.text
    assert (int(preview.json()["feeQirat"]), int(preview.json()["totalQirat"])) == (fee, amount + fee)
    key = str(uuid.uuid4())
    body = {"toUserId": bob, "amountQirat": str(amount), "remark": "rent"}
    sent = http.post(
        "/v1/wallets/me:transfer", json=body, headers=_auth(alice_token, **{"Idempotency-Key": key})
    )
    assert sent.status_code == 202, sent.text
    operation = sent.json()
    assert (
        operation["name"].startswith("operations/")
        and operation["commandType"] == "COMMAND_TYPE_TRANSFER_TOKENS"
    )
    replay = http.post(
        "/v1/wallets/me:transfer", json=body, headers=_auth(alice_token, **{"Idempotency-Key": key})
    )
    assert replay.status_code == 202 and replay.json()["name"] == operation["name"]
    reused = http.post(
        "/v1/wallets/me:transfer",
        json={**body, "amountQirat": "1"},
        headers=_auth(alice_token, **{"Idempotency-Key": key}),
    )
    assert reused.status_code == 400 and _reason(reused) == "REQUEST_ID_REUSED"
    done = _wait(http, alice_token, operation)
    assert (
        done["state"] == "OPERATION_STATE_COMMITTED" and done["fabricTxId"] and int(done["blockNumber"]) > 0
    )
    # B may not follow A's operation.
    assert (
        http.get(f"/v1/operations/{operation['name'].split('/')[1]}", headers=_auth(bob_token)).status_code
        == 404
    )

    a1, b1 = _wallet(http, alice_token), _wallet(http, bob_token)
    assert int(a1["balanceQirat"]) == genesis - amount - fee
    assert int(b1["balanceQirat"]) == genesis + amount
    a_hist, b_hist = _history(http, alice_token), _history(http, bob_token)
    assert [t["type"] for t in a_hist] == [
        "TRANSACTION_TYPE_FEE",
        "TRANSACTION_TYPE_SENT",
        "TRANSACTION_TYPE_GENESIS",
    ]
    sent_entry = a_hist[1]
    assert (int(sent_entry["amountQirat"]), int(sent_entry["feeQirat"])) == (amount, fee)
    assert sent_entry["counterparty"] == bob and sent_entry["remark"] == "rent"
    assert sent_entry["operation"] == operation["name"] and sent_entry["fabricTxId"] == done["fabricTxId"]
    assert int(a_hist[0]["amountQirat"]) == fee
    assert [t["type"] for t in b_hist] == ["TRANSACTION_TYPE_RECEIVED", "TRANSACTION_TYPE_GENESIS"]
    assert int(b_hist[0]["amountQirat"]) == amount and b_hist[0]["counterparty"] == alice
    only_sent = _history(http, alice_token, types="TRANSACTION_TYPE_SENT")
    assert [t["txId"] for t in only_sent] == [sent_entry["txId"]]
    paged = _history(http, alice_token, pageSize=1)
    assert len(paged) == 1

    # A frozen wallet cannot send; unfrozen, it can again.
    _committed(
        http,
        root,
        http.post(
            f"/v1/wallets/{alice}:freeze",
            json={"requestId": str(uuid.uuid4()), "reason": "review"},
            headers=_auth(root),
        ),
    )
    assert _wallet(http, alice_token)["frozen"]
    frozen = http.post(
        "/v1/wallets/me:transfer", json={**body, "requestId": str(uuid.uuid4())}, headers=_auth(alice_token)
    )
    assert frozen.status_code == 400 and _reason(frozen) == "WALLET_FROZEN", frozen.text
    _committed(
        http,
        root,
        http.post(
            f"/v1/wallets/{alice}:unfreeze", json={"requestId": str(uuid.uuid4())}, headers=_auth(root)
        ),
    )

    # A paused system refuses transfers with a clear error; resumed, they go through.
    _committed(
        http,
        root,
        http.post(
            "/v1/system:pause",
            json={"requestId": str(uuid.uuid4()), "reason": "upgrade window"},
            headers=_auth(root),
        ),
    )
    paused = http.post(
        "/v1/wallets/me:transfer",
        json={"toUserId": alice, "amountQirat": "1000", "requestId": str(uuid.uuid4())},
        headers=_auth(bob_token),
    )
    assert paused.status_code == 400 and _reason(paused) == "SYSTEM_PAUSED", paused.text
    assert "upgrade window" in paused.json()["message"]
    _committed(
        http, root, http.post("/v1/system:resume", json={"requestId": str(uuid.uuid4())}, headers=_auth(root))
    )
    back = http.post(
        "/v1/wallets/me:transfer",
        json={"toWalletId": alice, "amountQirat": str(2 * GX), "requestId": str(uuid.uuid4())},
        headers=_auth(bob_token),
    )
    _committed(http, bob_token, back)
    assert int(_wallet(http, alice_token)["balanceQirat"]) == genesis - amount - fee + 2 * GX

    # Invariants: the chain conserves the supply, and the read models equal the chain.
    chain = _chain_balances(mesh)
    assert sum(chain.values()) == rules.TOTAL_SUPPLY
    assert _read_model_balances(mesh) == chain


@pytest.fixture(scope="module")
def pair(http: httpx.Client, root: str, system: None) -> tuple[str, str]:
    """An active sender's token and an active recipient's user id, for the bad-input tests."""
    _, token = _onboard(http, root)
    recipient, _ = _onboard(http, root)
    return token, recipient


def test_a_missing_request_id_is_refused_and_nothing_recorded(
    mesh: EdgeStack, http: httpx.Client, pair: tuple[str, str]
) -> None:
    token, recipient = pair
    before = _outbox_count(mesh)
    got = http.post(
        "/v1/wallets/me:transfer", json={"toUserId": recipient, "amountQirat": "5"}, headers=_auth(token)
    )
    assert got.status_code == 400 and "request_id" in _fields(got), got.text
    assert _outbox_count(mesh) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amountQirat": "-5"}, "amount_qirat"),
        ({"amountQirat": "0"}, "amount_qirat"),
        ({"toUserId": "not-a-uuid"}, "to_user_id"),
        ({"requestId": "12345"}, "request_id"),
        ({"toUserId": None, "toWalletId": "zz"}, "to_wallet_id"),
        ({"toUserId": str(uuid.uuid4())}, "to_user_id"),
    ],
)
def test_bad_transfers_answer_400_with_the_field_and_record_nothing(
    mesh: EdgeStack, http: httpx.Client, pair: tuple[str, str], body: dict[str, str | None], field: str
) -> None:
    token, recipient = pair
    before = _outbox_count(mesh)
    merged = {"toUserId": recipient, "amountQirat": str(GX), "requestId": str(uuid.uuid4()), **body}
    request = {k: v for k, v in merged.items() if v is not None}
    got = http.post("/v1/wallets/me:transfer", json=request, headers=_auth(token))
    assert got.status_code == 400, got.text
    assert field in _fields(got), got.text
    assert _outbox_count(mesh) == before


@pytest.mark.parametrize("amount", ["1.5", "9223372036854775808", "ten", "-9223372036854775809"])
def test_amounts_that_are_not_int64_are_refused_at_the_edge(
    mesh: EdgeStack, http: httpx.Client, pair: tuple[str, str], amount: str
) -> None:
    token, recipient = pair
    before = _outbox_count(mesh)
    request = {"toUserId": recipient, "amountQirat": amount, "requestId": str(uuid.uuid4())}
    got = http.post("/v1/wallets/me:transfer", json=request, headers=_auth(token))
    # The transcoder refuses the JSON before any service sees it, naming the field.
    assert got.status_code == 400, got.text
    assert got.json()["message"].startswith("amount_qirat:"), got.text
    assert _reason(got) == "MALFORMED_REQUEST"
    assert _outbox_count(mesh) == before


def _chain_balances(mesh: EdgeStack) -> dict[str, int]:
    """Every account's balance as the chaincode reports it (evaluated on the devnet, no read model)."""
    import asyncio

    org = devnet_org_dir(mesh.config)

    async def fetch() -> dict[str, int]:
        identity, signer = load_msp_identity("Org1MSP", org / "users" / "User1@org1.example.com" / "msp")
        balances: dict[str, int] = {}
        async with Gateway.connect(mesh.grpc["devnet"], identity, signer) as gateway:
            contract = gateway.network("gxchannel").contract("gx")
            token = ""
            while True:
                request = queries_pb2.ListAccountsRequest(page_size=500, page_token=token)
                raw = await contract.evaluate("token:ListAccounts", args=[json_format.MessageToJson(request)])
                result = json_format.Parse(
                    raw.decode(), queries_pb2.ListAccountsResult(), ignore_unknown_fields=True
                )
                balances.update({a.account_id: a.balance_qirat for a in result.accounts})
                token = result.next_page_token
                if not token:
                    return balances

    return asyncio.run(fetch())


def _read_model_balances(mesh: EdgeStack) -> dict[str, int]:
    engine = sqlalchemy.create_engine(mesh.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sqlalchemy.text("SELECT wallet_id, balance_qirat FROM ledger.wallets")).all()
        return {r.wallet_id: int(r.balance_qirat) for r in rows}
    finally:
        engine.dispose()


_SERVICES = (
    "WalletService",
    "AdminService",
    "OrganizationService",
    "LoanService",
    "GovernanceService",
    "TaxService",
)


def _grpcurl(*args: str) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).parent / "grpcurl"
    return subprocess.run(
        [str(binary) if binary.exists() else "grpcurl", "-plaintext", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("through", ["direct", "edge"])
def test_grpcurl_reaches_every_wallet_service(mesh: EdgeStack, pair: tuple[str, str], through: str) -> None:
    if through == "direct":
        target, schema = mesh.grpc["wallet"], []
    else:
        # Through the edge, server reflection is answered by one upstream (identity), so the
        # schema comes from the descriptor set the edge itself transcodes with.
        target, schema = (
            mesh.edge_address,
            ["-protoset", str(ensure_descriptor(mesh.config.repo_root, mesh.state_dir))],
        )
    listed = _grpcurl(*schema, target, "list")
    assert listed.returncode == 0, listed.stderr
    assert {f"gx.wallet.v1.{s}" for s in _SERVICES} <= set(listed.stdout.split())
    token, _ = pair
    got = _grpcurl(
        *schema,
        "-H",
        f"authorization: Bearer {token}",
        "-d",
        '{"walletId": "me"}',
        target,
        "gx.wallet.v1.WalletService/GetWallet",
    )
    assert got.returncode == 0, got.stderr
    wallet = json.loads(got.stdout)["wallet"]
    # grpcurl 1.8.6 prints proto field names.
    assert int(wallet.get("balanceQirat", wallet.get("balance_qirat", 0))) > 0
    refused = _grpcurl(*schema, "-d", '{"walletId": "me"}', target, "gx.wallet.v1.WalletService/GetWallet")
    assert refused.returncode != 0 and "Unauthenticated" in refused.stderr


@pytest.mark.parametrize(
    "path",
    [
        "/v1/system",
        "/v1/system/countries",
        "/v1/treasuries/LK",
        "/v1/organizations",
        "/v1/loans",
        "/v1/proposals",
    ],
)
def test_rest_reads_of_every_wallet_service_answer_through_the_edge(
    http: httpx.Client, root: str, system: None, path: str
) -> None:
    got = http.get(path, headers=_auth(root))
    assert got.status_code == 200, got.text


def test_an_organisation_from_proposal_to_a_multisig_payment_on_the_chain(
    mesh: EdgeStack, http: httpx.Client, root: str, system: None
) -> None:
    alice, alice_token = _onboard(http, root)
    bob, bob_token = _onboard(http, root)
    proposed = http.post(
        "/v1/organizations",
        json={
            "requestId": str(uuid.uuid4()),
            "name": "Tea Co",
            "type": "ORGANIZATION_TYPE_BUSINESS",
            "stakeholderUserIds": [alice, bob],
        },
        headers=_auth(alice_token),
    )
    _committed(http, alice_token, proposed)
    # The organisation is named by the operation that proposed it, before and after it commits.
    org_id = proposed.json()["name"].removeprefix("operations/")
    got = http.get(f"/v1/organizations/{org_id}", headers=_auth(bob_token))
    assert got.status_code == 200, got.text
    assert got.json()["organization"]["state"] == "ORGANIZATION_STATE_PROPOSED"
    endorse = http.post(
        f"/v1/organizations/{org_id}:endorse", json={"requestId": str(uuid.uuid4())}, headers=_auth(bob_token)
    )
    _committed(http, bob_token, endorse)
    activate = http.post(
        f"/v1/organizations/{org_id}:activate",
        json={"requestId": str(uuid.uuid4())},
        headers=_auth(alice_token),
    )
    _committed(http, alice_token, activate)
    assert http.get(f"/v1/organizations/{org_id}", headers=_auth(alice_token)).json()["organization"][
        "state"
    ] == ("ORGANIZATION_STATE_ACTIVE")

    # A customer pays the organisation by its public id; the merchant fee applies.
    pay = http.post(
        "/v1/wallets/me:transfer",
        json={"requestId": str(uuid.uuid4()), "toWalletId": org_id, "amountQirat": str(20 * GX)},
        headers=_auth(alice_token),
    )
    _committed(http, alice_token, pay)
    org = http.get(f"/v1/organizations/{org_id}", headers=_auth(alice_token)).json()["organization"]
    assert int(org["balanceQirat"]) == 20 * GX

    # Without a rule every stakeholder must approve: the initiator's approval counts, bob's completes it.
    bob_before = int(_wallet(http, bob_token)["balanceQirat"])
    initiated = http.post(
        f"/v1/organizations/{org_id}/multisigTransactions",
        json={"requestId": str(uuid.uuid4()), "toUserId": bob, "amountQirat": str(5 * GX), "remark": "wages"},
        headers=_auth(alice_token),
    )
    _committed(http, alice_token, initiated)
    msig_id = initiated.json()["name"].removeprefix("operations/")
    msig = http.get(f"/v1/organizations/{org_id}/multisigTransactions/{msig_id}", headers=_auth(bob_token))
    assert msig.status_code == 200, msig.text
    assert msig.json()["multisigTransaction"]["state"] == "MULTISIG_TRANSACTION_STATE_PENDING"
    approved = http.post(
        f"/v1/organizations/{org_id}/multisigTransactions/{msig_id}:approve",
        json={"requestId": str(uuid.uuid4())},
        headers=_auth(bob_token),
    )
    _committed(http, bob_token, approved)
    msig = http.get(f"/v1/organizations/{org_id}/multisigTransactions/{msig_id}", headers=_auth(bob_token))
    assert msig.json()["multisigTransaction"]["state"] == "MULTISIG_TRANSACTION_STATE_EXECUTED"
    assert int(_wallet(http, bob_token)["balanceQirat"]) == bob_before + 5 * GX
    received = _history(http, bob_token, types="TRANSACTION_TYPE_ORG_TRANSFER")
    assert [int(t["amountQirat"]) for t in received] == [5 * GX]

    chain = _chain_balances(mesh)
    assert sum(chain.values()) == rules.TOTAL_SUPPLY
    assert _read_model_balances(mesh) == chain


def _organization_of(http: httpx.Client, members: list[tuple[str, str]], funds: int) -> str:
    """An active organisation of *members* (id, token), funded with *funds* Qirat by the first."""
    first_token, others = members[0][1], members[1:]
    proposed = http.post(
        "/v1/organizations",
        json={
            "requestId": str(uuid.uuid4()),
            "name": "Co-op",
            "type": "ORGANIZATION_TYPE_NGO",
            "stakeholderUserIds": [m for m, _ in members],
        },
        headers=_auth(first_token),
    )
    _committed(http, first_token, proposed)
    org_id = proposed.json()["name"].removeprefix("operations/")
    for _, token in others:
        endorse = http.post(
            f"/v1/organizations/{org_id}:endorse", json={"requestId": str(uuid.uuid4())}, headers=_auth(token)
        )
        _committed(http, token, endorse)
    activate = http.post(
        f"/v1/organizations/{org_id}:activate",
        json={"requestId": str(uuid.uuid4())},
        headers=_auth(first_token),
    )
    _committed(http, first_token, activate)
    pay = http.post(
        "/v1/wallets/me:transfer",
        json={"requestId": str(uuid.uuid4()), "toWalletId": org_id, "amountQirat": str(funds)},
        headers=_auth(first_token),
    )
    _committed(http, first_token, pay)
    return org_id


def test_one_member_alone_cannot_take_an_organisations_funds(
    mesh: EdgeStack, http: httpx.Client, root: str, system: None
) -> None:
    """The attack from issue 9, through the edge: one of three writes themself a 1-of-1 rule and pays themself."""
    alice, alice_token = _onboard(http, root)
    bob, bob_token = _onboard(http, root)
    carol, carol_token = _onboard(http, root)
    org_id = _organization_of(http, [(bob, bob_token), (alice, alice_token), (carol, carol_token)], 100 * GX)

    def org() -> dict[str, Any]:
        got = http.get(f"/v1/organizations/{org_id}", headers=_auth(alice_token))
        assert got.status_code == 200, got.text
        return dict(got.json()["organization"])

    def msig(msig_id: str) -> dict[str, Any]:
        got = http.get(
            f"/v1/organizations/{org_id}/multisigTransactions/{msig_id}", headers=_auth(alice_token)
        )
        assert got.status_code == 200, got.text
        return dict(got.json()["multisigTransaction"])

    assert int(org()["balanceQirat"]) == 100 * GX
    alice_before = int(_wallet(http, alice_token)["balanceQirat"])
    # 1. Alice defines a 1-of-1 rule for herself: accepted as a proposal, not in force.
    rule = http.post(
        f"/v1/organizations/{org_id}/authRules",
        json={
            "requestId": str(uuid.uuid4()),
            "amountThresholdQirat": "0",
            "requiredApprovers": 1,
            "approverUserIds": [alice],
        },
        headers=_auth(alice_token),
    )
    _committed(http, alice_token, rule)
    rule_id = rule.json()["name"].removeprefix("operations/")
    proposal = msig(rule_id)
    assert proposal["kind"] == "MULTISIG_TRANSACTION_KIND_RULE_CHANGE"
    assert proposal["state"] == "MULTISIG_TRANSACTION_STATE_PENDING" and proposal["requiredApprovers"] == 3
    assert org().get("authRules", []) == []
    # 2. She pays herself 90 GX: it waits for the others.
    grab = http.post(
        f"/v1/organizations/{org_id}/multisigTransactions",
        json={"requestId": str(uuid.uuid4()), "toUserId": alice, "amountQirat": str(90 * GX)},
        headers=_auth(alice_token),
    )
    _committed(http, alice_token, grab)
    grab_id = grab.json()["name"].removeprefix("operations/")
    assert msig(grab_id)["state"] == "MULTISIG_TRANSACTION_STATE_PENDING"
    # 3. Nothing she can do alone moves either: execute, approve again.
    for msig_id in (grab_id, rule_id):
        execute = http.post(
            f"/v1/organizations/{org_id}/multisigTransactions/{msig_id}:execute",
            json={"requestId": str(uuid.uuid4())},
            headers=_auth(alice_token),
        )
        assert execute.status_code == 400 and _reason(execute) == "MULTISIG_NOT_APPROVED", execute.text
        again = http.post(
            f"/v1/organizations/{org_id}/multisigTransactions/{msig_id}:approve",
            json={"requestId": str(uuid.uuid4())},
            headers=_auth(alice_token),
        )
        assert again.status_code == 400 and _reason(again) == "ALREADY_APPROVED", again.text
    assert int(org()["balanceQirat"]) == 100 * GX
    assert int(_wallet(http, alice_token)["balanceQirat"]) == alice_before
    chain = _chain_balances(mesh)
    assert chain[alice] == alice_before
    assert _read_model_balances(mesh) == chain
    # 4. With bob only, still not everyone; carol's approval is the last one needed.
    for token, state in (
        (bob_token, "MULTISIG_TRANSACTION_STATE_PENDING"),
        (carol_token, "MULTISIG_TRANSACTION_STATE_EXECUTED"),
    ):
        approve = http.post(
            f"/v1/organizations/{org_id}/multisigTransactions/{grab_id}:approve",
            json={"requestId": str(uuid.uuid4())},
            headers=_auth(token),
        )
        _committed(http, token, approve)
        assert msig(grab_id)["state"] == state
    assert int(_wallet(http, alice_token)["balanceQirat"]) == alice_before + 90 * GX
    assert org().get("authRules", []) == []
    # Removing a rule goes the same way, and only a rule that exists (the new route, through the edge).
    missing = http.post(
        f"/v1/organizations/{org_id}/authRules:remove",
        json={"requestId": str(uuid.uuid4()), "amountThresholdQirat": "5"},
        headers=_auth(bob_token),
    )
    assert missing.status_code == 400 and _reason(missing) == "AUTH_RULE_NOT_FOUND", missing.text


def _login(http: httpx.Client, email: str) -> str:
    return login(http, email, PASSWORD)


def _lower_loan_bar(http: httpx.Client, root: str) -> None:
    # New users start with trust 10; the operators lower the bar for the tests' borrowers.
    lowered = http.patch(
        "/v1/system/parameters/loan_min_trust_score",
        json={"requestId": str(uuid.uuid4()), "value": "0"},
        headers=_auth(root),
    )
    _committed(http, root, lowered)


def _loan_officer(http: httpx.Client, root: str) -> tuple[str, str]:
    """A new user made an admin on the ledger and in the API, logged in again: (user id, token)."""
    officer, _ = _onboard(http, root)
    _committed(
        http,
        root,
        http.post(
            "/v1/admins", json={"requestId": str(uuid.uuid4()), "userId": officer}, headers=_auth(root)
        ),
    )
    roles = http.post(
        f"/v1/users/{officer}:setRoles",
        json={"requestId": str(uuid.uuid4()), "roles": ["ROLE_USER", "ROLE_ADMIN"]},
        headers=_auth(root),
    )
    assert roles.status_code == 200, roles.text
    officer_email = http.get(f"/v1/users/{officer}", headers=_auth(root)).json()["user"]["email"]
    return officer, _login(http, officer_email)


def test_a_loan_applied_approved_by_an_onchain_admin_and_repaid(
    mesh: EdgeStack, http: httpx.Client, root: str, system: None
) -> None:
    _lower_loan_bar(http, root)
    borrower, borrower_token = _onboard(http, root)
    # The loan officer becomes an admin on the ledger and in the API.
    officer, officer_token = _loan_officer(http, root)

    before = int(_wallet(http, borrower_token)["balanceQirat"])
    applied = http.post(
        "/v1/loans",
        json={
            "requestId": str(uuid.uuid4()),
            "amountQirat": str(100 * GX),
            "collateralHash": hashlib.sha256(b"deed").hexdigest(),
        },
        headers=_auth(borrower_token),
    )
    _committed(http, borrower_token, applied)
    loan_id = applied.json()["name"].removeprefix("operations/")
    queue = http.get(
        "/v1/loans", params={"state": "LOAN_STATE_PENDING_APPROVAL"}, headers=_auth(officer_token)
    )
    assert loan_id in [item["loanId"] for item in queue.json()["loans"]]
    approved = http.post(
        f"/v1/loans/{loan_id}:approve", json={"requestId": str(uuid.uuid4())}, headers=_auth(officer_token)
    )
    _committed(http, officer_token, approved)
    assert int(_wallet(http, borrower_token)["balanceQirat"]) == before + 100 * GX
    repaid = http.post(
        f"/v1/loans/{loan_id}:repay",
        json={"requestId": str(uuid.uuid4()), "amountQirat": str(100 * GX)},
        headers=_auth(borrower_token),
    )
    _committed(http, borrower_token, repaid)
    loan = http.get(f"/v1/loans/{loan_id}", headers=_auth(borrower_token)).json()["loan"]
    assert loan["borrowerUserId"] == borrower
    assert loan["state"] == "LOAN_STATE_REPAID" and int(loan["outstandingQirat"]) == 0
    assert loan["approverUserId"] == officer
    assert int(_wallet(http, borrower_token)["balanceQirat"]) == before
    assert _read_model_balances(mesh) == _chain_balances(mesh)


def test_a_duplicate_still_in_flight_answers_409(
    mesh: EdgeStack, http: httpx.Client, root: str, system: None
) -> None:
    from services.common.idempotency import lock_id

    sender, token = _onboard(http, root)
    recipient, _ = _onboard(http, root)
    key = str(uuid.uuid4())
    # Hold the very lock the first request holds while its accept statement runs (a PostgreSQL
    # advisory lock: the transfer accept uses no Redis).
    engine = sqlalchemy.create_engine(mesh.database_url)
    try:
        with engine.connect() as holder:
            holder.execute(
                sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": lock_id("wallet.Transfer", sender, key)}
            )
            before = _outbox_count(mesh)
            got = http.post(
                "/v1/wallets/me:transfer",
                json={"toUserId": recipient, "amountQirat": "1000"},
                headers=_auth(token, **{"Idempotency-Key": key}),
            )
            holder.execute(sqlalchemy.text("SELECT pg_advisory_unlock_all()"))
        assert got.status_code == 409 and _reason(got) == "REQUEST_IN_FLIGHT", got.text
        assert _outbox_count(mesh) == before
    finally:
        engine.dispose()
