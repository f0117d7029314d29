"""The Gateway connection, its networks and contracts, and every guarded call to the peer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc

from fabric_client._protos import common_pb2, gateway_pb2, gateway_pb2_grpc
from fabric_client.breaker import CircuitBreaker, CircuitOpenError
from fabric_client.errors import (
    ChaincodeEventsError,
    CommitStatusError,
    EndorseError,
    EvaluateError,
    GatewayError,
    SubmitError,
)
from fabric_client.events import ChaincodeEventStream, Checkpoint
from fabric_client.identity import Identity, Signer
from fabric_client.metrics import ClientMetrics, default_metrics
from fabric_client.proposal import (
    Arg,
    BuiltProposal,
    build_proposal,
    qualified_name,
    sign_envelope,
    signed_chaincode_events_request,
    signed_commit_status_request,
)
from fabric_client.retry import RetryPolicy
from fabric_client.transaction import CommitStatus, Transaction

E = TypeVar("E", bound=GatewayError)

# Calls take ``timeout=`` (ruff ASYNC109) on purpose: it becomes the gRPC deadline, which the peer
# sees and honours too, unlike an asyncio.timeout() around the call.

# Codes that say the peer is unreachable or overloaded; only these count against the breaker.
_PEER_DOWN = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})
#: Reconnect policy of event streams: keep trying (a listener should outlive peer restarts).
DEFAULT_EVENTS_RECONNECT = RetryPolicy(max_attempts=2**31 - 1, initial_backoff=0.2, max_backoff=5.0)


@dataclass(frozen=True)
class Timeouts:
    """Per-call deadlines in seconds (each call also accepts its own ``timeout=``).

    The defaults follow real Fabric: the peer's endorsement timeout is 30 s, and a commit can
    wait for the orderer's batch timeout plus validation.
    """

    evaluate: float = 10.0
    endorse: float = 30.0
    submit: float = 10.0
    commit_status: float = 60.0


@dataclass(frozen=True)
class TlsOptions:
    """TLS to the peer; with a client certificate and key it is mutual TLS.

    Attributes:
        root_certificates: PEM of the TLS CA(s) to trust (None: the system roots).
        client_certificate: PEM client certificate for mutual TLS.
        client_key: PEM client key for mutual TLS.
        server_name_override: the name to check in the server certificate (e.g. ``peer0.org1.example.com``
            when dialling an IP address).
    """

    root_certificates: bytes | None = None
    client_certificate: bytes | None = None
    client_key: bytes | None = None
    server_name_override: str | None = None


@dataclass(frozen=True)
class Keepalive:
    """HTTP/2 keepalive and reconnect pacing of the channel.

    A Fabric peer refuses pings more often than its ``keepalive.minInterval`` (60 s by default), so the
    ping interval stays above it. The reconnect backoff is kept short so a restarted peer is found
    again within seconds rather than gRPC's default of up to two minutes.
    """

    time_ms: int = 120_000
    timeout_ms: int = 20_000
    permit_without_calls: bool = True
    initial_reconnect_backoff_ms: int = 200
    max_reconnect_backoff_ms: int = 5_000


def channel_options(keepalive: Keepalive, tls: TlsOptions | None) -> list[tuple[str, Any]]:
    """Return the grpc channel options for ``keepalive`` and ``tls``."""
    options: list[tuple[str, Any]] = [
        ("grpc.keepalive_time_ms", keepalive.time_ms),
        ("grpc.keepalive_timeout_ms", keepalive.timeout_ms),
        ("grpc.keepalive_permit_without_calls", int(keepalive.permit_without_calls)),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.initial_reconnect_backoff_ms", keepalive.initial_reconnect_backoff_ms),
        ("grpc.min_reconnect_backoff_ms", keepalive.initial_reconnect_backoff_ms),
        ("grpc.max_reconnect_backoff_ms", keepalive.max_reconnect_backoff_ms),
    ]
    if tls is not None and tls.server_name_override:
        options.append(("grpc.ssl_target_name_override", tls.server_name_override))
    return options


def open_channel(
    endpoint: str, *, tls: TlsOptions | None = None, keepalive: Keepalive | None = None
) -> grpc.aio.Channel:
    """Open a grpc.aio channel to a peer with the client's keepalive, reconnect and TLS settings.

    Use it to share one channel (and one :class:`CircuitBreaker`) between gateways that sign as
    different identities; :meth:`Gateway.with_identity` does that for you.

    Args:
        endpoint: ``host:port`` of the peer.
        tls: TLS or mutual TLS; None for plaintext (local devnet only).
        keepalive: keepalive and reconnect pacing (defaults if None).

    Raises:
        ValueError: a client certificate without a key, or the reverse.
    """
    options = channel_options(keepalive or Keepalive(), tls)
    if tls is None:
        return grpc.aio.insecure_channel(endpoint, options=options)
    if (tls.client_certificate is None) != (tls.client_key is None):
        raise ValueError("mutual TLS needs both a client certificate and a client key")
    credentials = grpc.ssl_channel_credentials(
        root_certificates=tls.root_certificates,
        private_key=tls.client_key,
        certificate_chain=tls.client_certificate,
    )
    return grpc.aio.secure_channel(endpoint, credentials, options=options)


class Gateway:
    """A connection to one Fabric peer's Gateway service, signing as one identity.

    Every call to the peer (evaluate, endorse, submit, commit status, event streams) goes through
    one private path that applies its deadline, the circuit breaker and the metrics; there is no
    second path around them.

    Example::

        gateway = Gateway.connect("127.0.0.1:7051", identity, signer)
        async with gateway:
            contract = gateway.network("gxchannel").contract("gx")
            result = await contract.submit_transaction("Transfer", args=[payload])
    """

    def __init__(
        self,
        channel: grpc.aio.Channel,
        identity: Identity,
        signer: Signer,
        *,
        endpoint: str = "",
        timeouts: Timeouts | None = None,
        breaker: CircuitBreaker | None = None,
        metrics: ClientMetrics | None = None,
        wait_for_ready: bool = False,
        owns_channel: bool = False,
        default_channel: str | None = None,
    ) -> None:
        """Wrap an existing grpc.aio channel.

        Args:
            channel: the channel to the peer.
            identity: the signing identity (the creator of every transaction).
            signer: signs with the identity's key.
            endpoint: the peer address, for logs and metrics.
            timeouts: per-call deadlines.
            breaker: the circuit breaker for this peer (a default one if None).
            metrics: where to record calls (the default registry if None).
            wait_for_ready: queue calls while the channel reconnects instead of failing fast.
            owns_channel: close the channel in :meth:`close`.
            default_channel: the channel :meth:`commit_status` uses when none is given.
        """
        self.identity = identity
        self.endpoint = endpoint
        self.timeouts = timeouts or Timeouts()
        self._signer = signer
        self._channel = channel
        self._stub = gateway_pb2_grpc.GatewayStub(channel)
        self._metrics = metrics or default_metrics()
        self.breaker = breaker or CircuitBreaker(endpoint or "fabric-peer")
        self.breaker.add_listener(self._metrics.set_breaker)  # idempotent for a shared breaker
        self._metrics.set_breaker(self.breaker.name, self.breaker.state)
        self._wait_for_ready = wait_for_ready
        self._owns_channel = owns_channel
        self.default_channel = default_channel

    @classmethod
    def connect(
        cls,
        endpoint: str,
        identity: Identity,
        signer: Signer,
        *,
        tls: TlsOptions | None = None,
        keepalive: Keepalive | None = None,
        timeouts: Timeouts | None = None,
        breaker: CircuitBreaker | None = None,
        metrics: ClientMetrics | None = None,
        wait_for_ready: bool = False,
        default_channel: str | None = None,
    ) -> Gateway:
        """Open a channel to ``endpoint`` and return a gateway that owns it.

        Call it from the event loop that will use the gateway. The channel connects lazily and
        reconnects by itself after the peer restarts.

        Args:
            endpoint: ``host:port`` of the peer.
            identity: the signing identity.
            signer: its signer.
            tls: TLS (or mutual TLS) settings; None for plaintext (local devnet only).
            keepalive: keepalive and reconnect pacing.
            timeouts: per-call deadlines.
            breaker: circuit breaker (default: 5 failures, 10 s reset).
            metrics: metrics sink.
            wait_for_ready: queue calls during reconnection instead of failing fast.
            default_channel: the channel :meth:`commit_status` uses when none is given.
        """
        channel = open_channel(endpoint, tls=tls, keepalive=keepalive)
        return cls(
            channel,
            identity,
            signer,
            endpoint=endpoint,
            timeouts=timeouts,
            breaker=breaker,
            metrics=metrics,
            wait_for_ready=wait_for_ready,
            owns_channel=True,
            default_channel=default_channel,
        )

    def with_identity(self, identity: Identity, signer: Signer) -> Gateway:
        """Return a gateway that signs as another identity over the SAME channel, breaker and metrics.

        The peer is the same whoever signs, so every call to it must count against one breaker.
        The returned gateway does not own the channel: closing it is a no-op; close this one.
        """
        return Gateway(
            self._channel,
            identity,
            signer,
            endpoint=self.endpoint,
            timeouts=self.timeouts,
            breaker=self.breaker,
            metrics=self._metrics,
            wait_for_ready=self._wait_for_ready,
            default_channel=self.default_channel,
        )

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the channel if this gateway opened it (idempotent)."""
        if self._owns_channel:
            self._owns_channel = False
            await self._channel.close()

    def network(self, channel_id: str) -> Network:
        """Return the network (channel) ``channel_id``."""
        return Network(self, channel_id)

    async def submit(self, transaction: Transaction | bytes, *, timeout: float | None = None) -> Transaction:  # noqa: ASYNC109
        """Send a signed transaction to the orderer (again, if it was sent before).

        Success means only that ordering accepted it; use :meth:`commit_status` for the outcome.

        Args:
            transaction: a :class:`Transaction` or stored signed envelope bytes.
            timeout: deadline in seconds (default ``timeouts.submit``).

        Returns:
            The transaction (rebuilt from the bytes when bytes were given).

        Raises:
            SubmitError: the orderer (or the gateway) refused it.
            ValueError: the bytes are not a signed transaction envelope.
        """
        tx = Transaction.from_envelope_bytes(transaction) if isinstance(transaction, bytes) else transaction
        request = gateway_pb2.SubmitRequest(
            transaction_id=tx.tx_id,
            channel_id=tx.channel_id,
            prepared_transaction=common_pb2.Envelope.FromString(tx.envelope_bytes),
        )
        await self._unary(
            "submit", self._stub.Submit, request, timeout or self.timeouts.submit, SubmitError, tx.tx_id
        )
        return tx

    async def commit_status(
        self,
        tx_id: str,
        *,
        channel_id: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> CommitStatus:
        """Wait until ``tx_id`` is committed and return how (returns at once if it already is).

        Args:
            tx_id: the transaction id.
            channel_id: its channel (default: the gateway's ``default_channel``).
            timeout: deadline in seconds (default ``timeouts.commit_status``).

        Raises:
            ValueError: no channel given and no default channel set.
            CommitStatusError: DEADLINE_EXCEEDED if not committed in time, or the peer's refusal.
        """
        channel_id = channel_id or self.default_channel
        if not channel_id:
            raise ValueError("commit_status needs a channel_id (or a gateway default_channel)")
        request = signed_commit_status_request(self.identity, self._signer, channel_id, tx_id)
        response = await self._unary(
            "commit_status",
            self._stub.CommitStatus,
            request,
            timeout or self.timeouts.commit_status,
            CommitStatusError,
            tx_id,
        )
        return CommitStatus(tx_id=tx_id, code=int(response.result), block_number=int(response.block_number))

    # -- the one guarded path to the peer ------------------------------------------------------------

    async def _unary(
        self,
        method: str,
        rpc: Any,
        request: Any,
        timeout: float,  # noqa: ASYNC109
        error_type: type[E],
        tx_id: str | None,
    ) -> Any:
        if not self.breaker.allow():
            self._metrics.observe(method, "circuit_open")
            raise error_type(
                grpc.StatusCode.UNAVAILABLE,
                f"circuit breaker open for peer {self.breaker.name} (next trial in {self.breaker.retry_after:.1f}s)",
                tx_id=tx_id,
            ) from CircuitOpenError(self.breaker.name)
        started = time.perf_counter()
        try:
            response = await rpc(request, timeout=timeout, wait_for_ready=self._wait_for_ready)
        except grpc.aio.AioRpcError as rpc_error:
            code = rpc_error.code()
            self._judge(method, code)
            self._metrics.observe(method, code.name.lower(), time.perf_counter() - started)
            raise error_type.from_rpc_error(rpc_error, tx_id=tx_id) from rpc_error
        except BaseException as other:
            # Cancellation or a local fault (e.g. a closed channel) says nothing about the peer, but
            # must still give back a half-open trial slot or the breaker would never close again.
            self.breaker.record_ignored()
            outcome = "cancelled" if isinstance(other, asyncio.CancelledError) else "error"
            self._metrics.observe(method, outcome, time.perf_counter() - started)
            raise
        self.breaker.record_success()
        self._metrics.observe(method, "ok", time.perf_counter() - started)
        return response

    def _judge(self, method: str, code: grpc.StatusCode) -> None:
        # CommitStatus blocks until the commit by design: its deadline says nothing about the peer.
        if code in _PEER_DOWN or (code is grpc.StatusCode.DEADLINE_EXCEEDED and method != "commit_status"):
            self.breaker.record_failure()
        else:
            self.breaker.record_success()

    def _open_events_call(
        self, channel_id: str, chaincode_name: str, start_block: int | None, after_tx_id: str | None
    ) -> Any:
        if not self.breaker.allow():
            self._metrics.observe("chaincode_events", "circuit_open")
            raise ChaincodeEventsError(
                grpc.StatusCode.UNAVAILABLE, f"circuit breaker open for peer {self.breaker.name}"
            ) from CircuitOpenError(self.breaker.name)
        # A quiet chain sends nothing for a long time, so opening proves nothing; release any
        # half-open trial slot now and judge the peer by the stream's first answer or failure.
        self.breaker.record_ignored()
        request = signed_chaincode_events_request(
            self.identity, self._signer, channel_id, chaincode_name, start_block, after_tx_id
        )
        return self._stub.ChaincodeEvents(request, wait_for_ready=self._wait_for_ready)

    def _stream_ok(self, chaincode_name: str, events: int) -> None:
        self.breaker.record_success()
        self._metrics.observe("chaincode_events", "ok")
        self._metrics.events.labels(chaincode_name).inc(events)

    def _stream_failed(self, code: grpc.StatusCode) -> None:
        self._judge("chaincode_events", code)
        self._metrics.observe("chaincode_events", code.name.lower())


class Network:
    """A channel seen through a gateway."""

    def __init__(self, gateway: Gateway, channel_id: str) -> None:
        self.gateway = gateway
        self.name = channel_id

    def contract(self, chaincode_name: str, contract_name: str | None = None) -> Contract:
        """Return a contract of ``chaincode_name`` (functions become ``contract_name:fn`` if given)."""
        return Contract(self, chaincode_name, contract_name)

    async def commit_status(self, tx_id: str, *, timeout: float | None = None) -> CommitStatus:  # noqa: ASYNC109
        """Wait for the commit of ``tx_id`` on this channel (see :meth:`Gateway.commit_status`)."""
        return await self.gateway.commit_status(tx_id, channel_id=self.name, timeout=timeout)

    def chaincode_events(
        self,
        chaincode_name: str,
        *,
        start_block: int | None = None,
        after: Checkpoint | tuple[int, str | None] | None = None,
        reconnect: RetryPolicy | None = DEFAULT_EVENTS_RECONNECT,
    ) -> ChaincodeEventStream:
        """Stream the chaincode's events from VALID transactions, in ledger order.

        Args:
            chaincode_name: the chaincode.
            start_block: first block to read; None reads only blocks committed from now on.
            after: resume point ``(block, tx_id)`` or a :class:`Checkpoint`: reading starts at that
                block and skips every event up to and including ``tx_id``'s. It wins over ``start_block``.
            reconnect: how to re-open after transient failures (None: fail on the first one).

        Returns:
            An async iterator; close it (or leave its ``async with``) to cancel the stream.
        """
        checkpoint = Checkpoint(*after) if isinstance(after, tuple) else after
        return ChaincodeEventStream(
            self.gateway,
            self.name,
            chaincode_name,
            start_block=start_block,
            after=checkpoint,
            reconnect=reconnect,
        )


class Contract:
    """A chaincode (optionally one named contract in it) on a network."""

    def __init__(self, network: Network, chaincode_name: str, contract_name: str | None = None) -> None:
        self.network = network
        self.chaincode_name = chaincode_name
        self.contract_name = contract_name

    def new_proposal(
        self,
        transaction_name: str,
        *,
        args: Sequence[Arg] = (),
        transient: Mapping[str, bytes] | None = None,
        endorsing_organizations: Sequence[str] = (),
    ) -> Proposal:
        """Build and sign a proposal for ``transaction_name`` (nothing is sent yet).

        Args:
            transaction_name: the chaincode function.
            args: its arguments (str is UTF-8 encoded).
            transient: private inputs that never reach the ledger.
            endorsing_organizations: MSP ids that must endorse (empty: the gateway decides).
        """
        gateway = self.network.gateway
        built = build_proposal(
            identity=gateway.identity,
            signer=gateway._signer,
            channel_id=self.network.name,
            chaincode_name=self.chaincode_name,
            transaction_name=qualified_name(transaction_name, self.contract_name),
            args=args,
            transient=transient,
        )
        return Proposal(gateway, built, endorsing_organizations)

    async def evaluate(
        self,
        transaction_name: str,
        *,
        args: Sequence[Arg] = (),
        transient: Mapping[str, bytes] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> bytes:
        """Run a query on one peer and return the chaincode's result (nothing is committed).

        Raises:
            EvaluateError: the chaincode rejected it (``chaincode_status`` set) or the peer failed.
        """
        return await self.new_proposal(transaction_name, args=args, transient=transient).evaluate(
            timeout=timeout
        )

    async def submit_transaction(
        self,
        transaction_name: str,
        *,
        args: Sequence[Arg] = (),
        transient: Mapping[str, bytes] | None = None,
        commit_timeout: float | None = None,
    ) -> bytes:
        """Endorse, submit and wait for a VALID commit; return the chaincode's result.

        Raises:
            EndorseError, SubmitError, CommitStatusError: the step that failed.
            CommitError: the transaction committed as invalid (e.g. MVCC_READ_CONFLICT).
        """
        tx = await self.new_proposal(transaction_name, args=args, transient=transient).endorse()
        gateway = self.network.gateway
        await gateway.submit(tx)
        status = await gateway.commit_status(tx.tx_id, channel_id=tx.channel_id, timeout=commit_timeout)
        status.raise_for_status()
        return tx.result


class Proposal:
    """A signed proposal, ready to evaluate or endorse.

    Attributes:
        tx_id: the transaction id it will have.
        channel_id: its channel.
        signed_proposal: the ``protos.SignedProposal``.
    """

    def __init__(
        self, gateway: Gateway, built: BuiltProposal, endorsing_organizations: Sequence[str] = ()
    ) -> None:
        self._gateway = gateway
        self.tx_id = built.tx_id
        self.channel_id = built.channel_id
        self.signed_proposal = built.signed_proposal
        self._endorsing_orgs = list(endorsing_organizations)

    @property
    def serialized(self) -> bytes:
        """The serialized signed proposal."""
        return bytes(self.signed_proposal.SerializeToString())

    async def evaluate(self, *, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        """Evaluate on one peer and return the result payload.

        Raises:
            EvaluateError: with the chaincode's status and message when it rejected the call.
        """
        gw = self._gateway
        request = gateway_pb2.EvaluateRequest(
            transaction_id=self.tx_id,
            channel_id=self.channel_id,
            proposed_transaction=self.signed_proposal,
            target_organizations=self._endorsing_orgs,
        )
        response = await gw._unary(
            "evaluate", gw._stub.Evaluate, request, timeout or gw.timeouts.evaluate, EvaluateError, self.tx_id
        )
        return bytes(response.result.payload)

    async def endorse(self, *, timeout: float | None = None) -> Transaction:  # noqa: ASYNC109
        """Collect endorsements and return the signed transaction (not yet submitted).

        Raises:
            EndorseError: ABORTED with details when the chaincode or the peer refused it.
        """
        gw = self._gateway
        request = gateway_pb2.EndorseRequest(
            transaction_id=self.tx_id,
            channel_id=self.channel_id,
            proposed_transaction=self.signed_proposal,
            endorsing_organizations=self._endorsing_orgs,
        )
        response = await gw._unary(
            "endorse", gw._stub.Endorse, request, timeout or gw.timeouts.endorse, EndorseError, self.tx_id
        )
        envelope = sign_envelope(response.prepared_transaction, gw._signer)
        return Transaction.from_envelope_bytes(envelope.SerializeToString())
