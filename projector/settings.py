"""Settings of the projector process (`GX_*`, nested with `__`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from fabric_client import FabricSettings
from services.common.settings import DatabaseSettings, ServiceSettings


class ProjectorTuning(BaseModel):
    """Projector knobs (`GX_PROJECTOR__*`)."""

    # The identity that reads events: any member of the channel will do; it needs no gxc_role.
    reader: str = "User1"
    # How often a standby tries to take over.
    standby_retry_seconds: float = Field(default=1.0, gt=0)
    # How often the active projector checks for a rebuild request and refreshes lag metrics.
    control_interval_seconds: float = Field(default=1.0, gt=0)
    # The most transactions applied in one database transaction (projector/batch.py). A batch
    # takes only what the stream has delivered, so this bounds a replay's transactions, not a
    # live chain's latency; 1 applies every transaction on its own.
    batch_max_transactions: int = Field(default=500, ge=1)


class ProjectorDatabaseSettings(DatabaseSettings):
    """The projector's pool (`GX_DATABASE__*`): small, it has few users.

    The lock-holding connection that applies events, the lag and rebuild watchers and the
    health check. Defaults of a class (not an instance) so `GX_DATABASE__URL` alone keeps them.
    """

    pool_size: int = Field(default=3, ge=1)
    max_overflow: int = Field(default=2, ge=0)


class ProjectorSettings(ServiceSettings):
    """The projector: database, Fabric peer and the reader identity."""

    service_name: str = "projector"
    database: ProjectorDatabaseSettings = Field(default_factory=ProjectorDatabaseSettings)
    # fabric_client's own settings (`GX_FABRIC__*`), nested as they are: a new client option
    # reaches the projector with no edit here.
    fabric: FabricSettings = Field(default_factory=FabricSettings)
    projector: ProjectorTuning = ProjectorTuning()

    @property
    def projection_name(self) -> str:
        """The checkpoint's name: one projection per channel and chaincode."""
        return f"{self.fabric.channel}/{self.fabric.chaincode}"
