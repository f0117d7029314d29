"""The caller's network address, believed through trusted proxies only, kept for the whole RPC.

Login throttling (identity) and the audit trail (services.common.audit) both need the client's
real address. Behind the edge the TCP peer is Envoy, so the address comes from
`x-forwarded-for`, but only when the connection comes from a trusted proxy: a client talking to
a service directly could write anything there.
"""

from __future__ import annotations

import contextvars
import functools
import ipaddress
import urllib.parse
from collections.abc import AsyncIterator, Sequence
from typing import Any, Final

import grpc

from services.common.rpc import BehaviorInterceptor, CallInfo, NextStream, NextUnary, metadata_value
from services.common.settings import ClientAddressSettings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# The edge runs beside the services in the dev stack; a deployment names its proxies.
LOOPBACK: Final[tuple[IPNetwork, ...]] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)


# The current RPC's context with the trust it is read under. The address is worked out only when
# asked (an audit row), so hot paths such as the edge's ext_authz checks pay one contextvar set.
class _Call:
    """One RPC's address source. Work that outlives the call (a task spawned by the handler copies
    the contextvars) must not read the finished call's context: grpc's peer() on a finished call
    crashes the process. So the call is cut off when it ends, and only an address already worked
    out stays readable; `pin_client_address()` works it out before spawning such work."""

    __slots__ = ("_address", "_context", "_hops", "_resolved", "_trusted")

    def __init__(self, context: grpc.aio.ServicerContext, trusted: tuple[IPNetwork, ...], hops: int) -> None:
        self._context: grpc.aio.ServicerContext | None = context
        self._trusted = trusted
        self._hops = hops
        self._address: str | None = None
        self._resolved = False

    def address(self) -> str | None:
        if not self._resolved and self._context is not None:
            self._address = client_ip(self._context, self._trusted, self._hops)
            self._resolved = True
        return self._address

    def finish(self) -> None:
        self._context = None


_call_var: contextvars.ContextVar[_Call | None] = contextvars.ContextVar("gx_client_call", default=None)


def current_client_address() -> str | None:
    """The current RPC's client address (under `ClientAddressInterceptor`'s trust), or None outside
    one (and in work that outlived its call without `pin_client_address()` first)."""
    call = _call_var.get()
    return call.address() if call is not None else None


def pin_client_address() -> str | None:
    """Work out the current RPC's client address now, so background work it spawns can still read it."""
    return current_client_address()


def _peer_ip(context: grpc.aio.ServicerContext) -> str | None:
    peer = context.peer() or ""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rsplit(":", 1)[0]
    if kind == "ipv6":
        return urllib.parse.unquote(rest.rsplit(":", 1)[0]).strip("[]")
    return None


def _is_trusted(ip: str, networks: Sequence[IPNetwork]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address.version == net.version and address in net for net in networks)


def client_ip(
    context: grpc.aio.ServicerContext, trusted_proxies: Sequence[IPNetwork] = (), trusted_hops: int = 1
) -> str | None:
    """The client's address.

    `x-forwarded-for` is believed only when the connection comes from a trusted proxy (the
    edge). Each trusted proxy appends the address it saw, so the client is the
    `trusted_hops`-th entry from the right: 1 when the edge faces clients (Envoy
    `use_remote_address`, appending the real peer), 2 when one trusted L7 load balancer sits
    in front of it (Envoy's `xff_num_trusted_hops` + 1). Entries further left are whatever
    the client claimed.
    """
    peer = _peer_ip(context)
    if peer is None:
        return None
    return _resolve(peer, metadata_value(context, "x-forwarded-for"), tuple(trusted_proxies), trusted_hops)


# Every call resolves the same few (edge address, client address) pairs, and parsing them with
# `ipaddress` is about 20 us per call: remember the answers (a pure function of its arguments).
@functools.lru_cache(maxsize=4096)
def _resolve(
    peer: str, forwarded: str | None, trusted_proxies: tuple[IPNetwork, ...], trusted_hops: int
) -> str:
    if forwarded and trusted_hops > 0 and _is_trusted(peer, trusted_proxies):
        hops = [h.strip() for h in forwarded.split(",")]
        if len(hops) < trusted_hops:
            # Fewer hops than trusted proxies: the chain is not what the config says, and
            # no entry can be trusted; count the proxy itself (errs towards stricter).
            return peer
        try:
            return str(ipaddress.ip_address(hops[-trusted_hops]))
        except ValueError:
            return peer
    return peer


class ClientAddressInterceptor(BehaviorInterceptor):
    """Makes the caller's address (`client_ip`) available to `current_client_address` during the RPC."""

    @classmethod
    def from_settings(cls, settings: ClientAddressSettings) -> ClientAddressInterceptor:
        """One trusting the proxies `GX_CLIENT_ADDRESS__TRUSTED_PROXIES` names, `_TRUSTED_HOPS` deep."""
        networks = [ipaddress.ip_network(n, strict=False) for n in settings.trusted_proxies]
        return cls(networks, settings.trusted_hops)

    def __init__(self, trusted_proxies: Sequence[IPNetwork] = LOOPBACK, trusted_hops: int = 1) -> None:
        """Args:
        trusted_proxies: Networks whose `x-forwarded-for` is believed (the edge).
        trusted_hops: How many proxies, the edge included, append to `x-forwarded-for`.
        """
        super().__init__()
        self._trusted = tuple(trusted_proxies)
        self._hops = trusted_hops

    async def unary(
        self, info: CallInfo, request: Any, context: grpc.aio.ServicerContext, call_next: NextUnary
    ) -> Any:
        call = _Call(context, self._trusted, self._hops)
        token = _call_var.set(call)
        try:
            return await call_next(request, context)
        finally:
            call.finish()
            _call_var.reset(token)

    async def stream(
        self, info: CallInfo, request: Any, context: grpc.aio.ServicerContext, call_next: NextStream
    ) -> AsyncIterator[Any]:
        call = _Call(context, self._trusted, self._hops)
        token = _call_var.set(call)
        try:
            async for item in call_next(request, context):
                yield item
        finally:
            call.finish()
            # Async generators may be finalised in another context; resetting there fails.
            try:
                _call_var.reset(token)
            except ValueError:
                pass
