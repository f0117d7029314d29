"""Password rules and Argon2id hashing, kept off the event loop."""

from __future__ import annotations

import asyncio
import ctypes
import string
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from services.identity import argon2_pages
from services.identity.cpu import available_cpus

# OWASP Password Storage Cheat Sheet, Argon2id minimum: m=19 MiB, t=2, p=1. These are the
# floor; PasswordHashing refuses weaker parameters so a settings typo cannot weaken storage.
OWASP_MEMORY_KIB = 19 * 1024
# glibc's mallopt parameter number for the mmap threshold (malloc.h).
_M_MMAP_THRESHOLD = -3
OWASP_TIME_COST = 2
OWASP_PARALLELISM = 1

T = TypeVar("T")

MIN_LENGTH = 12
MAX_LENGTH = 256

_CLASSES = (
    ("lower-case letters", set(string.ascii_lowercase)),
    ("upper-case letters", set(string.ascii_uppercase)),
    ("digits", set(string.digits)),
)


@dataclass(frozen=True)
class RuleViolation:
    """One broken password rule, phrased for the user.

    Attributes:
        field: The request field the rule applies to.
        description: What is wrong and how to fix it.
    """

    field: str
    description: str


def _character_classes(password: str) -> int:
    """Counts the kinds of characters used: lower, upper, digits, anything else."""
    seen = {name for name, chars in _CLASSES if any(c in chars for c in password)}
    other = any(not any(c in chars for _, chars in _CLASSES) for c in password)
    return len(seen) + (1 if other else 0)


def check_password_rules(password: str, email: str, field: str = "password") -> list[RuleViolation]:
    """Checks a new password against the password rules.

    The rules follow NIST SP 800-63B's spirit: length matters most, so the bar is a long
    password with at least two kinds of characters, and never the login itself.

    Args:
        password: The proposed password.
        email: The account's email; the password must not equal it or its local part.
        field: The request field name to report violations against.

    Returns:
        Every broken rule (empty when the password is acceptable).
    """
    problems: list[RuleViolation] = []
    if len(password) < MIN_LENGTH:
        problems.append(RuleViolation(field, f"must be at least {MIN_LENGTH} characters long"))
    if len(password) > MAX_LENGTH:
        problems.append(RuleViolation(field, f"must be at most {MAX_LENGTH} characters long"))
    if password and _character_classes(password) < 2:
        problems.append(
            RuleViolation(
                field,
                "must mix at least two kinds of characters (lower case, upper case, digits, symbols)",
            )
        )
    lowered = password.strip().lower()
    email_lower = email.strip().lower()
    local_part = email_lower.split("@", 1)[0]
    if lowered and (lowered == email_lower or lowered == local_part):
        problems.append(RuleViolation(field, "must not be your email address"))
    return problems


class WorkCounter(Protocol):
    """Counts Argon2 operations (a prometheus Counter fits)."""

    def inc(self, amount: float = 1) -> None:
        """Adds to the count."""


