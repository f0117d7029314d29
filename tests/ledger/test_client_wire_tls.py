"""TLS to the devnet peer, and mutual TLS to a gRPC server that requires client certificates."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.peer import proposal_response_pb2

from fabric_client import EvaluateError, Gateway, TlsOptions
from fabric_client.identity import load_identity
from tests.support.ledger import Ledger, free_port

pytestmark = pytest.mark.timeout(120)
_PEER_NAME = "peer0.org1.example.com"


@dataclass(frozen=True)
class _Pki:
    ca_pem: bytes
    server_cert: bytes
    server_key: bytes
    client_cert: bytes
    client_key: bytes


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _make_pki(ca_name: str = "tlsca.org1.example.com") -> _Pki:
    """A TLS CA with a server certificate for the peer name and 127.0.0.1, and a client certificate."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_name)])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_subject)
        .issuer_name(ca_subject)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(name: str, usage: x509.ObjectIdentifier) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName(name),
                        x509.DNSName("localhost"),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    ]
                ),
                critical=False,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)

    server_cert, server_key = leaf(_PEER_NAME, ExtendedKeyUsageOID.SERVER_AUTH)
    client_cert, client_key = leaf("gx-outbox.org1.example.com", ExtendedKeyUsageOID.CLIENT_AUTH)
    return _Pki(ca.public_bytes(serialization.Encoding.PEM), server_cert, server_key, client_cert, client_key)


def _write_server_tls(state_dir: Path, pki: _Pki) -> None:
    state_dir.mkdir(parents=True)
    (state_dir / "tls.crt").write_bytes(pki.server_cert)
    (state_dir / "tls.key").write_bytes(pki.server_key)


@contextlib.asynccontextmanager
async def _tls_ledger(state_dir: Path, pki: _Pki) -> AsyncIterator[Ledger]:
    """Devnet serving TLS. The launcher's health wait is plaintext, so readiness is polled here over TLS."""
    _write_server_tls(state_dir, pki)
    ledger = Ledger(
        state_dir,
        chaincode="kv",
        extra_args=("--tls-cert", str(state_dir / "tls.crt"), "--tls-key", str(state_dir / "tls.key")),
    )
    try:
        await ledger.start_chaincode()
        ledger._devnet = await ledger._spawn(ledger._devnet_command(), "devnet.log", {})
        # The client identities are written by devnet on its first start.
        who = ledger.user("User1")
        for _ in range(300):
            try:
                await asyncio.to_thread(load_identity, who.msp_id, who.cert_path, who.key_path)
                break
            except (OSError, ValueError):  # not written yet, or half written
                await asyncio.sleep(0.1)
        yield ledger
    finally:
        await ledger.stop()


def _gateway(ledger: Ledger, tls: TlsOptions | None) -> Gateway:
    who = ledger.user("User1")
    identity, signer = load_identity(who.msp_id, who.cert_path, who.key_path)
    return Gateway.connect(ledger.peer_address, identity, signer, tls=tls)


async def _evaluate_until_ready(gateway: Gateway, within: float = 60.0) -> bytes:
    contract = gateway.network("gxchannel").contract("gx")
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            return await contract.evaluate("Creator", timeout=2)
        except EvaluateError as error:
            if error.code is not grpc.StatusCode.UNAVAILABLE or asyncio.get_running_loop().time() > deadline:
                raise
            gateway.breaker.record_success()  # startup polling must not trip the breaker
            await asyncio.sleep(0.2)


async def test_tls_to_devnet_with_the_peer_name_override(tmp_path: Path) -> None:
    pki = _make_pki()
    async with _tls_ledger(tmp_path / "devnet", pki) as ledger:
        tls = TlsOptions(root_certificates=pki.ca_pem, server_name_override=_PEER_NAME)
        async with _gateway(ledger, tls) as gateway:
            assert await _evaluate_until_ready(gateway) == b"Org1MSP"
            contract = gateway.network("gxchannel").contract("gx")
            await contract.submit_transaction("Put", args=["tls", "ok"])
            assert await contract.evaluate("Get", args=["tls"]) == b"ok"

        # A client that trusts another CA cannot connect, nor can a plaintext one.
        other = TlsOptions(
            root_certificates=_make_pki("tlsca.other.example.com").ca_pem, server_name_override=_PEER_NAME
        )
        for options in (other, None):
            async with _gateway(ledger, options) as stranger:
                with pytest.raises(EvaluateError) as refused:
                    await (
                        stranger.network("gxchannel").contract("gx").evaluate("Get", args=["tls"], timeout=5)
                    )
                assert refused.value.code is grpc.StatusCode.UNAVAILABLE


class _EchoClientGateway(gateway_pb2_grpc.GatewayServicer):
    """Answers Evaluate with the common name of the client certificate the TLS handshake presented.

    devnet serves server-side TLS only, so mutual TLS is checked against this server: what is under
    test is the client's credential plumbing, not Fabric behaviour.
    """

    async def Evaluate(
        self, request: gateway_pb2.EvaluateRequest, context: grpc.aio.ServicerContext
    ) -> object:
        pem = context.auth_context().get("x509_pem_cert", [b""])[0]
        name = (
            x509.load_pem_x509_certificate(pem).subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        )
        return gateway_pb2.EvaluateResponse(
            result=proposal_response_pb2.Response(status=200, payload=str(name).encode())
        )


async def test_mutual_tls_presents_the_client_certificate(tmp_path: Path) -> None:
    pki = _make_pki()
    server = grpc.aio.server()
    gateway_pb2_grpc.add_GatewayServicer_to_server(_EchoClientGateway(), server)
    credentials = grpc.ssl_server_credentials(
        [(pki.server_key, pki.server_cert)], root_certificates=pki.ca_pem, require_client_auth=True
    )
    port = server.add_secure_port(f"127.0.0.1:{free_port()}", credentials)
    await server.start()
    try:
        key = ec.generate_private_key(ec.SECP256R1())
        from fabric_client.identity import Identity, PrivateKeySigner
        from tests.unit.fabric_client.conftest import make_cert

        identity, signer = Identity("Org1MSP", make_cert(key)), PrivateKeySigner(key)
        mutual = TlsOptions(
            root_certificates=pki.ca_pem,
            client_certificate=pki.client_cert,
            client_key=pki.client_key,
            server_name_override=_PEER_NAME,
        )
        async with Gateway.connect(f"127.0.0.1:{port}", identity, signer, tls=mutual) as gateway:
            seen = await gateway.network("gxchannel").contract("gx").evaluate("Anything", timeout=10)
        assert seen == b"gx-outbox.org1.example.com"

        server_only = TlsOptions(root_certificates=pki.ca_pem, server_name_override=_PEER_NAME)
        async with Gateway.connect(f"127.0.0.1:{port}", identity, signer, tls=server_only) as gateway:
            with pytest.raises(EvaluateError) as refused:
                await gateway.network("gxchannel").contract("gx").evaluate("Anything", timeout=10)
        assert refused.value.code is grpc.StatusCode.UNAVAILABLE

        with pytest.raises(ValueError, match="both"):
            Gateway.connect(
                "127.0.0.1:1", identity, signer, tls=TlsOptions(client_certificate=pki.client_cert)
            )
    finally:
        await server.stop(None)
