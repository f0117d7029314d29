"""A user's operation sent with a partner's API key fires that partner's webhook, through the real Envoy edge and the
whole mesh (identity, wallet, licensing, outbox, projector, devnet, notifier): the edge proves the partner to the wallet
with `x-gx-partner-token`, the outbox records it, and the partner's receiver on 127.0.0.1 gets a signed
`operation.committed`. Without the key nothing is sent; a client's forged partner header is dropped at the edge and
refused by a service reached directly; another partner's endpoint gets nothing."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import jwt
import pytest
import sqlalchemy
from cryptography.hazmat.primitives.asymmetric import ec
from grpc_status import rpc_status
from gx.wallet.v1 import wallet_service_pb2 as wallet_svc
from gx.wallet.v1 import wallet_service_pb2_grpc

from services.common import errors
from services.common.auth import PARTNER_TOKEN_HEADER
from services.common.webhook_signature import verify
from tests.e2e.licensing.edge_partner import PASSWORD, Partner, bearer, create_admin, keyed, login, onboard
from tests.support.edge_rest import committed
from tests.support.mail_queue import verify_email_over_rest
from tests.support.stack import EdgeStack, running_edge_stack
from tests.support.webhook_receiver import Receiver, running_receiver

pytestmark = pytest.mark.e2e

_MESH = (
    "postgres",
    "redis",
    "migrations",
    "chaincode",
    "devnet",
    "identity",
    "wallet",
    "licensing",
    "outbox",
    "projector",
    "mail",
    "notifier",
    "edge",
)
GX = 1_000_000


@pytest.fixture(scope="module")
def mesh() -> Iterator[EdgeStack]:
    with running_edge_stack(parts=_MESH) as stack:
        yield stack


@pytest.fixture(scope="module")
def http(mesh: EdgeStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mesh.rest_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def root(mesh: EdgeStack, http: httpx.Client) -> str:
    """A super-admin's token, with the system bootstrapped and the countries initialised."""
    token = create_admin(mesh, http)
    for path in ("/v1/system:bootstrap", "/v1/system/countries:initialize"):
        committed(http, token, http.post(path, json={"requestId": str(uuid.uuid4())}, headers=bearer(token)))
    return token


def _active_user(http: httpx.Client, root: str) -> tuple[str, str]:
    """Register, verify the email, pass KYC and wait until ACTIVE (with genesis); returns (user id, token)."""
    email = f"u-{uuid.uuid4().hex[:10]}@example.com"
    registered = http.post(
        "/v1/users:register", json={"email": email, "password": PASSWORD, "countryCode": "LK"}
    )
    assert registered.status_code == 200, registered.text
    user_id = str(registered.json()["user"]["userId"])
    token = login(http, email)
    verify_email_over_rest(http, email, token)
    kyc = {
        "firstName": "A",
        "lastName": "B",
        "dateOfBirth": "1990-05-17",
        "nationality": "LK",
        "documents": [
            {"type": "KYC_DOCUMENT_TYPE_PASSPORT", "sha256": hashlib.sha256(email.encode()).hexdigest()}
        ],
    }
    submitted = http.post("/v1/users/me/kyc:submit", json=kyc, headers=bearer(token))
    assert submitted.status_code == 200, submitted.text
    approve = http.post(
        f"/v1/users/{user_id}/kyc:approve", json={"requestId": str(uuid.uuid4())}, headers=bearer(root)
    )
    committed(http, root, approve)
    return user_id, token