def return_freed_hash_memory_to_the_system(threshold: int = 1 << 20) -> bool:
    """Make glibc map every allocation above `threshold` bytes on its own, so freeing it unmaps it.

    Each Argon2 hash takes a 19 MiB block and frees it. glibc raises its mmap threshold after the
    first such free, so later blocks come from the hashing threads' heaps and stay with the
    process (+38 MB with two hashing threads, +76 MB measured with four). A fixed threshold gives
    them back at once, for about 4 ms more per hash (the kernel zeroes the fresh pages): identity
    stays at about 112 MB after the login benchmark. Returns whether it applied (glibc only).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold))


class PasswordHashing:
    """Hashes and verifies passwords with Argon2id in worker threads.

    Argon2 is deliberately CPU- and memory-heavy (tens of milliseconds); run inline it
    would stall every other call on the event loop, so each hash or verify runs in a
    thread (argon2-cffi releases the GIL while it works).
    """

    def __init__(
        self,
        memory_kib: int = OWASP_MEMORY_KIB,
        time_cost: int = OWASP_TIME_COST,
        parallelism: int = OWASP_PARALLELISM,
        max_concurrent: int | None = None,
        hashes: WorkCounter | None = None,
        verifications: WorkCounter | None = None,
    ) -> None:
        """Builds a hasher.

        Args:
            memory_kib: Argon2 memory cost in KiB (at least the OWASP 19 MiB).
            time_cost: Argon2 iterations (at least 2).
            parallelism: Argon2 lanes (at least 1).
            max_concurrent: Hashes and verifies computed at once (default: the CPUs this
                process may use, from its cgroup quota and affinity, not the node's core
                count). More would only queue inside the CPU while each holds its 19 MiB;
                a login flood then waits here instead of exhausting memory.
            hashes: Counts every hash computed (e.g. a prometheus Counter).
            verifications: Counts every verify computed, the dummy ones included: what an
                attacker's guesses cost, and what login throttling must bound.

        Raises:
            ValueError: If the parameters are weaker than OWASP's minimum.
        """
        if memory_kib < OWASP_MEMORY_KIB or time_cost < OWASP_TIME_COST or parallelism < OWASP_PARALLELISM:
            raise ValueError("Argon2id parameters below the OWASP minimum (m=19 MiB, t=2, p=1)")
        return_freed_hash_memory_to_the_system()
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        # The same hashes with the 19 MiB block in huge pages (about a fifth less CPU per hash,
        # argon2_pages.py); argon2-cffi's own path where that is not available.
        self._pages = (
            argon2_pages.HugePageArgon2id(time_cost, memory_kib, parallelism)
            if argon2_pages.available()
            else None
        )
        self._hash_password: Callable[[str], str] = (
            self._pages.hash if self._pages is not None else self._hasher.hash
        )
        self.max_concurrent = max_concurrent or available_cpus()
        self._slots = asyncio.Semaphore(self.max_concurrent)
        # Threads of their own, as many as may hash at once (the loop's default pool has up to
        # CPUs + 4, each with its own malloc arena: the login benchmark grew identity from 110 to
        # 169 MB through it).
        self._threads = ThreadPoolExecutor(max_workers=self.max_concurrent, thread_name_prefix="argon2")
        # A real hash to verify against when the email is unknown, so that answer takes as
        # long as a wrong password and timing does not reveal which emails exist. Computed on
        # one of those threads, so its block is one they keep anyway.
        self._dummy_hash = self._threads.submit(self._hash_password, "gx-dummy-password-for-timing").result()
        self._hashes = hashes
        self._verifications = verifications
        # Plain totals too, for tests and benchmarks that hold the object.
        self.hash_count = 0
        self.verify_count = 0

    async def _in_thread(self, fn: Callable[..., T], *args: str) -> T:
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(self._threads, fn, *args)

    async def hash(self, password: str) -> str:
        """Hashes a password.

        Args:
            password: The plain password.

        Returns:
            The encoded Argon2id hash (parameters and salt included).
        """
        self.hash_count += 1
        if self._hashes is not None:
            self._hashes.inc()
        return await self._in_thread(self._hash_password, password)

    def _verify(self, encoded: str, password: str) -> bool:
        if self._pages is not None:
            verdict = self._pages.verify(encoded, password)
            if verdict is not None:
                return verdict
        try:
            return self._hasher.verify(encoded, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify(self, encoded: str | None, password: str) -> bool:
        """Checks a password against a stored hash.

        Args:
            encoded: The stored hash, or None when the account does not exist; a dummy
                hash is then verified so the call costs the same.
            password: The plain password presented.

        Returns:
            True only if the hash exists and matches.
        """
        self.verify_count += 1
        if self._verifications is not None:
            self._verifications.inc()
        if encoded is None:
            await self._in_thread(self._verify, self._dummy_hash, password)
            return False
        return await self._in_thread(self._verify, encoded, password)

    def needs_rehash(self, encoded: str) -> bool:
        """Says whether a stored hash used weaker parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(encoded)
        except InvalidHashError:
            return True
