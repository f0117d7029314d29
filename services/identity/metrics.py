"""Identity's own Prometheus metrics: the Argon2 work that login throttling must bound."""

from __future__ import annotations

import weakref

from prometheus_client import REGISTRY, CollectorRegistry, Counter


class IdentityMetrics:
    """Counters on identity's /metrics, created once per registry (tests run several servers
    in one process, and a name may be registered only once per registry)."""

    _by_registry: weakref.WeakKeyDictionary[CollectorRegistry, IdentityMetrics] = weakref.WeakKeyDictionary()

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

    @classmethod
    def for_registry(cls, registry: CollectorRegistry | None = None) -> IdentityMetrics:
        """The metrics of a registry (the process default when None), created once."""
        registry = registry or REGISTRY
        metrics = cls._by_registry.get(registry)
        if metrics is None:
            metrics = cls(registry)
            cls._by_registry[registry] = metrics
        return metrics
