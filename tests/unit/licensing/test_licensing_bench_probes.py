"""The licensing benchmark's own probes: the generator's collections and its processes' run-queue waits."""

from __future__ import annotations

import gc
import os

from bench.licensing_bench import _GcPauses, _runqueue_wait


def test_the_generators_collections_are_counted_by_generation_only_while_started() -> None:
    pauses = _GcPauses()
    gc.collect()  # before start: not counted
    pauses.start()
    try:
        gc.collect(2)
        gc.collect(0)
    finally:
        pauses.stop()
    gc.collect()  # after stop: not counted
    summary = pauses.summary(0.0)
    collections = summary["collections"]
    assert isinstance(collections, list) and collections[0] >= 1 and collections[2] == 1
    longest = summary["longest"]
    assert isinstance(longest, list) and any(entry[0] == 2 and entry[2] >= 0 for entry in longest)


def test_the_run_queue_wait_is_read_for_every_thread_and_never_goes_back() -> None:
    first = _runqueue_wait(os.getpid())
    sum(range(200_000))
    assert 0.0 <= first <= _runqueue_wait(os.getpid())
