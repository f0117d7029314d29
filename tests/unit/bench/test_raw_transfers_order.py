"""The raw side of the pipeline figure waits exactly as the outbox orders the same transfers."""

from __future__ import annotations

from gx.ledger.v1 import commands_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.raw_transfers import predecessors
from services.common.ordering import conflicts, keys_of

_USERS = [f"user-{i}" for i in range(5)]
_pairs = st.lists(st.tuples(st.sampled_from(_USERS), st.sampled_from(_USERS)), max_size=25)


def _closure(waits: list[set[int]]) -> list[set[int]]:
    """Everything each transfer waits for, directly or through its predecessors."""
    out: list[set[int]] = []
    for direct in waits:
        full = set(direct)
        for j in direct:
            full |= out[j]
        out.append(full)
    return out


@given(_pairs)
@settings(max_examples=300, deadline=None)
def test_each_transfer_waits_for_every_earlier_conflicting_one_and_no_other(
    pairs: list[tuple[str, str]],
) -> None:
    # The real rule, from the keys the real request declares (services/common/ordering.py).
    keys = [
        keys_of(commands_pb2.TransferTokensRequest(from_account_id=a, to_account_id=b, amount_qirat=1))
        for a, b in pairs
    ]
    waited = _closure(predecessors(pairs))
    for i in range(len(pairs)):
        direct = {j for j in range(i) if conflicts(keys[j], keys[i])}
        # Every conflicting earlier transfer is waited for (directly or through one it waits for)…
        assert direct <= waited[i], (i, pairs)
        # …and each transfer waited for directly really conflicts (no needless serialisation).
        assert predecessors(pairs)[i] <= direct, (i, pairs)


def test_a_round_robin_is_one_chain_and_distinct_senders_run_side_by_side() -> None:
    ring = [(_USERS[i % 5], _USERS[(i + 1) % 5]) for i in range(8)]
    assert _closure(predecessors(ring)) == [set(range(i)) for i in range(8)]  # one after another
    distinct = [("a", "x"), ("b", "y"), ("a", "z"), ("b", "x")]
    assert predecessors(distinct) == [set(), set(), {0}, {1}]
