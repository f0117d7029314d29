"""Start a chaincode process and a devnet process on free ports for a test, and stop them afterwards.

Usage (async, e.g. in a pytest fixture)::

    async with running_ledger(tmp_path, chaincode="kv") as ledger:
        ledger.peer_address            # "127.0.0.1:PORT" of the Gateway API
        ledger.user("gx_admin")        # Identity(msp_id, cert_path, key_path)
        await ledger.restart_devnet()  # same state dir and port: the chain continues

``chaincode="kv"`` runs ``tests/support/kv_chaincode.py``; ``chaincode="gx"`` runs ``python -m chaincode``.
Both processes log to files in the state directory (``devnet.log``, ``chaincode.log``); a failed start
raises with the tail of those logs. Every process started here is stopped (SIGTERM, then SIGKILL) when
the context exits, also on failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

REPO_ROOT = Path(__file__).resolve().parents[2]
KV_CHAINCODE = REPO_ROOT / "tests" / "support" / "kv_chaincode.py"

MSP_ID = "Org1MSP"
CHANNEL = "gxchannel"
DOMAIN = "org1.example.com"
USERS = ("gx_super_admin", "gx_admin", "gx_partner_api", "User1")

_START_TIMEOUT = 60.0
_STOP_GRACE = 10.0


def free_port() -> int:
    """Ask the OS for a free loopback TCP port (tests never use default ports)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass(frozen=True)
class Identity:
    """A Fabric identity written by devnet: MSP id plus PEM cert and PKCS#8 key files."""

    name: str
    msp_id: str
    cert_path: Path
    key_path: Path

    @property
    def cert_pem(self) -> bytes:
        """The certificate PEM bytes (what a SerializedIdentity carries in id_bytes)."""
        return self.cert_path.read_bytes()

    @property
    def key_pem(self) -> bytes:
        """The private key, PKCS#8 PEM."""
        return self.key_path.read_bytes()


@dataclasses.dataclass
class _Proc:
    """A started child process with its log file."""

    process: asyncio.subprocess.Process
    log_path: Path


def _identity(org_dir: Path, kind: str, name: str) -> Identity:
    msp = org_dir / kind / name / "msp"
    return Identity(
        name=name,
        msp_id=MSP_ID,
        cert_path=msp / "signcerts" / "cert.pem",
        key_path=msp / "keystore" / "priv_sk",
    )


