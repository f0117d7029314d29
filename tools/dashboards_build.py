"""The mesh's Grafana dashboards, built with grafanalib from the metrics the processes export.

Every query is filtered by the `namespace` variable (one environment per namespace) and names
only metrics that exist: the processes' `gx_*`, `grpc_server_*` (services/common/metrics.py),
`gx_db_pool_*` (services/common/pool_metrics.py) and `gx_db_batch_*`
(services/common/statement_batch.py), and Envoy's statistics at the edge (its
connection manager's stat prefix is `edge`). tests/e2e/test_observability_metrics.py scrapes a
running stack and fails on any name here that no process exports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from grafanalib.core import (
    GREEN,
    Dashboard,
    GridPos,
    RowPanel,
    Stat,
    Target,
    Template,
    Templating,
    TimeSeries,
)
from grafanalib.core import Panel as _Panel

from tools.dashboards_alerts import EDGE, EDGE_5XX, SERVER_FAULT

DATASOURCE = "${datasource}"
NS = 'namespace=~"$namespace"'
RATE = "$__rate_interval"

# The SLOs the alerts enforce (tools/dashboards_alerts.py), drawn as targets on the SLO board.
SLO_SUCCESS = 0.999  # edge requests answered without a 5xx
SLO_P95_SECONDS = 0.5  # edge latency, 95th percentile
SLO_LAG_SECONDS = 5.0  # projection lag
SLO_COMMANDS_PER_SECOND = 0.5  # ledger commands committed while traffic exists


def sel(*matchers: str) -> str:
    """A label selector with the namespace filter and extra matchers."""
    return "{" + ",".join((NS, *matchers)) + "}"


def rate(metric: str, *matchers: str, by: str = "", window: str = RATE) -> str:
    """`sum [by (...)] (rate(metric{...}[window]))`."""
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate({metric}{sel(*matchers)}[{window}]))"


def quantile(q: float, histogram: str, *matchers: str, by: str = "") -> str:
    """A quantile of a Prometheus histogram (`histogram` without `_bucket`), grouped `by`."""
    keep = ", ".join(("le", *([by] if by else [])))
    return f"histogram_quantile({q}, sum by ({keep}) (rate({histogram}_bucket{sel(*matchers)}[{RATE}])))"


@dataclass(frozen=True)
class Q:
    """One query of a panel and its legend."""

    expr: str
    legend: str = ""


@dataclass(frozen=True)
class P:
    """A time series panel to lay out: title, queries, unit and what it shows."""

    title: str
    queries: Sequence[Q]
    unit: str = "short"
    description: str = ""
    threshold: float | None = None
    stat: bool = False
    # A stat under its threshold is the bad side (success rate, error budget), not over it.
    low_is_bad: bool = False


def _panel(spec: P, grid: GridPos) -> _Panel:
    targets = [
        # A stat is one number over the dashboard's range: evaluate it once (instant).
        Target(
            expr=q.expr,
            legendFormat=q.legend or "__auto",
            refId=chr(ord("A") + i),
            datasource=DATASOURCE,
            instant=spec.stat,
        )
        for i, q in enumerate(spec.queries)
    ]
    if spec.stat:
        # Plain steps: grafanalib's Threshold writes the base step's value as the string "null".
        good, bad = ("green", "red") if not spec.low_is_bad else ("red", "green")
        steps: list[dict[str, object]] = [{"color": good, "value": None}]
        if spec.threshold is not None:
            steps.append({"color": bad, "value": spec.threshold})
        return Stat(
            title=spec.title, description=spec.description, dataSource=DATASOURCE, targets=targets,
            format=spec.unit, gridPos=grid, reduceCalc="lastNotNull", thresholds=steps, graphMode="none",
        )  # fmt: skip
    extra: dict[str, object] = {}
    if spec.threshold is not None:
        extra = {
            "thresholdsStyleMode": "line",
            "thresholds": [
                {"color": GREEN, "value": None},
                {"color": "orange", "value": spec.threshold},
            ],
        }
    return TimeSeries(
        title=spec.title, description=spec.description, dataSource=DATASOURCE, targets=targets,
        unit=spec.unit, gridPos=grid, legendDisplayMode="list", tooltipMode="multi", **extra,
    )  # fmt: skip


def layout(sections: Iterable[tuple[str, Sequence[P]]]) -> list[_Panel]:
    """Rows of panels: a row header per section, then its panels two (stats four) to a line."""
    panels: list[_Panel] = []
    y = 0
    for title, specs in sections:
        panels.append(RowPanel(title=title, gridPos=GridPos(h=1, w=24, x=0, y=y)))
        y += 1
        x = 0
        line_height = 0
        for spec in specs:
            width, height = (6, 4) if spec.stat else (12, 8)
            if x + width > 24:
                x, y = 0, y + line_height
            panels.append(_panel(spec, GridPos(h=height, w=width, x=x, y=y)))
            x += width
            line_height = height
        y += line_height
    return panels


def dashboard(
    uid: str, title: str, description: str, sections: Iterable[tuple[str, Sequence[P]]]
) -> Dashboard:
    """A dashboard with the datasource and namespace variables."""
    templating = Templating(
        [
            Template(
                name="datasource",
                label="Data source",
                query="prometheus",
                type="datasource",
                default="Prometheus",
            ),
            Template(
                name="namespace",
                label="Namespace",
                dataSource=DATASOURCE,
                type="query",
                query="label_values(grpc_server_started_total, namespace)",
                includeAll=True,
                multi=True,
                allValue=".*",
                default="$__all",
                refresh=2,
            ),
        ]
    )
    return Dashboard(
        title=title, uid=uid, description=description, tags=["gx-mesh"], timezone="utc", refresh="30s",
        templating=templating, panels=layout(sections),
    ).auto_panel_ids()  # fmt: skip


def overview() -> Dashboard:
    """RED at the edge and per gRPC service, and the database pools of every process."""
    edge = (
        P("Edge requests by status class", [Q(rate("envoy_http_downstream_rq_xx", EDGE, by="envoy_response_code_class"), "{{envoy_response_code_class}}xx")], "reqps"),
        P("Edge 5xx ratio", [Q(f"{rate('envoy_http_downstream_rq_xx', EDGE_5XX)} / {rate('envoy_http_downstream_rq_total', EDGE)}", "5xx")], "percentunit", threshold=1 - SLO_SUCCESS),
        P("Edge latency", [Q(quantile(q, "envoy_http_downstream_rq_time", EDGE) + " / 1000", f"p{int(q * 100)}") for q in (0.5, 0.95, 0.99)], "s",
          "Envoy's downstream request time (ms in Envoy, shown in seconds).", threshold=SLO_P95_SECONDS),
        P("Edge upstream requests by cluster", [Q(rate("envoy_cluster_upstream_rq_total", by="envoy_cluster_name"), "{{envoy_cluster_name}}")], "reqps"),
        P("Edge active connections", [Q(f"sum (envoy_http_downstream_cx_active{sel(EDGE)})", "connections")]),
    )  # fmt: skip
    services = (
        P("RPC rate by service", [Q(rate("grpc_server_handled_total", by="grpc_service"), "{{grpc_service}}")], "reqps"),
        P("Server-fault ratio by service", [Q(f"{rate('grpc_server_handled_total', SERVER_FAULT, by='grpc_service')} / {rate('grpc_server_handled_total', by='grpc_service')}", "{{grpc_service}}")], "percentunit",
          f"RPCs ending {SERVER_FAULT.split('~')[1]} over all RPCs.", threshold=1 - SLO_SUCCESS),
        P("Non-OK codes by service", [Q(rate("grpc_server_handled_total", 'grpc_code!="OK"', by="grpc_service, grpc_code"), "{{grpc_service}} {{grpc_code}}")], "reqps",
          "Caller errors (InvalidArgument, NotFound, PermissionDenied...) included."),
        P("p95 latency by service", [Q(quantile(0.95, "grpc_server_handling_seconds", by="grpc_service"), "{{grpc_service}}")], "s"),
    )  # fmt: skip
    pools = (
        P("Pool connections in use / max", [Q("sum by (pod) (gx_db_pool_in_use_connections" + sel() + ")", "{{pod}} in use"),
                                              Q("sum by (pod) (gx_db_pool_max_connections" + sel() + ")", "{{pod}} max")]),
        P("Pool wait p95", [Q(quantile(0.95, "gx_db_pool_wait_seconds", by="pod"), "{{pod}}")], "s",
          "Time a checkout waited for a connection; a rising wait means the pool is too small or queries too slow."),
        P("Pool connections open", [Q("sum by (pod) (gx_db_pool_connections" + sel() + ")", "{{pod}}")]),
        P("Pool checkout timeouts", [Q(rate("gx_db_pool_timeouts_total", by="pod"), "{{pod}}")], "ops"),
        P("Hot reads per round trip", [Q(f"{rate('gx_db_batch_reads_sum', by='batch')} / {rate('gx_db_batch_reads_count', by='batch')}", "{{batch}}")], "",
          "Reads of a statement batch (the wallet's own balance and history, identity's own profile) sent to PostgreSQL together; 1 when idle, more under load."),
        P("Batch pipelines failed", [Q(rate("gx_db_batch_failures_total", by="batch"), "{{batch}}")], "ops",
          "Pipelines that failed; their reads ran again one by one, so callers only see their own errors."),
    )  # fmt: skip
    return dashboard("gx-overview", "GX mesh / Overview", "Rate, errors and duration at the edge and per service; database pools.",
                     [("Edge", edge), ("Services", services), ("Database pools", pools)])  # fmt: skip


def cqrs() -> Dashboard:
    """The write path (outbox) and the read path (projector)."""
    outbox = (
        P("Queue depth by status", [Q("sum by (status) (gx_outbox_queue_depth" + sel() + ")", "{{status}}")]),
        P("Oldest pending command", [Q("max (gx_outbox_oldest_pending_age_seconds" + sel() + ")", "age")], "s"),
        P("Pickup latency", [Q(quantile(q, "gx_outbox_pickup_seconds"), f"p{int(q * 100)}") for q in (0.5, 0.95)], "s",
          "Recorded → first claimed by a worker."),
        P("Submit → commit", [Q(quantile(q, "gx_outbox_submit_to_commit_seconds"), f"p{int(q * 100)}") for q in (0.5, 0.95)], "s"),
        P("Commands committed by type", [Q(rate("gx_outbox_commands_committed_total", by="command_type"), "{{command_type}}")], "ops",
          threshold=SLO_COMMANDS_PER_SECOND),
        P("Failures by reason", [Q(rate("gx_outbox_commands_rejected_total", by="reason"), "FAILED {{reason}}"),
                                 Q(rate("gx_outbox_command_retries_total", by="reason"), "retry {{reason}}"),
                                 Q(rate("gx_outbox_read_conflicts_total", by="code"), "conflict {{code}}")], "ops"),
        P("Dead-lettered (last hour)", [Q("sum by (command_type, reason) (increase(gx_outbox_commands_rejected_total" + sel() + "[1h]))",
                                          "{{command_type}} {{reason}}")], description="Commands that ended FAILED: `gx outbox list --status FAILED`."),
        P("In flight / blocked", [Q("sum (gx_outbox_in_flight" + sel() + ")", "in flight"), Q("sum (gx_outbox_blocked_commands" + sel() + ")", "blocked")]),
        P("Ledger breaker (2 = open)", [Q("max by (pod, peer) (gx_fabric_client_breaker_state" + sel() + ")", "{{pod}} {{peer}}"),
                                        Q("max by (pod) (gx_outbox_breaker_state" + sel() + ")", "{{pod}} outbox")], threshold=2),
    )  # fmt: skip
    projector = (
        P("Projection lag", [Q("max (gx_projector_lag_seconds" + sel() + ")", "seconds")], "s", threshold=SLO_LAG_SECONDS),
        P("Projection lag (blocks)", [Q("max (gx_projector_lag_blocks" + sel() + ")", "blocks")]),
        P("Halted / active", [Q("max (gx_projector_halted" + sel() + ")", "halted"), Q("sum (gx_projector_active" + sel() + ")", "active")],
          description="halted = 1 after a poison event (the process then exits 3); exactly one projector is active."),
        P("Transactions projected", [Q(rate("gx_projector_transactions_total", by="outcome"), "{{outcome}}")], "ops"),
        P("Apply time p95", [Q(quantile(0.95, "gx_projector_apply_seconds"), "p95")], "s"),
        P("Event delay (commit → projected)", [Q(quantile(q, "gx_projector_event_delay_seconds"), f"p{int(q * 100)}") for q in (0.5, 0.95)], "s"),
        P("Domain events by kind", [Q(rate("gx_projector_domain_events_total", by="kind"), "{{kind}}")], "ops"),
        P("Checkpoint block", [Q("max (gx_projector_checkpoint_block" + sel() + ")", "block")]),
    )  # fmt: skip
    notifier = (
        P("Queued messages by channel", [Q("sum by (channel) (gx_notifier_queued_messages" + sel() + ")", "{{channel}}")]),
        P("Oldest queued message", [Q("max by (channel) (gx_notifier_oldest_queued_age_seconds" + sel() + ")", "{{channel}}")], "s",
          "A relay or endpoint that is down keeps messages queued; GxNotificationsBacklog fires after 15 min."),
        P("Sent by channel", [Q(rate("gx_notifier_messages_sent_total", by="channel"), "{{channel}}")], "ops"),
        P("Retries, failures, skips", [Q(rate("gx_notifier_message_retries_total", by="channel, reason"), "retry {{channel}} {{reason}}"),
                                       Q(rate("gx_notifier_messages_failed_total", by="channel, reason"), "FAILED {{channel}} {{reason}}"),
                                       Q(rate("gx_notifier_messages_skipped_total", by="channel, reason"), "skipped {{channel}} {{reason}}")], "ops"),
        P("Recorded → accepted", [Q(quantile(q, "gx_notifier_delivery_seconds", by="channel"), f"p{int(q * 100)} {{{{channel}}}}") for q in (0.5, 0.95)], "s"),
    )  # fmt: skip
    return dashboard("gx-cqrs", "GX mesh / CQRS health", "Outbox queue, pickup, submit→commit, failures and DLQ, breaker; projector lag and halts; notifier queue and deliveries.",
                     [("Outbox (write path)", outbox), ("Projector (read path)", projector), ("Notifier (mail, webhooks)", notifier)])  # fmt: skip


def ledger() -> Dashboard:
    """Fabric Gateway calls from the mesh, and the chaincode's own view."""
    peer = (
        P("Gateway calls by method and outcome", [Q(rate("gx_fabric_client_calls_total", by="method, outcome"), "{{method}} {{outcome}}")], "ops"),
        P("Gateway latency p95 by method", [Q(quantile(0.95, "gx_fabric_client_call_duration_seconds", by="method"), "{{method}}")], "s"),
        P("Gateway failures", [Q(rate("gx_fabric_client_calls_total", 'outcome!="ok"', by="method, outcome"), "{{method}} {{outcome}}")], "ops"),
        P("Chaincode events received", [Q(rate("gx_fabric_client_chaincode_events_total", by="chaincode"), "{{chaincode}}")], "ops"),
        P("Breaker per peer (2 = open)", [Q("max by (pod, peer) (gx_fabric_client_breaker_state" + sel() + ")", "{{pod}} {{peer}}")], threshold=2),
    )  # fmt: skip
    chaincode = (
        P("Invocations by function", [Q(rate("gx_chaincode_invocations_total", by="function"), "{{function}}")], "ops"),
        P("Refusals and faults", [Q(rate("gx_chaincode_invocations_total", 'outcome!="ok"', by="function, outcome, status"), "{{function}} {{outcome}} {{status}}")], "ops"),
        P("Invocation time p95 by function", [Q(quantile(0.95, "gx_chaincode_invocation_duration_seconds", by="function"), "{{function}}")], "s"),
    )  # fmt: skip
    return dashboard("gx-ledger", "GX mesh / Ledger", "Peer calls through the Fabric Gateway and the GX chaincode's invocations.",
                     [("Peer (Fabric Gateway)", peer), ("Chaincode", chaincode)])  # fmt: skip


