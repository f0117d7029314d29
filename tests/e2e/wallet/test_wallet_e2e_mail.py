"""Money mail end to end through the real Envoy edge, with the whole mesh and its mail behind it.

PostgreSQL, Redis, migrations, chaincode, devnet, identity, wallet, outbox, projector, the SMTP
sink and the notifier run as real processes started by the same code as `gx dev up`. Users verify
their email with the code the sink received, pass KYC and get genesis; a transfer's recipient
reads "you received" with the amount and the new balance (as `gx dev mail --json` prints it), and
none once they switched money mail off in their profile. With the sink stopped, mail waits in
the queue and arrives exactly once when it is back.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

import ledger_rules as rules
from devstack import stack as devstack
from devstack.mail import ReceivedMail
from devstack.parts import registry
from tests.support.edge_rest import bearer, committed, create_super_admin, login
from tests.support.mail import stack_mail
from tests.support.stack import EdgeStack, running_edge_stack

pytestmark = pytest.mark.e2e

GX = 1_000_000
PASSWORD = "Mail e2e pass phrase 2026"
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
    "mail",
    "notifier",
    "edge",
)
# Mail a test waits for; generous because the whole mesh shares two cores with other tests.
_MAIL_BUDGET = 90.0


@pytest.fixture(scope="module")
def mesh() -> Iterator[EdgeStack]:
    """The whole mesh with its SMTP sink and notifier, on free ports; stopped at the end of the module."""
    with running_edge_stack(parts=_MESH) as running:
        yield running


@pytest.fixture(scope="module")
def http(mesh: EdgeStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mesh.rest_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def root(mesh: EdgeStack, http: httpx.Client) -> str:
    """A bootstrapped ledger with the shipped countries; the super-admin's access token."""
    token = login(http, create_super_admin(mesh.database_url, PASSWORD), PASSWORD)
    for path in ("/v1/system:bootstrap", "/v1/system/countries:initialize"):
        committed(http, token, http.post(path, json={"requestId": str(uuid.uuid4())}, headers=bearer(token)))
    return token


def _wait_mail(
    mesh: EdgeStack, found: Callable[[list[ReceivedMail]], bool], what: str, budget: float = _MAIL_BUDGET
) -> list[ReceivedMail]:
    """What the stack's sink received, once `found` holds for it (`gx dev mail`'s reader)."""
    deadline = time.monotonic() + budget
    while True:
        received = stack_mail(mesh.config)
        if found(received):
            return received
        assert time.monotonic() < deadline, f"{what} not received within {budget}s: {received}"
        time.sleep(0.1)


def _mails_to(received: list[ReceivedMail], address: str, subject: str) -> list[ReceivedMail]:
    return [m for m in received if address in m.to and subject in m.subject]


