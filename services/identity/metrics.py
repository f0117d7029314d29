"""Identity's own Prometheus metrics: the Argon2 work that login throttling must bound."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from services.common.metrics import PerRegistry


class IdentityMetrics(PerRegistry):
    """Counters on identity's /metrics (`IdentityMetrics.for_registry(registry)`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.password_hashes = Counter(
            "gx_identity_password_hashes_total", "Argon2id password hashes computed.", registry=registry
        )
        self.password_verifications = Counter(
            "gx_identity_password_verifications_total",
            "Argon2id password verifications computed (the dummy ones for unknown emails included).",
            registry=registry,
        )
        self.login_throttled = Counter(
            "gx_identity_login_throttled_total",
            "Login attempts refused before any password work, by what refused them.",
            ("scope",),
            registry=registry,
        )
