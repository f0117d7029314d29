"""The partner edge in the generated Envoy config (dev stack and Kubernetes share the generator): ext_authz only for
keyed requests and failing closed, the access-log stream to licensing, per-address limits on the unauthenticated routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edge import descriptor as gx_descriptor
from edge import settings as edge_settings
from manifests import edge_config
from services.common.auth import PARTNER_TOKEN_HEADER

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def descriptor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gx_descriptor.build(ROOT, tmp_path_factory.mktemp("edge") / "gx.binpb")


def _render(
    descriptor: Path,
    limits: dict[str, int] | None = None,
    domains: tuple[str, ...] = ("identity", "wallet", "licensing"),
) -> dict[str, Any]:
    upstreams = {d: edge_settings.Upstream(d, d, 50051 + i) for i, d in enumerate(domains)}
    return edge_config.render(descriptor, upstreams, address_limits=limits)


def _hcm(config: dict[str, Any]) -> dict[str, Any]:
    edge = config["static_resources"]["listeners"][0]
    hcm: dict[str, Any] = edge["filter_chains"][0]["filters"][0]["typed_config"]
    return hcm


def test_keyed_requests_go_to_licensing_and_fail_closed(descriptor: Path) -> None:
    hcm = _hcm(_render(descriptor))
    names = [f["name"] for f in hcm["http_filters"]]
    # The key check runs before the token check, so the partner principal's token is verified too.
    assert names.index("envoy.filters.http.ext_authz") < names.index("envoy.filters.http.jwt_authn")
    authz = next(
        f["typed_config"] for f in hcm["http_filters"] if f["name"] == "envoy.filters.http.ext_authz"
    )
    assert authz["failure_mode_allow"] is False and authz["status_on_error"] == {"code": 503}
    assert authz["grpc_service"]["envoy_grpc"]["cluster_name"] == "licensing"
    # Only requests edge.lua marked as keyed are checked.
    assert authz["filter_enabled_metadata"]["filter"] == "gx.edge"
    als = [log for log in hcm["access_log"] if log["name"] == "envoy.access_loggers.http_grpc"]
    assert len(als) == 1
    assert (
        als[0]["typed_config"]["common_config"]["grpc_service"]["envoy_grpc"]["cluster_name"] == "licensing"
    )
    assert als[0]["filter"]["metadata_filter"]["matcher"]["path"] == [{"key": "license_id"}]


def test_without_licensing_there_is_no_key_check(descriptor: Path) -> None:
    hcm = _hcm(_render(descriptor, domains=("identity", "wallet")))
    assert "envoy.filters.http.ext_authz" not in [f["name"] for f in hcm["http_filters"]]
    assert all(log["name"] != "envoy.access_loggers.http_grpc" for log in hcm["access_log"])


def test_unauthenticated_routes_are_limited_per_address(descriptor: Path) -> None:
    hcm = _hcm(_render(descriptor, {"register": 6, "login": 0, "refresh": 30, "apply": 3}))
    routes = hcm["route_config"]["virtual_hosts"][0]["routes"]
    limited = {r["match"]["path"]: r for r in routes if r.get("name", "").startswith("address_limit_")}
    # login = 0 turns its limit off.
    assert set(limited) == {
        "/gx.identity.v1.IdentityService/RegisterUser",
        "/gx.identity.v1.IdentityService/RefreshToken",
        "/gx.licensing.v1.LicensingService/CreatePartner",
    }
    register = limited["/gx.identity.v1.IdentityService/RegisterUser"]["typed_per_filter_config"][
        "gx.address_limit"
    ]
    assert register["rate_limits"] == [{"actions": [{"remote_address": {}}]}]
    (bucket,) = register["descriptors"]
    assert bucket["entries"] == [{"key": "remote_address"}]
    assert bucket["token_bucket"] == {"max_tokens": 6, "tokens_per_fill": 1, "fill_interval": "10.0s"}
    assert {"header": {"key": "retry-after", "value": "10"}} in register["response_headers_to_add"]
    # The exact routes come before the per-service prefixes that would also match them.
    first_prefix = next(i for i, r in enumerate(routes) if "prefix" in r["match"])
    assert all(routes.index(r) < first_prefix for r in limited.values())
    assert routes[-1]["name"] == "unmatched"


def test_address_limits_come_from_the_environment() -> None:
    assert edge_settings.address_limits_from_env({}) == edge_settings.DEFAULT_ADDRESS_LIMITS
    assert (
        edge_settings.address_limits_from_env({"GX_EDGE_ADDRESS_LIMITS": "register=5, apply=0"})["register"]
        == 5
    )
    with pytest.raises(ValueError, match="bad entry"):
        edge_settings.address_limits_from_env({"GX_EDGE_ADDRESS_LIMITS": "signup=5"})
    with pytest.raises(ValueError, match="bad entry"):
        edge_settings.address_limits_from_env({"GX_EDGE_ADDRESS_LIMITS": "login=-1"})


def test_client_sent_partner_headers_are_dropped_before_the_key_check(descriptor: Path) -> None:
    hcm = _hcm(_render(descriptor))
    filters = hcm["http_filters"]
    names = [f["name"] for f in filters]
    # edge.lua is the first filter, ahead of ext_authz, which alone may set x-gx-partner-token.
    assert names[0] == "envoy.filters.http.lua"
    assert names.index("envoy.filters.http.lua") < names.index("envoy.filters.http.ext_authz")
    source = filters[0]["typed_config"]["default_source_code"]["inline_string"]
    assert 'INTERNAL_PREFIXES = { "x-gx-", "x-envoy-" }' in source
    assert PARTNER_TOKEN_HEADER.startswith("x-gx-")
    # The key check never sees the client's copy either.
    authz = next(f["typed_config"] for f in filters if f["name"] == "envoy.filters.http.ext_authz")
    allowed = {p["exact"] for p in authz["allowed_headers"]["patterns"]}
    assert PARTNER_TOKEN_HEADER not in allowed