def partners() -> Dashboard:
    """Keyed (partner) requests at the edge and the throttles in front of the API."""
    keyed = (
        P("Key decisions by outcome", [Q(rate("gx_licensing_authz_decisions_total", by="outcome"), "{{outcome}}")], "reqps",
          "Licensing's ext_authz answers: OK or the refusal's reason (quota, rate, revoked key...)."),
        P("Keyed request latency at the edge", [Q(quantile(q, "gx_licensing_partner_request_seconds"), f"p{int(q * 100)}") for q in (0.5, 0.95)], "s"),
        P("Key decision time p95", [Q(quantile(0.95, "gx_licensing_authz_decision_seconds"), "p95")], "s"),
        P("Edge ext_authz", [Q(rate(f"envoy_http_ext_authz_{what}", EDGE), what) for what in ("ok", "denied", "error")], "reqps",
          "error = licensing unreachable: keyed requests fail closed (503)."),
    )  # fmt: skip
    throttles = (
        P("Per-address limits hit at the edge", [Q(rate("envoy_http_local_rate_limit_rate_limited", by="envoy_local_http_ratelimit_prefix"), "{{envoy_local_http_ratelimit_prefix}}")], "reqps"),
        P("Logins throttled by identity", [Q(rate("gx_identity_login_throttled_total", by="scope"), "{{scope}}")], "reqps"),
        P("Refusals by licensing (non-OK)", [Q(rate("gx_licensing_authz_decisions_total", 'outcome!="OK"', by="outcome"), "{{outcome}}")], "reqps"),
    )  # fmt: skip
    return dashboard("gx-partners", "GX mesh / Partners", "API-key (partner) traffic and every throttle in front of the API.",
                     [("Keyed requests", keyed), ("Throttles", throttles)])  # fmt: skip


