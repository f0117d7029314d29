"""`gx dev mail --json` over a real SMTP sink: a message sent over SMTP comes back as one JSON line."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from devstack.config import REPO_ROOT, StackConfig
from devstack.parts import mail_dir
from tests.support.mail import MailSink


async def test_gx_dev_mail_prints_one_json_object_per_received_message(tmp_path: Path) -> None:
    cfg = StackConfig(state_dir=tmp_path)
    async with MailSink(mail_dir(cfg)) as sink:
        mail = EmailMessage()
        mail["From"] = "no-reply@gx.test"
        mail["To"] = "ana@example.org"
        mail["Subject"] = "Reset your password"
        mail.set_content("Use gxp_0123456789abcdefghijKLMNOP at http://127.0.0.1:8080/reset?token=x\n")
        mail.add_alternative("<p>reset</p>", subtype="html")
        await aiosmtplib.send(mail, hostname=sink.host, port=sink.port)
    env = {
        **os.environ,
        "GX_STATE_DIR": str(tmp_path),
        "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'gen' / 'python'}",
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "gx_cli.main", "dev", "mail", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (line,) = result.stdout.splitlines()
    data = json.loads(line)
    assert data["to"] == ["ana@example.org"] and data["subject"] == "Reset your password"
    assert data["codes"] == ["gxp_0123456789abcdefghijKLMNOP"]
    assert data["links"] == ["http://127.0.0.1:8080/reset?token=x"]
    assert "gxp_" in data["text"] and data["html"].strip() == "<p>reset</p>"


async def test_gx_dev_mail_wait_returns_the_mail_that_arrives_while_it_waits_and_fails_when_none_does(
    tmp_path: Path,
) -> None:
    cfg = StackConfig(state_dir=tmp_path)
    env = {
        **os.environ,
        "GX_STATE_DIR": str(tmp_path),
        "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'gen' / 'python'}",
    }
    command = [sys.executable, "-m", "gx_cli.main", "dev", "mail", "--json", "--to", "bo@example.org"]
    async with MailSink(mail_dir(cfg)) as sink:
        nothing = await asyncio.to_thread(
            subprocess.run, [*command, "--wait", "0.5"], env=env, capture_output=True, text=True, timeout=60
        )
        assert nothing.returncode == 1 and nothing.stdout == ""
        assert "no matching mail" in nothing.stderr

        waiting = await asyncio.create_subprocess_exec(
            *command, "--wait", "60", env=env, stdout=asyncio.subprocess.PIPE
        )
        mail = EmailMessage()
        mail["From"] = "no-reply@gx.test"
        mail["To"] = "bo@example.org"
        mail["Subject"] = "Verify your email"
        mail.set_content("Your code: gxv_0123456789abcdefghijKLMNOP\n")
        await aiosmtplib.send(mail, hostname=sink.host, port=sink.port)
        out, _ = await asyncio.wait_for(waiting.communicate(), timeout=60)
    assert waiting.returncode == 0
    (line,) = out.decode().splitlines()
    assert json.loads(line)["codes"] == ["gxv_0123456789abcdefghijKLMNOP"]
