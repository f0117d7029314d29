"""`GET /openapi.json` through the real Envoy edge, and real answers checked against the document."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS31Validator

from devstack.config import REPO_ROOT
from edge.descriptor import build
from edge.openapi import DOCUMENT, PAGE
from edge.settings import Upstream
from manifests.edge_config import render as render_k8s_edge
from tests.support.stack import EdgeStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(edge_stack: EdgeStack) -> dict[str, Any]:
    answer = httpx.get(f"{edge_stack.rest_url}/openapi.json", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    return dict(answer.json())


def _validator(doc: dict[str, Any], schema_name: str) -> OAS31Validator:
    # The component is resolved inside the whole document, so its $refs resolve too.
    return OAS31Validator({"$ref": f"#/components/schemas/{schema_name}", "components": doc["components"]})


def test_the_edge_serves_the_generated_document(served: dict[str, Any]) -> None:
    assert served == json.loads(DOCUMENT.read_text())
    assert served["openapi"] == "3.1.0" and "/v1/users:register" in served["paths"]


@pytest.mark.parametrize(
    "headers",
    [{"authorization": "Bearer not-a-token"}, {"x-api-key": "gxk_not_a_key"}],
    ids=["bad-token", "bad-key"],
)
def test_the_document_needs_no_credentials_and_ignores_bad_ones(
    edge_stack: EdgeStack, headers: dict[str, str]
) -> None:
    answer = httpx.get(f"{edge_stack.rest_url}/openapi.json", headers=headers, timeout=10)
    assert answer.status_code == 200 and answer.json()["openapi"] == "3.1.0"


def test_the_edge_serves_the_reference_page(edge_stack: EdgeStack) -> None:
    answer = httpx.get(f"{edge_stack.rest_url}/docs", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.text == PAGE.read_text()
    assert 'id="WalletService_Transfer"' in answer.text


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "the /docs test needs Debian's chromium package (apt-get install chromium)"
    return found


class _Sections(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.operations: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "section" and values.get("class") == "operation" and values.get("id"):
            self.operations.add(str(values["id"]))


def test_the_reference_page_renders_in_headless_chromium(
    edge_stack: EdgeStack, served: dict[str, Any], tmp_path: Path
) -> None:
    # The DOM after Chromium loaded and laid out the page from the edge, with every other host
    # unreachable (a dead proxy): what a browser offline shows.
    run = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=127.0.0.1",
            "--dump-dom",
            f"{edge_stack.rest_url}/docs",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    page = _Sections()
    page.feed(run.stdout)
    expected = {op["operationId"] for methods in served["paths"].values() for op in methods.values()}
    assert page.operations == expected
    assert "GX mesh API reference" in run.stdout


def test_only_get_is_served(edge_stack: EdgeStack) -> None:
    answer = httpx.post(f"{edge_stack.rest_url}/openapi.json", content=b"{}", timeout=10)
    assert answer.status_code != 200
    assert "code" in answer.json()


def test_a_real_success_and_a_real_error_match_the_document(
    edge_stack: EdgeStack, served: dict[str, Any]
) -> None:
    email = f"doc-{uuid.uuid4().hex[:8]}@example.com"
    ok = httpx.post(
        f"{edge_stack.rest_url}/v1/users:register",
        json={"email": email, "password": "Correct horse 123!", "displayName": "Doc", "countryCode": "LK"},
        timeout=30,
    )
    assert ok.status_code == 200, ok.text
    responses = served["paths"]["/v1/users:register"]["post"]["responses"]
    ok_schema = responses["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    _validator(served, ok_schema).validate(ok.json())

    bad = httpx.post(f"{edge_stack.rest_url}/v1/users:register", json={"email": "not-an-email"}, timeout=30)
    assert bad.status_code == 400
    _validator(served, "google.rpc.Status").validate(bad.json())
    reasons = [d.get("reason") for d in bad.json().get("details", []) if d["@type"].endswith("ErrorInfo")]
    assert reasons and all(r and r.upper() == r for r in reasons)


def test_the_kubernetes_edge_serves_it_too(tmp_path: Path) -> None:
    config = render_k8s_edge(
        build(REPO_ROOT, tmp_path / "gx.binpb"), {"identity": Upstream("identity", "identity", 50051)}
    )
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    first = manager["route_config"]["virtual_hosts"][0]["routes"][0]
    assert first["match"]["path"] == "/openapi.json"
    assert json.loads(first["direct_response"]["body"]["inline_string"]) == json.loads(DOCUMENT.read_text())
