"""Which URLs a webhook may be sent to: https only, and never to an internal address (SSRF).

A partner chooses the URL and we make the request, so a URL naming our own network (a
database, the cloud metadata service at 169.254.169.254, a sidecar on 127.0.0.1) would let a
partner probe or call it from inside. Every address a URL's host resolves to is classified
here; only globally routable unicast addresses pass. The check runs at registration (a clear
400 for the partner) and again before each delivery, where the request is then made to the
very address that was checked, so a DNS answer that changes in between (DNS rebinding) cannot
slip an internal address past it. Redirects are never followed (the sender's job).

In dev (GX_ENVIRONMENT=dev) loopback is allowed, over http too, so a developer and the tests
can receive webhooks on 127.0.0.1; nothing else private is, even in dev.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import socket
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

URL_INVALID: Final = "WEBHOOK_URL_INVALID"
URL_NOT_HTTPS: Final = "WEBHOOK_URL_NOT_HTTPS"
URL_UNRESOLVABLE: Final = "WEBHOOK_URL_UNRESOLVABLE"
URL_ADDRESS_REFUSED: Final = "WEBHOOK_URL_ADDRESS_REFUSED"

MAX_URL_LENGTH: Final = 2048

# Cloud instance-metadata endpoints, named apart from their ranges so a refusal says what it is:
# AWS/GCP/Azure/OpenStack, AWS over IPv6, Alibaba (inside the carrier-grade NAT range).
_METADATA: Final = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain"})


class AddressClass(enum.Enum):
    """What kind of address a host resolved to; only PUBLIC is ever a webhook target outside dev."""

    PUBLIC = "public"
    LOOPBACK = "loopback"
    PRIVATE = "private"
    LINK_LOCAL = "link-local"
    METADATA = "metadata"
    # Unspecified, multicast, reserved, documentation, shared (CGNAT) and the like.
    NON_ROUTABLE = "non-routable"


class TargetRefused(Exception):
    """The URL may not receive webhooks; `reason` is the UPPER_SNAKE reason for ErrorInfo."""

    def __init__(self, reason: str, message: str) -> None:
        """Record why."""
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Target:
    """A URL that passed the syntactic checks.

    Attributes:
        url: The URL as given.
        scheme: `https`, or `http` (dev loopback only).
        host: The host name or address literal, without brackets.
        port: The port, explicit or the scheme's default.
    """

    url: str
    scheme: str
    host: str
    port: int


def classify(address: IPAddress) -> AddressClass:
    """The class of one address (an IPv4-mapped IPv6 address is judged as its IPv4 address)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in _METADATA:
        return AddressClass.METADATA
    if address.is_loopback:
        return AddressClass.LOOPBACK
    if address.is_link_local:
        return AddressClass.LINK_LOCAL
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return AddressClass.NON_ROUTABLE
    if address.is_private:
        # Python counts documentation and benchmarking ranges as private; they route nowhere either way.
        return AddressClass.PRIVATE
    if not address.is_global:
        return AddressClass.NON_ROUTABLE
    return AddressClass.PUBLIC


@dataclass(frozen=True)
class TargetPolicy:
    """The rules for one environment.

    Attributes:
        allow_loopback: Dev only: loopback targets, over http or https.
    """

    allow_loopback: bool = False

    def check_url(self, url: str) -> Target:
        """The parsed target, or TargetRefused for a malformed, non-https or credential-bearing URL."""
        if len(url) > MAX_URL_LENGTH:
            raise TargetRefused(URL_INVALID, f"the URL may be at most {MAX_URL_LENGTH} characters")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise TargetRefused(URL_INVALID, f"the URL is malformed: {exc}") from None
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".").lower()
        if not scheme or not host:
            raise TargetRefused(URL_INVALID, "the URL must be absolute: https://host/...")
        if scheme not in ("https", "http"):
            raise TargetRefused(URL_NOT_HTTPS, "the URL must use https")
        if parts.username is not None or parts.password is not None:
            # Credentials in a URL end up in logs; the signature is how a receiver authenticates us.
            raise TargetRefused(URL_INVALID, "the URL must not carry a user name or password")
        if parts.fragment:
            raise TargetRefused(URL_INVALID, "the URL must not have a fragment")
        if scheme == "http" and not (self.allow_loopback and _is_loopback_host(host)):
            raise TargetRefused(URL_NOT_HTTPS, "the URL must use https (plain http only to loopback in dev)")
        return Target(url, scheme, host, port or (443 if scheme == "https" else 80))

    def check_addresses(self, target: Target, addresses: list[IPAddress]) -> None:
        """TargetRefused unless every address is allowed (one bad answer among good ones is refused too)."""
        if not addresses:
            raise TargetRefused(URL_UNRESOLVABLE, f"{target.host} has no address")
        for address in addresses:
            kind = classify(address)
            if kind is AddressClass.PUBLIC and target.scheme == "https":
                continue
            if kind is AddressClass.LOOPBACK and self.allow_loopback:
                continue
            if kind is AddressClass.PUBLIC:
                raise TargetRefused(URL_NOT_HTTPS, "plain http is allowed to loopback in dev only")
            raise TargetRefused(URL_ADDRESS_REFUSED, f"{target.host} resolves to a {kind.value} address")

    async def resolve(self, target: Target) -> list[IPAddress]:
        """The target's checked addresses, in resolver order; TargetRefused if any is not allowed."""
        addresses = await resolve(target.host, target.port)
        self.check_addresses(target, addresses)
        return addresses


def _is_loopback_host(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return classify(ipaddress.ip_address(host)) is AddressClass.LOOPBACK
    except ValueError:
        return False


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (a literal is itself); TargetRefused when it does not resolve."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(URL_UNRESOLVABLE, f"{host} does not resolve: {exc}") from None
    seen: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # Scope ids (`fe80::1%eth0`) are dropped; such an address is refused as link-local anyway.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in seen:
            seen.append(address)
    return seen
