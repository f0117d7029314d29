"""Block validation: MVCC and phantom reads within and across blocks, duplicates, signatures, filter, versions."""

from __future__ import annotations

from fabric_protos.common import common_pb2
from fabric_protos.peer import chaincode_event_pb2, transaction_pb2

from devnet.ledger import Version
from tests.devnet.conftest import CC, Chain
from tests.devnet.txbuild import Signer

C = transaction_pb2.TxValidationCode


def _read_then_write(key: str, value: bytes):  # type: ignore[no-untyped-def]
    def ops(sim):  # type: ignore[no-untyped-def]
        sim.get_state(CC, key)
        sim.put_state(CC, key, value)

    return ops


def _filter(chain: Chain, number: int) -> list[int]:
    block = common_pb2.Block.FromString(chain.store.get_block(number) or b"")
    return list(block.metadata.metadata[common_pb2.TRANSACTIONS_FILTER])


def test_genesis_is_a_config_block_and_first_tx_block_is_1(chain: Chain, user: Signer) -> None:
    genesis = common_pb2.Block.FromString(chain.store.get_block(0) or b"")
    payload = common_pb2.Payload.FromString(common_pb2.Envelope.FromString(genesis.data.data[0]).payload)
    assert common_pb2.ChannelHeader.FromString(payload.header.channel_header).type == common_pb2.CONFIG
    _, env = chain.tx(user, lambda sim: sim.put_state(CC, "k", b"v"))
    assert chain.committer.commit([env]).number == 1
    block = common_pb2.Block.FromString(chain.store.get_block(1) or b"")
    from devnet.blocks import header_hash

    assert block.header.previous_hash == header_hash(genesis.header)


def test_writes_get_version_block_and_tx_index(chain: Chain, user: Signer) -> None:
    envs = [chain.tx(user, lambda sim, i=i: sim.put_state(CC, f"k{i}", b"v"))[1] for i in range(3)]
    result = chain.committer.commit(envs)
    assert [code for _, code in result.codes] == [C.VALID] * 3
    assert _filter(chain, 1) == [0, 0, 0]
    assert chain.store.get_version(CC, "k2") == Version(1, 2)


def test_mvcc_conflict_within_a_block_first_wins(chain: Chain, user: Signer) -> None:
    chain.committer.commit([chain.tx(user, lambda sim: sim.put_state(CC, "acct", b"10"))[1]])
    a = chain.tx(user, _read_then_write("acct", b"7"))[1]
    b = chain.tx(user, _read_then_write("acct", b"6"))[1]
    result = chain.committer.commit([a, b])
    assert [code for _, code in result.codes] == [C.VALID, C.MVCC_READ_CONFLICT]
    assert _filter(chain, 2) == [C.VALID, C.MVCC_READ_CONFLICT]
    assert chain.store.get_state(CC, "acct") == (b"7", Version(2, 0))


def test_mvcc_conflict_across_blocks(chain: Chain, user: Signer) -> None:
    chain.committer.commit([chain.tx(user, lambda sim: sim.put_state(CC, "acct", b"10"))[1]])
    stale = chain.tx(user, _read_then_write("acct", b"1"))[1]
    chain.committer.commit([chain.tx(user, _read_then_write("acct", b"2"))[1]])
    assert chain.committer.commit([stale]).codes[0][1] == C.MVCC_READ_CONFLICT


def test_read_of_missing_key_conflicts_when_key_is_created(chain: Chain, user: Signer) -> None:
    creates = chain.tx(user, lambda sim: sim.put_state(CC, "fresh", b"1"))[1]
    reads_missing = chain.tx(user, _read_then_write("fresh", b"2"))[1]
    result = chain.committer.commit([creates, reads_missing])
    assert [code for _, code in result.codes] == [C.VALID, C.MVCC_READ_CONFLICT]


def test_blind_writes_to_the_same_key_both_valid_last_wins(chain: Chain, user: Signer) -> None:
    a = chain.tx(user, lambda sim: sim.put_state(CC, "k", b"a"))[1]
    b = chain.tx(user, lambda sim: sim.put_state(CC, "k", b"b"))[1]
    assert [c for _, c in chain.committer.commit([a, b]).codes] == [C.VALID, C.VALID]
    assert chain.store.get_state(CC, "k") == (b"b", Version(1, 1))


def _count(prefix: str):  # type: ignore[no-untyped-def]
    def ops(sim):  # type: ignore[no-untyped-def]
        it = sim.range(CC, prefix, prefix + "~")
        n = 0
        while it.next() is not None:
            n += 1
        sim.put_state(CC, f"count-{prefix}", str(n).encode())

    return ops


def test_phantom_within_a_block(chain: Chain, user: Signer) -> None:
    chain.committer.commit([chain.tx(user, lambda sim: sim.put_state(CC, "p/1", b"x"))[1]])
    insert = chain.tx(user, lambda sim: sim.put_state(CC, "p/2", b"x"))[1]
    count = chain.tx(user, _count("p/"))[1]
    result = chain.committer.commit([insert, count])
    assert [c for _, c in result.codes] == [C.VALID, C.PHANTOM_READ_CONFLICT]


