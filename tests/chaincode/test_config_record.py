"""The system record is the ledger's one configuration key: pause flag and parameters together.

A transfer reads the pause flag and two parameters; they share one key (`sys~state`) so that is one
GetState, decoded once per transaction. These tests hold what sharing a key must not break: each
writer keeps what the others wrote, and a value changed inside a transaction is what the rest of
that transaction sees.
"""

from __future__ import annotations

import json

from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import resources_pb2 as res

import ledger_rules as rules
from chaincode import ledger
from chaincode.tx import Tx
from tests.chaincode.conftest import new_user, rid, transfer
from tests.chaincode.fake_ledger import FakeLedger, stored_parameter

GX = 1_000_000


async def _set(gx: FakeLedger, name: str, value: int) -> None:
    out = await gx.invoke(
        "UpdateSystemParameter",
        cmd.UpdateSystemParameterRequest(parameter=name, value=value, request_id=rid()),
    )
    assert out.ok, out.message


def _paused(gx: FakeLedger) -> bool:
    return bool(json.loads(gx.world["sys~state"]).get("paused"))


async def test_pause_resume_and_parameter_updates_keep_each_others_values(gx: FakeLedger) -> None:
    alice, bob = await new_user(gx), await new_user(gx)
    await _set(gx, "transfer_fee_cap_bps", 0)
    out = await gx.invoke("PauseSystem", cmd.PauseSystemRequest(reason="audit", request_id=rid()))
    assert out.ok, out.message
    assert stored_parameter(gx.world, "transfer_fee_cap_bps") == 0  # pausing kept the parameter

    await _set(gx, "velocity_tax_rate_bps", 250)
    assert _paused(gx)  # a parameter update kept the pause
    assert (await transfer(gx, alice, bob, 5 * GX)).message.startswith("SYSTEM_PAUSED")

    assert (await gx.invoke("ResumeSystem", cmd.ResumeSystemRequest(request_id=rid()))).ok
    paid = await transfer(gx, alice, bob, 5 * GX)  # 5 GX pays a fee unless the cap is 0
    assert paid.ok, paid.message
    assert paid.result(cmd.TransferTokensResult).fee_qirat == 0
    assert stored_parameter(gx.world, "velocity_tax_rate_bps") == 250
    stored = json.loads(gx.world["sys~state"])
    assert stored["bootstrapped"] and stored["countryCount"] == 3
    names = [p["name"] for p in stored["parameters"]]
    assert names == sorted(rules.PARAMETERS)  # every parameter once, in name order


async def test_a_transaction_sees_its_own_configuration_changes(gx: FakeLedger) -> None:
    tx = Tx(_Stub(gx.world))
    assert await ledger.param(tx, "transfer_fee_cap_bps") == 1_000
    assert not await ledger.is_paused(tx)

    assert await ledger.set_param(tx, "transfer_fee_cap_bps", 5) == 1_000
    assert await ledger.param(tx, "transfer_fee_cap_bps") == 5

    status = await ledger.system(tx)
    status.paused, status.pause_reason = True, "drill"
    ledger.save_system(tx, status)
    assert await ledger.is_paused(tx)
    assert await ledger.param(tx, "transfer_fee_cap_bps") == 5  # pausing kept the new value
    # A write of the key by any path drops what was derived from it.
    tx.put_msg(ledger.SYSTEM_KEY, res.SystemStatus(bootstrapped=True))
    assert not await ledger.is_paused(tx)
    assert await ledger.param(tx, "transfer_fee_cap_bps") == rules.PARAMETERS["transfer_fee_cap_bps"].default
    assert tx.stub.reads == [ledger.SYSTEM_KEY]  # read from the peer once, whatever was asked


class _Stub:
    """The stub calls Tx makes, over committed state, counting reads (a unit test of Tx/ledger)."""

    def __init__(self, world: dict[str, bytes]) -> None:
        self._world = world
        self.reads: list[str] = []

    def get_txid(self) -> str:
        return "c" * 64

    def get_tx_timestamp(self) -> None:
        return None

    async def get_state(self, key: str) -> bytes:
        self.reads.append(key)
        return self._world.get(key, b"")
