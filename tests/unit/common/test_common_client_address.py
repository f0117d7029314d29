"""The client address the audit trail records: only inside an RPC, under the interceptor's trust."""

from __future__ import annotations

import asyncio
from typing import Any

from services.common.client_address import (
    ClientAddressInterceptor,
    current_client_address,
    pin_client_address,
)
from services.common.rpc import CallInfo
from services.common.settings import ClientAddressSettings


class _Context:
    """Just what client_ip reads from a grpc.aio context."""

    def __init__(self, peer: str, forwarded: str | None = None) -> None:
        self._peer = peer
        self._md = (("x-forwarded-for", forwarded),) if forwarded is not None else ()

    def peer(self) -> str:
        return self._peer

    def invocation_metadata(self) -> Any:
        return self._md


async def _seen(interceptor: ClientAddressInterceptor, context: _Context) -> str | None:
    async def handler(request: Any, ctx: Any) -> str | None:
        return current_client_address()

    info: CallInfo = None  # type: ignore[assignment]  # not read by this interceptor
    result: str | None = await interceptor.unary(info, None, context, handler)
    return result


async def test_outside_an_rpc_there_is_no_address() -> None:
    assert current_client_address() is None


async def test_the_edge_names_the_client_and_a_direct_caller_does_not() -> None:
    interceptor = ClientAddressInterceptor.from_settings(
        ClientAddressSettings(trusted_proxies=["10.0.0.0/8"], trusted_hops=1)
    )
    assert await _seen(interceptor, _Context("ipv4:10.1.2.3:5000", "203.0.113.9")) == "203.0.113.9"
    assert await _seen(interceptor, _Context("ipv4:192.0.2.7:5000", "203.0.113.9")) == "192.0.2.7"
    assert current_client_address() is None


async def test_by_default_only_loopback_is_trusted() -> None:
    interceptor = ClientAddressInterceptor()
    assert await _seen(interceptor, _Context("ipv4:127.0.0.1:5000", "198.51.100.4")) == "198.51.100.4"
    assert await _seen(interceptor, _Context("ipv6:%5B::1%5D:5000", "198.51.100.4")) == "198.51.100.4"
    assert await _seen(interceptor, _Context("ipv4:10.1.2.3:5000", "198.51.100.4")) == "10.1.2.3"


class _FinishingContext(_Context):
    """A context whose peer() fails once its call has answered, as grpc's does (it crashes)."""

    finished = False

    def peer(self) -> str:
        assert not self.finished, "peer() read after the call finished"
        return super().peer()


async def _spawned_after_the_call(pin: bool) -> str | None:
    context = _FinishingContext("ipv4:127.0.0.1:5000", "198.51.100.4")
    later: list[asyncio.Task[str | None]] = []

    async def handler(request: Any, ctx: Any) -> None:
        if pin:
            pin_client_address()
        started = asyncio.Event()

        async def background() -> str | None:
            await started.wait()
            return current_client_address()

        later.append(asyncio.get_running_loop().create_task(background()))
        started.set()

    info: CallInfo = None  # type: ignore[assignment]  # not read by this interceptor
    await ClientAddressInterceptor().unary(info, None, context, handler)
    context.finished = True
    return await later[0]


async def test_work_that_outlives_its_call_never_reads_the_finished_call() -> None:
    # Pinned before spawning: the address is there; not pinned: none, and the dead context untouched.
    assert await _spawned_after_the_call(pin=True) == "198.51.100.4"
    assert await _spawned_after_the_call(pin=False) is None
