"""Per-method call policy read from the protos' own sources, never restated here.

Retries and default deadlines come from the `<domain>_grpc_service_config.json` files that ship
beside the protos (reads and request_id-protected writes retry on UNAVAILABLE; Login, RefreshToken
and IssuePartnerToken do not). Which methods need no token comes from the `gx.type.v1.access`
method option in the descriptors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from google.protobuf import descriptor_pool

# Importing the service modules registers their descriptors (with options) in the default pool.
from gx.identity.v1 import identity_service_pb2  # noqa: F401
from gx.licensing.v1 import licensing_service_pb2  # noqa: F401
from gx.type.v1 import access_pb2
from gx.wallet.v1 import (  # noqa: F401
    admin_service_pb2,
    governance_service_pb2,
    loan_service_pb2,
    organization_service_pb2,
    tax_service_pb2,
    wallet_service_pb2,
)


@dataclass(frozen=True)
class Retry:
    """gRPC's retryPolicy: attempts in all, exponential backoff with full jitter."""

    max_attempts: int
    initial_backoff: float
    max_backoff: float
    multiplier: float
    codes: frozenset[str]

    def backoff(self, retry: int) -> float:
        """The ceiling of the pause before retry number `retry` (1-based); the caller jitters below it."""
        return float(min(self.initial_backoff * self.multiplier ** (retry - 1), self.max_backoff))


@dataclass(frozen=True)
class MethodPolicy:
    """What the SDK does for one method: its default deadline and its retry policy, if any."""

    timeout: float | None
    retry: Retry | None


_NO_POLICY = MethodPolicy(timeout=None, retry=None)


def _seconds(text: str) -> float:
    return float(text.removesuffix("s"))


@cache
def _table() -> dict[str, MethodPolicy]:
    table: dict[str, MethodPolicy] = {}
    for entry in sorted(resources.files("gx_client").joinpath("service_config").iterdir(), key=str):
        if not entry.name.endswith(".json"):
            continue
        for config in json.loads(entry.read_text())["methodConfig"]:
            raw = config.get("retryPolicy")
            retry = (
                Retry(
                    max_attempts=int(raw["maxAttempts"]),
                    initial_backoff=_seconds(raw["initialBackoff"]),
                    max_backoff=_seconds(raw["maxBackoff"]),
                    multiplier=float(raw["backoffMultiplier"]),
                    codes=frozenset(raw["retryableStatusCodes"]),
                )
                if raw
                else None
            )
            timeout = _seconds(config["timeout"]) if "timeout" in config else None
            for name in config["name"]:
                table[f"/{name['service']}/{name['method']}"] = MethodPolicy(timeout, retry)
    return table


def method_policy(method: str) -> MethodPolicy:
    """The policy of `/package.Service/Method` (no deadline, no retries when the config omits it)."""
    return _table().get(method, _NO_POLICY)


@cache
def is_public(method: str) -> bool:
    """True when the method's `gx.type.v1.access` option says it needs no token (register, login…)."""
    service, _, name = method.lstrip("/").partition("/")
    try:
        found = descriptor_pool.Default().FindServiceByName(service).methods_by_name[name]
    except KeyError:
        return False
    options = found.GetOptions()
    return bool(options.HasExtension(access_pb2.access) and options.Extensions[access_pb2.access].public)
