"""What one plain transfer costs the peer: the state calls and decodes are pinned, so a regression fails.

Counts, not timings: the fake peer records every GetState, GetStateByRange and PutState/DelState the
chaincode sends (as the real shim would send them), and a wrapper around the codec counts decodes.
`python -m bench chaincode` prints the same counts with the CPU they cost.

On the devnet each state call is two stream messages (request and answer) and costs the chaincode
process about 0.1 ms, mostly in the shim and grpc, so these counts are most of the chaincode's cost.
A fee-paying transfer reads 5 keys: the request guard, both accounts, the system record and one fee
shard. The pause flag and the parameters used to be three keys (`sys~state`, `param~transfer_fee_cap_bps`,
`param~velocity_tax_threshold_qirat`: 7 reads); now the parameters live in the system record
(`SystemStatus.parameters`), which is decoded once per transaction.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf.message import Message
from gx.ledger.v1 import resources_pb2 as res

import ledger_rules
from chaincode import codec, tx
from tests.chaincode.conftest import new_user, transfer
from tests.chaincode.fake_ledger import FakeLedger

GX = 1_000_000


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> Iterator[collections.Counter[tuple[str, bytes]]]:
    """Every proto JSON decode, by (message type, bytes), starting from a cold decode cache."""
    seen: collections.Counter[tuple[str, bytes]] = collections.Counter()
    original = codec.parse

    def counted(text: str | bytes, cls: type[Message]) -> Any:
        seen[(cls.DESCRIPTOR.name, text.encode() if isinstance(text, str) else bytes(text))] += 1
        return original(text, cls)

    monkeypatch.setattr(codec, "parse", counted)
    tx._DECODED_VALUES.clear()
    yield seen
    tx._DECODED_VALUES.clear()


async def _payer_with_a_credit(gx: FakeLedger) -> tuple[str, str]:
    """Two users of one country; the first holds one pending credit (so its transfer folds it)."""
    payer, payee = await new_user(gx), await new_user(gx)
    assert (await transfer(gx, payee, payer, GX)).ok
    return payer, payee


async def test_a_plain_transfer_with_a_fee_reads_five_keys_and_one_range(gx: FakeLedger) -> None:
    payer, payee = await _payer_with_a_credit(gx)
    out = await transfer(gx, payer, payee, 5 * GX)  # 5 GX pays a 5 bps fee
    assert out.ok, out.message
    assert out.ledger_events().events[1].fee_collected.fee_qirat > 0
    kinds = [key.split("~")[0] for key in out.reads]
    # The request guard, both accounts, the system record (pause flag and parameters) and one fee
    # shard; never the operations fund's record (a fee only writes its shard) and no key twice.
    assert kinds == ["request", "acct", "acct", "sys", "accr"], out.reads
    assert len(set(out.reads)) == len(out.reads)
    assert f"acct~{ledger_rules.OPERATIONS_FUND}" not in out.reads
    assert out.ranges == [(f"accr~{payer}~", f"accr~{payer}\x7f")]
    # The payer's record, its folded credit deleted, the payee's credit, the fee shard, the request.
    assert len(out.writes) == 5, list(out.writes)
    assert sum(value is None for value in out.writes.values()) == 1


async def test_a_plain_transfer_without_a_fee_reads_four_keys_and_one_range(gx: FakeLedger) -> None:
    payer, payee = await _payer_with_a_credit(gx)
    out = await transfer(gx, payer, payee, GX)  # under 3 GX locally: no fee
    assert out.ok, out.message
    assert [key.split("~")[0] for key in out.reads] == ["request", "acct", "acct", "sys"]
    assert len(out.ranges) == 1
    assert len(out.writes) == 4, list(out.writes)


async def test_a_transfer_decodes_each_value_once(
    gx: FakeLedger, decodes: collections.Counter[tuple[str, bytes]]
) -> None:
    payer, payee = await _payer_with_a_credit(gx)
    decodes.clear()
    tx._DECODED_VALUES.clear()
    assert (await transfer(gx, payer, payee, 5 * GX)).ok
    by_type = collections.Counter(name for name, _ in decodes.elements())
    # The request, two accounts, the system record (pause flag and parameters) and the folded credit:
    # once each, although the sender is stored three times and parameters are asked for four times.
    assert by_type == {
        "TransferTokensRequest": 1,
        "Account": 2,
        "SystemStatus": 1,
        "AccruedCredit": 1,
    }, by_type
    assert max(decodes.values()) == 1

    # The next transfer finds the unchanged values (system state, parameters, the payee's record)
    # decoded already: only what changed is decoded again.
    decodes.clear()
    assert (await transfer(gx, payee, payer, GX)).ok
    by_type = collections.Counter(name for name, _ in decodes.elements())
    assert by_type["SystemStatus"] == 0, by_type
    assert by_type["TransferTokensRequest"] == 1


async def test_messages_from_the_decode_cache_are_copies(gx: FakeLedger) -> None:
    payer, _ = await _payer_with_a_credit(gx)
    stub_tx = tx.Tx(_ReadOnlyStub(gx.world))
    first = await stub_tx.get_msg(f"acct~{payer}", res.Account)
    assert first is not None
    first.balance_qirat = -1  # a caller changing what it got must not change what others get
    again = await tx.Tx(_ReadOnlyStub(gx.world)).get_msg(f"acct~{payer}", res.Account)
    same_tx = await stub_tx.get_msg(f"acct~{payer}", res.Account)
    assert again is not None and same_tx is not None
    assert again.balance_qirat > 0 and same_tx.balance_qirat > 0


async def test_a_value_written_is_read_back_as_written_and_encoded_once_on_flush(gx: FakeLedger) -> None:
    payer, _ = await _payer_with_a_credit(gx)
    stub = _ReadOnlyStub(gx.world)
    state = tx.Tx(stub)
    key = f"acct~{payer}"
    account = await state.get_msg(key, res.Account)
    assert account is not None
    for balance in (7, 8, 9):
        account.balance_qirat = balance
        state.put_msg(key, account)
    account.balance_qirat = 10  # changed after the last put: not stored
    reread = await state.get_msg(key, res.Account)
    assert reread is not None and reread.balance_qirat == 9
    assert codec.parse(await state.get(key) or b"", res.Account).balance_qirat == 9
    await state.flush()
    assert list(stub.puts) == [key]
    assert codec.parse(stub.puts[key], res.Account) == reread


class _ReadOnlyStub:
    """The stub calls Tx makes, over committed state (a pure unit test of the cache)."""

    def __init__(self, world: dict[str, bytes]) -> None:
        self._world = world
        self.puts: dict[str, bytes] = {}

    def get_txid(self) -> str:
        return "t" * 64

    def get_tx_timestamp(self) -> None:
        return None

    async def get_state(self, key: str) -> bytes:
        return self._world.get(key, b"")

    async def put_state(self, key: str, value: bytes) -> None:
        self.puts[key] = value


def test_the_contract_api_does_not_revalidate_string_arguments_and_results(gx: FakeLedger) -> None:
    # Every GX function takes and returns one str, which codec decodes strictly; the contract API's
    # jsonschema check of {"type": "string"} cannot fail and cost a fifth of a transfer's CPU.
    transactions = [t for c in gx.chaincode._metadata.contracts.values() for t in c.transactions]
    assert len(transactions) > 30
    for transaction in transactions:
        assert all(p.compiled_schema is None for p in transaction.parameters or ()), transaction.name
        assert transaction.returns is None or transaction.returns.compiled_schema is None, transaction.name
