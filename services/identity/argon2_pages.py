"""Argon2id with its memory block in transparent huge pages, unmapped as soon as the hash is done.

argon2-cffi lets libargon2 `malloc` each hash's 19 MiB block. With the mmap threshold fixed at
1 MiB (`passwords.return_freed_hash_memory_to_the_system`) every hash maps fresh pages: 4,864
page faults and the kernel zeroing each 4 KiB page, 20-25% of the hash's CPU. Here the block is
mapped by us through libargon2's allocator callbacks, 2 MiB-aligned and `madvise(MADV_HUGEPAGE)`:
about ten faults, fewer TLB misses in Argon2's data-dependent reads, and the same memory, handed
back by `munmap` when the hash ends (libargon2 wipes it first). Measured single-threaded, fixed
threshold both: 21.7-22.5 ms -> 18.1-18.3 ms of CPU per verify; two hashes at once still hold
38 MiB and leave nothing behind.

Only the memory changes: the parameters, the salt (16 random bytes), the 32-byte tag and the PHC
string are argon2-cffi's, and either side verifies the other's hashes (tests). An encoding this
module does not read (another type or version) goes to argon2-cffi (`verify` returns None).
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import hmac
import mmap
import os
import re
import sys
from typing import Any, Final

from _argon2_cffi_bindings import ffi, lib

SALT_BYTES: Final = 16  # argon2-cffi's default salt length
TAG_BYTES: Final = 32  # argon2-cffi's default hash length
_HUGE_PAGE: Final = 2 << 20
_MADV_HUGEPAGE: Final = 14  # Linux <sys/mman.h>
_ENCODED = re.compile(
    r"\$argon2id\$v=19\$m=(?P<m>[1-9][0-9]{0,9}),t=(?P<t>[1-9][0-9]{0,9}),p=(?P<p>[1-9][0-9]{0,2})"
    r"\$(?P<salt>[A-Za-z0-9+/]{11,})\$(?P<tag>[A-Za-z0-9+/]{6,})"
)


def _libc() -> Any:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_long,
    ]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return libc


_C: Any = _libc() if sys.platform == "linux" else None


def _map_block(size: int) -> int | None:
    """`size` bytes of anonymous memory starting on a 2 MiB boundary, advised for huge pages."""
    total = size + _HUGE_PAGE
    base = _C.mmap(
        None, total, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0
    )
    if base is None or base == ctypes.c_void_p(-1).value:
        return None
    start = (base + _HUGE_PAGE - 1) & ~(_HUGE_PAGE - 1)
    if start > base:
        _C.munmap(base, start - base)
    if base + total > start + size:
        _C.munmap(start + size, base + total - (start + size))
    # Only advice: where huge pages cannot be had the block still works in 4 KiB pages.
    _C.madvise(start, size, _MADV_HUGEPAGE)
    return int(start)


# Called by libargon2 on the hashing thread (cffi takes the GIL for the call).
@ffi.callback("int(uint8_t **, size_t)")  # type: ignore[untyped-decorator]
def _allocate(memory: Any, size: int) -> int:
    start = _map_block(size)
    if start is None:
        return int(lib.ARGON2_MEMORY_ALLOCATION_ERROR)
    memory[0] = ffi.cast("uint8_t *", start)
    return int(lib.ARGON2_OK)


@ffi.callback("void(uint8_t *, size_t)")  # type: ignore[untyped-decorator]
def _free(memory: Any, size: int) -> None:
    _C.munmap(int(ffi.cast("uintptr_t", memory)), size)


def available() -> bool:
    """Whether this platform can map the blocks itself (Linux); elsewhere argon2-cffi's own path is used."""
    return _C is not None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _tag(
    password: bytes, salt: bytes, time_cost: int, memory_kib: int, parallelism: int, length: int
) -> bytes:
    out = ffi.new("uint8_t[]", length)
    pwd = ffi.new("uint8_t[]", password)
    salt_buffer = ffi.new("uint8_t[]", salt)
    context = ffi.new(
        "argon2_context *",
        {
            "out": out,
            "outlen": length,
            "pwd": pwd,
            "pwdlen": len(password),
            "salt": salt_buffer,
            "saltlen": len(salt),
            "secret": ffi.NULL,
            "secretlen": 0,
            "ad": ffi.NULL,
            "adlen": 0,
            "t_cost": time_cost,
            "m_cost": memory_kib,
            "lanes": parallelism,
            "threads": parallelism,
            "version": lib.ARGON2_VERSION_13,
            "allocate_cbk": _allocate,
            "free_cbk": _free,
            "flags": lib.ARGON2_DEFAULT_FLAGS,
        },
    )
    # cffi releases the GIL for the call: hashes on several threads run at once.
    code = lib.argon2_ctx(context, lib.Argon2_id)
    if code != lib.ARGON2_OK:
        raise ValueError(ffi.string(lib.argon2_error_message(code)).decode("ascii"))
    return bytes(ffi.buffer(out, length))


class HugePageArgon2id:
    """Argon2id hashes and verifies (PHC strings, argon2-cffi's format) with the block in huge pages."""

    def __init__(self, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self.time_cost = time_cost
        self.memory_kib = memory_kib
        self.parallelism = parallelism

    def hash(self, password: str) -> str:
        """The PHC string of `password` under a fresh random salt."""
        salt = os.urandom(SALT_BYTES)
        tag = _tag(password.encode(), salt, self.time_cost, self.memory_kib, self.parallelism, TAG_BYTES)
        return (
            f"$argon2id$v=19$m={self.memory_kib},t={self.time_cost},p={self.parallelism}"
            f"${_b64(salt)}${_b64(tag)}"
        )

    def verify(self, encoded: str, password: str) -> bool | None:
        """Whether `password` matches `encoded`, under the parameters `encoded` names.

        Returns:
            None when `encoded` is not an Argon2id v19 PHC string this module reads (the caller
            asks argon2-cffi); False for a wrong password or a string libargon2 refuses.
        """
        match = _ENCODED.fullmatch(encoded)
        if match is None:
            return None
        try:
            salt = _unb64(match["salt"])
            expected = _unb64(match["tag"])
        except (binascii.Error, ValueError):
            return None
        if _b64(salt) != match["salt"] or _b64(expected) != match["tag"]:
            return None  # not canonical base64 (stray low bits): libargon2's decoder refuses those
        try:
            tag = _tag(
                password.encode(), salt, int(match["t"]), int(match["m"]), int(match["p"]), len(expected)
            )
        except ValueError:
            return False
        return hmac.compare_digest(tag, expected)
