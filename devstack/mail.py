"""The dev stack's SMTP sink (aiosmtpd): every message it accepts becomes one JSON file; and the reader of those files.

`python -m devstack.mail --dir DIR --listen HOST:PORT` runs the sink (a dev-stack part; the
notifier sends to it). `read_messages(DIR)` parses what it stored into the shape
`gx dev mail --json` prints and tests assert on: `to`, `subject`, `text`, `html`, `links`,
`codes`. Nothing here is production code: production sends to a real relay.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import email.policy
import json
import os
import re
import signal
import time
import uuid
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Final

# What a mail's text may carry for its reader to act on: links, and codes (the identity's mailed
# tokens `gxv_…`/`gxp_…`, or a standalone 6-8 digit number).
_LINK: Final = re.compile(r"https?://[^\s<>\"')\]]+")
_CODE: Final = re.compile(r"\bgx[a-z]_[A-Za-z0-9_-]{16,}|(?<![\w.-])\d{6,8}(?![\w.-])")
_SUFFIX: Final = ".json"


@dataclass(frozen=True)
class ReceivedMail:
    """One message the sink accepted, as `gx dev mail --json` prints it."""

    to: list[str]
    subject: str
    text: str
    html: str | None
    links: list[str]
    codes: list[str]
    message_id: str = ""
    mail_from: str = ""
    received_at: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The JSON object of `gx dev mail --json` (`html` only when the mail has an HTML part)."""
        data = asdict(self)
        if self.html is None:
            del data["html"]
        return data


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def parse(raw: bytes, rcpt_tos: list[str], mail_from: str = "", received_at: float = 0.0) -> ReceivedMail:
    """Parse one stored message; links and codes come from its text part."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    text_part = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    text = text_part.get_content() if text_part is not None else ""
    html = html_part.get_content() if html_part is not None else None
    return ReceivedMail(
        to=rcpt_tos,
        subject=str(message.get("Subject", "")),
        text=text,
        html=html,
        # A sentence's full stop (or comma) after a link is not part of it.
        links=_unique([link.rstrip(".,;:!?") for link in _LINK.findall(text)]),
        codes=_unique(_CODE.findall(text)),
        message_id=str(message.get("Message-ID", "")),
        mail_from=mail_from,
        received_at=received_at,
        headers={key: str(value) for key, value in message.items()},
    )


def read_messages(directory: Path) -> list[ReceivedMail]:
    """Every message the sink stored in `directory`, oldest first (none when it does not exist)."""
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob(f"*{_SUFFIX}")):
        record = json.loads(path.read_text(encoding="utf-8"))
        found.append(
            parse(
                record["raw"].encode("utf-8"), record["rcpt_tos"], record["mail_from"], record["received_at"]
            )
        )
    return found


class _Store:
    """aiosmtpd handler: writes each accepted message to its own file, atomically."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode("utf-8")
        record = {
            "received_at": time.time(),
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "raw": raw.decode("utf-8", errors="replace"),
        }
        # Names sort in arrival order; written aside and renamed, so a reader never sees half.
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        tmp = self._dir / f".{name}.tmp"
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, self._dir / f"{name}{_SUFFIX}")
        return "250 Message accepted for delivery"


async def start_sink(directory: Path, host: str, port: int) -> asyncio.Server:
    """Serve SMTP on host:port (port 0: a free one) into `directory`; the caller closes the server."""
    from aiosmtpd.smtp import SMTP

    handler = _Store(directory)
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: SMTP(handler, hostname="gx-mail-sink"), host, port)


async def _serve(directory: Path, host: str, port: int) -> None:
    server = await start_sink(directory, host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    print(f"mail sink on {host}:{port}, storing in {directory}", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main(argv: list[str] | None = None) -> None:
    """`python -m devstack.mail --dir DIR --listen HOST:PORT`."""
    parser = argparse.ArgumentParser(prog="python -m devstack.mail", description=__doc__)
    parser.add_argument("--dir", required=True, type=Path, help="where each received message is stored")
    parser.add_argument("--listen", required=True, help="HOST:PORT to accept SMTP on")
    args = parser.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    asyncio.run(_serve(args.dir, host, int(port)))


if __name__ == "__main__":
    main()
