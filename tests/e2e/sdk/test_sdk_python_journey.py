"""The Python SDK (gx-client) through the real Envoy edge over native gRPC, with the whole mesh behind it.

The money journey as an app developer writes it: register, log in (by the client), submit KYC, an
admin approves (an operation, waited on), A transfers to B (waited on), balances and history (paged)
include the fee; errors arrive as typed exceptions with their reason, a repeated request id answers
the same operation, and a rejected access token is renewed with the refresh token.
"""

from __future__ import annotations

import hashlib
import uuid

import pytest
from gx.identity.v1 import identity_pb2, identity_service_pb2
from gx.licensing.v1 import licensing_service_pb2
from gx.type.v1 import command_pb2, operation_pb2
from gx.wallet.v1 import wallet_pb2
from gx_client import Client, GxError, InvalidArgument, NotFound, Unauthenticated

import ledger_rules as rules
from tests.e2e.sdk.conftest import PASSWORD, PartnerKey
from tests.support.mail_queue import verification_code
from tests.support.stack import EdgeStack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(400)]

GX = 1_000_000


def _onboard(mesh: EdgeStack, admin: Client) -> tuple[str, Client]:
    """Register, verify the email, submit KYC, get approved (waited on); returns the user id and the
    user's logged-in client."""
    email = f"sdk-{uuid.uuid4().hex[:10]}@example.com"
    with Client(mesh.edge_address) as anonymous:
        user = anonymous.register(email, PASSWORD, country_code="LK", display_name="SDK")
    assert user.state == identity_pb2.USER_STATE_REGISTERED
    client = Client(mesh.edge_address, email=email, password=PASSWORD)
    # KYC needs a verified email: the code of the registration mail, as the app would take it.
    assert client.verify_email(verification_code(mesh.database_url, email)).email_verified
    document = identity_pb2.KycDocument(
        type=identity_pb2.KYC_DOCUMENT_TYPE_PASSPORT, sha256=hashlib.sha256(email.encode()).hexdigest()
    )
    client.identity.SubmitKyc(
        identity_service_pb2.SubmitKycRequest(
            user_id="me",
            first_name="A",
            last_name="B",
            date_of_birth="1990-05-17",
            nationality="LK",
            documents=[document],
        )
    )
    done = admin.approve_kyc(user.user_id).wait()
    assert done.state == operation_pb2.OPERATION_STATE_COMMITTED and done.fabric_tx_id
    assert client.me().state == identity_pb2.USER_STATE_ACTIVE
    return user.user_id, client


def test_the_money_journey(mesh: EdgeStack, admin: Client) -> None:
    alice_id, alice = _onboard(mesh, admin)
    bob_id, bob = _onboard(mesh, admin)
    genesis = rules.PHASES[0][1] * GX
    assert (alice.get_wallet().balance_qirat, bob.get_wallet().balance_qirat) == (genesis, genesis)

    amount, fee = 50 * GX, 50 * GX * 5 // 10_000
    operation = alice.transfer(amount, to_user_id=bob_id, remark="rent")
    assert operation.proto.command_type == command_pb2.COMMAND_TYPE_TRANSFER_TOKENS
    done = operation.wait()
    assert done.state == operation_pb2.OPERATION_STATE_COMMITTED and done.block_number > 0

    assert alice.get_wallet().balance_qirat == genesis - amount - fee
    assert bob.get_wallet().balance_qirat == genesis + amount
    # One entry per page: the iterator follows next_page_token through all three.
    history = list(alice.transactions(page_size=1))
    assert [t.type for t in history] == [
        wallet_pb2.TRANSACTION_TYPE_FEE,
        wallet_pb2.TRANSACTION_TYPE_SENT,
        wallet_pb2.TRANSACTION_TYPE_GENESIS,
    ]
    assert (history[1].amount_qirat, history[1].fee_qirat, history[1].counterparty) == (amount, fee, bob_id)
    received = list(bob.transactions())
    assert [t.type for t in received] == [
        wallet_pb2.TRANSACTION_TYPE_RECEIVED,
        wallet_pb2.TRANSACTION_TYPE_GENESIS,
    ]
    assert (received[0].amount_qirat, received[0].counterparty) == (amount, alice_id)

    # Errors are typed and carry the ErrorInfo reason (and the field violations).
    with pytest.raises(InvalidArgument) as bad:
        alice.transfer(0, to_user_id=bob_id)
    assert "amount_qirat" in [v.field for v in bad.value.violations]
    with pytest.raises(GxError) as broke:
        alice.transfer(10 * genesis, to_user_id=bob_id).wait()
    assert broke.value.reason == "INSUFFICIENT_FUNDS", broke.value
    with pytest.raises(NotFound):
        bob.operation(operation.id)  # B may not follow A's operation.
    assert bob.get_wallet().balance_qirat == genesis + amount
    alice.close()
    bob.close()


def test_a_repeated_request_id_answers_the_same_operation(mesh: EdgeStack, admin: Client) -> None:
    _, alice = _onboard(mesh, admin)
    bob_id, bob = _onboard(mesh, admin)
    key = str(uuid.uuid4())
    first = alice.transfer(3 * GX, to_user_id=bob_id, request_id=key)
    again = alice.transfer(3 * GX, to_user_id=bob_id, request_id=key)
    assert again.proto.name == first.proto.name
    with pytest.raises(InvalidArgument) as reused:
        alice.transfer(4 * GX, to_user_id=bob_id, request_id=key)
    assert reused.value.reason == "REQUEST_ID_REUSED"
    first.wait()
    assert bob.get_wallet().balance_qirat == rules.PHASES[0][1] * GX + 3 * GX
    alice.close()
    bob.close()


def test_a_rejected_token_is_renewed_with_the_refresh_token(mesh: EdgeStack, root_email: str) -> None:
    with Client(mesh.edge_address, email=root_email, password=PASSWORD) as first:
        first.me()
        refresh_token = first.session.refresh_token
    assert refresh_token
    # No credentials, a token the server refuses, and a refresh token: the client renews and goes on.
    with Client(mesh.edge_address, access_token="not-a-jwt", refresh_token=refresh_token) as client:
        assert client.me().email == root_email
        assert client.session.refresh_token not in ("", refresh_token)
    # Without a way to renew, the refusal reaches the app as a typed error with its reason.
    with Client(mesh.edge_address, access_token="not-a-jwt") as stale, pytest.raises(Unauthenticated):
        stale.me()


def test_an_api_key_alone_makes_the_partner_the_caller(mesh: EdgeStack, partner_key: PartnerKey) -> None:
    with Client(mesh.edge_address, api_key=partner_key.secret) as keyed:
        partner = keyed.licensing.GetPartner(licensing_service_pb2.GetPartnerRequest(partner_id="me")).partner
    assert partner.partner_id == partner_key.partner_id
    with (
        Client(mesh.edge_address, api_key=partner_key.secret[:-4] + "0000") as wrong,
        pytest.raises(Unauthenticated),
    ):
        wrong.licensing.GetPartner(licensing_service_pb2.GetPartnerRequest(partner_id="me"))


def test_pages_of_any_list_call_are_iterated(admin: Client, partner_key: PartnerKey) -> None:
    request = licensing_service_pb2.ListPartnersRequest(page_size=1)
    listed = [p.partner_id for p in admin.pages(admin.licensing.ListPartners, request, "partners")]
    first_page = admin.licensing.ListPartners(request)
    assert partner_key.partner_id in listed and len(listed) == len(set(listed))
    assert len(first_page.partners) == 1 and (len(listed) == 1) != bool(first_page.next_page_token)
