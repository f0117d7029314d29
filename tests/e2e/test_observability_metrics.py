"""Every metric a dashboard or an alert names exists on a running mesh.

The whole mesh runs as real processes (PostgreSQL, Redis, chaincode, devnet, identity, wallet,
licensing, outbox, projector, the SMTP sink and the notifier, Envoy), started by the same code as `gx dev up`. A little traffic
goes through the edge (a login, a bootstrap command that the outbox commits and the projector
applies, a keyed request licensing refuses); then every process's /metrics and Envoy's
/stats/prometheus are scraped, and each name read by the generated dashboards
(manifests/components/observability/dashboards) and alerts (alerts.yaml) must be exported.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import yaml

from tests.support.edge_rest import bearer, committed, create_super_admin, login
from tests.support.stack import EdgeStack, running_edge_stack
from tools.dashboards import DASHBOARD_DIR, RULES, dashboard_exprs, label_uses, metric_names

pytestmark = pytest.mark.e2e

_MESH = (
    "postgres", "redis", "migrations", "chaincode", "devnet",
    "identity", "wallet", "licensing", "outbox", "projector", "mail", "notifier", "edge",
)  # fmt: skip
PASSWORD = "Observability e2e 2026!"
# Not exported by the mesh: kube-state-metrics' view of the cluster (the projector's exit code
# after a poison event, see GxProjectorHalted). Only names listed here may be missing.
CLUSTER_METRICS = frozenset({"kube_pod_container_status_last_terminated_exitcode"})
# The processes that open a database pool (and must publish gx_db_pool_*).
WITH_DATABASE = ("identity", "wallet", "licensing", "outbox", "projector", "notifier")

_TYPE = re.compile(r"# TYPE (\S+) (\S+)")
_SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)")


def exported(text: str) -> set[str]:
    """Names in a Prometheus text exposition: sampled series, and declared families (a labelled
    family with no child yet has only its `# TYPE` line; a histogram's series are `_bucket`,
    `_sum`, `_count`)."""
    names: set[str] = set()
    for line in text.splitlines():
        declared = _TYPE.match(line)
        if declared:
            names.add(declared[1])
            if declared[2] == "histogram":
                names.update(declared[1] + suffix for suffix in ("_bucket", "_sum", "_count"))
        elif line and not line.startswith("#"):
            sample = _SAMPLE.match(line)
            if sample:
                names.add(sample[1])
    return names


def sampled(text: str, name: str) -> list[str]:
    """The series lines of one metric name."""
    return [line for line in text.splitlines() if line.startswith(name + "{") or line.startswith(name + " ")]


def all_exprs() -> list[str]:
    """Every query of the generated dashboards and every alert expression."""
    exprs = [
        e
        for path in sorted(DASHBOARD_DIR.glob("*.json"))
        for e in dashboard_exprs(json.loads(path.read_text()))
    ]
    exprs += [
        rule["expr"]
        for group in yaml.safe_load(RULES.read_text())["spec"]["groups"]
        for rule in group["rules"]
    ]
    return exprs


def sample_labels(texts: list[str]) -> dict[str, set[str]]:
    """Metric name → the label names its series carry."""
    labels: dict[str, set[str]] = {}
    for text in texts:
        for line in text.splitlines():
            found = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ", line)
            if found and not line.startswith("#"):
                labels.setdefault(found[1], set()).update(re.findall(r'([a-zA-Z_]\w*)="', found[2] or ""))
    return labels


def named_metrics() -> dict[str, set[str]]:
    """Metric name → where it is used (dashboard file or alert name)."""
    used: dict[str, set[str]] = {}
    for path in sorted(DASHBOARD_DIR.glob("*.json")):
        for expr in dashboard_exprs(json.loads(path.read_text())):
            for name in metric_names(expr):
                used.setdefault(name, set()).add(path.name)
    for group in yaml.safe_load(RULES.read_text())["spec"]["groups"]:
        for rule in group["rules"]:
            for name in metric_names(rule["expr"]):
                used.setdefault(name, set()).add(rule["alert"])
    return used


@pytest.fixture(scope="module")
def mesh() -> Iterator[EdgeStack]:
    with running_edge_stack(parts=_MESH) as stack:
        yield stack


@pytest.fixture(scope="module")
def scraped(mesh: EdgeStack) -> dict[str, str]:
    """Each process's exposition after a little traffic, by process (`edge` = Envoy)."""
    with httpx.Client(base_url=mesh.rest_url, timeout=30) as http:
        token = login(http, create_super_admin(mesh.database_url, PASSWORD), PASSWORD)
        # A ledger command: recorded by the wallet, committed by the outbox, applied by the projector.
        recorded = http.post(
            "/v1/system:bootstrap", json={"requestId": str(uuid.uuid4())}, headers=bearer(token)
        )
        committed(http, token, recorded)
        # A keyed request with a made-up key: ext_authz asks licensing, which refuses it.
        keyed = http.get("/v1/partners/me", headers={"x-api-key": "gxk_" + "0" * 40})
        assert keyed.status_code in (401, 403), keyed.text
        # The projector applies the bootstrap shortly after the commit; wait until it has.
        projector = f"http://{mesh.metrics['projector']}/metrics"
        deadline = time.monotonic() + 30
        while not sampled(httpx.get(projector).text, "gx_projector_transactions_total"):
            assert time.monotonic() < deadline, "the projector applied nothing in 30 s"
            time.sleep(0.2)
    out = {
        name: httpx.get(f"http://{address}/metrics", timeout=10).text
        for name, address in mesh.metrics.items()
    }
    out["edge"] = httpx.get(f"{mesh.admin_url}/stats/prometheus", timeout=10).text
    return out


