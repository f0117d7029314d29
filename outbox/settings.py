"""Settings of the outbox worker process (`GX_*`, nested with `__`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from fabric_client import FabricSettings
from services.common.settings import ServiceSettings


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
    # Endorse the successor a commit frees while that commit is recorded (outbox/speculation.py).
    speculate: bool = True
    # A stable name for this instance in leases and logs; default host name + pid.
    worker_id: str = ""
    # Retention (outbox/retention.py): finished commands older than this many days move from the
    # queue to outbox.archived_commands, in batches, every interval (0 disables the worker).
    retention_days: float = Field(default=30.0, ge=0)
    retention_batch_size: int = Field(default=500, ge=1)
    retention_interval_seconds: float = Field(default=300.0, ge=0)


class OutboxSettings(ServiceSettings):
    """The outbox worker: database, Fabric peer and identities, and its admin gRPC server."""

    service_name: str = "outbox"
    # The OutboxAdminService (operators); health and reflection on the same port.
    listen: str = "127.0.0.1:50054"
    # fabric_client's own settings (`GX_FABRIC__*`), nested as they are: a new client option
    # reaches the worker with no edit here. The worker signs as each command's `gxc_role`
    # (`GX_FABRIC__ORG_DIR` or `GX_FABRIC__ROLE_MSP_DIRS`).
    fabric: FabricSettings = Field(default_factory=FabricSettings)
    outbox: OutboxTuning = OutboxTuning()
