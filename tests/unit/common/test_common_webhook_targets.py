"""Unit tests of the webhook target policy: URL rules and the SSRF classification of addresses."""

from __future__ import annotations

import ipaddress

import pytest

from services.common.webhook_targets import (
    URL_ADDRESS_REFUSED,
    URL_INVALID,
    URL_NOT_HTTPS,
    URL_UNRESOLVABLE,
    AddressClass,
    TargetPolicy,
    TargetRefused,
    classify,
)

PROD = TargetPolicy(allow_loopback=False)
DEV = TargetPolicy(allow_loopback=True)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("93.184.216.34", AddressClass.PUBLIC),
        ("2606:4700:4700::1111", AddressClass.PUBLIC),
        ("127.0.0.1", AddressClass.LOOPBACK),
        ("127.9.9.9", AddressClass.LOOPBACK),
        ("::1", AddressClass.LOOPBACK),
        ("10.1.2.3", AddressClass.PRIVATE),
        ("172.16.0.1", AddressClass.PRIVATE),
        ("192.168.1.1", AddressClass.PRIVATE),
        ("fd12:3456::1", AddressClass.PRIVATE),
        ("169.254.1.1", AddressClass.LINK_LOCAL),
        ("fe80::1", AddressClass.LINK_LOCAL),
        ("169.254.169.254", AddressClass.METADATA),
        ("fd00:ec2::254", AddressClass.METADATA),
        ("100.100.100.200", AddressClass.METADATA),
        ("100.64.0.1", AddressClass.NON_ROUTABLE),
        ("0.0.0.0", AddressClass.NON_ROUTABLE),
        ("224.0.0.1", AddressClass.NON_ROUTABLE),
        ("240.0.0.1", AddressClass.NON_ROUTABLE),
        # IPv4-mapped IPv6 is judged as the IPv4 address it carries.
        ("::ffff:10.0.0.1", AddressClass.PRIVATE),
        ("::ffff:127.0.0.1", AddressClass.LOOPBACK),
        ("::ffff:169.254.169.254", AddressClass.METADATA),
    ],
)
def test_classify_names_the_kind_of_each_address(address: str, kind: AddressClass) -> None:
    assert classify(ipaddress.ip_address(address)) is kind


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.com/hook", URL_NOT_HTTPS),
        ("ftp://example.com/hook", URL_NOT_HTTPS),
        ("example.com/hook", URL_INVALID),
        ("https://", URL_INVALID),
        ("https://user:pw@example.com/hook", URL_INVALID),
        ("https://example.com/hook#frag", URL_INVALID),
        ("https://example.com:99999/hook", URL_INVALID),
        ("https://example.com/" + "a" * 2048, URL_INVALID),
        # Loopback over http is refused outside dev.
        ("http://127.0.0.1:8000/hook", URL_NOT_HTTPS),
    ],
)
def test_check_url_refuses_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        PROD.check_url(url)
    assert refused.value.reason == reason


def test_check_url_parses_host_and_default_port() -> None:
    target = PROD.check_url("https://Hooks.Example.com./gx?x=1")
    assert (target.scheme, target.host, target.port) == ("https", "hooks.example.com", 443)
    assert PROD.check_url("https://[2606:4700::1]:8443/h").host == "2606:4700::1"


def test_dev_allows_http_to_loopback_only() -> None:
    assert DEV.check_url("http://127.0.0.1:9000/hook").port == 9000
    assert DEV.check_url("http://localhost/hook").port == 80
    with pytest.raises(TargetRefused) as refused:
        DEV.check_url("http://example.com/hook")
    assert refused.value.reason == URL_NOT_HTTPS


@pytest.mark.parametrize(
    "address", ["10.0.0.1", "169.254.169.254", "127.0.0.1", "::ffff:192.168.0.1", "0.0.0.0"]
)
async def test_literal_internal_addresses_are_refused_outside_dev(address: str) -> None:
    host = f"[{address}]" if ":" in address else address
    target = PROD.check_url(f"https://{host}/hook")
    with pytest.raises(TargetRefused) as refused:
        await PROD.resolve(target)
    assert refused.value.reason == URL_ADDRESS_REFUSED


async def test_dev_allows_loopback_but_never_private() -> None:
    assert await DEV.resolve(DEV.check_url("http://127.0.0.1:1/h")) == [ipaddress.ip_address("127.0.0.1")]
    with pytest.raises(TargetRefused):
        await DEV.resolve(DEV.check_url("https://10.0.0.1/h"))


async def test_a_name_resolving_to_loopback_is_refused_outside_dev() -> None:
    with pytest.raises(TargetRefused) as refused:
        await PROD.resolve(PROD.check_url("https://localhost/hook"))
    assert refused.value.reason == URL_ADDRESS_REFUSED


def test_one_bad_address_among_good_ones_is_refused() -> None:
    target = PROD.check_url("https://mixed.example/hook")
    good, bad = ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.7")
    PROD.check_addresses(target, [good])
    with pytest.raises(TargetRefused):
        PROD.check_addresses(target, [good, bad])
    with pytest.raises(TargetRefused) as refused:
        PROD.check_addresses(target, [])
    assert refused.value.reason == URL_UNRESOLVABLE


async def test_an_unresolvable_name_is_refused() -> None:
    with pytest.raises(TargetRefused) as refused:
        await PROD.resolve(PROD.check_url("https://no-such-host.invalid/hook"))
    assert refused.value.reason == URL_UNRESOLVABLE