def test_phantom_across_blocks_including_deletes(chain: Chain, user: Signer) -> None:
    chain.committer.commit([chain.tx(user, lambda sim: sim.put_state(CC, "p/1", b"x"))[1]])
    count = chain.tx(user, _count("p/"))[1]
    chain.committer.commit([chain.tx(user, lambda sim: sim.delete_state(CC, "p/1"))[1]])
    assert chain.committer.commit([count]).codes[0][1] == C.PHANTOM_READ_CONFLICT
    unaffected = chain.tx(user, _count("p/"))[1]
    chain.committer.commit([chain.tx(user, lambda sim: sim.put_state(CC, "q/1", b"x"))[1]])
    assert chain.committer.commit([unaffected]).codes[0][1] == C.VALID


def test_duplicate_txid_in_block_and_in_ledger_first_occurrence_stands(chain: Chain, user: Signer) -> None:
    txid, env = chain.tx(user, lambda sim: sim.put_state(CC, "k", b"v"))
    result = chain.committer.commit([env, env])
    assert [c for _, c in result.codes] == [C.VALID, C.DUPLICATE_TXID]
    assert result.indexed == [(txid, 0, C.VALID)]
    again = chain.committer.commit([env])
    assert again.codes == [(txid, C.DUPLICATE_TXID)] and again.indexed == []
    location = chain.store.tx_location(txid)
    assert location is not None and (location.block, location.code) == (1, C.VALID)


def test_invalid_transactions_are_indexed_with_their_code(chain: Chain, user: Signer) -> None:
    chain.committer.commit([chain.tx(user, lambda sim: sim.put_state(CC, "k", b"1"))[1]])
    stale_id, stale = chain.tx(user, _read_then_write("k", b"2"))
    chain.committer.commit([chain.tx(user, _read_then_write("k", b"3"))[1]])
    chain.committer.commit([stale])
    location = chain.store.tx_location(stale_id)
    assert location is not None and (location.block, location.code) == (3, C.MVCC_READ_CONFLICT)


def test_bad_creator_signature_and_tampered_endorsement(chain: Chain, user: Signer) -> None:
    _, env = chain.tx(user, lambda sim: sim.put_state(CC, "k", b"v"))
    forged = common_pb2.Envelope.FromString(env)
    forged.signature = user.sign(b"something else")
    _, env2 = chain.tx(user, lambda sim: sim.put_state(CC, "k2", b"v"))
    tampered = _tamper_endorsed_value(env2, user)
    result = chain.committer.commit([forged.SerializeToString(), tampered])
    assert [c for _, c in result.codes] == [C.BAD_CREATOR_SIGNATURE, C.ENDORSEMENT_POLICY_FAILURE]
    assert chain.store.get_state(CC, "k") is None and chain.store.get_state(CC, "k2") is None


def _tamper_endorsed_value(raw: bytes, signer: Signer) -> bytes:
    """Change the endorsed write set and re-sign the envelope as the client: only the endorsement breaks."""
    from fabric_protos.peer import proposal_pb2, proposal_response_pb2

    env = common_pb2.Envelope.FromString(raw)
    payload = common_pb2.Payload.FromString(env.payload)
    tx = transaction_pb2.Transaction.FromString(payload.data)
    cap = transaction_pb2.ChaincodeActionPayload.FromString(tx.actions[0].payload)
    prp = proposal_response_pb2.ProposalResponsePayload.FromString(cap.action.proposal_response_payload)
    action = proposal_pb2.ChaincodeAction.FromString(prp.extension)
    action.response.payload = b"tampered"
    prp.extension = action.SerializeToString()
    cap.action.proposal_response_payload = prp.SerializeToString()
    tx.actions[0].payload = cap.SerializeToString()
    payload.data = tx.SerializeToString()
    body = payload.SerializeToString()
    return common_pb2.Envelope(payload=body, signature=signer.sign(body)).SerializeToString()


def test_only_valid_transactions_store_events(chain: Chain, user: Signer) -> None:
    chain.committer.commit([chain.tx(user, lambda sim: sim.put_state(CC, "k", b"1"))[1]])
    ev = chaincode_event_pb2.ChaincodeEvent(event_name="E", payload=b"p")
    ok_id, ok = chain.tx(user, _read_then_write("k", b"2"), event=ev)
    bad = chain.tx(
        user,
        _read_then_write("k", b"3"),
        event=chaincode_event_pb2.ChaincodeEvent(event_name="E", payload=b"q"),
    )[1]
    chain.committer.commit([ok, bad])
    events = chain.store.events_from(0)
    assert [(e.block, e.tx, e.txid, e.payload) for e in events] == [(2, 0, ok_id, b"p")]
