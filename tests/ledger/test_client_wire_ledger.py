"""Ledger semantics seen through the client: MVCC, duplicates, signature checks, event checkpoints."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from fabric_protos.common import common_pb2
from fabric_protos.peer import proposal_pb2
from prometheus_client.parser import text_string_to_metric_families

from fabric_client import (
    ChaincodeEvent,
    Checkpoint,
    EndorseError,
    EvaluateError,
    FailureKind,
    Gateway,
    SubmitError,
    Transaction,
    classify,
)
from fabric_client.gateway import Proposal
from fabric_client.proposal import BuiltProposal, build_proposal
from fabric_client.signing import P256_ORDER
from tests.support.ledger import Ledger

pytestmark = pytest.mark.timeout(120)

_DUPLICATE_TXID = "DUPLICATE_TXID"  # the devnet labels its counter by validation code name


async def test_two_transfers_from_one_account_one_valid_one_mvcc_conflict(
    gateway: Gateway, unique: Callable[[str], str]
) -> None:
    contract = gateway.network("gxchannel").contract("gx")
    account = unique("acct")
    await contract.submit_transaction("SetBalance", args=[account, "100"])

    # Both endorse against the same committed balance before either is ordered.
    first = await contract.new_proposal("Transfer", args=[account, unique("x"), "60"]).endorse()
    second = await contract.new_proposal("Transfer", args=[account, unique("y"), "60"]).endorse()
    assert first.result == second.result == b"40"
    await asyncio.gather(gateway.submit(first), gateway.submit(second))
    statuses = await asyncio.gather(
        gateway.commit_status(first.tx_id, channel_id="gxchannel"),
        gateway.commit_status(second.tx_id, channel_id="gxchannel"),
    )

    assert sorted(s.code_name for s in statuses) == ["MVCC_READ_CONFLICT", "VALID"]
    conflicted = next(s for s in statuses if not s.successful)
    with pytest.raises(Exception) as caught:
        conflicted.raise_for_status()
    assert classify(caught.value) is FailureKind.CONFLICT
    assert await contract.evaluate("Balance", args=[account]) == b"40"


async def _committed_with_code(ledger: Ledger, code: str) -> float:
    """Read the devnet's count of transactions committed with validation ``code`` from its /metrics."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://{ledger.metrics_address}/metrics", timeout=5)).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "devnet_transactions_committed_total" and sample.labels.get("code") == code:
                return sample.value
    return 0.0


async def test_resubmitted_envelope_is_a_duplicate_and_the_first_outcome_stands(
    ledger: Ledger, gateway: Gateway, unique: Callable[[str], str]
) -> None:
    contract = gateway.network("gxchannel").contract("gx")
    account, other = unique("acct"), unique("dst")
    await contract.submit_transaction("SetBalance", args=[account, "100"])
    proposal = contract.new_proposal("Transfer", args=[account, other, "30"])
    tx = await proposal.endorse()
    stored = tx.envelope_bytes

    await gateway.submit(stored)
    first = await gateway.commit_status(tx.tx_id, channel_id="gxchannel")
    assert first.code_name == "VALID"

    duplicates_before = await _committed_with_code(ledger, _DUPLICATE_TXID)
    # The outbox's retry path: re-submit the very same stored bytes.
    refused_up_front = False
    try:
        await gateway.submit(Transaction.from_envelope_bytes(stored))
    except SubmitError as refused:  # a gateway may also refuse the duplicate up front
        assert classify(refused) in (FailureKind.DUPLICATE, FailureKind.BUSINESS)
        refused_up_front = True
    # Let the duplicate reach a block, then check the first outcome is still what CommitStatus reports.
    await contract.submit_transaction("Put", args=[unique("later"), "x"])
    again = await gateway.commit_status(tx.tx_id, channel_id="gxchannel")
    assert (again.code_name, again.block_number) == ("VALID", first.block_number)
    assert await contract.evaluate("Balance", args=[account]) == b"70", "the transfer must apply once"
    # The committer saw the copy and marked it DUPLICATE_TXID (CommitStatus keeps the first occurrence).
    expected = duplicates_before if refused_up_front else duplicates_before + 1
    assert await _committed_with_code(ledger, _DUPLICATE_TXID) == expected

    # Endorsing the same signed proposal again is refused as a duplicate transaction id.
    with pytest.raises(EndorseError) as caught:
        await proposal.endorse()
    assert classify(caught.value) is FailureKind.DUPLICATE, caught.value


