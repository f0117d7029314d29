"""Reading mail in tests the way `gx dev mail --json` does: a real SMTP sink (aiosmtpd) over a real connection.

`MailSink` runs devstack.mail's sink in the test's event loop on a port of its own; it can be
stopped and started again on the same port (an SMTP outage). `stack_mail(cfg)` reads what a
running dev stack's sink received. Both parse with `devstack.mail.read_messages`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from devstack.config import StackConfig
from devstack.mail import ReceivedMail, read_messages, start_sink
from devstack.ports import free_port


class MailSink:
    """An SMTP sink storing into `directory`; `async with MailSink(dir) as sink:`."""

    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.directory = directory
        self.host = host
        self.port = port or free_port()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Accept SMTP (again) on the same port."""
        if self._server is None:
            self._server = await start_sink(self.directory, self.host, self.port)

    async def stop(self) -> None:
        """Refuse connections from now on (messages already stored stay)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> MailSink:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def messages(self) -> list[ReceivedMail]:
        """What the sink received so far, oldest first."""
        return read_messages(self.directory)

    async def wait_for(
        self, predicate: Callable[[list[ReceivedMail]], bool], limit: float = 30.0
    ) -> list[ReceivedMail]:
        """Poll until `predicate(messages)` holds; fail after `limit` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            received = self.messages()
            if predicate(received):
                return received
            if loop.time() > deadline:
                raise AssertionError(
                    f"mail condition not met within {limit}s; received {len(received)}: {received}"
                )
            await asyncio.sleep(0.05)


def to(address: str) -> Callable[[list[ReceivedMail]], bool]:
    """A `wait_for` predicate: at least one message to `address`."""
    return lambda received: any(address in mail.to for mail in received)


def stack_mail(cfg: StackConfig) -> list[ReceivedMail]:
    """What a running dev stack's SMTP sink received (devstack.parts.mail_dir)."""
    from devstack.parts import mail_dir

    return read_messages(mail_dir(cfg))
