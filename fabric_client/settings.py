"""Settings for a Fabric Gateway connection, and building a Gateway from them."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from fabric_client.breaker import CircuitBreaker
from fabric_client.gateway import Gateway, Keepalive, Timeouts, TlsOptions
from fabric_client.identity import load_identity, load_msp_identity


class FabricSettings(BaseModel):
    """Where the peer is and who the client is.

    A plain model so a process nests it in its own settings (``fabric: FabricSettings`` read from
    ``GX_FABRIC__PEER_ENDPOINT``, ``GX_FABRIC__MSP_DIR``...); this library never reads the environment.

    Give either ``msp_dir`` (a Fabric MSP folder with ``signcerts/`` and ``keystore/``) or both
    ``cert_path`` and ``key_path``. TLS is on when ``tls_root_cert`` is set, mutual when
    ``tls_client_cert`` and ``tls_client_key`` are set too.
    """

    peer_endpoint: str = "127.0.0.1:7051"
    channel: str = "gxchannel"
    chaincode: str = "gx"
    msp_id: str = "Org1MSP"
    msp_dir: Path | None = None
    cert_path: Path | None = None
    key_path: Path | None = None
    tls_root_cert: Path | None = None
    tls_client_cert: Path | None = None
    tls_client_key: Path | None = None
    tls_server_name: str | None = None
    evaluate_timeout: float = Field(default=10.0, gt=0)
    endorse_timeout: float = Field(default=30.0, gt=0)
    submit_timeout: float = Field(default=10.0, gt=0)
    commit_status_timeout: float = Field(default=60.0, gt=0)
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_reset_timeout: float = Field(default=10.0, ge=0)
    keepalive_time_ms: int = Field(default=120_000, ge=10_000)
    max_reconnect_backoff_ms: int = Field(default=5_000, ge=100)


def tls_options(settings: FabricSettings) -> TlsOptions | None:
    """Read the TLS files named in ``settings`` (None when TLS is off)."""
    if settings.tls_root_cert is None:
        return None
    return TlsOptions(
        root_certificates=settings.tls_root_cert.read_bytes(),
        client_certificate=settings.tls_client_cert.read_bytes() if settings.tls_client_cert else None,
        client_key=settings.tls_client_key.read_bytes() if settings.tls_client_key else None,
        server_name_override=settings.tls_server_name,
    )


def connect_from_settings(settings: FabricSettings) -> Gateway:
    """Load the identity and open a :class:`Gateway` as ``settings`` say (call inside the event loop).

    Raises:
        ValueError: if no identity is configured.
    """
    if settings.msp_dir is not None:
        identity, signer = load_msp_identity(settings.msp_id, settings.msp_dir)
    elif settings.cert_path is not None and settings.key_path is not None:
        identity, signer = load_identity(settings.msp_id, settings.cert_path, settings.key_path)
    else:
        raise ValueError("configure fabric msp_dir, or cert_path and key_path")
    return Gateway.connect(
        settings.peer_endpoint,
        identity,
        signer,
        tls=tls_options(settings),
        keepalive=Keepalive(
            time_ms=settings.keepalive_time_ms, max_reconnect_backoff_ms=settings.max_reconnect_backoff_ms
        ),
        timeouts=Timeouts(
            evaluate=settings.evaluate_timeout,
            endorse=settings.endorse_timeout,
            submit=settings.submit_timeout,
            commit_status=settings.commit_status_timeout,
        ),
        default_channel=settings.channel,
        breaker=CircuitBreaker(
            settings.peer_endpoint,
            failure_threshold=settings.breaker_failure_threshold,
            reset_timeout=settings.breaker_reset_timeout,
        ),
    )
