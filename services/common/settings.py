"""Process settings from the environment: one base class with nested groups, subclassed per process."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class MissingSettingError(SystemExit):
    """A required setting is absent outside the dev environment.

    A SystemExit whose code is the message: raised while `main()` reads its settings, the process
    exits at once (status 1) with this one line on stderr and no traceback, before it opens
    anything. Tests catch it like any exception.
    """

    def __init__(self, service: str, variable: str, environment: str, why: str = "is not set") -> None:
        self.variable = variable
        super().__init__(f"{service}: required setting {variable} {why} (GX_ENVIRONMENT={environment})")


class DatabaseSettings(BaseModel):
    """PostgreSQL connection and pool (`GX_DATABASE__*`)."""

    # SecretStr: the URL usually carries a password, and settings objects get logged.
    url: SecretStr = SecretStr("postgresql+psycopg://postgres@127.0.0.1:5432/gx")
    pool_size: int = Field(default=10, ge=1)
    max_overflow: int = Field(default=10, ge=0)
    pool_timeout: float = Field(default=5.0, gt=0)
    # Recycle before common server/proxy idle timeouts cut connections under the pool.
    pool_recycle: float = Field(default=1800.0, gt=0)
    # A connection killed by a PostgreSQL restart is noticed at checkout, not mid-request,
    # at the price of one round trip per checkout of a connection that sat idle in the pool
    # for at least `pool_ping_after_idle_seconds`. Under load connections come back within
    # milliseconds and are not pinged (a round trip per request was ~10% of the wallet's
    # CPU); a restart under load fails the calls in flight either way, and the first
    # disconnect error then recycles the whole pool. 0 pings every checkout.
    pool_pre_ping: bool = True
    pool_ping_after_idle_seconds: float = Field(default=1.0, ge=0)
    echo: bool = False


class RedisSettings(BaseModel):
    """Redis connection (`GX_REDIS__*`)."""

    url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    socket_timeout: float = Field(default=2.0, gt=0)
    max_connections: int = Field(default=50, ge=1)
    # How long a call waits for a free pooled connection before failing (then as Redis down).
    pool_timeout: float = Field(default=1.0, gt=0)


class AuthSettings(BaseModel):
    """Access-token verification (`GX_AUTH__*`)."""

    issuer: str = "gx-identity"
    audience: str = "gx-api"
    # gRPC address of identity, whose GetJwks publishes the signing keys. Identity itself
    # leaves it empty and hands its own key source to the server factory.
    jwks_target: str = ""
    jwks_method: str = "/gx.identity.v1.IdentityService/GetJwks"
    # An unknown `kid` triggers a refresh, but at most this often, so a flood of forged
    # tokens cannot turn into a flood of JWKS calls.
    jwks_min_refresh_seconds: float = Field(default=10.0, ge=0)
    # Keys are refetched after this long even without an unknown kid (rotation, revocation).
    jwks_ttl_seconds: float = Field(default=300.0, gt=0)
    # Tolerated clock skew between identity and this process.
    leeway_seconds: float = Field(default=30.0, ge=0)
    # Revocation deny-list (services.common.revocation): answers are cached at most this long,
    # so a frozen user's token is refused everywhere within about this time (issue 9: 2 s).
    revocation_cache_seconds: float = Field(default=1.0, ge=0, le=1.0)
    # How long deny entries are kept: longer than the longest access token (15 min) plus leeway.
    revocation_ttl_seconds: float = Field(default=960.0, ge=930.0)
    # Service-to-service calls (services.common.service_auth). Receiving: a directory of the
    # public keys of the services allowed to call this one (`<service>.pem`); empty accepts
    # no service tokens. Calling: this service's own ES256 private key (PEM, a Secret).
    service_keys_dir: str = ""
    service_key_file: str = ""
    # Lifetime of the service tokens this process signs; short, since nothing revokes them.
    service_token_ttl_seconds: float = Field(default=300.0, ge=30.0, le=3600.0)


class IdempotencySettings(BaseModel):
    """AIP-155 request records (`GX_IDEMPOTENCY__*`; services.common.idempotency)."""

    # A record answers replays for this long; after it, the same request id is a new request.
    ttl_seconds: float = Field(default=24 * 3600.0, gt=0)
    # The purge worker deletes expired records at most this many per statement, so no single
    # DELETE holds locks or bloats WAL for long.
    purge_batch_size: int = Field(default=1000, ge=1, le=100_000)
    # How often the purge worker looks for expired records; 0 disables it in this process.
    purge_interval_seconds: float = Field(default=300.0, ge=0)


class ClientAddressSettings(BaseModel):
    """Whose `x-forwarded-for` names the client (`GX_CLIENT_ADDRESS__*`; services.common.client_address).

    The address goes into audit rows. Identity has its own (`GX_IDENTITY__TRUSTED_PROXIES`,
    `_HOPS`, also for login throttling); the other services read these.
    """

    # Networks of the proxies (the edge) whose `x-forwarded-for` is believed.
    trusted_proxies: list[str] = ["127.0.0.0/8", "::1/128"]
    # The client is this many entries from the right: 1 when the edge faces clients.
    trusted_hops: int = Field(default=1, ge=0)


class ServiceSettings(BaseSettings):
    """Settings every GX process shares; each process subclasses it.

    A subclass overrides defaults (`service_name`, `listen`) and adds its own groups, e.g.
    `identity: IdentitySettings` read from `GX_IDENTITY__KEYS_DIR`.
    """

    model_config = SettingsConfigDict(env_prefix="GX_", env_nested_delimiter="__", extra="ignore")

    # Settings (dotted paths) whose defaults only suit a developer's machine: outside `dev`
    # each must be given explicitly, or the process refuses to start (MissingSettingError).
    # A subclass extends the tuple with its own (identity: its signing keys directory).
    required_outside_dev: ClassVar[tuple[str, ...]] = ("database.url",)

    # dev (the default: local defaults are fine), or a deployed network, where a missing secret
    # must stop the process rather than let it run against a default.
    environment: Literal["dev", "testnet", "mainnet"] = "dev"
    # Names the process in logs and is the ErrorInfo domain (`<service_name>.gx`).
    service_name: str = "gx"
    listen: str = "127.0.0.1:50051"
    # The edge lane (services.common.lane): a second listener serving the same unary methods over
    # a thin HTTP/2 server, for Envoy's calls; empty (the default) serves only `listen`.
    lane_listen: str = ""
    # HTTP /metrics, /healthz, /readyz; empty disables the endpoint.
    metrics_listen: str = ""
    log_level: str = "INFO"
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    auth: AuthSettings = AuthSettings()
    idempotency: IdempotencySettings = IdempotencySettings()
    client_address: ClientAddressSettings = ClientAddressSettings()
    # Seconds in-flight calls get to finish after SIGTERM; keep below the pod's
    # terminationGracePeriodSeconds.
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    health_check_interval_seconds: float = Field(default=5.0, gt=0)
    health_check_timeout_seconds: float = Field(default=2.0, gt=0)

    @model_validator(mode="after")
    def _required_settings_given(self) -> ServiceSettings:
        if self.environment == "dev":
            return self
        for path in self.required_outside_dev:
            *groups, field = path.split(".")
            holder: BaseModel = self
            for group in groups:
                holder = getattr(holder, group)
            value = getattr(holder, field)
            given = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
            if field not in holder.model_fields_set or not given.strip():
                variable = "GX_" + "__".join(part.upper() for part in path.split("."))
                raise MissingSettingError(self.service_name, variable, self.environment)
        return self

    @property
    def error_domain(self) -> str:
        """The `google.rpc.ErrorInfo.domain` of this process's errors."""
        return f"{self.service_name}.gx"
