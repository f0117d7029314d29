"""The account mails render from their templates with the values identity queues, and carry what the reader needs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devstack.mail import parse
from notifier.render import Renderer
from services.identity.account_tokens import Purpose, new_token
from services.identity.accounts import (
    CHANGED_TEMPLATE,
    RESET_TEMPLATE,
    VERIFICATION_TEMPLATE,
    AccountPolicy,
    changed_context,
    reset_context,
    verification_context,
)

POLICY = AccountPolicy(link_base="https://app.gx.example/")


def _as_received(text: str) -> list[str]:
    # What `gx dev mail --json` extracts from a text part (devstack.mail's own parser).
    raw = f"Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}".encode()
    return parse(raw, ["a@example.com"]).codes


def test_the_verification_mail_carries_its_code_and_link() -> None:
    code, _ = new_token(Purpose.VERIFY_EMAIL)
    mail = Renderer().render(VERIFICATION_TEMPLATE, verification_context(POLICY, code, "Ana <b>"))
    assert f"https://app.gx.example/verify-email?code={code}" in mail.text
    assert _as_received(mail.text) == [code]
    assert "24 hours" in mail.text and code in mail.html
    assert "<b>" not in mail.html  # values are escaped in the HTML part


def test_the_reset_mail_carries_its_token_and_its_fifteen_minutes() -> None:
    token, _ = new_token(Purpose.RESET_PASSWORD)
    mail = Renderer().render(RESET_TEMPLATE, reset_context(POLICY, token, ""))
    assert f"https://app.gx.example/reset-password?token={token}" in mail.text
    assert _as_received(mail.text) == [token]
    assert "15 minutes" in mail.text and token in mail.html


@pytest.mark.parametrize(("how", "says"), [("reset", "reset link"), ("change", "old password")])
def test_the_password_changed_notice_says_how_and_when(how: str, says: str) -> None:
    mail = Renderer().render(
        CHANGED_TEMPLATE, changed_context(how, datetime(2026, 12, 6, 8, 5, tzinfo=UTC), "")
    )
    assert says in mail.text and "2026-12-06 08:05 UTC" in mail.text
    assert mail.subject == "Your GX password was changed"
    assert _as_received(mail.text) == []