def _gx_dev_mail_json(mesh: EdgeStack, address: str) -> list[dict[str, Any]]:
    """`gx dev mail --json --to ADDRESS` against this stack, as a newcomer runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "gx_cli.main", "dev", "mail", "--json", "--to", address],
        env={**os.environ, "GX_STATE_DIR": str(mesh.state_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def _verify_by_mail(mesh: EdgeStack, http: httpx.Client, email: str, token: str) -> None:
    """The code of the verification mail the sink received, sent back through the edge."""
    (mail,) = _mails_to(
        _wait_mail(mesh, lambda got: bool(_mails_to(got, email, "Confirm your email")), "verification mail"),
        email,
        "Confirm your email",
    )
    (code,) = [c for c in mail.codes if c.startswith("gxv_")]
    verified = http.post("/v1/users/me:verifyEmail", json={"code": code}, headers=bearer(token))
    assert verified.status_code == 200, verified.text
    assert verified.json()["user"]["emailVerified"] is True


def _onboard(mesh: EdgeStack, http: httpx.Client, root: str) -> tuple[str, str, str]:
    """Register, verify by mail, KYC, approval: an ACTIVE user with genesis; (user id, email, token)."""
    email = f"mail-{uuid.uuid4().hex[:10]}@example.com"
    registered = http.post(
        "/v1/users:register", json={"email": email, "password": PASSWORD, "countryCode": "LK"}
    )
    assert registered.status_code == 200, registered.text
    user_id = str(registered.json()["user"]["userId"])
    token = login(http, email, PASSWORD)
    _verify_by_mail(mesh, http, email, token)
    kyc = {
        "firstName": "Ana",
        "lastName": "Perera",
        "dateOfBirth": "1990-05-17",
        "nationality": "LK",
        "documents": [
            {"type": "KYC_DOCUMENT_TYPE_PASSPORT", "sha256": hashlib.sha256(email.encode()).hexdigest()}
        ],
    }
    submitted = http.post("/v1/users/me/kyc:submit", json=kyc, headers=bearer(token))
    assert submitted.status_code == 200, submitted.text
    approved = http.post(
        f"/v1/users/{user_id}/kyc:approve", json={"requestId": str(uuid.uuid4())}, headers=bearer(root)
    )
    committed(http, root, approved)
    user = http.get("/v1/users/me", headers=bearer(token)).json()["user"]
    assert user["state"] == "USER_STATE_ACTIVE", user
    return user_id, email, token


@pytest.fixture(scope="module")
def users(mesh: EdgeStack, http: httpx.Client, root: str) -> dict[str, tuple[str, str, str]]:
    """Two onboarded users, `sender` and `recipient`: (user id, email, token) each."""
    return {"sender": _onboard(mesh, http, root), "recipient": _onboard(mesh, http, root)}


def _transfer(http: httpx.Client, token: str, to_user_id: str, amount_qirat: int) -> dict[str, Any]:
    sent = http.post(
        "/v1/wallets/me:transfer",
        json={"toUserId": to_user_id, "amountQirat": str(amount_qirat), "requestId": str(uuid.uuid4())},
        headers=bearer(token),
    )
    return committed(http, token, sent)


def _balance(http: httpx.Client, token: str) -> int:
    got = http.get("/v1/wallets/me", headers=bearer(token))
    assert got.status_code == 200, got.text
    return int(got.json()["wallet"]["balanceQirat"])


def _as_gx(qirat: int) -> str:
    """How a mail writes an amount: grouped whole GX, then the fraction without trailing zeros."""
    whole, fraction = divmod(qirat, GX)
    return f"{whole:,}" + (f".{fraction:06d}".rstrip("0") if fraction else "")


def _messages(mesh: EdgeStack, where: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of the notifications queue (notify.messages), read as the database's owner."""
    url = mesh.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT id, template, status, attempts, last_error FROM notify.messages WHERE " + where, params
        )
        return list(cur.fetchall())


def _money_mail_row(mesh: EdgeStack, operation: dict[str, Any], user_id: str) -> dict[str, Any]:
    """The money mail the projector recorded for `user_id` from this operation's transaction, once
    the notifier finished with it (the projector's dedupe key: money:<fabric tx id>:<user id>)."""
    key = f"money:{operation['fabricTxId']}:{user_id}"
    deadline = time.monotonic() + _MAIL_BUDGET
    while True:
        rows = _messages(mesh, "dedupe_key = %(key)s", key=key)
        if rows and rows[0]["status"] != "PENDING":
            return rows[0]
        assert time.monotonic() < deadline, f"money mail {key} not handled within {_MAIL_BUDGET}s: {rows}"
        time.sleep(0.1)