class Ledger:
    """A devnet plus one chaincode process, on free ports, in one state directory.

    Attributes:
        state_dir: The devnet's state directory (crypto material, ledger, logs).
        peer_address: host:port of the Gateway API (also gRPC health).
        chaincode_address: host:port the chaincode server listens on.
        metrics_address: host:port of devnet's Prometheus endpoint.
        msp_id, channel, chaincode_name: What clients put in their requests.
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        chaincode: str = "kv",
        chaincode_name: str = "gx",
        shim_fix: bool = True,
        batch_timeout: float | None = None,
        batch_size: int | None = None,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        tls: bool = False,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.kind = chaincode
        self.chaincode_name = chaincode_name
        self.msp_id = MSP_ID
        self.channel = CHANNEL
        self.domain = DOMAIN
        self.shim_fix = shim_fix
        self.batch_timeout = batch_timeout
        self.batch_size = batch_size
        self.extra_args = tuple(extra_args)
        self.env = dict(env or {})
        self.tls = tls
        self.peer_port = free_port()
        self.chaincode_port = free_port()
        self.metrics_port = free_port()
        self._devnet: _Proc | None = None
        self._chaincode: _Proc | None = None

    # -- addresses and material -------------------------------------------------------------------
    @property
    def peer_address(self) -> str:
        return f"127.0.0.1:{self.peer_port}"

    @property
    def chaincode_address(self) -> str:
        return f"127.0.0.1:{self.chaincode_port}"

    @property
    def metrics_address(self) -> str:
        return f"127.0.0.1:{self.metrics_port}"

    @property
    def org_dir(self) -> Path:
        """``<state>/organizations/peerOrganizations/org1.example.com``."""
        return self.state_dir / "organizations" / "peerOrganizations" / self.domain

    @property
    def ca_cert_path(self) -> Path:
        return self.org_dir / "ca" / f"ca.{self.domain}-cert.pem"

    @property
    def peer_identity(self) -> Identity:
        return _identity(self.org_dir, "peers", f"peer0.{self.domain}")

    @property
    def tls_dir(self) -> Path:
        """The peer's TLS material written by devnet: ``ca.crt``, ``server.crt``, ``server.key``."""
        return self.org_dir / "peers" / f"peer0.{self.domain}" / "tls"

    @property
    def tls_ca_path(self) -> Path:
        """The CA a client must trust when the ledger runs with ``tls=True``."""
        return self.tls_dir / "ca.crt"

    def grpc_channel(self) -> grpc.aio.Channel:
        """An aio channel to the peer: TLS (trusting devnet's TLS CA) when the ledger runs with TLS."""
        if not self.tls:
            return grpc.aio.insecure_channel(self.peer_address)
        creds = grpc.ssl_channel_credentials(root_certificates=self.tls_ca_path.read_bytes())
        return grpc.aio.secure_channel(self.peer_address, creds)

    def user(self, name: str = "User1") -> Identity:
        """A client identity: ``gx_super_admin``, ``gx_admin``, ``gx_partner_api`` or ``User1``."""
        return _identity(self.org_dir, "users", f"{name}@{self.domain}")

    @property
    def devnet_pid(self) -> int | None:
        """PID of the running devnet process (benchmarks read its CPU time)."""
        return None if self._devnet is None else self._devnet.process.pid

    @property
    def chaincode_pid(self) -> int | None:
        """PID of the running chaincode process."""
        return None if self._chaincode is None else self._chaincode.process.pid

    # -- processes ---------------------------------------------------------------------------------
    def _chaincode_command(self) -> list[str]:
        if self.kind == "kv":
            return [sys.executable, str(KV_CHAINCODE)]
        if self.kind == "gx":
            return [sys.executable, "-m", "chaincode"]
        raise ValueError(f"unknown chaincode kind {self.kind!r} (use 'kv' or 'gx')")

    def _devnet_command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "devnet",
            "--state-dir",
            str(self.state_dir),
            "--listen",
            self.peer_address,
            "--channel",
            self.channel,
            "--msp-id",
            self.msp_id,
            "--chaincode",
            f"{self.chaincode_name}={self.chaincode_address}",
            "--metrics-listen",
            self.metrics_address,
        ]
        if self.batch_timeout is not None:
            cmd += ["--batch-timeout", str(self.batch_timeout)]
        if self.batch_size is not None:
            cmd += ["--batch-size", str(self.batch_size)]
        if self.tls:
            # devnet writes this material before it starts serving, so the paths exist in time.
            cmd += [
                "--tls-cert",
                str(self.tls_dir / "server.crt"),
                "--tls-key",
                str(self.tls_dir / "server.key"),
            ]
        return cmd + list(self.extra_args)

    async def _spawn(self, cmd: list[str], log_name: str, env: dict[str, str]) -> _Proc:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.state_dir / log_name
        full_env = {**os.environ, **env}
        # Children must find the repo packages and gen/python whatever the caller's cwd is.
        full_env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT), str(REPO_ROOT / "gen" / "python"), full_env.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep)
        log = log_path.open("ab")  # the child inherits the descriptor; ours closes right after spawning
        with log:
            process = await asyncio.create_subprocess_exec(
                *cmd,
                cwd=str(REPO_ROOT),
                env=full_env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        return _Proc(process=process, log_path=log_path)

    async def start_chaincode(self) -> None:
        """Start the chaincode server (devnet dials it and retries until it is up)."""
        env = {
            "CHAINCODE_SERVER_ADDRESS": self.chaincode_address,
            "CHAINCODE_ID": f"{self.chaincode_name}:1.0",
            **self.env,
        }
        if not self.shim_fix:
            env["KV_SHIM_FIX"] = "0"
        self._chaincode = await self._spawn(self._chaincode_command(), "chaincode.log", env)

    async def start_devnet(self) -> None:
        """Start devnet and wait until its health service reports SERVING."""
        self._devnet = await self._spawn(self._devnet_command(), "devnet.log", dict(self.env))
        await self.wait_healthy()

    async def wait_healthy(self, limit: float = _START_TIMEOUT) -> None:
        """Poll devnet's gRPC health until SERVING; raise with the logs if it dies or never gets there."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while self.tls and not self.tls_ca_path.exists():
            # devnet writes its TLS material on first start, just before it listens.
            if self._devnet is not None and self._devnet.process.returncode is not None:
                raise RuntimeError(f"devnet exited with {self._devnet.process.returncode}\n{self.logs()}")
            if loop.time() > deadline:
                raise TimeoutError(f"devnet wrote no TLS material after {limit}s\n{self.logs()}")
            await asyncio.sleep(0.1)
        async with self.grpc_channel() as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                if self._devnet is not None and self._devnet.process.returncode is not None:
                    raise RuntimeError(f"devnet exited with {self._devnet.process.returncode}\n{self.logs()}")
                with contextlib.suppress(grpc.aio.AioRpcError):
                    reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                if loop.time() > deadline:
                    raise TimeoutError(f"devnet not healthy after {limit}s\n{self.logs()}")
                await asyncio.sleep(0.1)

    async def start(self) -> None:
        """Start the chaincode, then devnet; on failure stop whatever did start."""
        try:
            await self.start_chaincode()
            await self.start_devnet()
        except BaseException:
            await self.stop()
            raise

    @staticmethod
    async def _stop(proc: _Proc | None) -> None:
        if proc is None or proc.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.process.wait(), _STOP_GRACE)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.process.kill()
            await proc.process.wait()

    async def stop_devnet(self) -> None:
        await self._stop(self._devnet)

    async def stop_chaincode(self) -> None:
        await self._stop(self._chaincode)

    async def stop(self) -> None:
        """Stop devnet first (so it does not log a lost chaincode), then the chaincode."""
        await self.stop_devnet()
        await self.stop_chaincode()

    async def restart_devnet(self) -> None:
        """Stop and start devnet on the same state dir and port; the chain must continue."""
        await self.stop_devnet()
        await self.start_devnet()

    async def restart_chaincode(self) -> None:
        """Stop and start the chaincode on the same port; devnet must reconnect by itself."""
        await self.stop_chaincode()
        await self.start_chaincode()

    def logs(self, tail: int = 4000) -> str:
        """The tails of both logs, for failure messages."""
        parts = []
        for name in ("devnet.log", "chaincode.log"):
            path = self.state_dir / name
            if path.exists():
                parts.append(f"--- {name} ---\n{path.read_text(errors='replace')[-tail:]}")
        return "\n".join(parts)


@contextlib.asynccontextmanager
async def running_ledger(state_dir: Path, **kwargs: object) -> AsyncIterator[Ledger]:
    """Start a :class:`Ledger` in ``state_dir`` (kwargs as for Ledger), yield it, always stop it."""
    ledger = Ledger(state_dir, **kwargs)  # type: ignore[arg-type]
    await ledger.start()
    try:
        yield ledger
    finally:
        await ledger.stop()
