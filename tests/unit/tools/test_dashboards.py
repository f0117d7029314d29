"""The generated dashboards and alerts: current, well-formed, each alert with its runbook.

That every metric they name exists is tests/e2e/test_observability_metrics.py (a running mesh).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tools import dashboards
from tools.dashboards_alerts import ALERTS, RUNBOOK_BASE

ROOT = Path(__file__).resolve().parents[3]
RUNBOOKS = ROOT / "docs" / "runbooks"
# The seed's thresholds, as the alerts must state them.
SEED = {
    "GxProjectionLagHigh": ("> 5", "2m"),
    "GxLedgerBreakerOpen": (">= 2", "1m"),
    "GxOutboxFailureRateHigh": ("> 0.01", "5m"),
    "GxApiErrorRateHigh": ("> 0.001", "5m"),
    "GxCommandRateLow": ("< 0.5", "5m"),
}


def test_the_committed_files_are_current() -> None:
    assert dashboards.main(["--check"]) == 0, "run `make gen`"


def test_check_fails_on_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "dashboards"
    monkeypatch.setattr(dashboards, "DASHBOARD_DIR", out)
    monkeypatch.setattr(dashboards, "RULES", tmp_path / "alerts.yaml")
    assert dashboards.main(["--check"]) == 1  # nothing written yet
    assert dashboards.main([]) == 0
    assert dashboards.main(["--check"]) == 0
    (out / "overview.json").write_text("{}")
    (out / "orphan.json").write_text("{}")
    assert dashboards.main(["--check"]) == 1
    assert dashboards.main([]) == 0
    assert not (out / "orphan.json").exists()
    assert dashboards.main(["--check"]) == 0


def test_metric_names_reads_metrics_not_labels_or_functions() -> None:
    expr = (
        'sum by (namespace, envoy_cluster_name) (rate(envoy_cluster_upstream_rq_xx{envoy_response_code_class="5",'
        'namespace=~"$namespace"}[$__rate_interval])) / on (namespace) group_left max(gx_projector_lag_seconds)'
        " or histogram_quantile(0.95, sum by (le) (rate(gx_outbox_pickup_seconds_bucket[5m]))) > 0.5"
    )
    assert dashboards.metric_names(expr) == {
        "envoy_cluster_upstream_rq_xx", "gx_projector_lag_seconds", "gx_outbox_pickup_seconds_bucket",
    }  # fmt: skip


def _selectors(expr: str) -> list[tuple[str, str]]:
    """(metric, its `{...}` selector or "") of each metric in an expression; label names in
    grouping clauses and matchers are not metrics."""
    bare = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", " ", expr)
    return re.findall(r"\b((?:gx|grpc|envoy)_\w+)(?=(\{[^}]*\})|[^=!~\w]|$)", bare)


def _dashboards() -> dict[str, dict[str, object]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(dashboards.DASHBOARD_DIR.glob("*.json"))}


def test_the_five_dashboards_exist_with_unique_uids_and_namespace_filtered_queries() -> None:
    boards = _dashboards()
    assert sorted(boards) == ["cqrs-health", "ledger", "overview", "partners", "slo"]
    uids = [b["uid"] for b in boards.values()]
    assert len(set(uids)) == len(uids)
    for name, board in boards.items():
        exprs = list(dashboards.dashboard_exprs(board))
        assert len(exprs) >= 6, name
        for panel in board["panels"]:  # type: ignore[attr-defined]
            for target in panel.get("targets", []):
                assert target["datasource"] == "${datasource}", (name, panel["title"])
                # Every series is of the selected environment(s).
                for metric, selector in _selectors(target["expr"]):
                    assert 'namespace=~"$namespace"' in selector, (name, panel["title"], metric)


def test_panels_do_not_overlap() -> None:
    for name, board in _dashboards().items():
        taken: set[tuple[int, int]] = set()
        for panel in board["panels"]:  # type: ignore[attr-defined]
            grid = panel["gridPos"]
            cells = {
                (x, y)
                for x in range(grid["x"], grid["x"] + grid["w"])
                for y in range(grid["y"], grid["y"] + grid["h"])
            }
            assert grid["x"] + grid["w"] <= 24, (name, panel["title"])
            assert not cells & taken, (name, panel["title"])
            taken |= cells


def test_every_alert_has_a_runbook_with_commands_and_the_seed_thresholds() -> None:
    rules = yaml.safe_load(dashboards.RULES.read_text())["spec"]["groups"][0]["rules"]
    names = [rule["alert"] for rule in rules]
    assert len(set(names)) == len(names) == len(ALERTS)
    assert {"GxProjectorHalted", "GxDeadLetteredCommands", *SEED} <= set(names)
    for rule in rules:
        name = rule["alert"]
        assert rule["annotations"]["runbook_url"] == f"{RUNBOOK_BASE}{name}.md"
        assert rule["labels"]["severity"] in ("critical", "warning")
        runbook = RUNBOOKS / f"{name}.md"
        assert runbook.exists(), f"no runbook for {name}"
        text = runbook.read_text()
        assert text.startswith(f"# {name}\n"), name
        assert "```sh" in text, f"{name}: a runbook gives exact commands"
        if name in SEED:
            threshold, duration = SEED[name]
            assert threshold in rule["expr"], (name, rule["expr"])
            assert rule.get("for") == duration, name


def test_runbook_links_resolve_and_the_routine_pages_exist() -> None:
    for routine in (
        "poison-event",
        "replay-dead-lettered-command",
        "rotate-identity-keys",
        "rotate-fabric-identities",
        "suspend-partner",
    ):
        assert (RUNBOOKS / f"{routine}.md").exists(), routine
    assert "gx identity rotate-key" in (RUNBOOKS / "rotate-identity-keys.md").read_text()
    assert "gx outbox retry" in (RUNBOOKS / "replay-dead-lettered-command.md").read_text()
    assert "gx projector status" in (RUNBOOKS / "poison-event.md").read_text()
    assert "gx projector rebuild" in (RUNBOOKS / "poison-event.md").read_text()
    for page in RUNBOOKS.glob("*.md"):
        for target in re.findall(r"\]\(([^)#]+\.md)\)", page.read_text()):
            assert (RUNBOOKS / target).exists(), (page.name, target)


def test_label_uses_pairs_matchers_and_groupings_with_their_metrics() -> None:
    expr = (
        'sum by (grpc_service, grpc_code) (rate(grpc_server_handled_total{grpc_code!="OK"}[5m]))'
        " / on (namespace) histogram_quantile(0.95, sum by (le) (rate(gx_outbox_pickup_seconds_bucket[5m])))"
    )
    assert dashboards.label_uses(expr) == {
        ("grpc_server_handled_total", "grpc_service"), ("grpc_server_handled_total", "grpc_code"),
        ("gx_outbox_pickup_seconds_bucket", "le"),
    }  # fmt: skip
