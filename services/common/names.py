"""Names and ids that more than one process must agree on: NOTIFY channels and advisory-lock keys.

Each is written by one process and read by another (a service NOTIFYs, the outbox worker LISTENs;
the projector holds a lock the CLI looks up), so a value changed on one side only fails in silence:
a worker that is never woken, a standby that never sees the active projector. Keep every such name
here and import it; never spell one out in SQL. The values must not change between releases: during
a rolling update old and new processes run side by side and must still meet.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import Final

# NOTIFYed (on commit) by every transaction that records an outbox command, and by the outbox
# when a finished command frees a later one or an operator retries one; the workers LISTEN on it.
OUTBOX_NOTIFY_CHANNEL: Final = "outbox_new"

# NOTIFYed (on commit) by every transaction that queues a mail or webhook message
# (services.common.notify); the notifier workers LISTEN on it.
NOTIFIER_NOTIFY_CHANNEL: Final = "notify_new"

# Taken by whichever service process purges expired idempotency records, so only one does a round
# (the table is shared by identity, wallet and licensing). A crc32 of a fixed name.
IDEMPOTENCY_PURGE_LOCK: Final = zlib.crc32(b"gx.platform.idempotency_records.purge")

# Taken by whichever outbox process runs a retention round (outbox.retention), so replicas never
# archive the same commands at once. A crc32 of a fixed name.
OUTBOX_ARCHIVE_LOCK: Final = zlib.crc32(b"gx.outbox.commands.archive")


# Redis: the access-token deny-list of one subject (a hash), written by identity when it freezes,
# demotes or logs out, read by every process's auth interceptor (services.common.revocation).
REVOCATION_KEY_PREFIX: Final = "gx:auth:deny:"

# Redis: the in-flight lock of one AIP-155 request, taken by whichever replica of a service got
# the request first (services.common.idempotency).
IDEMPOTENCY_LOCK_PREFIX: Final = "gx:idem:"


def projector_lock(channel: str, chaincode: str) -> int:
    """The advisory lock id the active projector of one (channel, chaincode) pair holds.

    A stable hash (not Python's randomised `hash`) so every projector, and the CLI, agree on the
    id; folded into the signed 64-bit range PostgreSQL's bigint lock ids use.
    """
    digest = hashlib.sha256(f"gx-projector:{channel}:{chaincode}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