class _HighSSigner:
    """Signs validly but keeps S high: mathematically correct, refused by every Fabric peer."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key

    def sign(self, message: bytes) -> bytes:
        r, s = decode_dss_signature(self._key.sign(message, ec.ECDSA(hashes.SHA256())))
        return encode_dss_signature(r, max(s, P256_ORDER - s))


def _load_key(ledger: Ledger, user: str) -> ec.EllipticCurvePrivateKey:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(ledger.user(user).key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


async def test_high_s_proposal_signature_is_rejected(
    ledger: Ledger, gateway: Gateway, unique: Callable[[str], str]
) -> None:
    built = build_proposal(
        identity=gateway.identity,
        signer=_HighSSigner(_load_key(ledger, "User1")),
        channel_id="gxchannel",
        chaincode_name="gx",
        transaction_name="Put",
        args=[unique("highs"), "x"],
    )
    proposal = Proposal(gateway, built)
    with pytest.raises(EvaluateError) as on_evaluate:
        await proposal.evaluate()
    assert on_evaluate.value.code is grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(EndorseError) as on_endorse:
        await proposal.endorse()
    assert on_endorse.value.code is grpc.StatusCode.ABORTED and on_endorse.value.details
    assert classify(on_endorse.value) is FailureKind.BUSINESS


async def test_tampered_proposal_is_rejected(gateway: Gateway, unique: Callable[[str], str]) -> None:
    proposal = gateway.network("gxchannel").contract("gx").new_proposal("Put", args=[unique("t"), "x"])
    signed = proposal.signed_proposal
    # Change one byte of what was signed: the signature no longer matches.
    body = bytearray(signed.proposal_bytes)
    body[-1] ^= 0x01
    tampered = proposal_pb2.SignedProposal(proposal_bytes=bytes(body), signature=signed.signature)
    with pytest.raises(EndorseError) as caught:
        await Proposal(gateway, BuiltProposal(proposal.tx_id, "gxchannel", tampered)).endorse()
    assert caught.value.code is grpc.StatusCode.ABORTED
    # And a signature over the right bytes by another key.
    bad_sig = proposal_pb2.SignedProposal(
        proposal_bytes=signed.proposal_bytes,
        signature=ec.generate_private_key(ec.SECP256R1()).sign(
            signed.proposal_bytes, ec.ECDSA(hashes.SHA256())
        ),
    )
    with pytest.raises(EvaluateError) as caught_eval:
        await Proposal(gateway, BuiltProposal(proposal.tx_id, "gxchannel", bad_sig)).evaluate()
    assert caught_eval.value.code is grpc.StatusCode.FAILED_PRECONDITION


async def test_tampered_or_high_s_envelope_never_commits_as_valid(
    ledger: Ledger, gateway: Gateway, unique: Callable[[str], str]
) -> None:
    contract = gateway.network("gxchannel").contract("gx")
    key = unique("env")
    for variant in ("high_s", "tampered"):
        tx = await contract.new_proposal("Put", args=[f"{key}-{variant}", "x"]).endorse()
        envelope = common_pb2.Envelope.FromString(tx.envelope_bytes)
        if variant == "high_s":
            signature = _HighSSigner(_load_key(ledger, "User1")).sign(envelope.payload)
        else:
            signature = ec.generate_private_key(ec.SECP256R1()).sign(
                envelope.payload, ec.ECDSA(hashes.SHA256())
            )
        forged = common_pb2.Envelope(payload=envelope.payload, signature=signature).SerializeToString()
        try:
            await gateway.submit(forged)
        except SubmitError as refused:  # an orderer refuses it (FORBIDDEN) ...
            assert refused.code is not grpc.StatusCode.OK
        else:  # ... or the committer marks it BAD_CREATOR_SIGNATURE
            status = await gateway.commit_status(tx.tx_id, channel_id="gxchannel")
            assert status.code_name == "BAD_CREATOR_SIGNATURE", variant
        assert await contract.evaluate("Get", args=[f"{key}-{variant}"]) == b""


async def _take(stream: object, count: int, within: float = 15.0) -> list[ChaincodeEvent]:
    events: list[ChaincodeEvent] = []

    async def read() -> None:
        async for event in stream:  # type: ignore[attr-defined]
            events.append(event)
            if len(events) == count:
                return

    await asyncio.wait_for(read(), within)
    return events


async def test_events_resume_exactly_after_a_checkpoint(
    gateway: Gateway, unique: Callable[[str], str]
) -> None:
    network = gateway.network("gxchannel")
    contract = network.contract("gx")
    name = unique("ev")
    # Endorse four, then submit them together so that several share one block.
    txs = [await contract.new_proposal("EmitEvent", args=[name, f"p{i}"]).endorse() for i in range(4)]
    await asyncio.gather(*(gateway.submit(tx) for tx in txs))
    statuses = [await network.commit_status(tx.tx_id) for tx in txs]
    assert all(s.successful for s in statuses)
    blocks = [s.block_number for s in statuses]
    assert len(set(blocks)) < len(blocks), f"expected several transactions in one block: {blocks}"
    mine = {tx.tx_id for tx in txs}

    # Read from the first block until all four appear (other tests may add events in between).
    async with network.chaincode_events("gx", start_block=min(blocks)) as stream:
        seen = []
        async for event in stream:
            if event.tx_id in mine:
                seen.append(event)
            if len(seen) == 4:
                break
    assert sorted(e.payload for e in seen) == [b"p0", b"p1", b"p2", b"p3"]
    assert all(e.event_name == name and e.chaincode_name == "gx" for e in seen)
    assert [e.block_number for e in seen] == sorted(e.block_number for e in seen)

    # Resume after each one in turn: exactly the rest follow, no gap, no repeat.
    for index, event in enumerate(seen[:-1]):
        async with network.chaincode_events("gx", after=Checkpoint.after_event(event)) as stream:
            rest = []
            async for nxt in stream:
                if nxt.tx_id in mine:
                    rest.append(nxt)
                if len(rest) == len(seen) - index - 1:
                    break
        assert [e.tx_id for e in rest] == [e.tx_id for e in seen[index + 1 :]]

    # After the last one, nothing of ours comes until a new transaction commits, and then exactly it.
    async with network.chaincode_events("gx", after=(seen[-1].block_number, seen[-1].tx_id)) as stream:
        newer = await contract.new_proposal("EmitEvent", args=[name, "p4"]).endorse()
        await gateway.submit(newer)
        async for nxt in stream:
            if nxt.event_name == name:
                assert nxt.tx_id == newer.tx_id and nxt.payload == b"p4"
                assert stream.checkpoint == Checkpoint(nxt.block_number, nxt.tx_id)
                break


async def test_events_from_next_commit_skip_the_past(gateway: Gateway, unique: Callable[[str], str]) -> None:
    network = gateway.network("gxchannel")
    contract = network.contract("gx")
    name = unique("live")
    await contract.submit_transaction("EmitEvent", args=[name, "old"])
    async with network.chaincode_events("gx") as stream:
        task = asyncio.ensure_future(_take(stream, 1))
        await asyncio.sleep(0.3)  # let the stream open before the new commit
        await contract.submit_transaction("EmitEvent", args=[name, "new"])
        (event,) = await task
    assert event.event_name == name and event.payload == b"new"


async def test_range_read_invalidated_by_a_new_key_is_a_phantom_conflict(
    gateway: Gateway, unique: Callable[[str], str]
) -> None:
    network = gateway.network("gxchannel")
    contract = network.contract("gx")
    low, high = unique("range-a"), unique("range-z")
    await contract.submit_transaction("Put", args=[unique("range-b"), "1"])

    counting = await contract.new_proposal("Count", args=[low, high]).endorse()
    assert counting.result == b"1"
    inserting = await contract.new_proposal("Put", args=[unique("range-m"), "2"]).endorse()
    await gateway.submit(inserting)
    assert (await network.commit_status(inserting.tx_id)).successful

    await gateway.submit(counting)
    status = await network.commit_status(counting.tx_id)
    assert status.code_name == "PHANTOM_READ_CONFLICT"
    with pytest.raises(Exception) as caught:
        status.raise_for_status()
    assert classify(caught.value) is FailureKind.CONFLICT
