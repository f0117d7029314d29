"""The identity process's settings: the shared groups plus `GX_IDENTITY__*`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from services.common.settings import ServiceSettings
from services.identity.passwords import OWASP_MEMORY_KIB, OWASP_PARALLELISM, OWASP_TIME_COST


class IdentityOptions(BaseModel):
    """Identity's own settings (`GX_IDENTITY__*`)."""

    # ES256 signing keys, one PKCS#8 PEM per key; a first key is created when empty.
    keys_dir: Path = Path(".gx/identity/keys")
    # A rotated-in key is published this long before it signs. Longer than any verifier's
    # JWKS cache (Envoy keeps it 300 s), so no token names a key a verifier has not seen.
    key_activation_seconds: int = Field(default=600, ge=0)
    # At most 15 minutes: access tokens are verified offline and cannot be revoked.
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=900)
    refresh_idle_days: float = Field(default=14.0, gt=0)
    session_max_days: float = Field(default=30.0, gt=0)
    lockout_account_limit: int = Field(default=5, ge=1)
    lockout_ip_limit: int = Field(default=20, ge=1)
    lockout_window_seconds: int = Field(default=900, ge=1)
    # Connections from these networks are the edge: their `x-forwarded-for` names the client
    # for lockout counting. Anyone else's header is ignored.
    trusted_proxies: list[str] = ["127.0.0.0/8", "::1/128"]
    # Argon2id cost; never below OWASP's minimum (enforced again by PasswordHashing).
    argon2_memory_kib: int = Field(default=OWASP_MEMORY_KIB, ge=OWASP_MEMORY_KIB)
    argon2_time_cost: int = Field(default=OWASP_TIME_COST, ge=OWASP_TIME_COST)
    argon2_parallelism: int = Field(default=OWASP_PARALLELISM, ge=OWASP_PARALLELISM)


class IdentitySettings(ServiceSettings):
    """Settings of `python -m services.identity`."""

    service_name: str = "identity"
    listen: str = "127.0.0.1:50051"
    identity: IdentityOptions = IdentityOptions()
