"""An in-memory Fabric peer for chaincode unit tests, with Fabric's no-read-your-own-writes simulation.

A fake is fine here: these are unit tests of the chaincode's rules. The stub implements the part of
the shim stub interface the chaincode uses, over a dict, exactly as a peer simulates: reads see only
committed state (never this transaction's own writes), writes are buffered and committed only if
the chaincode answers 200, and the last ``set_event`` is the transaction's one event.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import json
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from gx.ledger.v1 import events_pb2

import ledger_rules as rules
from chaincode.app import GxChaincode, build_chaincode

START = datetime.datetime(2026, 1, 15, 12, 0, tzinfo=datetime.UTC)


@functools.cache
def role_cert(role: str) -> bytes:
    """A PEM certificate carrying `gxc_role` the way Fabric CA encodes attributes ('' for none)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{role or 'User1'}@org1.example.com")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(START - datetime.timedelta(days=1))
        .not_valid_after(START + datetime.timedelta(days=3650))
    )
    if role:
        attrs = {
            "attrs": {"gxc_role": role, "hf.EnrollmentID": role, "hf.Type": "client", "hf.Affiliation": ""}
        }
        builder = builder.add_extension(
            x509.UnrecognizedExtension(
                x509.ObjectIdentifier("1.2.3.4.5.6.7.8.1"), json.dumps(attrs).encode()
            ),
            critical=False,
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def accrued_qirat(value: bytes) -> int:
    """The amount of one stored credit: a system pool's or treasury's shard holds a bare integer, a
    user's or organisation's credit key the proto JSON of gx.ledger.v1.AccruedCredit."""
    if value.startswith(b"{"):
        amount = int(json.loads(value).get("amountQirat", "0"))
        assert amount > 0, value
        return amount
    return int(value)


def stored_parameter(world: dict[str, bytes], name: str) -> int | None:
    """The value of system parameter *name* stored on the ledger (in the system record,
    `sys~state`, with the pause flag: one key), or None while only its default applies."""
    raw = world.get("sys~state")
    for entry in json.loads(raw).get("parameters", []) if raw else []:
        if entry["name"] == name:
            return int(entry.get("value", "0"))
    return None


class _KV:
    def __init__(self, key: str, value: bytes) -> None:
        self.key = key
        self.value = value


class _Iterator:
    def __init__(self, rows: list[_KV]) -> None:
        self._rows = rows

    def __aiter__(self) -> _Iterator:
        return self

    async def __anext__(self) -> _KV:
        if not self._rows:
            raise StopAsyncIteration
        return self._rows.pop(0)


class FakeStub:
    """One transaction's stub over committed *world*; writes go to ``writes`` only."""

    def __init__(
        self, world: dict[str, bytes], args: list[str], tx_id: str, time: Timestamp, creator: bytes
    ) -> None:
        self._world = world
        self._args = args
        self._tx_id = tx_id
        self._time = time
        self._creator = {"mspid": "Org1MSP", "idBytes": creator} if creator else {}
        self.writes: dict[str, bytes | None] = {}
        self.events: list[tuple[str, bytes]] = []
        self.reads: list[str] = []
        self.ranges: list[tuple[str, str]] = []

    def get_function_and_parameters(self) -> tuple[str, list[str]]:
        return self._args[0], self._args[1:]

    def get_txid(self) -> str:
        return self._tx_id

    def get_channel_id(self) -> str:
        return "gxchannel"

    def get_tx_timestamp(self) -> Timestamp:
        return self._time

    def get_creator(self) -> dict[str, Any]:
        return self._creator

    async def get_state(self, key: str) -> bytes:
        self.reads.append(key)
        return self._world.get(key, b"")  # committed state only: no read-your-own-writes

    async def put_state(self, key: str, value: bytes | str) -> None:
        self.writes[key] = value.encode() if isinstance(value, str) else bytes(value)

    async def delete_state(self, key: str) -> None:
        self.writes[key] = None

    async def get_state_by_range(self, start: str, end: str) -> _Iterator:
        self.ranges.append((start, end))
        keys = sorted((k for k in self._world if start.encode() <= k.encode() < end.encode()), key=str.encode)
        return _Iterator([_KV(k, self._world[k]) for k in keys])

    def set_event(self, name: str, payload: bytes | str) -> None:
        self.events.append((name, payload.encode() if isinstance(payload, str) else payload))


class BatchingFakeStub(FakeStub):
    """A stub whose peer offers Fabric 3.1's batched calls (what ``chaincode.shim_batch`` gives the
    real stub when READY offers them): multi-key reads and one write batch per transaction.
    ``reads`` still lists every key read; ``round_trips`` counts the requests sent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.round_trips: list[str] = []

    async def get_state(self, key: str) -> bytes:
        self.round_trips.append("GetState")
        return await super().get_state(key)

    async def get_state_by_range(self, start: str, end: str) -> _Iterator:
        self.round_trips.append("GetStateByRange")
        return await super().get_state_by_range(start, end)

    async def get_multiple_states(self, keys: list[str]) -> list[bytes | None]:
        self.round_trips.append("GetStateMultiple")
        self.reads.extend(keys)
        return [self._world.get(key) for key in keys]

    async def write_batch(self, writes: list[tuple[str, bytes | None]]) -> bool:
        self.round_trips.append("WriteBatchState")
        for key, value in writes:
            self.writes[key] = value
        return True


@dataclasses.dataclass
class Outcome:
    """What one transaction produced."""

    status: int
    message: str
    payload: str
    events: list[tuple[str, bytes]]
    writes: dict[str, bytes | None]
    # What the transaction read: keys (GetState) and [start, end) ranges (GetStateByRange), which
    # Fabric checks at commit (MVCC and phantom validation).
    reads: list[str] = dataclasses.field(default_factory=list)
    ranges: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def conflicts_with(self, other: Outcome) -> bool:
        """Whether this transaction, committed after *other* in one block, fails Fabric's validation:
        it read a key *other* wrote, or a range holding a key *other* wrote."""
        return any(
            key in self.reads
            or any(start.encode() <= key.encode() < end.encode() for start, end in self.ranges)
            for key in other.writes
        )

    @property
    def ok(self) -> bool:
        return self.status == 200

    def result(self, cls: type[Message]) -> Any:
        assert self.ok, f"{self.status} {self.message}"
        return json_format.Parse(self.payload, cls())

    def ledger_events(self) -> events_pb2.LedgerEvents:
        assert len(self.events) == 1, self.events
        name, payload = self.events[0]
        assert name == "LedgerEvents"
        envelope = events_pb2.LedgerEvents()
        json_format.Parse(payload, envelope)
        return envelope

    def domain_events(self) -> list[str]:
        return [e.WhichOneof("event") for e in self.ledger_events().events]


class FakeLedger:
    """A peer that commits a transaction's writes only when the chaincode answers 200."""

    def __init__(self, *, batching: bool = False) -> None:
        self.world: dict[str, bytes] = {}
        self.chaincode: GxChaincode = build_chaincode()
        # Whether the peer offers Fabric 3.1's batched calls (BatchingFakeStub).
        self.batching = batching
        self.round_trips: list[str] = []  # the last transaction's requests, with batching
        self.now = START
        self._n = 0

    def advance(self, **delta: float) -> None:
        self.now += datetime.timedelta(**delta)

    async def invoke(
        self, function: str, request: Message | str, role: str = "gx_super_admin", *, commit: bool = True
    ) -> Outcome:
        arg = request if isinstance(request, str) else json_format.MessageToJson(request)
        self._n += 1
        tx_id = hashlib.sha256(f"tx{self._n}".encode()).hexdigest()
        ts = Timestamp()
        # Distinct, increasing transaction times (a real peer's proposals never share a nanosecond),
        # so credit keys, which sort by time, sort in commit order here as on a sequential chain.
        ts.FromDatetime(self.now.replace(tzinfo=None) + datetime.timedelta(microseconds=self._n))
        kind = BatchingFakeStub if self.batching else FakeStub
        stub = kind(self.world, [function, arg], tx_id, ts, role_cert(role) if role else b"")
        response = await self.chaincode.invoke(stub)
        self.round_trips = getattr(stub, "round_trips", [])
        if response.status == 200 and commit:
            for key, value in stub.writes.items():
                if value is None:
                    self.world.pop(key, None)
                else:
                    self.world[key] = value
        return Outcome(
            response.status,
            response.message,
            response.payload.decode(),
            stub.events,
            stub.writes,
            stub.reads,
            stub.ranges,
        )

    def commit(self, outcome: Outcome) -> None:
        """Apply the writes of a transaction simulated with ``commit=False`` (as a peer commits a
        VALID transaction of a block)."""
        assert outcome.ok, outcome.message
        for key, value in outcome.writes.items():
            if value is None:
                self.world.pop(key, None)
            else:
                self.world[key] = value

    def balance(self, account_id: str) -> int:
        """Committed balance including accrued credits."""
        raw = self.world.get(f"acct~{account_id}")
        total = json.loads(raw).get("balanceQirat", "0") if raw else "0"
        accrued = sum(accrued_qirat(v) for k, v in self.world.items() if k.startswith(f"accr~{account_id}~"))
        return int(total) + accrued

    def total_balances(self) -> int:
        """Sum of every account balance and accrued credit."""
        total = 0
        for key, value in self.world.items():
            if key.startswith("acct~"):
                total += int(json.loads(value).get("balanceQirat", "0"))
            elif key.startswith("accr~"):
                total += accrued_qirat(value)
        return total

    def assert_conserved(self) -> None:
        minted = (
            rules.TOTAL_SUPPLY
            if "sys~state" in self.world and json.loads(self.world["sys~state"]).get("bootstrapped")
            else 0
        )
        assert self.total_balances() == minted
        for key, value in self.world.items():
            if key.startswith("acct~"):
                assert int(json.loads(value).get("balanceQirat", "0")) >= 0, key
