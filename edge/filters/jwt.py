"""`jwt_authn`: user tokens checked at the edge against identity's JWKS; public RPCs pass without one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edge.core import INFRA_SERVICES, JWT_FILTER, SELF_CLUSTER
from edge.descriptor import Service
from edge.settings import EdgeSettings
from edge.templates import template_regex

_PROVIDER = "gx_user"


def _rules(services: Sequence[Service]) -> list[dict[str, Any]]:
    optional = {"requires_any": {"requirements": [{"provider_name": _PROVIDER}, {"allow_missing": {}}]}}
    rules: list[dict[str, Any]] = []
    for svc in services:
        for method in svc.methods:
            if not method.public:
                continue
            rules.append({"match": {"path": method.grpc_path}, "requires": optional})
            for http in method.http_rules:
                rules.append(
                    {
                        "match": {
                            "safe_regex": {"regex": template_regex(http.template)},
                            "headers": [{"name": ":method", "string_match": {"exact": http.verb}}],
                        },
                        "requires": optional,
                    }
                )
    for name in INFRA_SERVICES:
        rules.append({"match": {"prefix": f"/{name}/"}})  # no requirement at all
    # CORS preflights and anything else not public needs a valid user token.
    rules.append({"match": {"prefix": "/"}, "requires": {"provider_name": _PROVIDER}})
    return rules


def _token_cache(size: int) -> dict[str, Any]:
    # A client sends the same token on every call until it expires, and the ES256 check was about
    # a quarter of Envoy's CPU per call (0.075 ms of a history read's 0.34). Envoy keys the cache
    # by the token's exact text (a tampered token is a miss and gets the full check) and drops an
    # entry once expired, with jwt_verify_lib's own 60 s skew instead of `clock_skew_seconds`, and
    # keeps it if its key leaves the JWKS. Neither widens access: every service verifies the
    # token again with a 30 s leeway and its current keys (DESIGN.md §7).
    if size <= 0:
        return {}
    return {"jwt_cache_config": {"jwt_cache_size": size}}


def jwt_filter(settings: EdgeSettings, services: Sequence[Service]) -> dict[str, Any]:
    """The token check: optional on the RPCs the contracts mark public, required everywhere else."""
    return {
        "name": JWT_FILTER,
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
            "providers": {
                _PROVIDER: {
                    "issuer": settings.jwt_issuer,
                    "audiences": [settings.jwt_audience],
                    "remote_jwks": {
                        "http_uri": {
                            "uri": f"http://{settings.host}:{settings.port}/.well-known/jwks.json",
                            "cluster": SELF_CLUSTER,
                            "timeout": "2s",
                        },
                        "cache_duration": f"{settings.jwks_cache_seconds}s",
                        # Fetch at start and keep retrying each second until identity is up,
                        # instead of failing the first user request.
                        "async_fetch": {"failed_refetch_duration": "1s"},
                    },
                    # The services verify the token again (DESIGN.md §7), so it must reach them.
                    "forward": True,
                    "clock_skew_seconds": 30,
                    **_token_cache(settings.jwt_cache_size),
                }
            },
            "rules": _rules(services),
        },
    }
