"""The mesh's Prometheus alerts, as one PrometheusRule (prometheus-operator), each with its runbook.

Thresholds are the seed's: projection lag > 5 s for 2 min; breaker open > 1 min; outbox failure
rate > 1%; API error rate > 0.1% for 5 min; command rate < 0.5/s for 5 min while traffic exists;
plus the projector halted on a poison event, dead-lettered commands, and outgoing messages
(mail, webhooks) waiting over 15 min for 10 min. Every expression is
grouped `by (namespace)` at least, so one Prometheus watching testnet and mainnet alerts per
environment. The runbook of alert X is docs/runbooks/X.md (a test checks each exists).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Where the repository's docs/runbooks are browsable; alerts link to RUNBOOK_BASE + X.md.
RUNBOOK_BASE = "https://git.gx.internal/gx/gx-mesh/-/blob/main/docs/runbooks/"

EDGE = 'envoy_http_conn_manager_prefix="edge"'
EDGE_5XX = EDGE + ',envoy_response_code_class="5"'
# gRPC codes that mean the server failed (not the caller): what an API error budget counts.
SERVER_FAULT_CODES = "Unknown|Internal|Unavailable|DataLoss|DeadlineExceeded|Unimplemented"
SERVER_FAULT = f'grpc_code=~"{SERVER_FAULT_CODES}"'


@dataclass(frozen=True)
class Alert:
    """One alerting rule."""

    name: str
    expr: str
    for_: str
    severity: str
    summary: str
    description: str

    @property
    def runbook(self) -> str:
        """The runbook's path in the repository."""
        return f"docs/runbooks/{self.name}.md"

    def rule(self) -> dict[str, Any]:
        """The rule as PrometheusRule YAML data."""
        rule: dict[str, Any] = {"alert": self.name, "expr": self.expr}
        if self.for_ != "0m":
            rule["for"] = self.for_
        rule["labels"] = {"severity": self.severity, "system": "gx-mesh"}
        rule["annotations"] = {
            "summary": self.summary,
            "description": self.description,
            "runbook_url": f"{RUNBOOK_BASE}{self.name}.md",
        }
        return rule


def _rate(metric: str, selector: str = "", by: str = "namespace", window: str = "5m") -> str:
    inner = f"{metric}{{{selector}}}" if selector else metric
    return f"sum by ({by}) (rate({inner}[{window}]))"


