"""Parsing what the dev stack's SMTP sink stored: the `gx dev mail --json` shape, links and codes."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

from devstack.mail import parse, read_messages


def _raw(text: str, html: str | None = None) -> bytes:
    mail = EmailMessage()
    mail["From"] = "GX <no-reply@gx.local>"
    mail["To"] = "ana@example.org"
    mail["Subject"] = "Verify your email"
    mail["Message-ID"] = "<m1@gx.local>"
    mail.set_content(text)
    if html is not None:
        mail.add_alternative(html, subtype="html")
    return mail.as_bytes()


def test_links_and_codes_come_from_the_text_part() -> None:
    text = (
        "Your code: gxv_AbCdEfGhIjKlMnOpQrStUvWxYz012345\n"
        "Or open http://127.0.0.1:8080/verify-email?code=gxv_AbCdEfGhIjKlMnOpQrStUvWxYz012345.\n"
        "PIN 123456, order 1234, amount 5.000000 GX, tx 2026-12-06\n"
    )
    mail = parse(_raw(text, "<p>hi</p>"), ["ana@example.org"])
    data = mail.as_json()
    assert data["to"] == ["ana@example.org"] and data["subject"] == "Verify your email"
    assert data["html"].strip() == "<p>hi</p>"
    assert data["links"] == ["http://127.0.0.1:8080/verify-email?code=gxv_AbCdEfGhIjKlMnOpQrStUvWxYz012345"]
    assert data["codes"] == ["gxv_AbCdEfGhIjKlMnOpQrStUvWxYz012345", "123456"]
    assert data["message_id"] == "<m1@gx.local>"


def test_a_text_only_mail_has_no_html_key() -> None:
    assert "html" not in parse(_raw("plain"), ["b@example.org"]).as_json()


def test_read_messages_returns_stored_mail_in_arrival_order_and_nothing_for_a_missing_dir(
    tmp_path: Path,
) -> None:
    assert read_messages(tmp_path / "absent") == []
    for n, name in enumerate(("00000000000000000002-b", "00000000000000000001-a")):
        record = {
            "received_at": n,
            "mail_from": "x@y",
            "rcpt_tos": [f"{name}@example.org"],
            "raw": _raw(name).decode(),
        }
        (tmp_path / f"{name}.json").write_text(json.dumps(record))
    (tmp_path / ".partial.tmp").write_text("{")  # a write in progress is not read
    assert [m.to for m in read_messages(tmp_path)] == [
        ["00000000000000000001-a@example.org"],
        ["00000000000000000002-b@example.org"],
    ]
