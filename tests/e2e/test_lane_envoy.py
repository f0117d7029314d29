"""The real Envoy edge in front of the lane: a transcoded REST call answers exactly as through grpc.aio.

One GX server (create_server's call chain, a stand-in IdentityService) is served twice: by grpc.aio
on its gRPC port and by the lane on another; an Envoy (the dev stack's config) points at each. Both
edges must give the same HTTP status and the same JSON, for a success, a rich error and a 202 set by
`send_initial_metadata` (edge.lua reads `x-http-status` from the response headers).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
from google.api import httpbody_pb2
from gx.identity.v1 import identity_pb2, identity_service_pb2, identity_service_pb2_grpc

from devstack.config import StackConfig
from devstack.parts import EdgePart, StackView
from services.common import auth
from services.common.errors import NotFound
from services.common.lane import UnaryLane
from services.common.server import ServiceBinding, bind, create_server
from tests.grpc.common.jwt_helpers import AUDIENCE, ISSUER, Signer
from tests.grpc.common.runtime_harness import settings
from tests.support.stack import make_temp_dir

pytestmark = pytest.mark.e2e

_USER = "3f2c0a4e-8d7b-4c1e-9a55-0d6f1e2b7c90"
_MISSING = "00000000-0000-4000-8000-000000000404"
_ACCEPTED = "00000000-0000-4000-8000-000000000202"


class _Identity(identity_service_pb2_grpc.IdentityServiceServicer):
    def __init__(self, signer: Signer) -> None:
        self._signer = signer
        self.peers: list[str] = []

    async def GetJwks(self, request: Any, context: grpc.aio.ServicerContext) -> httpbody_pb2.HttpBody:
        body = json.dumps({"keys": [self._signer.jwk()]}).encode()
        return httpbody_pb2.HttpBody(content_type="application/json", data=body)

    async def GetUser(
        self, request: identity_service_pb2.GetUserRequest, context: grpc.aio.ServicerContext
    ) -> identity_service_pb2.GetUserResponse:
        self.peers.append(context.peer())
        if request.user_id == _MISSING:
            raise NotFound("user not found", reason="USER_NOT_FOUND", metadata={"userId": request.user_id})
        if request.user_id == _ACCEPTED:
            await context.send_initial_metadata((("x-http-status", "202"),))
        principal = auth.require_principal()
        return identity_service_pb2.GetUserResponse(
            user=identity_pb2.User(
                user_id=request.user_id, email="lane@gx.test", display_name=principal.user_id
            )
        )


def _start_edge(root_name: str, port: int) -> tuple[EdgePart, StackConfig, Any]:
    root = make_temp_dir(root_name)
    cfg = StackConfig.on_free_ports(root)
    cfg = cfg.served_at("identity", port)
    part = EdgePart(services=("identity",))
    part.start(cfg, StackView(names=["identity", "edge"]))
    try:
        part.wait_healthy(cfg)
    except BaseException:
        part.stop(cfg)
        raise
    return part, cfg, root


@pytest.fixture(scope="module")
async def edges() -> AsyncIterator[tuple[str, str, Signer, _Identity]]:
    signer = Signer("lane-e2e")
    servicer = _Identity(signer)
    verifier = auth.TokenVerifier(
        auth.StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE
    )
    binding = bind(identity_service_pb2_grpc.add_IdentityServiceServicer_to_server, servicer)
    wrapping: list[Any] = []

    def add(server: Any) -> None:
        wrapping.append(server)
        binding.add(server)

    gx = create_server(
        settings(service_name="identity", metrics_listen=""),
        [ServiceBinding(binding.name, add)],
        verifier=verifier,
    )
    await gx.start()
    lane = UnaryLane(wrapping[0].unary_methods, max_message_bytes=4 * 1024 * 1024)
    lane_port = await lane.start("127.0.0.1:0")
    started: list[tuple[EdgePart, StackConfig, Any]] = []
    try:
        # Envoy starts and health-checks its upstream while this loop keeps serving both ports.
        started.append(await asyncio.to_thread(_start_edge, "gx-lane-aio-", gx.port))
        started.append(await asyncio.to_thread(_start_edge, "gx-lane-lane-", lane_port))
        yield (
            f"http://{started[0][1].address('edge')}",
            f"http://{started[1][1].address('edge')}",
            signer,
            servicer,
        )
    finally:
        for part, cfg, root in started:
            await asyncio.to_thread(part.stop, cfg)
            shutil.rmtree(root, ignore_errors=True)
        await lane.stop(0)
        await gx.stop(0)


async def _both(
    edges: tuple[str, str, Signer, _Identity], path: str
) -> tuple[httpx.Response, httpx.Response]:
    aio_url, lane_url, signer, _ = edges
    headers = {"authorization": f"Bearer {signer.token(sub='user-9')}"}
    async with httpx.AsyncClient(timeout=10) as client:
        via_aio = await client.get(f"{aio_url}{path}", headers=headers)
        via_lane = await client.get(f"{lane_url}{path}", headers=headers)
    return via_aio, via_lane


async def test_a_success_is_the_same_through_the_lane(edges: tuple[str, str, Signer, _Identity]) -> None:
    before = len(edges[3].peers)
    via_aio, via_lane = await _both(edges, f"/v1/users/{_USER}")
    assert via_lane.status_code == via_aio.status_code == 200, via_lane.text
    assert via_lane.json() == via_aio.json()
    user = via_lane.json()["user"]
    assert (user["userId"], user["email"], user["displayName"]) == (_USER, "lane@gx.test", "user-9")
    assert len(edges[3].peers) == before + 2  # each edge reached the service


async def test_a_rich_error_is_the_same_through_the_lane(edges: tuple[str, str, Signer, _Identity]) -> None:
    via_aio, via_lane = await _both(edges, f"/v1/users/{_MISSING}")
    assert via_lane.status_code == via_aio.status_code == 404, via_lane.text
    assert via_lane.json() == via_aio.json()
    reasons = [d.get("reason") for d in via_lane.json()["details"] if d["@type"].endswith("ErrorInfo")]
    assert reasons == ["USER_NOT_FOUND"]


async def test_a_202_from_initial_metadata_is_the_same_through_the_lane(
    edges: tuple[str, str, Signer, _Identity],
) -> None:
    via_aio, via_lane = await _both(edges, f"/v1/users/{_ACCEPTED}")
    assert via_lane.status_code == via_aio.status_code == 202, via_lane.text
    assert via_lane.json() == via_aio.json()