def test_a_transfer_mails_the_recipient_until_they_switch_money_mail_off(
    mesh: EdgeStack, http: httpx.Client, users: dict[str, tuple[str, str, str]]
) -> None:
    _, _, sender_token = users["sender"]
    recipient, recipient_email, recipient_token = users["recipient"]
    genesis = rules.PHASES[0][1] * GX
    # Genesis arrived by mail as well, with the balance it made.
    (welcome,) = _mails_to(
        _wait_mail(mesh, lambda got: bool(_mails_to(got, recipient_email, "Welcome to GX")), "genesis mail"),
        recipient_email,
        "Welcome to GX",
    )
    assert f"{_as_gx(genesis)} GX" in welcome.text

    amount = 25 * GX + 500_000
    operation = _transfer(http, sender_token, recipient, amount)
    _wait_mail(mesh, lambda got: bool(_mails_to(got, recipient_email, "You received")), "money mail")
    balance = _balance(http, recipient_token)
    assert balance == genesis + amount
    # Read the way a newcomer reads it: `gx dev mail --json`.
    (money,) = [m for m in _gx_dev_mail_json(mesh, recipient_email) if "You received" in m["subject"]]
    assert money["to"] == [recipient_email] and money["subject"] == "You received 25.5 GX"
    assert "You received 25.5 GX from a transfer." in money["text"]
    assert f"Your new balance is {_as_gx(balance)} GX." in money["text"]
    assert operation["fabricTxId"] in money["text"]
    assert _money_mail_row(mesh, operation, recipient)["status"] == "SENT"

    # Money mail off through the profile, naming the field in the update mask (AIP-134).
    patched = http.patch(
        f"/v1/users/{recipient}",
        params={"updateMask": "notificationSettings.moneyReceivedEmail"},
        json={"notificationSettings": {"moneyReceivedEmail": False}},
        headers=bearer(recipient_token),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["user"]["notificationSettings"].get("moneyReceivedEmail", False) is False

    second = _transfer(http, sender_token, recipient, 3 * GX)
    # An operation is done only once projected (services/common/operations.py), so the read model
    # shows it and the projector has recorded its mail in the same transaction; the row leaving
    # PENDING is the notifier done with it: recorded still, skipped for the preference at send time.
    assert _balance(http, recipient_token) == genesis + amount + 3 * GX
    row = _money_mail_row(mesh, second, recipient)
    assert (row["status"], row["last_error"].split(":")[0]) == ("SKIPPED", "PREFERENCE_OFF")
    assert [
        m["subject"] for m in _gx_dev_mail_json(mesh, recipient_email) if "You received" in m["subject"]
    ] == ["You received 25.5 GX"]


def test_mail_waits_while_smtp_is_down_and_arrives_once_when_it_returns(
    mesh: EdgeStack, http: httpx.Client, users: dict[str, tuple[str, str, str]]
) -> None:
    sender, sender_email, _ = users["sender"]
    _, _, recipient_token = users["recipient"]
    (sink,) = registry(mesh.config, only=("mail",))
    assert sink.stop(mesh.config)
    try:
        # Two mails caused while the relay is down: a newcomer's verification and a money mail.
        newcomer = f"outage-{uuid.uuid4().hex[:10]}@example.com"
        registered = http.post("/v1/users:register", json={"email": newcomer, "password": PASSWORD})
        assert registered.status_code == 200, registered.text
        operation = _transfer(http, recipient_token, sender, 7 * GX)
        money_key = f"money:{operation['fabricTxId']}:{sender}"

        # The notifier tried and failed: both wait in the queue, PENDING with an attempt recorded.
        # (A row is PENDING with attempts > 0 while claimed too: wait for the failure's error.)
        where = "(destination = %(newcomer)s OR dedupe_key = %(key)s)"
        deadline = time.monotonic() + _MAIL_BUDGET
        while True:
            rows = _messages(mesh, where, newcomer=newcomer, key=money_key)
            if len(rows) == 2 and all(r["attempts"] > 0 and r["last_error"] for r in rows):
                break
            assert time.monotonic() < deadline, f"no failed attempt within {_MAIL_BUDGET}s: {rows}"
            time.sleep(0.1)
        assert all(
            r["status"] == "PENDING" and r["last_error"].startswith("SMTP_UNAVAILABLE") for r in rows
        ), rows
        assert not _mails_to(stack_mail(mesh.config), newcomer, "")
    finally:
        devstack.up(mesh.config, only=("mail",))

    # Back: each arrives (the backoff runs out), and once the queue has finished with them, once.
    _wait_mail(mesh, lambda got: bool(_mails_to(got, newcomer, "Confirm your email")), "queued verification")
    _wait_mail(mesh, lambda got: bool(_mails_to(got, sender_email, "You received 7 GX")), "queued money mail")
    deadline = time.monotonic() + _MAIL_BUDGET
    while (rows := _messages(mesh, where, newcomer=newcomer, key=money_key)) and any(
        r["status"] == "PENDING" for r in rows
    ):
        assert time.monotonic() < deadline, rows
        time.sleep(0.1)
    assert sorted(r["status"] for r in rows) == ["SENT", "SENT"]
    received = stack_mail(mesh.config)
    assert len(_mails_to(received, newcomer, "Confirm your email")) == 1
    assert len(_mails_to(received, sender_email, "You received 7 GX")) == 1
    # The mail that waited out the outage still works: its code verifies the newcomer.
    _verify_by_mail(mesh, http, newcomer, login(http, newcomer, PASSWORD))
