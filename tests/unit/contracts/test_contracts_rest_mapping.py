"""The wallet and licensing REST surface of API.md, through the real Envoy transcoder, reaches the right RPCs.

A fake servicer (pure recording, no logic) stands in for each service on a real grpc.aio server;
Envoy runs with the Kubernetes edge configuration (manifests/edge_config.py) rendered for these
two upstreams only, so no token is needed and the test sees exactly what the transcoder makes of
each documented request.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import message as pb_message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from gx.licensing.v1 import licensing_pb2, licensing_service_pb2, licensing_service_pb2_grpc
from gx.type.v1 import operation_pb2
from gx.wallet.v1 import admin_service_pb2_grpc, wallet_service_pb2, wallet_service_pb2_grpc

from edge import descriptor as gx_descriptor
from manifests import edge_config

_ROOT = Path(__file__).resolve().parents[3]
_UUID = "3f2b8c1e-4d5a-4e6f-9a7b-1c2d3e4f5a6b"
_OTHER = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


class _Recorder:
    """Remembers the last request each RPC received."""

    def __init__(self) -> None:
        self.calls: dict[str, pb_message.Message] = {}


def _operation() -> operation_pb2.Operation:
    return operation_pb2.Operation(name=f"operations/{_UUID}", state=operation_pb2.OPERATION_STATE_PENDING)


class _Wallet(wallet_service_pb2_grpc.WalletServiceServicer):
    def __init__(self, rec: _Recorder) -> None:
        self.rec = rec

    async def ListTransactions(self, request: Any, context: Any) -> Any:
        self.rec.calls["ListTransactions"] = request
        return wallet_service_pb2.ListTransactionsResponse(next_page_token="next")

    async def Transfer(self, request: Any, context: Any) -> Any:
        self.rec.calls["Transfer"] = request
        # The services mark accepted commands so the edge answers 202.
        await context.send_initial_metadata((("x-http-status", "202"),))
        return _operation()

    async def WaitOperation(self, request: Any, context: Any) -> Any:
        self.rec.calls["WaitOperation"] = request
        return _operation()


class _Admin(admin_service_pb2_grpc.AdminServiceServicer):
    def __init__(self, rec: _Recorder) -> None:
        self.rec = rec

    async def InitializeCountries(self, request: Any, context: Any) -> Any:
        self.rec.calls["InitializeCountries"] = request
        return _operation()

    async def UpdateSystemParameter(self, request: Any, context: Any) -> Any:
        self.rec.calls["UpdateSystemParameter"] = request
        return _operation()


class _Licensing(licensing_service_pb2_grpc.LicensingServiceServicer):
    def __init__(self, rec: _Recorder) -> None:
        self.rec = rec

    async def CreatePartner(self, request: Any, context: Any) -> Any:
        self.rec.calls["CreatePartner"] = request
        return licensing_service_pb2.CreatePartnerResponse(
            partner=licensing_pb2.Partner(
                partner_id=_UUID, name=request.name, state=licensing_pb2.PARTNER_STATE_PENDING
            )
        )

    async def UpdateLicense(self, request: Any, context: Any) -> Any:
        self.rec.calls["UpdateLicense"] = request
        return licensing_service_pb2.UpdateLicenseResponse(license=request.license)

    async def RotateApiKey(self, request: Any, context: Any) -> Any:
        self.rec.calls["RotateApiKey"] = request
        return licensing_service_pb2.RotateApiKeyResponse(secret="gx_test_secret")

    async def GetUsage(self, request: Any, context: Any) -> Any:
        self.rec.calls["GetUsage"] = request
        return licensing_service_pb2.GetUsageResponse()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _serve(*adders: Any) -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server()
    for add, servicer in adders:
        add(servicer, server)
    health = health_aio.HealthServicer()
    await health.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


@pytest.fixture(scope="module")
def recorder() -> _Recorder:
    """The requests the fake services saw."""
    return _Recorder()


@pytest.fixture(scope="module")
async def upstreams(recorder: _Recorder) -> AsyncIterator[dict[str, int]]:
    """Fake wallet and licensing gRPC servers on free ports."""
    wallet, wallet_port = await _serve(
        (wallet_service_pb2_grpc.add_WalletServiceServicer_to_server, _Wallet(recorder)),
        (admin_service_pb2_grpc.add_AdminServiceServicer_to_server, _Admin(recorder)),
    )
    licensing, licensing_port = await _serve(
        (licensing_service_pb2_grpc.add_LicensingServiceServicer_to_server, _Licensing(recorder))
    )
    try:
        yield {"wallet": wallet_port, "licensing": licensing_port}
    finally:
        await wallet.stop(None)
        await licensing.stop(None)


@pytest.fixture(scope="module")
def edge(upstreams: dict[str, int], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Envoy with the Kubernetes edge config for the two fakes; yields its base URL."""
    tmp = tmp_path_factory.mktemp("rest")
    descriptor = gx_descriptor.build(_ROOT, tmp / "gx.binpb")
    port, admin, ops = _free_port(), _free_port(), _free_port()
    config = edge_config.render(
        descriptor,
        edge_config.parse_upstreams(",".join(f"{name}=127.0.0.1:{p}" for name, p in upstreams.items())),
        port=port,
        admin_port=admin,
        ops_port=ops,
    )
    # The pod listens on all interfaces; a test binds loopback only.
    config["static_resources"]["listeners"][0]["address"]["socket_address"]["address"] = "127.0.0.1"
    path = tmp / "envoy.json"
    path.write_text(json.dumps(config))
    envoy = Path(sys.executable).parent / "envoy"
    log = (tmp / "envoy.log").open("w")
    proc = subprocess.Popen(
        [str(envoy), "-c", str(path), "--disable-hot-restart", "--concurrency", "1", "--log-level", "warn",
         "--base-id", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp / "envoy.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{ops}/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "envoy did not become ready"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


async def _call(edge: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    # Envoy's active health check marks a new upstream healthy within ~2 s; until then it
    # answers 503, which a client would also simply retry.
    async with httpx.AsyncClient(base_url=edge, timeout=10) as client:
        for _ in range(50):
            response = await client.request(method, path, **kwargs)
            if response.status_code != 503:
                return response
            await asyncio.sleep(0.2)
        return response


async def test_transfer_maps_path_body_and_int64_and_answers_202(edge: str, recorder: _Recorder) -> None:
    body = {"requestId": _UUID, "toUserId": _OTHER, "amountQirat": "2500000", "remark": "rent"}
    response = await _call(edge, "POST", "/v1/wallets/me:transfer", json=body)
    assert response.status_code == 202, response.text
    assert response.json()["name"] == f"operations/{_UUID}"
    req = recorder.calls["Transfer"]
    assert (req.wallet_id, req.request_id, req.to_user_id, req.amount_qirat, req.remark) == (
        "me", _UUID, _OTHER, 2_500_000, "rent",
    )  # fmt: skip
    assert req.WhichOneof("recipient") == "to_user_id"


async def test_transaction_filters_come_from_the_query(edge: str, recorder: _Recorder) -> None:
    query = (
        "types=TRANSACTION_TYPE_SENT&types=TRANSACTION_TYPE_FEE&pageSize=10&startTime=2026-01-01T00:00:00Z"
    )
    response = await _call(edge, "GET", f"/v1/wallets/{_UUID}/transactions?{query}")
    assert response.status_code == 200, response.text
    assert response.json()["nextPageToken"] == "next"
    req = recorder.calls["ListTransactions"]
    assert list(req.types) == [1, 3]
    assert req.page_size == 10
    assert req.start_time.seconds == 1767225600


async def test_wait_operation_takes_a_duration(edge: str, recorder: _Recorder) -> None:
    response = await _call(edge, "POST", f"/v1/operations/{_UUID}:wait", json={"timeout": "5s"})
    assert response.status_code == 200, response.text
    assert recorder.calls["WaitOperation"].timeout.seconds == 5


async def test_country_initialisation_and_parameter_update(edge: str, recorder: _Recorder) -> None:
    countries = {"requestId": _UUID, "countries": [{"countryCode": "LK", "populationShareBps": 27}]}
    assert (await _call(edge, "POST", "/v1/system/countries:initialize", json=countries)).status_code == 200
    share = recorder.calls["InitializeCountries"].countries[0]
    assert (share.country_code, share.population_share_bps) == ("LK", 27)
    update = {"requestId": _UUID, "value": "300"}
    assert (
        await _call(edge, "PATCH", "/v1/system/parameters/velocityTaxRateBps", json=update)
    ).status_code == 200
    assert recorder.calls["UpdateSystemParameter"].name == "velocityTaxRateBps"


async def test_partner_application_and_licence_update(edge: str, recorder: _Recorder) -> None:
    apply = {"name": "Acme", "email": "ops@acme.example", "contactPerson": "A. Person"}
    response = await _call(edge, "POST", "/v1/partners", json=apply)
    assert response.status_code == 200, response.text
    assert response.json()["partner"]["state"] == "PARTNER_STATE_PENDING"
    assert recorder.calls["CreatePartner"].contact_person == "A. Person"

    patch = {"tier": "LICENSE_TIER_PREMIUM", "expireTime": "2027-01-01T00:00:00Z"}
    response = await _call(
        edge, "PATCH", f"/v1/partners/{_UUID}/licenses/{_OTHER}?updateMask=tier", json=patch
    )
    assert response.status_code == 200, response.text
    req = recorder.calls["UpdateLicense"]
    assert (req.license.partner_id, req.license.license_id) == (_UUID, _OTHER)
    assert req.license.tier == licensing_pb2.LICENSE_TIER_PREMIUM
    assert list(req.update_mask.paths) == ["tier"]


async def test_key_rotation_and_usage_period(edge: str, recorder: _Recorder) -> None:
    path = f"/v1/partners/me/licenses/{_UUID}/apiKeys/{_OTHER}:rotate"
    response = await _call(edge, "POST", path, json={"gracePeriod": "86400s"})
    assert response.status_code == 200, response.text
    assert response.json()["secret"] == "gx_test_secret"
    assert recorder.calls["RotateApiKey"].grace_period.seconds == 86400

    usage = (
        f"/v1/partners/me/licenses/{_UUID}/usage?startTime=2026-11-01T00:00:00Z&endTime=2026-11-02T00:00:00Z"
    )
    assert (await _call(edge, "GET", usage)).status_code == 200
    req = recorder.calls["GetUsage"]
    assert req.end_time.seconds - req.start_time.seconds == 86400


async def test_unknown_body_fields_are_refused_before_the_service(edge: str, recorder: _Recorder) -> None:
    recorder.calls.pop("CreatePartner", None)
    response = await _call(edge, "POST", "/v1/partners", json={"name": "Acme", "bogus": 1})
    assert response.status_code == 400, response.text
    assert "CreatePartner" not in recorder.calls
