"""`python -m notifier`: the notifier worker process (several may run at once)."""

from __future__ import annotations

import contextlib
import functools
import logging

from notifier.metrics import NotifierMetrics
from notifier.render import Renderer
from notifier.repository import NotifierRepository
from notifier.settings import NotifierSettings
from notifier.transports import Transport
from notifier.transports.email import EmailTransport
from notifier.webhooks import SqlWebhookStore, WebhookTransport
from notifier.worker import NotifierWorker, WorkerSettings
from services.common import db
from services.common.logging import configure_logging
from services.common.runtime import Runtime, run, run_process
from services.common.webhook_targets import TargetPolicy

_LOG = logging.getLogger("notifier")


async def build(
    settings: NotifierSettings, runtime: Runtime, metrics: NotifierMetrics | None = None
) -> NotifierWorker:
    """Open the notifier's resources on the runtime and return the worker (not yet running)."""
    tuning = settings.notifier
    engine, _ = await runtime.database()
    repository = NotifierRepository(engine, tuning.lease_seconds)
    renderer = Renderer(defaults={"base_url": tuning.public_base_url.rstrip("/")})
    transports: dict[str, Transport] = {
        "email": EmailTransport(tuning.smtp, renderer, repository.recipient, tuning.email_max_age_seconds),
        # Partners' webhooks (notifier/webhooks.py): loopback targets only in dev.
        "webhook": WebhookTransport(
            SqlWebhookStore(engine), TargetPolicy(allow_loopback=settings.environment == "dev")
        ),
    }
    worker = NotifierWorker(
        repository,
        transports,
        metrics or NotifierMetrics(),
        WorkerSettings(
            batch_size=tuning.batch_size,
            concurrency=tuning.concurrency,
            poll_interval=tuning.poll_interval,
            backoff_initial=tuning.backoff_initial,
            backoff_max=tuning.backoff_max,
            stats_interval=tuning.stats_interval,
            retention_seconds=tuning.retention_seconds,
            purge_interval_seconds=tuning.purge_interval_seconds,
            purge_batch_size=tuning.purge_batch_size,
        ),
        listen_dsn=db.libpq_dsn(settings.database.url.get_secret_value()),
    )
    # Ready = can reach its database. An SMTP relay that is down is NOT unreadiness: the
    # notifier is doing its job (keeping the mail queued) and says so in its metrics.
    await runtime.probes({"postgres": lambda: db.check_database(engine)})
    _LOG.info("notifier: SMTP %s:%s, channels %s", tuning.smtp.host, tuning.smtp.port, ", ".join(transports))
    return worker


async def main() -> int:
    """Run one notifier until SIGTERM/SIGINT; messages in flight finish first."""
    settings = NotifierSettings()
    configure_logging(settings.log_level, settings.service_name)
    return await run_process(settings, functools.partial(build, settings))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(run(main))  # on uvloop unless GX_EVENT_LOOP=asyncio