ALERTS: tuple[Alert, ...] = (
    Alert(
        name="GxProjectionLagHigh",
        expr="max by (namespace) (gx_projector_lag_seconds) > 5",
        for_="2m",
        severity="critical",
        summary="Read models are {{ $value | humanizeDuration }} behind the ledger",
        description=(
            "The oldest committed command not yet projected in {{ $labels.namespace }} is older than 5 s"
            " for 2 minutes: balances and histories answer stale data."
        ),
    ),
    Alert(
        name="GxLedgerBreakerOpen",
        # The Fabric client's breaker, per peer, in the outbox and the projector alike.
        expr="max by (namespace, pod, peer) (gx_fabric_client_breaker_state) >= 2",
        for_="1m",
        severity="critical",
        summary="Circuit breaker to Fabric peer {{ $labels.peer }} open in {{ $labels.pod }}",
        description=(
            "The breaker has been open for over a minute: commands are not reaching the ledger"
            " (they wait in the outbox, nothing is lost)."
        ),
    ),
    Alert(
        name="GxOutboxFailureRateHigh",
        expr=(
            f"{_rate('gx_outbox_commands_rejected_total')}"
            f" / ({_rate('gx_outbox_commands_committed_total')} + {_rate('gx_outbox_commands_rejected_total')})"
            " > 0.01"
        ),
        for_="5m",
        severity="warning",
        summary="{{ $value | humanizePercentage }} of ledger commands end FAILED",
        description=(
            "More than 1% of the commands the outbox finished in {{ $labels.namespace }} over 5 minutes"
            " ended FAILED (rejected by the ledger or retries exhausted)."
        ),
    ),
    Alert(
        name="GxApiErrorRateHigh",
        # At the edge: what clients see over REST (native gRPC through the edge answers HTTP 200
        # with a grpc-status, so GxServiceErrorRateHigh watches the services' own codes).
        expr=(
            f"{_rate('envoy_http_downstream_rq_xx', EDGE_5XX)}"
            f" / {_rate('envoy_http_downstream_rq_total', EDGE)} > 0.001"
        ),
        for_="5m",
        severity="critical",
        summary="{{ $value | humanizePercentage }} of edge requests fail with 5xx",
        description="The edge answered more than 0.1% of requests with a 5xx for 5 minutes (SLO 99.9%).",
    ),
    Alert(
        name="GxServiceErrorRateHigh",
        expr=(
            f"{_rate('grpc_server_handled_total', SERVER_FAULT, 'namespace, grpc_service')}"
            f" / {_rate('grpc_server_handled_total', '', 'namespace, grpc_service')} > 0.001"
        ),
        for_="5m",
        severity="critical",
        summary="{{ $labels.grpc_service }} fails {{ $value | humanizePercentage }} of its RPCs",
        description=(
            "More than 0.1% of {{ $labels.grpc_service }}'s RPCs ended with a server-side code"
            f" ({SERVER_FAULT_CODES}) for 5 minutes."
        ),
    ),
    Alert(
        name="GxCommandRateLow",
        # `or ... * 0`: before the first commit since a restart the counter has no series, and an
        # empty left side would never compare; gx_outbox_in_flight always exists in the outbox.
        expr=(
            f"({_rate('gx_outbox_commands_committed_total')}"
            " or sum by (namespace) (gx_outbox_in_flight) * 0) < 0.5"
            f" and on (namespace) {_rate('envoy_http_downstream_rq_total', EDGE)} > 1"
        ),
        for_="5m",
        severity="warning",
        summary="Only {{ $value | humanize }} ledger commands/s committed while the edge has traffic",
        description=(
            "Fewer than 0.5 commands/s committed for 5 minutes in {{ $labels.namespace }} while the edge"
            " serves more than 1 request/s."
        ),
    ),
    Alert(
        name="GxProjectorHalted",
        # The projector exits (code 3) right after a poison event and halts again on every
        # restart, so a scrape rarely sees the gauge at 1: look back 15 minutes, and also take
        # kube-state-metrics' word for the exit code.
        expr=(
            "max by (namespace) (max_over_time(gx_projector_halted[15m])) >= 1"
            " or max by (namespace) ("
            'kube_pod_container_status_last_terminated_exitcode{container="projector"}) == 3'
        ),
        for_="0m",
        severity="critical",
        summary="The projector stopped on a poison event",
        description=(
            "A chaincode event in {{ $labels.namespace }} could not be applied; the read models are"
            " frozen at that block until an operator acts."
        ),
    ),
    Alert(
        name="GxDeadLetteredCommands",
        expr="sum by (namespace, command_type, reason) (increase(gx_outbox_commands_rejected_total[30m])) > 0",
        for_="0m",
        severity="warning",
        summary="{{ $value | humanize }} {{ $labels.command_type }} commands dead-lettered ({{ $labels.reason }})",
        description=(
            "Commands ended FAILED in the last 30 minutes in {{ $labels.namespace }}: each needs an"
            " operator's decision (retry, or leave failed)."
        ),
    ),
    Alert(
        name="GxNotificationsBacklog",
        # A relay (or a partner's endpoint) that is down keeps messages queued, not lost: alert on
        # how long the oldest has waited, well before the channel's max age gives it up.
        expr="max by (namespace, channel) (gx_notifier_oldest_queued_age_seconds) > 900",
        for_="10m",
        severity="warning",
        summary="{{ $labels.channel }} messages waiting {{ $value | humanizeDuration }}",
        description=(
            "The oldest queued {{ $labels.channel }} message in {{ $labels.namespace }} has waited over"
            " 15 minutes: the notifier is down or the SMTP relay / webhook endpoints refuse it. Mail"
            " older than its max age (48 h) is given up."
        ),
    ),
)


def prometheus_rule() -> dict[str, Any]:
    """The PrometheusRule object (namespace set by the overlay)."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "gx-mesh", "labels": {"app.kubernetes.io/part-of": "gx-mesh"}},
        "spec": {"groups": [{"name": "gx-mesh", "rules": [alert.rule() for alert in ALERTS]}]},
    }
