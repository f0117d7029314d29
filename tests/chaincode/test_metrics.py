"""The chaincode's optional /metrics and /healthz: counted over the fake peer, and through the real devnet."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from google.protobuf import json_format
from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import queries_pb2 as qry
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from chaincode.metrics import InvocationMetrics, outcome_of
from fabric_client import EndorseError, Gateway, Timeouts
from fabric_client.identity import load_identity
from fabric_client.metrics import ClientMetrics
from tests.chaincode.fake_ledger import FakeLedger
from tests.support.ledger import Ledger, free_port, running_ledger

REPO_ROOT = Path(__file__).resolve().parents[2]


def _rid() -> str:
    return str(uuid.uuid4())


def _samples(exposition: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample called `name`, by its sorted labels."""
    out = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name:
                out[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def _count(samples: dict, function: str, outcome: str, status: str) -> float:
    return samples.get((("function", function), ("outcome", outcome), ("status", status)), 0.0)


def test_outcomes_by_status() -> None:
    assert [outcome_of(s) for s in (200, 400, 403, 404, 500)] == [
        "ok",
        "rejected",
        "rejected",
        "rejected",
        "fault",
    ]


async def test_invocations_are_counted_by_function_and_outcome_over_the_fake_peer() -> None:
    ledger = FakeLedger()
    metrics = InvocationMetrics(ledger.chaincode.routes)
    ledger.chaincode.metrics = metrics
    assert (await ledger.invoke("BootstrapSystem", cmd.BootstrapSystemRequest(request_id=_rid()))).ok
    again = await ledger.invoke("admin:BootstrapSystem", cmd.BootstrapSystemRequest(request_id=_rid()))
    assert again.status == 400
    denied = await ledger.invoke(
        "PauseSystem", cmd.PauseSystemRequest(reason="x", request_id=_rid()), role=""
    )
    assert denied.status == 403
    assert (await ledger.invoke("GetSystemStatus", qry.GetSystemStatusRequest())).ok
    bogus = await ledger.invoke(f"NoSuchFunction{uuid.uuid4().hex}", "{}")
    assert bogus.status == 500
    counts = _samples(metrics.exposition().decode(), "gx_chaincode_invocations_total")
    assert _count(counts, "BootstrapSystem", "ok", "200") == 1
    assert (
        _count(counts, "BootstrapSystem", "rejected", "400") == 1
    )  # the namespaced name counts as the bare one
    assert _count(counts, "PauseSystem", "rejected", "403") == 1
    assert _count(counts, "GetSystemStatus", "ok", "200") == 1
    assert _count(counts, "unknown", "fault", "500") == 1  # a caller cannot invent label values
    durations = _samples(metrics.exposition().decode(), "gx_chaincode_invocation_duration_seconds_count")
    assert durations[(("function", "BootstrapSystem"),)] == 2


def test_without_the_variable_prometheus_client_is_never_imported() -> None:
    probe = (
        "import sys; import chaincode.__main__, chaincode.app; chaincode.app.build_chaincode();"
        " print('prometheus_client' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "False"


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _gateway(ledger: Ledger, user: str) -> Gateway:
    who = ledger.user(user)
    identity, signer = load_identity(who.msp_id, who.cert_path, who.key_path)
    return Gateway.connect(
        ledger.peer_address,
        identity,
        signer,
        timeouts=Timeouts(evaluate=20, endorse=30, submit=10, commit_status=30),
        metrics=ClientMetrics(CollectorRegistry()),
    )


async def test_metrics_count_real_invocations_through_the_devnet(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    listen = f"127.0.0.1:{free_port()}"
    async with running_ledger(
        tmp_path_factory.mktemp("gx-cc-metrics"),
        chaincode="gx",
        batch_timeout=0.05,
        env={"GX_CHAINCODE_METRICS_LISTEN": listen},
    ) as ledger:
        status, body = await asyncio.to_thread(_get, f"http://{listen}/healthz")
        assert (status, body) == (200, "ok\n")
        boot = json_format.MessageToJson(cmd.BootstrapSystemRequest(request_id=_rid()))
        async with _gateway(ledger, "gx_super_admin") as gateway:
            contract = gateway.network(ledger.channel).contract(ledger.chaincode_name)
            await contract.submit_transaction("BootstrapSystem", args=[boot])
        async with _gateway(ledger, "User1") as gateway:
            contract = gateway.network(ledger.channel).contract(ledger.chaincode_name)
            with pytest.raises(EndorseError):  # User1 has no gxc_role: 403 from the chaincode
                await contract.submit_transaction(
                    "PauseSystem",
                    args=[json_format.MessageToJson(cmd.PauseSystemRequest(reason="x", request_id=_rid()))],
                )
            await contract.evaluate(
                "GetSystemStatus", args=[json_format.MessageToJson(qry.GetSystemStatusRequest())]
            )
        status, text = await asyncio.to_thread(_get, f"http://{listen}/metrics")
        assert status == 200
        counts = _samples(text, "gx_chaincode_invocations_total")
        assert _count(counts, "BootstrapSystem", "ok", "200") == 1
        assert _count(counts, "PauseSystem", "rejected", "403") == 1
        assert _count(counts, "GetSystemStatus", "ok", "200") == 1
        durations = _samples(text, "gx_chaincode_invocation_duration_seconds_count")
        assert durations[(("function", "BootstrapSystem"),)] == 1
        assert "process_cpu_seconds_total" in text
        assert (await asyncio.to_thread(_get, f"http://{listen}/nope"))[0] == 404
