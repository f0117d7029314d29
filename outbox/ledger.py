"""The outbox's view of the Fabric peer: one gateway per submitter role over one shared channel."""

from __future__ import annotations

from fabric_client import (
    CircuitBreaker,
    CommitStatus,
    FabricSettings,
    Gateway,
    Transaction,
    connect_from_settings,
    load_msp_identity,
)
from fabric_client.breaker import BreakerState
from outbox.commands import CommandSpec


class Ledger:
    """Endorse, submit and commit status against one peer, signing as each command's role.

    All roles share ONE grpc channel and ONE circuit breaker: they are the same peer, so the
    breaker must see every failure to it, whichever identity made the call. The channel is
    fabric_client's own (`connect_from_settings`: its TLS, mutual-TLS check, keepalive, deadlines
    and breaker from the settings); the other roles sign over it with `Gateway.with_identity`.
    """

    def __init__(self, settings: FabricSettings, roles: set[str]) -> None:
        self._settings = settings
        first, *others = sorted(roles)
        self._owner = connect_from_settings(settings.for_user(first))
        self._gateways: dict[str, Gateway] = {first: self._owner}
        for role in others:
            identity, signer = load_msp_identity(settings.msp_id, settings.msp_dir_of(role))
            self._gateways[role] = self._owner.with_identity(identity, signer)
        self.breaker: CircuitBreaker = self._owner.breaker

    async def close(self) -> None:
        """Close the shared channel."""
        await self._owner.close()

    async def endorse(self, spec: CommandSpec, payload_json: str) -> Transaction:
        """Build a new transaction for the command and have it endorsed (nothing is ordered yet)."""
        gateway = self._gateways[spec.submitter_role]
        contract = gateway.network(self._settings.channel).contract(self._settings.chaincode)
        proposal = contract.new_proposal(spec.qualified_function, args=[payload_json])
        return await proposal.endorse()

    async def submit(self, envelope: bytes) -> None:
        """Send the stored signed envelope to ordering (again, if it was sent before)."""
        # Submit and CommitStatus need no particular role: the channel's owner will do.
        await self._owner.submit(envelope)

    async def commit_status(self, tx_id: str, wait: float) -> CommitStatus:
        """Wait up to `wait` seconds for the transaction's commit and return how it went."""
        return await self._owner.commit_status(tx_id, channel_id=self._settings.channel, timeout=wait)

    def outcome_of(self, envelope: bytes) -> tuple[bytes, bytes]:
        """The chaincode's response payload and event payload carried inside an endorsed envelope."""
        transaction = Transaction.from_envelope_bytes(envelope)
        return transaction.result, transaction.event

    @property
    def breaker_state(self) -> BreakerState:
        """The shared breaker's state."""
        return self.breaker.state
