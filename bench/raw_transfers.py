"""GX transfers sent raw to the devnet (fabric_client, no outbox, no database) under the outbox's ordering.

The pipeline figure (issue 12) compares the outbox against the raw devnet rate of the SAME transfers
with the SAME ordering constraint: a transfer holds its sender's account exclusively and its
recipient's shared (gx.ledger.v1 ordering declarations, outbox README "Order"), so it starts only once
every EARLIER transfer it conflicts with has committed. Distinct senders paying distinct recipients run
side by side (each sender in order); a round robin (user i pays user i + 1) is one causal chain, one
transfer after another. Without that constraint the raw side would measure a different load.
A transfer that loses an MVCC/phantom race is endorsed again (the outbox's rule), so every one commits.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from gx.ledger.v1 import commands_pb2

from fabric_client import Gateway, load_msp_identity
from outbox.commands import spec_for

_CONFLICTS = ("MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT")


@dataclass(frozen=True)
class RawRun:
    """What one raw run did: transfers, their rate, and the endorsements lost to read conflicts."""

    transfers: int
    transfers_per_s: float
    conflict_retries: int


def predecessors(pairs: list[tuple[str, str]]) -> list[set[int]]:
    """For each transfer, the earlier transfers it must wait for under the outbox's rule.

    A debit holds its account EXCLUSIVE, a credit SHARED: two transfers conflict on an account
    unless both only credit it. Waiting for the latest conflicting holder of each key is enough,
    as that one waited for the holders before it.
    """
    last_exclusive: dict[str, int] = {}
    shared_since: dict[str, list[int]] = {}
    waits: list[set[int]] = []
    for i, (src, dst) in enumerate(pairs):
        mine: set[int] = set()
        # Debit: after the last exclusive holder of the sender's account and every credit since.
        if src in last_exclusive:
            mine.add(last_exclusive[src])
        mine.update(shared_since.get(src, ()))
        # Credit: after the last exclusive holder of the recipient's account only.
        if dst in last_exclusive and dst != src:
            mine.add(last_exclusive[dst])
        last_exclusive[src] = i
        shared_since[src] = []
        if dst != src:
            shared_since.setdefault(dst, []).append(i)
        waits.append(mine)
    return waits


async def send_ordered(ledger: Any, pairs: list[tuple[str, str]], amount_qirat: int = 1_000) -> RawRun:
    """Send `pairs` (sender, recipient) as TRANSFER_TOKENS, each once its predecessors committed."""
    spec = spec_for("TRANSFER_TOKENS")
    msp = ledger.org_dir / "users" / f"{spec.submitter_role}@{ledger.domain}" / "msp"
    identity, signer = load_msp_identity(ledger.msp_id, msp)
    waits = predecessors(pairs)
    conflicts = 0
    async with Gateway.connect(ledger.peer_address, identity, signer) as gateway:
        network = gateway.network(ledger.channel)
        contract = network.contract(ledger.chaincode_name)
        done = [asyncio.Event() for _ in pairs]

        async def pay(i: int) -> None:
            nonlocal conflicts
            for j in waits[i]:
                await done[j].wait()
            src, dst = pairs[i]
            request = commands_pb2.TransferTokensRequest(
                request_id=str(uuid.uuid4()),
                from_account_id=src,
                to_account_id=dst,
                amount_qirat=amount_qirat,
            )
            for _ in range(50):
                tx = await contract.new_proposal(
                    spec.qualified_function, args=[json_format.MessageToJson(request)]
                ).endorse()
                await gateway.submit(tx)
                status = await network.commit_status(tx.tx_id)
                if status.successful:
                    done[i].set()
                    return
                if status.code_name not in _CONFLICTS:
                    raise RuntimeError(f"raw transfer failed: {status.code_name}")
                conflicts += 1
            raise RuntimeError("raw transfer lost 50 read conflicts in a row")

        started = time.perf_counter()
        await asyncio.gather(*(pay(i) for i in range(len(pairs))))
        elapsed = time.perf_counter() - started
    return RawRun(len(pairs), round(len(pairs) / elapsed, 1), conflicts)
