"""Wires the devnet together: material, MSP, ledger, chaincode connections, orderer, committer, gRPC server."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server

from devnet import crypto, signatures
from devnet._protos import gateway_pb2, gateway_pb2_grpc, transaction_pb2
from devnet.committer import Committer
from devnet.endorser import Endorser
from devnet.events import CommitNotifier
from devnet.gateway import GatewayService
from devnet.ledger import LedgerStore
from devnet.metrics import DevnetMetrics
from devnet.msp import Msp
from devnet.orderer import Orderer
from devnet.shim_peer import ChaincodeConnection

_LOG = logging.getLogger(__name__)
GATEWAY_SERVICE = gateway_pb2.DESCRIPTOR.services_by_name["Gateway"].full_name


@dataclasses.dataclass
class DevnetConfig:
    """Everything a devnet process is configured with (the command line maps onto this).

    Attributes:
        state_dir: Crypto material and ledger live here; reused across restarts.
        listen: host:port of the Gateway API (and health, reflection).
        channel: The channel name.
        msp_id: The org's MSP id.
        domain: The org's domain (material layout and certificate names).
        chaincodes: Chaincode name -> host:port of its CCaaS server.
        batch_size: Most transactions per block.
        batch_timeout: Seconds before a partial block is cut.
        metrics_listen: host:port for Prometheus ``/metrics``, or None.
        tls_cert, tls_key: Serve TLS with these PEM files when both are given.
        execute_timeout: Seconds a chaincode transaction may run.
    """

    state_dir: Path
    listen: str = "127.0.0.1:7051"
    channel: str = "gxchannel"
    msp_id: str = "Org1MSP"
    domain: str = "org1.example.com"
    chaincodes: dict[str, str] = dataclasses.field(default_factory=dict)
    batch_size: int = 100
    batch_timeout: float = 0.05
    metrics_listen: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    execute_timeout: float = 30.0


class Devnet:
    """One running devnet; ``async with Devnet(config) as d:`` starts it, leaving stops it."""

    def __init__(self, config: DevnetConfig) -> None:
        self.config = config
        self.metrics = DevnetMetrics()
        self.port = 0
        self._server: grpc.aio.Server | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._connections: dict[str, ChaincodeConnection] = {}
        self._store: LedgerStore | None = None
        self._health = health.aio.HealthServicer()
        self._metrics_server: Any = None
        self._orderer: Orderer | None = None

    @property
    def store(self) -> LedgerStore:
        assert self._store is not None, "devnet not started"
        return self._store

    async def start(self) -> None:
        """Load or create state, connect chaincodes in the background, and start serving."""
        cfg = self.config
        material = crypto.load_or_generate(cfg.state_dir, cfg.domain)
        msp = Msp(cfg.msp_id, material.ca_cert)
        store = LedgerStore(cfg.state_dir / "ledger" / f"{cfg.channel}.sqlite")
        self._store = store
        sig_cache = signatures.SignatureCache()
        committer = Committer(store, msp, cfg.channel, set(cfg.chaincodes), sig_cache)
        committer.ensure_genesis()
        self.metrics.height.set(store.height)
        notifier = CommitNotifier()

        for name, address in cfg.chaincodes.items():
            self._connections[name] = ChaincodeConnection(
                name,
                address,
                store,
                execute_timeout=cfg.execute_timeout,
                on_change=functools.partial(self._chaincode_changed, name),
            )

        async def deliver(batch: list[bytes]) -> None:
            result = committer.commit(batch)
            notifier.committed(result.number, result.indexed)
            self.metrics.blocks.inc()
            self.metrics.height.set(store.height)
            for _, code in result.codes:
                self.metrics.transactions.labels(transaction_pb2.TxValidationCode.Name(code)).inc()

        orderer = Orderer(cfg.batch_size, cfg.batch_timeout, deliver)
        self._orderer = orderer
        host, _, port = cfg.listen.rpartition(":")
        endorser = Endorser(
            msp, store, self._connections, msp.serialize(material.peer_cert_pem), material.peer_key, sig_cache
        )
        service = GatewayService(
            channel_id=cfg.channel,
            msp=msp,
            endorser=endorser,
            orderer=orderer,
            store=store,
            notifier=notifier,
            address=f"peer0.{cfg.domain}:{port}",
            metrics=self.metrics,
            sig_cache=sig_cache,
        )
        # Keepalive as a Fabric peer's defaults (peer.keepalive.minInterval 60 s): gRPC Python's
        # own server default (5 min) answers a client pinging every 2 min with GOAWAY too_many_pings.
        server = grpc.aio.server(
            options=[
                ("grpc.so_reuseport", 0),
                ("grpc.http2.min_ping_interval_without_data_ms", 60_000),
                ("grpc.keepalive_permit_without_calls", 1),
            ]
        )
        gateway_pb2_grpc.add_GatewayServicer_to_server(service, server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            [
                GATEWAY_SERVICE,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ],
            server,
        )
        if cfg.tls_cert and cfg.tls_key:
            creds = grpc.ssl_server_credentials([(cfg.tls_key.read_bytes(), cfg.tls_cert.read_bytes())])
            self.port = server.add_secure_port(cfg.listen, creds)
        else:
            self.port = server.add_insecure_port(cfg.listen)
        await self._set_health(False)
        await server.start()
        self._server = server
        ordering = asyncio.create_task(orderer.run(), name="orderer")
        ordering.add_done_callback(self._ordering_stopped)
        self._tasks.append(ordering)
        for connection in self._connections.values():
            connection.start()
        if not self._connections:
            await self._set_health(True)
        if cfg.metrics_listen:
            mhost, _, mport = cfg.metrics_listen.rpartition(":")
            self._metrics_server = start_http_server(
                int(mport), addr=mhost or "127.0.0.1", registry=self.metrics.registry
            )
        _LOG.info(
            "devnet serving channel %s for %s on %s (height %d, chaincodes %s)",
            cfg.channel,
            cfg.msp_id,
            f"{host}:{self.port}",
            store.height,
            ", ".join(f"{k}={v}" for k, v in cfg.chaincodes.items()),
        )

    def _ordering_stopped(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        # The chain cannot grow any more: say so to health checks (Submit already answers UNAVAILABLE).
        _LOG.critical("ordering stopped: %s", task.exception())
        self._tasks.append(asyncio.create_task(self._set_health(False)))

    def _chaincode_changed(self, name: str, up: bool) -> None:
        self.metrics.chaincode_connected.labels(name).set(1 if up else 0)
        all_up = all(c.connected for c in self._connections.values()) and (
            self._orderer is None or self._orderer.failed is None
        )
        self._tasks.append(asyncio.create_task(self._set_health(all_up)))

    async def _set_health(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", GATEWAY_SERVICE):
            await self._health.set(name, status)

    async def stop(self, grace: float = 2.0) -> None:
        """Stop serving, stop the orderer and chaincode connections, close the ledger."""
        if self._server is not None:
            await self._health.enter_graceful_shutdown()
            await self._server.stop(grace)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._orderer is not None:
            # Submit already told clients these were accepted: commit them rather than drop them.
            await self._orderer.drain()
        for connection in self._connections.values():
            await connection.close()
        if self._metrics_server is not None:
            server = (
                self._metrics_server[0] if isinstance(self._metrics_server, tuple) else self._metrics_server
            )
            server.shutdown()
        if self._store is not None:
            self._store.close()
            self._store = None

    async def __aenter__(self) -> Devnet:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