def _hook(http: httpx.Client, partner: Partner, receiver: Receiver) -> str:
    """Register the receiver as the partner's endpoint for committed operations (key alone); returns its secret."""
    created = http.post(
        "/v1/partners/me/webhookEndpoints",
        json={"url": receiver.url, "eventTypes": ["WEBHOOK_EVENT_TYPE_OPERATION_COMMITTED"]},
        headers={**keyed(partner.secret), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert created.status_code == 200, created.text
    return str(created.json()["secret"])


def _db(mesh: EdgeStack, statement: str, **params: Any) -> list[Any]:
    engine = sqlalchemy.create_engine(mesh.database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sqlalchemy.text(statement), params).all())
    finally:
        engine.dispose()


def _recorded_partner(mesh: EdgeStack, operation: dict[str, Any]) -> str | None:
    [row] = _db(
        mesh,
        "SELECT partner_id FROM outbox.operations WHERE id = CAST(:id AS uuid)",
        id=operation["name"].removeprefix("operations/"),
    )
    return None if row.partner_id is None else str(row.partner_id)


def _events_of(mesh: EdgeStack, operation: dict[str, Any]) -> list[str]:
    rows = _db(
        mesh,
        "SELECT partner_id FROM licensing.webhook_events WHERE operation_id = CAST(:id AS uuid)",
        id=operation["name"].removeprefix("operations/"),
    )
    return [str(r.partner_id) for r in rows]


def _forged_partner_token(partner_id: str) -> str:
    """A partner token as identity would shape it, signed by a key identity never had."""
    now = int(time.time())
    claims = {
        "sub": f"partner:{partner_id}",
        "roles": ["PARTNER"],
        "partner_id": partner_id,
        "iat": now,
        "exp": now + 600,
        "jti": str(uuid.uuid4()),
        "aud": "gx",
        "iss": "gx",
    }
    key = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": "forged"})


@pytest.fixture(scope="module")
def users(http: httpx.Client, root: str) -> tuple[str, str]:
    """Alice's token (an active user with her genesis) and Bob's user id (an active recipient)."""
    _, alice_token = _active_user(http, root)
    bob, _ = _active_user(http, root)
    return alice_token, bob


def test_a_users_transfer_with_a_partners_key_fires_only_that_partners_webhook(
    mesh: EdgeStack, http: httpx.Client, root: str, users: tuple[str, str]
) -> None:
    alice_token, bob = users
    acme = onboard(http, root, tier="LICENSE_TIER_BASIC")
    other = onboard(http, root, tier="LICENSE_TIER_BASIC")
    with running_receiver() as acme_hook, running_receiver() as other_hook:
        acme_secret = _hook(http, acme, acme_hook)
        _hook(http, other, other_hook)

        # Alice's transfer sent through Acme's app: Acme's key and Alice's own token.
        body = {"toUserId": bob, "amountQirat": str(3 * GX), "requestId": str(uuid.uuid4())}
        sent = http.post(
            "/v1/wallets/me:transfer", json=body, headers={**bearer(alice_token), **keyed(acme.secret)}
        )
        done = committed(http, alice_token, sent)
        assert _recorded_partner(mesh, done) == acme.partner_id

        [request] = acme_hook.wait_for(1, timeout=60)
        verify(acme_secret, request.headers["gx-signature"], request.body, now=int(time.time()))
        event = json.loads(request.body)
        assert event["type"] == "operation.committed"
        assert event["data"]["operation"]["name"] == done["name"]
        assert event["data"]["operation"]["state"] == "OPERATION_STATE_COMMITTED"
        assert _events_of(mesh, done) == [acme.partner_id]

        # The same transfer without the key: the user's alone, no partner, no event.
        plain = http.post(
            "/v1/wallets/me:transfer",
            json={**body, "requestId": str(uuid.uuid4())},
            headers=bearer(alice_token),
        )
        plain_done = committed(http, alice_token, plain)
        assert _recorded_partner(mesh, plain_done) is None
        assert _events_of(mesh, plain_done) == []

        # A client's own partner header (a token naming Acme, signed by another key) never reaches
        # a service through the edge: the transfer is the user's alone.
        forged_header = {PARTNER_TOKEN_HEADER: _forged_partner_token(acme.partner_id)}
        forged = http.post(
            "/v1/wallets/me:transfer",
            json={**body, "requestId": str(uuid.uuid4())},
            headers={**bearer(alice_token), **forged_header},
        )
        forged_done = committed(http, alice_token, forged)
        assert _recorded_partner(mesh, forged_done) is None
        assert _events_of(mesh, forged_done) == []

        # Acme got exactly its one event; the other partner's endpoint got nothing at all.
        assert len(acme_hook.received) == 1
        assert other_hook.received == []
        queued_for_other = _db(
            mesh,
            "SELECT count(*) AS n FROM notify.messages m JOIN licensing.webhook_endpoints e"
            " ON m.destination = e.id::text WHERE m.channel = 'webhook' AND e.partner_id = CAST(:p AS uuid)",
            p=other.partner_id,
        )
        assert queued_for_other[0].n == 0


async def test_a_forged_partner_header_sent_to_a_service_directly_is_refused(
    mesh: EdgeStack, users: tuple[str, str]
) -> None:
    token, _ = users
    metadata = (
        ("authorization", f"Bearer {token}"),
        (PARTNER_TOKEN_HEADER, _forged_partner_token(str(uuid.uuid4()))),
    )
    async with grpc.aio.insecure_channel(mesh.grpc["wallet"]) as channel:
        stub = wallet_service_pb2_grpc.WalletServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.GetWallet(wallet_svc.GetWalletRequest(wallet_id="me"), metadata=metadata)
        # The same call without the forged header goes through.
        await stub.GetWallet(wallet_svc.GetWalletRequest(wallet_id="me"), metadata=metadata[:1])
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    status = rpc_status.from_call(refused.value)
    info, _ = errors.details_of(status) if status is not None else (None, None)
    assert info is not None and info.reason == "PARTNER_TOKEN_INVALID"
