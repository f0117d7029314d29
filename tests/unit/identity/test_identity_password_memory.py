"""Argon2's 19 MiB blocks go back to the system once a hash is done (the identity process stays small)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

_HASH_IN_THREADS = textwrap.dedent(
    """
    import sys, threading
    from argon2 import PasswordHasher, Type
    from services.identity.passwords import return_freed_hash_memory_to_the_system
    if sys.argv[1] == "returned":
        assert return_freed_hash_memory_to_the_system()
    hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
    def rss_mib():
        return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
    before = rss_mib()
    for _ in range(3):
        threads = [threading.Thread(target=lambda: [hasher.hash("pw") for _ in range(3)]) for _ in range(4)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    print(rss_mib() - before)
    """
)


def _growth_mib(mode: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _HASH_IN_THREADS, mode],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return float(out.stdout)


def test_hashes_in_threads_leave_their_blocks_with_the_process_unless_returned() -> None:
    # Without the setting each hashing thread's heap keeps the 19 MiB blocks it once held.
    assert _growth_mib("kept") > 38
    assert _growth_mib("returned") < 19
