"""The outbox's view of the Fabric peer: one gateway per submitter role over one shared channel."""

from __future__ import annotations

import logging

import grpc

from fabric_client import CircuitBreaker, CommitStatus, Gateway, Transaction, load_msp_identity
from fabric_client.breaker import BreakerState
from fabric_client.gateway import Keepalive, Timeouts, channel_options
from fabric_client.settings import tls_options
from outbox.commands import CommandSpec
from outbox.settings import LedgerSettings

_LOG = logging.getLogger(__name__)


class Ledger:
    """Endorse, submit and commit status against one peer, signing as each command's role.

    All roles share ONE grpc channel and ONE circuit breaker: they are the same peer, so the
    breaker must see every failure to it, whichever identity made the call.
    """

    def __init__(self, settings: LedgerSettings, roles: set[str]) -> None:
        self._settings = settings
        fabric = settings.fabric_settings(sorted(roles)[0])
        self.breaker = CircuitBreaker(
            fabric.peer_endpoint,
            failure_threshold=fabric.breaker_failure_threshold,
            reset_timeout=fabric.breaker_reset_timeout,
        )
        keepalive = Keepalive(
            time_ms=fabric.keepalive_time_ms, max_reconnect_backoff_ms=fabric.max_reconnect_backoff_ms
        )
        tls = tls_options(fabric)
        options = channel_options(keepalive, tls)
        if tls is None:
            self._channel = grpc.aio.insecure_channel(fabric.peer_endpoint, options=options)
        else:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=tls.root_certificates,
                private_key=tls.client_key,
                certificate_chain=tls.client_certificate,
            )
            self._channel = grpc.aio.secure_channel(fabric.peer_endpoint, credentials, options=options)
        timeouts = Timeouts(
            evaluate=fabric.evaluate_timeout,
            endorse=fabric.endorse_timeout,
            submit=fabric.submit_timeout,
            commit_status=fabric.commit_status_timeout,
        )
        self._gateways: dict[str, Gateway] = {}
        for role in sorted(roles):
            identity, signer = load_msp_identity(fabric.msp_id, settings.msp_dir(role))
            self._gateways[role] = Gateway(
                self._channel,
                identity,
                signer,
                endpoint=fabric.peer_endpoint,
                timeouts=timeouts,
                breaker=self.breaker,
            )
        # Submit and CommitStatus need no particular role; any of the gateways will do.
        self._any = self._gateways[sorted(roles)[0]]

    async def close(self) -> None:
        """Close the shared channel."""
        await self._channel.close()

    async def endorse(self, spec: CommandSpec, payload_json: str) -> Transaction:
        """Build a new transaction for the command and have it endorsed (nothing is ordered yet)."""
        gateway = self._gateways[spec.submitter_role]
        contract = gateway.network(self._settings.channel).contract(self._settings.chaincode)
        proposal = contract.new_proposal(spec.qualified_function, args=[payload_json])
        return await proposal.endorse()

    async def submit(self, envelope: bytes) -> None:
        """Send the stored signed envelope to ordering (again, if it was sent before)."""
        await self._any.submit(envelope)

    async def commit_status(self, tx_id: str, wait: float) -> CommitStatus:
        """Wait up to `wait` seconds for the transaction's commit and return how it went."""
        return await self._any.commit_status(tx_id, channel_id=self._settings.channel, timeout=wait)

    def result_of(self, envelope: bytes) -> bytes:
        """The chaincode's response payload carried inside an endorsed envelope."""
        return Transaction.from_envelope_bytes(envelope).result

    @property
    def breaker_state(self) -> BreakerState:
        """The shared breaker's state."""
        return self.breaker.state
