"""Runs the GX chaincode as a service (CCaaS): `CHAINCODE_SERVER_ADDRESS=host:port CHAINCODE_ID=gx:1.0 python -m chaincode`."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from types import FrameType


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc)


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The shim logs every stream message on the "asyncio" logger (payloads at INFO, a "Look out!"
    # at WARNING): far too much for a ledger that carries personal data, and slow. Task failures
    # still show: asyncio reports them at ERROR.
    logging.getLogger("asyncio").setLevel(logging.ERROR)


def _stop(signum: int, frame: FrameType | None) -> None:
    # SystemExit unwinds the shim's event loop, which then stops its gRPC server.
    sys.exit(0)


def main() -> int:
    """Apply the shim fix and serve the chaincode until SIGTERM/SIGINT."""
    # Importing the shim configures logging as a side effect, so configure ours after it.
    from chaincode import shim_batch, shim_fast, shim_fix
    from chaincode.app import build_chaincode

    _configure_logging(os.environ.get("GX_LOG_LEVEL", "INFO"))
    log = logging.getLogger("chaincode")
    for name in ("CHAINCODE_SERVER_ADDRESS", "CHAINCODE_ID"):
        if not os.environ.get(name):
            log.error("environment variable %s is required", name)
            return 2
    report = shim_fix.apply()
    log.info("shim fix: %s", report)
    # After the fix: the shim's per-message path without eager log lines or a task per answer.
    log.info("shim fast path: %s", shim_fast.apply())
    # Fabric 3.1's batched writes and multi-key reads, used only when the peer offers them in READY.
    shim_batch.apply()
    # Which organisations' certificates may carry gxc_role (comma-separated MSP ids). Unset trusts
    # every MSP on the channel: right for the single-org devnet, wrong for a multi-org channel.
    msps = os.environ.get("GX_CHAINCODE_ROLE_MSPS", "")
    role_msps = frozenset(m.strip() for m in msps.split(",") if m.strip()) or None
    if role_msps is None:
        log.warning("GX_CHAINCODE_ROLE_MSPS is unset: gxc_role is trusted from every MSP on the channel")
    chaincode = build_chaincode(role_msps)
    listen = os.environ.get("GX_CHAINCODE_METRICS_LISTEN", "")
    if listen:
        # Only now is prometheus_client imported: without the variable the chaincode needs only the shim.
        from chaincode import metrics

        chaincode.metrics = metrics.InvocationMetrics(chaincode.routes)
        address = os.environ["CHAINCODE_SERVER_ADDRESS"]
        server = metrics.MetricsServer(listen, chaincode.metrics, lambda: metrics.tcp_accepts(address))
        server.start()
        log.info("metrics on http://%s/metrics (and /healthz)", server.address)
    signal.signal(signal.SIGTERM, _stop)
    log.info(
        "GX chaincode %s serving on %s", os.environ["CHAINCODE_ID"], os.environ["CHAINCODE_SERVER_ADDRESS"]
    )
    chaincode.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
