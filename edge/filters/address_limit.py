"""`local_ratelimit` per client address on the unauthenticated routes (register, login, refresh, apply).

The filter itself does nothing; each limited route carries its own token buckets (`per_route`).
"""

from __future__ import annotations

import math
from typing import Any

from edge.core import ADDRESS_LIMIT_FILTER

_TYPE = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"


def address_limit_filter() -> dict[str, Any]:
    """The limiter in the chain; without a route's configuration it does nothing."""
    return {"name": ADDRESS_LIMIT_FILTER, "typed_config": {"@type": _TYPE, "stat_prefix": "address_limit"}}


def _percent(value: int) -> dict[str, Any]:
    return {
        "default_value": {"numerator": value, "denominator": "HUNDRED"},
        "runtime_key": "address_limit.off",
    }


def per_route(name: str, per_minute: int) -> dict[str, Any]:
    """The route's `typed_per_filter_config`: a token bucket of `per_minute` for each client address.

    The client address is Envoy's trusted one: the socket peer, or the x-forwarded-for entry
    `xff_num_trusted_hops` from the right.
    """
    # One token every 60/N s, N at once: a minute's worth of burst, then N per minute.
    interval_ms = max(50, math.ceil(60_000 / per_minute))
    bucket = {"max_tokens": per_minute, "tokens_per_fill": 1, "fill_interval": f"{interval_ms / 1000}s"}
    return {
        ADDRESS_LIMIT_FILTER: {
            "@type": _TYPE,
            "stat_prefix": f"address_limit_{name}",
            # The route-wide bucket is never the one that binds; each address gets its own.
            "token_bucket": {
                "max_tokens": 1_000_000_000,
                "tokens_per_fill": 1_000_000_000,
                "fill_interval": "1s",
            },
            "filter_enabled": _percent(100),
            "filter_enforced": _percent(100),
            "rate_limits": [{"actions": [{"remote_address": {}}]}],
            # An empty value is a wildcard: one bucket per distinct address, the least
            # recently used dropped beyond this many.
            "descriptors": [{"entries": [{"key": "remote_address"}], "token_bucket": bucket}],
            "max_dynamic_descriptors": 100_000,
            "response_headers_to_add": [
                {"header": {"key": "retry-after", "value": str(math.ceil(interval_ms / 1000))}},
                # Read (and removed) by edge.lua to give the JSON error its reason.
                {"header": {"key": "x-gx-limited", "value": "address"}},
            ],
        }
    }
