"""Settings of the notifier worker process (`GX_*`, nested with `__`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from services.common.settings import ServiceSettings


class SmtpSettings(BaseModel):
    """The SMTP relay (`GX_NOTIFIER__SMTP__*`); the dev stack points it at its local sink."""

    model_config = ConfigDict(populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = Field(default=1025, ge=1, le=65535)
    username: str = ""
    password: SecretStr = SecretStr("")
    # STARTTLS after connecting (port 587 relays). Implicit TLS (465) is `use_tls`.
    starttls: bool = False
    use_tls: bool = False
    # The From header and envelope sender (`GX_NOTIFIER__SMTP__FROM`).
    sender: str = Field(default="GX <no-reply@gx.local>", alias="from")
    timeout_seconds: float = Field(default=30.0, gt=0)


class NotifierTuning(BaseModel):
    """Claiming, retry and timing knobs (`GX_NOTIFIER__*`); tests shorten them."""

    batch_size: int = Field(default=32, ge=1)
    concurrency: int = Field(default=8, ge=1)
    poll_interval: float = Field(default=1.0, gt=0)
    # A claimed message becomes claimable again after this long (a worker that died mid-send);
    # longer than one send can take (SMTP timeout), so a live worker's send never overlaps another's.
    lease_seconds: float = Field(default=120.0, gt=0)
    backoff_initial: float = Field(default=5.0, ge=0)
    backoff_max: float = Field(default=3600.0, ge=0)
    # An email still unsent after this long is given up (FAILED EXPIRED): a two-day-old "money
    # arrived" or a long-expired reset link helps nobody.
    email_max_age_seconds: float = Field(default=48 * 3600.0, gt=0)
    stats_interval: float = Field(default=5.0, gt=0)
    # Finished messages (SENT, FAILED, SKIPPED) are deleted this long after they finished: the
    # dedupe keys must outlive any replay (the projector's money mail looks back 24 h) and partners
    # read their webhook delivery log from these rows. 0 keeps them forever.
    retention_seconds: float = Field(default=30 * 24 * 3600.0, ge=0)
    purge_interval_seconds: float = Field(default=3600.0, gt=0)
    purge_batch_size: int = Field(default=1000, ge=1)
    # Public base URL the templates may link to (verification and reset links).
    public_base_url: str = "http://127.0.0.1:8080"
    smtp: SmtpSettings = SmtpSettings()

    @model_validator(mode="after")
    def _lease_outlives_a_send(self) -> NotifierTuning:
        # A lease shorter than one SMTP exchange would let a second notifier claim and send a
        # message the first is still sending: a duplicate without any crash.
        if self.lease_seconds <= self.smtp.timeout_seconds:
            raise ValueError("notifier.lease_seconds must exceed notifier.smtp.timeout_seconds")
        return self


class NotifierSettings(ServiceSettings):
    """The notifier worker: database and the transports' settings."""

    # Outside dev a relay must be named: the default is the dev stack's local sink.
    required_outside_dev: ClassVar[tuple[str, ...]] = (
        *ServiceSettings.required_outside_dev,
        "notifier.smtp.host",
    )

    service_name: str = "notifier"
    notifier: NotifierTuning = NotifierTuning()
