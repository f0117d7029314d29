"""Settings of the outbox worker process (`GX_*`, nested with `__`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from fabric_client import FabricSettings
from services.common.settings import ServiceSettings


class LedgerSettings(BaseModel):
    """Where the Fabric peer is and which identities sign (`GX_FABRIC__*`).

    The names follow the dev stack's contract: `GX_FABRIC__ENDPOINT`, `..._CHANNEL`,
    `..._CHAINCODE`, `..._MSP_ID` and `..._ORG_DIR` (the organisation's crypto folder, whose
    `users/<Name>@<domain>/msp` holds one identity per `gxc_role`).
    """

    endpoint: str = "127.0.0.1:7051"
    channel: str = "gxchannel"
    chaincode: str = "gx"
    msp_id: str = "Org1MSP"
    org_dir: Path | None = None
    # The identity folders per role, when they do not follow the org_dir layout.
    role_msp_dirs: dict[str, Path] = {}
    tls_root_cert: Path | None = None
    tls_client_cert: Path | None = None
    tls_client_key: Path | None = None
    tls_server_name: str | None = None
    endorse_timeout: float = Field(default=30.0, gt=0)
    submit_timeout: float = Field(default=10.0, gt=0)
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_reset_timeout: float = Field(default=5.0, ge=0)

    @property
    def org_domain(self) -> str:
        """The organisation's domain, the last part of org_dir (`org1.example.com`)."""
        return self.org_dir.name if self.org_dir is not None else "org1.example.com"

    def msp_dir(self, user: str) -> Path:
        """The MSP folder of the identity `user` (a `gxc_role` such as `gx_admin`, or `User1`)."""
        if user in self.role_msp_dirs:
            return self.role_msp_dirs[user]
        if self.org_dir is None:
            raise ValueError(f"no Fabric identity for {user}: set GX_FABRIC__ORG_DIR")
        return self.org_dir / "users" / f"{user}@{self.org_domain}" / "msp"

    def fabric_settings(self, user: str) -> FabricSettings:
        """The fabric_client settings for signing as `user`."""
        return FabricSettings(
            peer_endpoint=self.endpoint,
            channel=self.channel,
            chaincode=self.chaincode,
            msp_id=self.msp_id,
            msp_dir=self.msp_dir(user),
            tls_root_cert=self.tls_root_cert,
            tls_client_cert=self.tls_client_cert,
            tls_client_key=self.tls_client_key,
            tls_server_name=self.tls_server_name,
            endorse_timeout=self.endorse_timeout,
            submit_timeout=self.submit_timeout,
            breaker_failure_threshold=self.breaker_failure_threshold,
            breaker_reset_timeout=self.breaker_reset_timeout,
        )


class OutboxTuning(BaseModel):
    """Claiming, retry and timing knobs (`GX_OUTBOX__*`); tests shorten them."""

    batch_size: int = Field(default=32, ge=1)
    concurrency: int = Field(default=16, ge=1)
    poll_interval: float = Field(default=1.0, gt=0)
    lease_seconds: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    backoff_initial: float = Field(default=0.2, ge=0)
    backoff_max: float = Field(default=30.0, ge=0)
    commit_timeout: float = Field(default=30.0, gt=0)
    recover_status_timeout: float = Field(default=2.0, gt=0)
    # Most seconds before rebuilding a transaction that lost an MVCC/phantom read conflict
    # (jittered; conflicts spend no attempt, so this is what keeps contention from spinning).
    conflict_backoff: float = Field(default=0.2, ge=0)
    # A stable name for this instance in leases and logs; default host name + pid.
    worker_id: str = ""


class OutboxSettings(ServiceSettings):
    """The outbox worker: database, Fabric peer and identities, and its admin gRPC server."""

    service_name: str = "outbox"
    # The OutboxAdminService (operators); health and reflection on the same port.
    listen: str = "127.0.0.1:50054"
    fabric: LedgerSettings = LedgerSettings()
    outbox: OutboxTuning = OutboxTuning()
