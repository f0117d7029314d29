"""Fixtures for devnet unit tests: one set of crypto material per session and a fresh ledger per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fabric_protos.peer import chaincode_event_pb2, proposal_response_pb2

from devnet import crypto, signatures
from devnet.committer import Committer
from devnet.endorser import Endorser, unpack
from devnet.ledger import LedgerStore
from devnet.msp import Msp
from devnet.shim_peer import ExecutionResult
from devnet.simulator import TxSimulator
from tests.devnet.txbuild import CHANNEL, DOMAIN, MSP_ID, Signer, sign_envelope, signed_proposal, user_msp

CC = "kv"


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("devnet-material")
    crypto.generate(path, DOMAIN)
    return path


@pytest.fixture(scope="session")
def material(state_dir: Path) -> crypto.OrgMaterial:
    return crypto.load_or_generate(state_dir, DOMAIN)


@pytest.fixture(scope="session")
def msp(material: crypto.OrgMaterial) -> Msp:
    return Msp(MSP_ID, material.ca_cert)


@pytest.fixture(scope="session")
def user(state_dir: Path) -> Signer:
    return Signer.load(user_msp(state_dir, "User1"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LedgerStore]:
    s = LedgerStore(tmp_path / "ledger.sqlite")
    yield s
    s.close()


class Chain:
    """A ledger with an endorser and committer but no chaincode process: tests script the simulation."""

    def __init__(self, store: LedgerStore, msp: Msp, material: crypto.OrgMaterial) -> None:
        self.store = store
        self.cache = signatures.SignatureCache()
        self.endorser = Endorser(
            msp, store, {}, msp.serialize(material.peer_cert_pem), material.peer_key, self.cache
        )
        self.committer = Committer(store, msp, CHANNEL, {CC}, self.cache)
        self.committer.ensure_genesis()

    def tx(
        self,
        signer: Signer,
        ops: Callable[[TxSimulator], None],
        event: chaincode_event_pb2.ChaincodeEvent | None = None,
    ) -> tuple[str, bytes]:
        """Simulate ``ops`` against committed state, endorse, and sign as ``signer``."""
        txid, sp = signed_proposal(signer, CC, "scripted")
        up = unpack(sp)
        sim = TxSimulator(self.store)
        ops(sim)
        if event is not None:
            event.tx_id, event.chaincode_id = txid, CC
        result = ExecutionResult(proposal_response_pb2.Response(status=200), event)
        return txid, sign_envelope(signer, self.endorser.prepare_transaction(up, result, sim))


@pytest.fixture
def chain(store: LedgerStore, msp: Msp, material: crypto.OrgMaterial) -> Chain:
    return Chain(store, msp, material)