def test_every_metric_in_a_dashboard_or_an_alert_is_exported(scraped: dict[str, str]) -> None:
    everything = set().union(*(exported(text) for text in scraped.values()))
    used = named_metrics()
    assert len(used) > 40, sorted(used)  # the parser found the queries' metrics
    missing = {
        name: sorted(where) for name, where in used.items() if name not in everything | CLUSTER_METRICS
    }
    assert missing == {}, f"named in dashboards/alerts but exported by no process: {missing}"
    # The allowance is for names really used, not a place to hide typos.
    assert CLUSTER_METRICS <= used.keys()


def test_every_label_a_query_relies_on_is_on_its_metric(scraped: dict[str, str]) -> None:
    # A misspelt label would leave a panel empty or an alert silent without any error, so the
    # labels in matchers and `by (...)` must be on the metric's series. Prometheus itself adds
    # `namespace` and `pod` when it scrapes Kubernetes pods (manifests/README.md, "Watching").
    series = sample_labels(list(scraped.values()))
    uses = {use for expr in all_exprs() for use in label_uses(expr)}
    checked = {
        (metric, label) for metric, label in uses if metric in series and label not in ("namespace", "pod")
    }
    wrong = sorted((metric, label) for metric, label in checked if label not in series[metric])
    assert wrong == [], f"labels no series of the metric carries: {wrong}"
    # Metrics without a series yet (no failure happened) cannot be checked here; most can.
    assert len({metric for metric, _ in checked}) >= 20, sorted(checked)


def test_every_process_with_a_database_publishes_its_pool(scraped: dict[str, str]) -> None:
    for process in WITH_DATABASE:
        text = scraped[process]
        waits = [line for line in sampled(text, "gx_db_pool_wait_seconds_count") if 'pool="main"' in line]
        # Every process has checked out a connection by now (readiness checks query PostgreSQL).
        assert waits and float(waits[0].rsplit(" ", 1)[1]) >= 1, (process, waits)
        in_use = sampled(text, "gx_db_pool_in_use_connections")
        maximum = sampled(text, "gx_db_pool_max_connections")
        assert float(in_use[0].rsplit(" ", 1)[1]) <= float(maximum[0].rsplit(" ", 1)[1]), process


def test_the_traffic_produced_real_series_on_the_command_path(scraped: dict[str, str]) -> None:
    # Declared families are enough for the name check; these must also carry samples, or the
    # CQRS and ledger dashboards would be empty after a command.
    expectations = {
        "outbox": ("gx_outbox_commands_committed_total", "gx_outbox_submit_to_commit_seconds_bucket",
                   "gx_outbox_pickup_seconds_bucket", "gx_fabric_client_calls_total"),
        "projector": ("gx_projector_transactions_total", "gx_projector_lag_seconds", "gx_fabric_client_chaincode_events_total"),
        "chaincode": ("gx_chaincode_invocations_total",),
        "licensing": ("gx_licensing_authz_decisions_total",),
        "edge": ("envoy_http_downstream_rq_xx", "envoy_http_downstream_rq_time_bucket", "envoy_http_ext_authz_denied"),
    }  # fmt: skip
    for process, names in expectations.items():
        for name in names:
            assert sampled(scraped[process], name), f"{process}: no {name} series"
    committed = [
        line
        for line in sampled(scraped["outbox"], "gx_outbox_commands_committed_total")
        if "BOOTSTRAP" in line
    ]
    assert committed and float(committed[0].rsplit(" ", 1)[1]) >= 1, committed
