"""The dev stack's edge carries the shared hardening (edge/) and still passes every
legitimate request: bodies up to the limit both ways, HTTP/2 with bounded streams and windows."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator

import h2.config
import h2.connection
import h2.events
import h2.settings
import httpx
import pytest

from devstack.config import StackConfig
from devstack.parts import EdgePart, StackView
from tests.support.edge_backend import EdgeBackend
from tests.support.stack import make_temp_dir

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def edge() -> Iterator[str]:
    """The dev stack's edge (same code as `gx dev up`) in front of a stand-in identity; its host:port."""
    backend = EdgeBackend()
    backend.start()
    root = make_temp_dir("gx-edge-hard-")
    cfg = StackConfig.on_free_ports(root)
    cfg = cfg.served_at("identity", backend.port)
    part = EdgePart(services=("identity",))
    try:
        part.start(cfg, StackView(names=["identity", "edge"]))
        part.wait_healthy(cfg)
        yield cfg.address("edge")
    finally:
        part.stop(cfg)
        backend.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_a_body_just_under_the_limit_goes_through_and_back(edge: str) -> None:
    # 64 KiB per-connection buffers must not cut a body the transcoder accepts (max 64 KiB): the
    # stand-in echoes the name, so ~63 KiB crosses the edge in each direction.
    name = "x" * (63 * 1024)
    with httpx.Client(base_url=f"http://{edge}", timeout=10) as client:
        resp = client.post("/v1/users:register", json={"email": "big@gx.test", "displayName": name})
    assert resp.status_code == 200, resp.text[:300]
    assert resp.json()["user"]["displayName"].startswith(name)


def test_too_many_headers_are_refused(edge: str) -> None:
    headers = {f"x-h{i}": "1" for i in range(120)}
    with httpx.Client(base_url=f"http://{edge}", timeout=10) as client:
        resp = client.get("/.well-known/jwks.json", headers=headers)
        ok = client.get("/.well-known/jwks.json", headers=dict(list(headers.items())[:50]))
    assert resp.status_code == 431
    assert ok.status_code == 200


def test_http2_clients_get_bounded_streams_and_windows(edge: str) -> None:
    host, _, port = edge.rpartition(":")
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(conn.data_to_send())
        settings: dict[int, int] = {}
        while not settings:
            data = sock.recv(65536)
            assert data, "the edge closed the connection"
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.RemoteSettingsChanged):
                    settings = {key: change.new_value for key, change in event.changed_settings.items()}
    assert settings[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] == 100
    assert settings[h2.settings.SettingCodes.INITIAL_WINDOW_SIZE] == 64 * 1024
