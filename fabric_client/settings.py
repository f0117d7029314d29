"""Settings for a Fabric Gateway connection, and building a Gateway from them."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field

from fabric_client.breaker import CircuitBreaker
from fabric_client.gateway import Gateway, Keepalive, Timeouts, TlsOptions
from fabric_client.identity import load_identity, load_msp_identity


class FabricSettings(BaseModel):
    """Where the peer is and who the client is.

    A plain model so a process nests it in its own settings (``fabric: FabricSettings`` read from
    ``GX_FABRIC__ENDPOINT``, ``GX_FABRIC__MSP_DIR``...); this library never reads the environment.

    Give either ``msp_dir`` (a Fabric MSP folder with ``signcerts/`` and ``keystore/``) or both
    ``cert_path`` and ``key_path``. TLS is on when ``tls_root_cert`` is set, mutual when
    ``tls_client_cert`` and ``tls_client_key`` are set too.

    A client that signs as several identities of one organisation (one per ``gxc_role``) names
    them instead: ``role_msp_dirs`` maps a name to its MSP folder, and ``org_dir`` (a cryptogen
    organisation folder) holds the rest at ``users/<name>@<domain>/msp``; :meth:`for_user` gives the
    settings of one of them, every other field unchanged.
    """

    # ``endpoint`` too: the name deployments have always set (GX_FABRIC__ENDPOINT).
    peer_endpoint: str = Field(
        default="127.0.0.1:7051", validation_alias=AliasChoices("peer_endpoint", "endpoint")
    )
    channel: str = "gxchannel"
    chaincode: str = "gx"
    msp_id: str = "Org1MSP"
    msp_dir: Path | None = None
    cert_path: Path | None = None
    key_path: Path | None = None
    org_dir: Path | None = None
    role_msp_dirs: dict[str, Path] = Field(default_factory=dict)
    tls_root_cert: Path | None = None
    tls_client_cert: Path | None = None
    tls_client_key: Path | None = None
    tls_server_name: str | None = None
    evaluate_timeout: float = Field(default=10.0, gt=0)
    endorse_timeout: float = Field(default=30.0, gt=0)
    submit_timeout: float = Field(default=10.0, gt=0)
    commit_status_timeout: float = Field(default=60.0, gt=0)
    breaker_failure_threshold: int = Field(default=5, ge=1)
    # One trial call every 5 s while the peer is down, so queued commands move again at most 5 s
    # after it is back: the value the workers have always run with (one default for every process).
    breaker_reset_timeout: float = Field(default=5.0, ge=0)
    keepalive_time_ms: int = Field(default=120_000, ge=10_000)
    max_reconnect_backoff_ms: int = Field(default=5_000, ge=100)

    @property
    def org_domain(self) -> str:
        """The organisation's domain: the name of ``org_dir`` (``org1.example.com``)."""
        return self.org_dir.name if self.org_dir is not None else "org1.example.com"

    def msp_dir_of(self, user: str) -> Path:
        """The MSP folder of the identity named ``user`` (a ``gxc_role`` such as ``gx_admin``, or ``User1``).

        Raises:
            ValueError: if neither ``role_msp_dirs`` nor ``org_dir`` names it.
        """
        if user in self.role_msp_dirs:
            return self.role_msp_dirs[user]
        if self.org_dir is None:
            raise ValueError(
                f"no Fabric identity for {user}: set org_dir (GX_FABRIC__ORG_DIR) or role_msp_dirs"
            )
        return self.org_dir / "users" / f"{user}@{self.org_domain}" / "msp"

    def for_user(self, user: str) -> FabricSettings:
        """These settings, signing as the identity named ``user`` (see :meth:`msp_dir_of`)."""
        return self.model_copy(update={"msp_dir": self.msp_dir_of(user)})


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
