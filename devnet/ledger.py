"""Persistence of the channel ledger in SQLite (WAL): blocks, world state, history, tx index and events.

One SQLite transaction per block keeps the world state, the block and its index consistent after a crash,
and the WAL with synchronous=NORMAL avoids an fsync per transaction (the issue's throughput target). Keys
are stored as BLOBs of their UTF-8 bytes so range scans follow byte order, as LevelDB's do in Fabric.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS state (
    namespace TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
    block INTEGER NOT NULL, tx INTEGER NOT NULL,
    PRIMARY KEY (namespace, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
    namespace TEXT NOT NULL, key BLOB NOT NULL, block INTEGER NOT NULL, tx INTEGER NOT NULL,
    txid TEXT NOT NULL, value BLOB, is_delete INTEGER NOT NULL, seconds INTEGER NOT NULL, nanos INTEGER NOT NULL,
    PRIMARY KEY (namespace, key, block, tx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS txindex (
    txid TEXT PRIMARY KEY, block INTEGER NOT NULL, tx INTEGER NOT NULL, code INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    block INTEGER NOT NULL, tx INTEGER NOT NULL, txid TEXT NOT NULL, chaincode_id TEXT NOT NULL,
    event_name TEXT NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (block, tx)) WITHOUT ROWID;
"""


@dataclasses.dataclass(frozen=True)
class Version:
    """A committed version: the (block, tx) that last wrote a key."""

    block: int
    tx: int


@dataclasses.dataclass(frozen=True)
class TxLocation:
    """Where and how a transaction id was committed (its first occurrence)."""

    block: int
    tx: int
    code: int


@dataclasses.dataclass(frozen=True)
class StoredEvent:
    """The chaincode event of one VALID transaction."""

    block: int
    tx: int
    txid: str
    chaincode_id: str
    event_name: str
    payload: bytes


@dataclasses.dataclass(frozen=True)
class HistoryEntry:
    """One committed modification of a key."""

    txid: str
    value: bytes
    is_delete: bool
    seconds: int
    nanos: int


@dataclasses.dataclass
class BlockWrite:
    """Everything one block changes, applied in a single SQLite transaction.

    Attributes:
        number: Block number.
        data: Serialized common.Block.
        puts: (namespace, key, value, tx) of VALID writes, in commit order.
        deletes: (namespace, key, tx) of VALID deletes, in commit order.
        history: (namespace, key, tx, txid, value, is_delete, seconds, nanos).
        txids: (txid, tx, code) for every transaction whose id is not yet indexed.
        events: Events of VALID transactions.
    """

    number: int
    data: bytes
    puts: list[tuple[str, str, bytes, int]] = dataclasses.field(default_factory=list)
    deletes: list[tuple[str, str, int]] = dataclasses.field(default_factory=list)
    history: list[tuple[str, str, int, str, bytes, bool, int, int]] = dataclasses.field(default_factory=list)
    txids: list[tuple[str, int, int]] = dataclasses.field(default_factory=list)
    events: list[StoredEvent] = dataclasses.field(default_factory=list)


def _k(key: str) -> bytes:
    return key.encode("utf-8")


