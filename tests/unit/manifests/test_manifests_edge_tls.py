"""The Kubernetes edge with a certificate: the real Envoy serves HTTPS with HSTS and modern
ciphers only, and its plain port redirects to https."""

from __future__ import annotations

import datetime
import json
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devstack.envoy import binary
from edge import descriptor as gx_descriptor
from edge.tls import HSTS
from manifests import edge_config
from tests.support.edge_backend import EdgeBackend
from tests.support.ledger import free_port
from tests.unit.manifests.kustomize import ROOT


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = directory / "tls.crt", directory / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class _Edge:
    def __init__(
        self, config: dict[str, Any], cert: Path, http_port: int, https_port: int, backend: EdgeBackend
    ) -> None:
        self.config, self.cert, self.http_port, self.https_port = config, cert, http_port, https_port
        self.backend = backend


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Edge]:
    """The edge config the init container writes with a certificate, run by the real Envoy.

    Identity is the tests' stand-in (it serves the JWKS the edge fetches from itself, now over
    TLS, and echoes the caller); wallet and licensing are closed loopback ports.
    """
    backend = EdgeBackend()
    backend.start()
    directory = tmp_path_factory.mktemp("edge-tls")
    cert, key = _certificate(directory)
    descriptor = gx_descriptor.build(ROOT, directory / "gx.binpb")
    http_port, https_port, admin_port, ops_port = (free_port() for _ in range(4))
    out = directory / "envoy.json"
    closed = free_port()
    argv = [
        "--out", str(out), "--descriptor", str(descriptor),
        "--upstreams", f"identity=127.0.0.1:{backend.port},wallet=127.0.0.1:{closed},licensing=127.0.0.1:{closed}",
        "--port", str(http_port), "--admin-port", str(admin_port), "--ops-port", str(ops_port),
        "--tls-cert", str(cert), "--tls-key", str(key), "--https-port", str(https_port),
    ]  # fmt: skip
    assert edge_config.main(argv) == 0
    proc = subprocess.Popen(
        [binary(), "-c", str(out), "--disable-hot-restart", "--log-level", "error", "--concurrency", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", https_port), timeout=1):
                    pass
                with socket.create_connection(("127.0.0.1", http_port), timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "envoy did not open its listeners"
                time.sleep(0.1)
        yield _Edge(json.loads(out.read_text()), cert, http_port, https_port, backend)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        backend.stop()


def _context(edge: _Edge) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(edge.cert))
    return context


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_plain_http_is_redirected_to_https(edge: _Edge) -> None:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(
        f"http://127.0.0.1:{edge.http_port}/v1/users/me?x=1", headers={"host": "gx.example.com"}
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(request, timeout=5)
    assert info.value.code == 301
    assert info.value.headers["location"] == "https://gx.example.com/v1/users/me?x=1"


def test_https_serves_the_api_with_hsts(edge: _Edge) -> None:
    request = urllib.request.Request(f"https://localhost:{edge.https_port}/openapi.json")
    with urllib.request.urlopen(request, timeout=5, context=_context(edge)) as resp:
        assert resp.status == 200
        assert resp.headers["strict-transport-security"] == HSTS
        assert json.loads(resp.read())["openapi"].startswith("3.")


def test_https_speaks_http2_and_tls13(edge: _Edge) -> None:
    context = _context(edge)
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", edge.https_port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() == "TLSv1.3"
            assert tls.selected_alpn_protocol() == "h2"


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
@pytest.mark.parametrize(
    ("version", "ciphers"),
    [
        (ssl.TLSVersion.TLSv1_1, "DEFAULT:@SECLEVEL=0"),  # an old protocol
        (ssl.TLSVersion.TLSv1_2, "AES128-SHA:AES256-SHA:AES128-GCM-SHA256"),  # no forward secrecy
        (ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-SHA"),  # CBC
    ],
)
def test_old_protocols_and_weak_ciphers_are_refused(
    edge: _Edge, version: ssl.TLSVersion, ciphers: str
) -> None:
    context = _context(edge)
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.maximum_version = version
    try:
        context.set_ciphers(ciphers)
    except ssl.SSLError:
        pytest.fail(f"this Python's OpenSSL cannot even offer {ciphers}")
    with socket.create_connection(("127.0.0.1", edge.https_port), timeout=5) as raw:
        with pytest.raises(ssl.SSLError):
            context.wrap_socket(raw, server_hostname="localhost").close()


def test_modern_tls12_suites_are_accepted(edge: _Edge) -> None:
    context = _context(edge)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
    with socket.create_connection(("127.0.0.1", edge.https_port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() == "TLSv1.2"


def test_the_jwks_fetch_follows_the_edge_onto_tls(edge: _Edge) -> None:
    clusters = {c["name"]: c for c in edge.config["static_resources"]["clusters"]}
    assert clusters["edge_self"]["transport_socket"]["name"] == "envoy.transport_sockets.tls"
    listeners = {item["name"]: item for item in edge.config["static_resources"]["listeners"]}
    filters = listeners["edge"]["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]
    (jwt,) = [f for f in filters if f["name"] == "envoy.filters.http.jwt_authn"]
    (provider,) = jwt["typed_config"]["providers"].values()
    assert (
        provider["remote_jwks"]["http_uri"]["uri"]
        == f"https://127.0.0.1:{edge.https_port}/.well-known/jwks.json"
    )


def test_user_tokens_verify_with_keys_the_edge_fetched_from_itself_over_tls(edge: _Edge) -> None:
    # jwt_authn fetches /.well-known/jwks.json through the edge's own (now TLS) listener; a wrong
    # scheme or port there would make every authenticated call 401 in production.
    url = f"https://localhost:{edge.https_port}/v1/users/3f2c0a4e-8d7b-4c1e-9a55-0d6f1e2b7c90"
    deadline = time.monotonic() + 20
    while True:  # the first fetch is asynchronous: Envoy may still be fetching
        request = urllib.request.Request(url, headers={"authorization": f"Bearer {edge.backend.key.token()}"})
        try:
            with urllib.request.urlopen(request, timeout=5, context=_context(edge)) as resp:
                body = json.loads(resp.read())
                break
        except urllib.error.HTTPError as exc:
            assert exc.code == 401 and time.monotonic() < deadline, exc.read()[:300]
            time.sleep(0.2)
    assert body["user"]["displayName"] == "Bearer "  # the stand-in saw the forwarded token
    unsigned = urllib.request.Request(url, headers={"authorization": "Bearer not.a.token"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(unsigned, timeout=5, context=_context(edge))
    assert info.value.code == 401


def test_tls_needs_both_files(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        edge_config.main(["--out", str(tmp_path / "x.json"), "--tls-cert", str(tmp_path / "tls.crt")])
