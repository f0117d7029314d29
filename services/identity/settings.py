"""The identity process's settings: the shared groups plus `GX_IDENTITY__*`."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, Field, model_validator

from services.common.settings import MissingSettingError, ServiceSettings
from services.identity.passwords import OWASP_MEMORY_KIB, OWASP_PARALLELISM, OWASP_TIME_COST


class IdentityOptions(BaseModel):
    """Identity's own settings (`GX_IDENTITY__*`)."""

    # ES256 signing keys, one PKCS#8 PEM per key; a first key is created when empty.
    keys_dir: Path = Path(".gx/identity/keys")
    # A rotated-in key is published this long before it signs. Longer than any verifier's
    # JWKS cache (Envoy keeps it 300 s), so no token names a key a verifier has not seen.
    key_activation_seconds: int = Field(default=600, ge=0)
    # At most 15 minutes: the revocation deny-list keeps entries that long (GX_AUTH__REVOCATION_TTL_SECONDS).
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=900)
    refresh_idle_days: float = Field(default=14.0, gt=0)
    session_max_days: float = Field(default=30.0, gt=0)
    # Login throttling (services.identity.lockout): per account, this many attempts go through
    # at once, then each further one waits 1, 2, 4 … s (base, doubling, capped) after the last;
    # per client address, this many failures within the window refuse the address until the
    # window ends. Attempts are counted before the password is verified.
    lockout_account_limit: int = Field(default=5, ge=1)
    lockout_ip_limit: int = Field(default=20, ge=1)
    lockout_window_seconds: int = Field(default=900, ge=1)
    lockout_delay_base_seconds: float = Field(default=1.0, gt=0)
    lockout_delay_max_seconds: float = Field(default=60.0, gt=0)
    # Connections from these networks are the edge: their `x-forwarded-for` names the client
    # for throttling. Anyone else's header is ignored.
    trusted_proxies: list[str] = ["127.0.0.0/8", "::1/128"]
    # Proxies (the edge included) that append to `x-forwarded-for` before identity: the client
    # is that many entries from the right. 1 = the edge faces clients; +1 per trusted L7 proxy
    # in front of it (Envoy's xff_num_trusted_hops, GX_EDGE_XFF_TRUSTED_HOPS, + 1).
    trusted_hops: int = Field(default=1, ge=0)
    # Argon2id cost; never below OWASP's minimum (enforced again by PasswordHashing).
    argon2_memory_kib: int = Field(default=OWASP_MEMORY_KIB, ge=OWASP_MEMORY_KIB)
    argon2_time_cost: int = Field(default=OWASP_TIME_COST, ge=OWASP_TIME_COST)
    argon2_parallelism: int = Field(default=OWASP_PARALLELISM, ge=OWASP_PARALLELISM)
    # Argon2 hashes and verifies computed at once; others wait their turn. Each holds its
    # 19 MiB block while it runs, on top of a base of about 113 MB (README, Memory): one at a
    # time keeps identity's peak near 133 MB (two reached 152 on 2 CPUs), and with the block in
    # huge pages (argon2_pages.py) one hash takes about 18 ms of CPU, so one at a time serves
    # about as many logins as two did with 4 KiB pages. 0 = the CPUs this process may use (its
    # cgroup CPU quota and affinity): more logins per replica, base + CPUs x 19 MiB.
    argon2_max_concurrent: int = Field(default=1, ge=0)
    # The roles each service may add to a user with AddUserRole, by service name (the
    # service-token subject `service:<name>`): licensing makes partners and nothing else.
    service_role_grants: dict[str, list[str]] = {"licensing": ["PARTNER"]}
    # The services that may mint a partner principal's access token (IssuePartnerToken): the
    # edge's key check in licensing, after it has checked the key, licence and partner.
    partner_token_services: list[str] = ["licensing"]
    # Account mails (services.identity.accounts). Links in them start here: the app's web or
    # deep-link address (`<base>/verify-email?code=…`, `<base>/reset-password?token=…`).
    account_link_base: str = "https://app.gx.example"
    # How long a verification code works, and a reset token (15 minutes at most: OWASP's
    # forgot-password cheat sheet wants them short-lived).
    verification_ttl_seconds: int = Field(default=86400, ge=60)
    reset_ttl_seconds: int = Field(default=900, ge=60, le=900)
    # Verification mails a user may ask for per window (ResendVerificationEmail).
    verification_resend_limit: int = Field(default=3, ge=1)
    verification_resend_window_seconds: int = Field(default=3600, ge=1)
    # Reset requests per client address per window (refused over it, the same for every
    # email), and reset mails per email per window (none sent over it, same answer).
    reset_address_limit: int = Field(default=10, ge=1)
    reset_address_window_seconds: int = Field(default=900, ge=1)
    reset_email_limit: int = Field(default=3, ge=1)
    reset_email_window_seconds: int = Field(default=3600, ge=1)


class IdentitySettings(ServiceSettings):
    """Settings of `python -m services.identity`."""

    service_name: str = "identity"
    listen: str = "127.0.0.1:50051"
    identity: IdentityOptions = IdentityOptions()

    # Outside dev the signing keys come from a mounted Secret: never a directory identity would
    # create (and fill with a fresh key) because the setting or the mount is missing.
    required_outside_dev: ClassVar[tuple[str, ...]] = (
        *ServiceSettings.required_outside_dev,
        "identity.keys_dir",
    )

    @model_validator(mode="after")
    def _keys_dir_exists(self) -> IdentitySettings:
        if self.environment != "dev" and not self.identity.keys_dir.is_dir():
            raise MissingSettingError(
                self.service_name,
                "GX_IDENTITY__KEYS_DIR",
                self.environment,
                "does not name an existing directory",
            )
        return self
