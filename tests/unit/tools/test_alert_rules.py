"""The alerting rules and dashboard queries under Prometheus's own tool, promtool (Debian's
`prometheus` package; `make promtool` installs it).

- `promtool check rules`: every alert expression and annotation template parses, and so does
  every dashboard query (as a recording rule, with Grafana's variables filled in);
- `promtool test rules`: each alert fires on synthetic series that cross the seed's threshold for
  the stated time, with the labels its runbook expects, and stays silent just below it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools import dashboards

NS = "gx-testnet"
QUIET = "gx-mainnet"  # the namespace whose series stay just under each threshold
EDGE = 'envoy_http_conn_manager_prefix="edge"'


def promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool is missing: `make promtool` installs Debian's prometheus package"
    return found


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def rule_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = yaml.safe_load(dashboards.RULES.read_text())["spec"]["groups"]
    return groups


def test_every_alert_and_template_parses(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": rule_groups()}))
    done = run("check", "rules", "rules.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {sum(len(g['rules']) for g in rule_groups())} rules found" in done.stdout


def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    grafana = {"$__rate_interval": "1m", "$__range": "1h", "${datasource}": "", "$namespace": ".*"}
    rules = []
    for path in sorted(dashboards.DASHBOARD_DIR.glob("*.json")):
        for i, expr in enumerate(dashboards.dashboard_exprs(json.loads(path.read_text()))):
            for variable, value in grafana.items():
                expr = expr.replace(variable, value)
            rules.append({"record": f"gx:{path.stem.replace('-', '_')}:{i}", "expr": expr})
    assert len(rules) > 60
    (tmp_path / "queries.yaml").write_text(
        yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]})
    )
    done = run("check", "rules", "queries.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def _alert(name: str, at: str, *labels: dict[str, str]) -> dict[str, Any]:
    return {
        "eval_time": at,
        "alertname": name,
        "exp_alerts": [{"exp_labels": {**label_set}} for label_set in labels],
    }


def _labels(severity: str, **extra: str) -> dict[str, str]:
    return {"namespace": NS, "severity": severity, "system": "gx-mesh", **extra}


# One minute per sample; `a+bxN` is a, a+b, ... (N+1 samples); `_` is a missing sample.
SERIES = [
    # Lag: 6 s from minute 1 in NS (fires after 2 min), 4 s in QUIET.
    (f'gx_projector_lag_seconds{{namespace="{NS}",pod="projector-0"}}', "0 6x20"),
    (f'gx_projector_lag_seconds{{namespace="{QUIET}",pod="projector-0"}}', "4x20"),
    # Breaker: open from minute 1 in NS; half-open (1) for ever in QUIET.
    (f'gx_fabric_client_breaker_state{{namespace="{NS}",pod="outbox-0",peer="peer0:7051"}}', "0 2x20"),
    (f'gx_fabric_client_breaker_state{{namespace="{QUIET}",pod="outbox-0",peer="peer0:7051"}}', "1x20"),
    # Outbox: 1 commit/s; 1 FAILED/min in NS (1.6%), 1 per 3 min in QUIET (0.55%).
    (f'gx_outbox_commands_committed_total{{namespace="{NS}",command_type="TRANSFER"}}', "0+60x20"),
    (
        f'gx_outbox_commands_rejected_total{{namespace="{NS}",command_type="TRANSFER",reason="RETRIES_EXHAUSTED"}}',
        "0+1x20",
    ),
    (f'gx_outbox_commands_committed_total{{namespace="{QUIET}",command_type="TRANSFER"}}', "0+60x20"),
    (
        f'gx_outbox_commands_rejected_total{{namespace="{QUIET}",command_type="TRANSFER",reason="RETRIES_EXHAUSTED"}}',
        "0+0.33x20",
    ),
    # Edge: 100 req/s; 0.2% 5xx in NS, 0.05% in QUIET.
    (f'envoy_http_downstream_rq_total{{namespace="{NS}",{EDGE}}}', "0+6000x20"),
    (f'envoy_http_downstream_rq_xx{{namespace="{NS}",{EDGE},envoy_response_code_class="5"}}', "0+12x20"),
    (f'envoy_http_downstream_rq_total{{namespace="{QUIET}",{EDGE}}}', "0+6000x20"),
    (f'envoy_http_downstream_rq_xx{{namespace="{QUIET}",{EDGE},envoy_response_code_class="5"}}', "0+3x20"),
    # Services: wallet fails 0.2% Internal in NS; in QUIET many InvalidArgument (caller errors) only.
    (
        f'grpc_server_handled_total{{namespace="{NS}",grpc_service="gx.wallet.v1.WalletService",grpc_code="OK"}}',
        "0+6000x20",
    ),
    (
        f'grpc_server_handled_total{{namespace="{NS}",grpc_service="gx.wallet.v1.WalletService",grpc_code="Internal"}}',
        "0+12x20",
    ),
    (
        f'grpc_server_handled_total{{namespace="{QUIET}",grpc_service="gx.wallet.v1.WalletService",grpc_code="OK"}}',
        "0+6000x20",
    ),
    (
        f'grpc_server_handled_total{{namespace="{QUIET}",grpc_service="gx.wallet.v1.WalletService",grpc_code="InvalidArgument"}}',
        "0+600x20",
    ),
    # Projector halted for one scrape at minute 2 in NS, never in QUIET.
    (f'gx_projector_halted{{namespace="{NS}",pod="projector-0"}}', "0 0 1 _x18"),
    (f'gx_projector_halted{{namespace="{QUIET}",pod="projector-0"}}', "0x20"),
]
# GxCommandRateLow in its own world: NS commits 0.1/s under 10 edge req/s; QUIET 1/s.
COMMAND_RATE_SERIES = [
    (f'envoy_http_downstream_rq_total{{namespace="{NS}",{EDGE}}}', "0+600x20"),
    (f'gx_outbox_commands_committed_total{{namespace="{NS}",command_type="TRANSFER"}}', "0+6x20"),
    (f'gx_outbox_in_flight{{namespace="{NS}",pod="outbox-0"}}', "0x20"),
    (f'envoy_http_downstream_rq_total{{namespace="{QUIET}",{EDGE}}}', "0+600x20"),
    (f'gx_outbox_commands_committed_total{{namespace="{QUIET}",command_type="TRANSFER"}}', "0+60x20"),
    (f'gx_outbox_in_flight{{namespace="{QUIET}",pod="outbox-0"}}', "0x20"),
    # A third environment restarted its outbox: no commit series at all yet, but traffic.
    ('envoy_http_downstream_rq_total{namespace="gx-devnet",' + EDGE + "}", "0+600x20"),
    ('gx_outbox_in_flight{namespace="gx-devnet",pod="outbox-0"}', "0x20"),
]


def _tests() -> list[dict[str, Any]]:
    series = [{"series": s, "values": v} for s, v in SERIES]
    failure_labels = {"command_type": "TRANSFER", "reason": "RETRIES_EXHAUSTED"}
    main = {
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [
            _alert("GxProjectionLagHigh", "2m"),  # pending: 1 min over the threshold
            _alert("GxProjectionLagHigh", "4m", _labels("critical")),
            _alert("GxLedgerBreakerOpen", "1m"),
            _alert("GxLedgerBreakerOpen", "3m", _labels("critical", pod="outbox-0", peer="peer0:7051")),
            _alert("GxOutboxFailureRateHigh", "4m"),
            _alert("GxOutboxFailureRateHigh", "12m", _labels("warning")),
            _alert("GxApiErrorRateHigh", "4m"),
            _alert("GxApiErrorRateHigh", "12m", _labels("critical")),
            _alert("GxServiceErrorRateHigh", "12m", _labels("critical", grpc_service="gx.wallet.v1.WalletService")),
            _alert("GxProjectorHalted", "10m", _labels("critical")),  # seen once, 8 min ago
            _alert("GxProjectorHalted", "19m"),  # out of the 15 min window
            # QUIET rejects 1 per 3 min: dead letters are alerts there too, however low the rate.
            _alert("GxDeadLetteredCommands", "10m", _labels("warning", **failure_labels), {**_labels("warning", **failure_labels), "namespace": QUIET}),
        ],
    }  # fmt: skip
    command_rate = {
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in COMMAND_RATE_SERIES],
        "alert_rule_test": [
            _alert("GxCommandRateLow", "4m"),
            _alert(
                "GxCommandRateLow",
                "12m",
                _labels("warning"),
                {**_labels("warning"), "namespace": "gx-devnet"},
            ),
        ],
    }
    exit_code = {
        "interval": "1m",
        "input_series": [
            {"series": f'kube_pod_container_status_last_terminated_exitcode{{namespace="{NS}",pod="projector-0",container="projector"}}', "values": "3x5"},
            {"series": f'kube_pod_container_status_last_terminated_exitcode{{namespace="{QUIET}",pod="projector-0",container="projector"}}', "values": "137x5"},
        ],
        "alert_rule_test": [_alert("GxProjectorHalted", "2m", _labels("critical"))],
    }  # fmt: skip
    return [main, command_rate, exit_code]


def test_each_alert_fires_over_its_threshold_and_not_under_it(tmp_path: Path) -> None:
    groups = rule_groups()
    for group in groups:
        for rule in group["rules"]:
            # Annotations are checked by `check rules`; here only when and with which labels.
            rule.pop("annotations", None)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    (tmp_path / "tests.yaml").write_text(
        yaml.safe_dump(
            {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": _tests()}, width=1000
        )
    )
    done = run("test", "rules", "tests.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "broken", ["max by (namespace) (gx_projector_lag_seconds > 5", "rate(gx_x[5m]) >>> 1"]
)
def test_a_broken_expression_fails_the_check(tmp_path: Path, broken: str) -> None:
    (tmp_path / "rules.yaml").write_text(
        yaml.safe_dump({"groups": [{"name": "g", "rules": [{"alert": "X", "expr": broken}]}]})
    )
    assert run("check", "rules", "rules.yaml", cwd=tmp_path).returncode == 1