class LedgerStore:
    """The ledger of one channel in one SQLite file. Not thread-safe: use it from the event loop only."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT MAX(number) FROM blocks").fetchone()
        self._height = 0 if row[0] is None else int(row[0]) + 1

    def close(self) -> None:
        """Close the database (a WAL checkpoint happens on close)."""
        self._db.close()

    @property
    def height(self) -> int:
        """Number of blocks committed (the next block's number)."""
        return self._height

    # -- world state --------------------------------------------------------------------------------
    def get_state(self, namespace: str, key: str) -> tuple[bytes, Version] | None:
        """The committed value and version of a key, or None when it does not exist."""
        row = self._db.execute(
            "SELECT value, block, tx FROM state WHERE namespace=? AND key=?", (namespace, _k(key))
        ).fetchone()
        if row is None:
            return None
        return bytes(row[0]), Version(int(row[1]), int(row[2]))

    def get_version(self, namespace: str, key: str) -> Version | None:
        """The committed version of a key, or None when it does not exist."""
        row = self._db.execute(
            "SELECT block, tx FROM state WHERE namespace=? AND key=?", (namespace, _k(key))
        ).fetchone()
        return None if row is None else Version(int(row[0]), int(row[1]))

    def range_scan(
        self,
        namespace: str,
        start: str,
        end: str,
        limit: int | None = None,
    ) -> Iterator[tuple[str, bytes, Version]]:
        """Committed keys in [start, end) in byte order; an empty ``end`` means no upper bound."""
        sql = "SELECT key, value, block, tx FROM state WHERE namespace=? AND key>=?"
        args: list[object] = [namespace, _k(start)]
        if end:
            sql += " AND key<?"
            args.append(_k(end))
        sql += " ORDER BY key"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        for key, value, block, tx in self._db.execute(sql, args):
            yield bytes(key).decode("utf-8"), bytes(value), Version(int(block), int(tx))

    def history(self, namespace: str, key: str) -> list[HistoryEntry]:
        """Committed modifications of a key, newest first (the order Fabric 2.x history queries return)."""
        rows = self._db.execute(
            "SELECT txid, value, is_delete, seconds, nanos FROM history WHERE namespace=? AND key=? "
            "ORDER BY block DESC, tx DESC",
            (namespace, _k(key)),
        ).fetchall()
        return [HistoryEntry(r[0], bytes(r[1] or b""), bool(r[2]), int(r[3]), int(r[4])) for r in rows]

    # -- blocks and index ---------------------------------------------------------------------------
    def tx_location(self, txid: str) -> TxLocation | None:
        """Where a transaction id was first committed, or None."""
        row = self._db.execute("SELECT block, tx, code FROM txindex WHERE txid=?", (txid,)).fetchone()
        return None if row is None else TxLocation(int(row[0]), int(row[1]), int(row[2]))

    def get_block(self, number: int) -> bytes | None:
        """A serialized common.Block, or None."""
        row = self._db.execute("SELECT data FROM blocks WHERE number=?", (number,)).fetchone()
        return None if row is None else bytes(row[0])

    def events_from(self, block: int, limit_blocks: int = 100) -> list[StoredEvent]:
        """Stored events of blocks [block, block + limit_blocks), in (block, tx) order."""
        rows = self._db.execute(
            "SELECT block, tx, txid, chaincode_id, event_name, payload FROM events "
            "WHERE block>=? AND block<? ORDER BY block, tx",
            (block, block + limit_blocks),
        ).fetchall()
        return [StoredEvent(int(r[0]), int(r[1]), r[2], r[3], r[4], bytes(r[5])) for r in rows]

    def commit(self, write: BlockWrite) -> None:
        """Apply one block atomically; its number must be the current height."""
        if write.number != self._height:
            raise ValueError(f"block {write.number} out of order, height is {self._height}")
        db = self._db
        db.execute("BEGIN")
        try:
            db.execute("INSERT INTO blocks (number, data) VALUES (?, ?)", (write.number, write.data))
            # Puts and deletes are replayed in tx order so a later tx's write wins, as in Fabric's update batch.
            changes: list[tuple[int, int, str, str, bytes | None]] = [
                (tx, 0, ns, key, value) for ns, key, value, tx in write.puts
            ] + [(tx, 1, ns, key, None) for ns, key, tx in write.deletes]
            changes.sort(key=lambda c: c[0])
            for tx, is_delete, ns, key, value in changes:
                if is_delete:
                    db.execute("DELETE FROM state WHERE namespace=? AND key=?", (ns, _k(key)))
                else:
                    db.execute(
                        "INSERT OR REPLACE INTO state (namespace, key, value, block, tx) VALUES (?, ?, ?, ?, ?)",
                        (ns, _k(key), value, write.number, tx),
                    )
            db.executemany(
                "INSERT OR REPLACE INTO history (namespace, key, block, tx, txid, value, is_delete, seconds, nanos) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (ns, _k(key), write.number, tx, txid, value, int(is_delete), sec, nanos)
                    for ns, key, tx, txid, value, is_delete, sec, nanos in write.history
                ],
            )
            # The first occurrence of a txid wins (Fabric's block index), so a replay never hides the original.
            db.executemany(
                "INSERT OR IGNORE INTO txindex (txid, block, tx, code) VALUES (?, ?, ?, ?)",
                [(txid, write.number, tx, code) for txid, tx, code in write.txids],
            )
            db.executemany(
                "INSERT INTO events (block, tx, txid, chaincode_id, event_name, payload) VALUES (?, ?, ?, ?, ?, ?)",
                [(e.block, e.tx, e.txid, e.chaincode_id, e.event_name, e.payload) for e in write.events],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._height = write.number + 1
