"""Group commit (outbox/group_commit.py): calls of one moment share one flush, each gets its own answer.

Pure logic, so the flush here is a recording function; the real statements are tested against
PostgreSQL in tests/workers/test_outbox_group_commit.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from outbox.group_commit import GroupCommit


class _Recorder:
    def __init__(self, gate: asyncio.Event | None = None, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self._gate = gate
        self._fail_on = fail_on

    async def flush(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        if self._gate is not None:
            await self._gate.wait()
        if self._fail_on is not None and self._fail_on in items:
            raise ValueError(f"bad item {self._fail_on}")
        return [item * 10 for item in items]


async def test_calls_of_one_moment_share_one_flush_and_get_their_own_results() -> None:
    recorder = _Recorder()
    group: GroupCommit[int, int] = GroupCommit(recorder.flush)
    results = await asyncio.gather(*(group.call(i) for i in range(20)))
    assert results == [i * 10 for i in range(20)]
    assert recorder.batches == [list(range(20))]
    assert group.batches == 1


async def test_calls_during_a_flush_wait_for_the_next_batch_and_batches_are_bounded() -> None:
    gate = asyncio.Event()
    recorder = _Recorder(gate)
    group: GroupCommit[int, int] = GroupCommit(recorder.flush, max_batch=3, max_concurrent=1)
    first = [asyncio.create_task(group.call(i)) for i in range(2)]
    await asyncio.sleep(0.01)  # the first batch is in the "database", held at the gate
    later = [asyncio.create_task(group.call(i)) for i in range(2, 7)]
    await asyncio.sleep(0.01)
    assert recorder.batches == [[0, 1]]  # nothing else runs while the only slot is busy
    gate.set()
    assert await asyncio.gather(*first, *later) == [i * 10 for i in range(7)]
    assert recorder.batches == [[0, 1], [2, 3, 4], [5, 6]]


async def test_a_second_batch_may_run_while_the_first_is_in_the_database() -> None:
    gate = asyncio.Event()
    recorder = _Recorder(gate)
    group: GroupCommit[int, int] = GroupCommit(recorder.flush, max_concurrent=2)
    first = asyncio.create_task(group.call(1))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(group.call(2))
    await asyncio.sleep(0.01)
    assert recorder.batches == [[1], [2]]
    gate.set()
    assert list(await asyncio.gather(first, second)) == [10, 20]


async def test_an_error_reaches_the_calls_of_its_batch_only() -> None:
    gate = asyncio.Event()
    recorder = _Recorder(gate, fail_on=1)
    group: GroupCommit[int, int] = GroupCommit(recorder.flush, max_concurrent=1)
    failing = [asyncio.create_task(group.call(i)) for i in (1, 2)]
    await asyncio.sleep(0.01)
    fine = asyncio.create_task(group.call(3))
    gate.set()
    for task in failing:
        with pytest.raises(ValueError, match="bad item 1"):
            await task
    assert await fine == 30


async def test_a_cancelled_caller_does_not_cancel_the_batch_of_the_others() -> None:
    gate = asyncio.Event()
    recorder = _Recorder(gate)
    group: GroupCommit[int, int] = GroupCommit(recorder.flush)
    leaving, staying = asyncio.create_task(group.call(1)), asyncio.create_task(group.call(2))
    await asyncio.sleep(0.01)
    leaving.cancel()
    gate.set()
    assert await staying == 20
    assert leaving.cancelled()
    assert recorder.batches == [[1, 2]]  # its row was still written