def slo() -> Dashboard:
    """The seed's SLOs: success rate, p95 latency, projection lag, command throughput."""
    success = f"1 - ({rate('envoy_http_downstream_rq_xx', EDGE_5XX, window='$__range')} / {rate('envoy_http_downstream_rq_total', EDGE, window='$__range')})"
    p95_range = f"histogram_quantile(0.95, sum by (le) (rate(envoy_http_downstream_rq_time_bucket{sel(EDGE)}[$__range]))) / 1000"
    stats = (
        P(f"Success rate (SLO {SLO_SUCCESS:.1%})", [Q(success, "success")], "percentunit", threshold=SLO_SUCCESS, stat=True, low_is_bad=True),
        P(f"p95 latency (SLO {SLO_P95_SECONDS * 1000:.0f} ms)", [Q(p95_range, "p95")], "s", threshold=SLO_P95_SECONDS, stat=True),
        P(f"Max projection lag (SLO {SLO_LAG_SECONDS:.0f} s)", [Q("max (max_over_time(gx_projector_lag_seconds" + sel() + "[$__range]))", "lag")], "s",
          threshold=SLO_LAG_SECONDS, stat=True),
        P("Error budget left", [Q(f"1 - (1 - ({success})) / {1 - SLO_SUCCESS:g}", "budget")], "percentunit",
          "Share of the 0.1% error budget not yet spent over the dashboard's range.", threshold=0.0, stat=True, low_is_bad=True),
    )  # fmt: skip
    trends = (
        P("Success rate", [Q(f"1 - ({rate('envoy_http_downstream_rq_xx', EDGE_5XX)} / {rate('envoy_http_downstream_rq_total', EDGE)})", "edge"),
                           Q(f"1 - ({rate('grpc_server_handled_total', SERVER_FAULT)} / {rate('grpc_server_handled_total')})", "services (gRPC)")],
          "percentunit", threshold=SLO_SUCCESS),
        P("p95 latency", [Q(quantile(0.95, "envoy_http_downstream_rq_time", EDGE) + " / 1000", "edge"),
                          Q(quantile(0.95, "grpc_server_handling_seconds"), "services (gRPC)")], "s", threshold=SLO_P95_SECONDS),
        P("Projection lag", [Q("max (gx_projector_lag_seconds" + sel() + ")", "lag")], "s", threshold=SLO_LAG_SECONDS),
        P("Commands committed", [Q(rate("gx_outbox_commands_committed_total"), "commands/s")], "ops", threshold=SLO_COMMANDS_PER_SECOND),
    )  # fmt: skip
    return dashboard("gx-slo", "GX mesh / SLO compliance", "The seed's SLOs against their targets (the alerts enforce the same numbers).",
                     [("Over the selected range", stats), ("Over time", trends)])  # fmt: skip


DASHBOARDS = {"overview": overview, "cqrs-health": cqrs, "ledger": ledger, "partners": partners, "slo": slo}
