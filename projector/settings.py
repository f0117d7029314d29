"""Settings of the projector process (`GX_*`, nested with `__`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from outbox.settings import LedgerSettings
from services.common.settings import ServiceSettings


class ProjectorTuning(BaseModel):
    """Projector knobs (`GX_PROJECTOR__*`)."""

    # The identity that reads events: any member of the channel will do; it needs no gxc_role.
    reader: str = "User1"
    # How often a standby tries to take over.
    standby_retry_seconds: float = Field(default=1.0, gt=0)
    # How often the active projector checks for a rebuild request and refreshes lag metrics.
    control_interval_seconds: float = Field(default=1.0, gt=0)


class ProjectorSettings(ServiceSettings):
    """The projector: database, Fabric peer and the reader identity."""

    service_name: str = "projector"
    fabric: LedgerSettings = LedgerSettings()
    projector: ProjectorTuning = ProjectorTuning()

    @property
    def projection_name(self) -> str:
        """The checkpoint's name: one projection per channel and chaincode."""
        return f"{self.fabric.channel}/{self.fabric.chaincode}"
