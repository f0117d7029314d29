"""The licensing process's settings: the shared groups plus `GX_LICENSING__*`."""

from __future__ import annotations

from gx.licensing.v1 import licensing_pb2
from pydantic import BaseModel, Field, field_validator

from services.common.enums import by_short_name
from services.common.settings import ServiceSettings

# Every tier needs a quota: a tier added to the proto without one fails at start-up.
_TIERS = tuple(by_short_name(licensing_pb2.LicenseTier))


class LicensingOptions(BaseModel):
    """Licensing's own settings (`GX_LICENSING__*`)."""

    # Requests per minute per licence, by tier: configuration, not contract, so prices and
    # capacity can change without an API version. Sized for real use: a FREE integration
    # polling once a second fits, an ENTERPRISE one serving many users too.
    tier_quotas: dict[str, int] = {"FREE": 60, "BASIC": 600, "PREMIUM": 6_000, "ENTERPRISE": 60_000}
    # Identity's gRPC address for role grants; empty means GX_AUTH__JWKS_TARGET (the same server).
    identity_target: str = ""
    identity_timeout_seconds: float = Field(default=5.0, gt=0)
    # RotateApiKey without a grace period keeps the old key this long; at most 7 days.
    default_grace_seconds: int = Field(default=86_400, ge=0, le=604_800)
    # Last-used times collected in Redis are written to PostgreSQL this often, in one batch.
    last_used_flush_seconds: float = Field(default=10.0, gt=0)
    # The edge check remembers a key's record this long, so a hot key costs no database read;
    # a revocation, suspension or tier change reaches every replica within this time.
    key_cache_seconds: float = Field(default=1.0, ge=0, le=10)
    # Counted decisions go from Redis to licensing.usage_minutes this often (usage visible within it).
    usage_flush_seconds: float = Field(default=5.0, gt=0, le=10)
    # Deadline of one partner-token mint at identity (on the path of a partner's first keyed request).
    partner_token_timeout_seconds: float = Field(default=2.0, gt=0)

    @field_validator("tier_quotas")
    @classmethod
    def _every_tier(cls, quotas: dict[str, int]) -> dict[str, int]:
        missing = [t for t in _TIERS if t not in quotas]
        if missing or any(q <= 0 for q in quotas.values()):
            raise ValueError(f"tier_quotas needs a positive quota for each of {_TIERS}; missing {missing}")
        return quotas


class LicensingSettings(ServiceSettings):
    """Settings of `python -m services.licensing`."""

    service_name: str = "licensing"
    listen: str = "127.0.0.1:50053"
    licensing: LicensingOptions = LicensingOptions()

    @property
    def identity_target(self) -> str:
        """Where identity answers gRPC."""
        return self.licensing.identity_target or self.auth.jwks_target
