"""A sink's on-disk queue: SQLite in WAL mode, one file per sink in the state folder.

The daemon `put`s an event (committed with a full sync) before it counts as emitted;
the sink's delivery thread reads the `head`, delivers it and `ack`s it. Order is the
order of `put`, so per camera too. The queue is bounded by events and by bytes: a put
beyond either drops the oldest rows in the same transaction and says how many.

Two connections, one per side, so that a slow commit on one never holds the other's
lock: the producer's syncs every commit (an event survives power loss); the consumer's
acks sync at checkpoints only (an ack lost in a power cut means one more delivery of
an event already delivered, which receivers drop by its id).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    camera TEXT NOT NULL,
    event_id TEXT NOT NULL,
    created REAL NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class QueueError(OSError):
    """The queue cannot take or give an event (a full disk, a damaged file)."""


@dataclass(frozen=True)
class Message:
    seq: int
    camera: str
    event_id: str
    created: float  # Unix time it was queued
    body: bytes  # the event's JSON


class Outbox:
    def __init__(self, path: Path, max_events: int, max_bytes: int) -> None:
        self.path = Path(path)
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._put_db: sqlite3.Connection | None = None
        self._get_db: sqlite3.Connection | None = None
        self._put_lock = threading.Lock()
        self._get_lock = threading.Lock()
        self._stats = threading.Lock()
        self._depth = 0
        self._bytes = 0
        self._oldest: float | None = None

    # ------------------------------------------------------------------------ life
    def open(self) -> Outbox:
        try:
            self._put_db = self._connect("FULL")
            self._put_db.executescript(SCHEMA)
            self._get_db = self._connect("NORMAL")
            depth, size, oldest = self._get_db.execute(
                "SELECT count(*), coalesce(sum(length(body)), 0), min(created) FROM queue"
            ).fetchone()
        except sqlite3.Error as e:
            self.close()
            raise QueueError(f"cannot open the queue {self.path}: {e}") from None
        self._depth, self._bytes, self._oldest = depth, size, oldest
        return self

    def _connect(self, synchronous: str) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None,
                             check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        return db

    def close(self) -> None:
        for attr in ("_put_db", "_get_db"):
            db = getattr(self, attr)
            if db is not None:
                try:
                    db.close()
                except sqlite3.Error:
                    pass
                setattr(self, attr, None)

    # -------------------------------------------------------------------- producer
    def put(self, camera: str, event_id: str, body: bytes) -> int:
        """Queue one event; returns how many old ones were dropped to make room."""
        now = time.time()
        with self._put_lock:
            db = self._need(self._put_db)
            try:
                db.execute("BEGIN IMMEDIATE")
                seq = db.execute("INSERT INTO queue (camera, event_id, created, body) "
                                 "VALUES (?, ?, ?, ?)", (camera, event_id, now, body)).lastrowid
                db.execute("INSERT OR REPLACE INTO meta VALUES ('last_put', ?)", (event_id,))
                dropped, freed = self._make_room(db, len(body), seq)
                db.execute("COMMIT")
            except sqlite3.Error as e:
                _rollback(db)
                raise QueueError(f"cannot queue event {event_id} in {self.path}: {e}") from None
        with self._stats:
            self._depth += 1 - dropped
            self._bytes += len(body) - freed
            if self._depth == 1:
                self._oldest = now
        return dropped

    def last_put(self) -> str | None:
        """The id of the last event ever put (delivered or not), to catch up after a crash."""
        with self._put_lock:
            db = self._need(self._put_db)
            try:
                row = db.execute("SELECT value FROM meta WHERE key = 'last_put'").fetchone()
            except sqlite3.Error as e:
                raise QueueError(f"cannot read the queue {self.path}: {e}") from None
        return row[0] if row else None

    def _make_room(self, db: sqlite3.Connection, added: int, new: int | None
                   ) -> tuple[int, int]:
        with self._stats:
            over_events = self._depth + 1 - self.max_events
            bytes_after = self._bytes + added
        if over_events <= 0 and bytes_after <= self.max_bytes:
            return 0, 0
        dropped = freed = last = 0
        rows = db.execute("SELECT seq, length(body) FROM queue ORDER BY seq")
        for seq, size in rows:  # lazily, oldest first
            if over_events - dropped <= 0 and bytes_after - freed <= self.max_bytes:
                break
            if seq == new:
                break  # never the event just put
            dropped += 1
            freed += size
            last = seq
        rows.close()
        if dropped:
            db.execute("DELETE FROM queue WHERE seq <= ?", (last,))
        return dropped, freed

    # -------------------------------------------------------------------- consumer
    def head(self) -> Message | None:
        """The oldest event, or None when the queue is empty."""
        with self._get_lock:
            db = self._need(self._get_db)
            try:
                row = db.execute("SELECT seq, camera, event_id, created, body FROM queue "
                                 "ORDER BY seq LIMIT 1").fetchone()
            except sqlite3.Error as e:
                raise QueueError(f"cannot read the queue {self.path}: {e}") from None
        with self._stats:
            self._oldest = row[3] if row else None
        return Message(row[0], row[1], row[2], row[3], bytes(row[4])) if row else None

    def ack(self, message: Message) -> None:
        """`message` was delivered: remove it."""
        with self._get_lock:
            db = self._need(self._get_db)
            try:
                removed = db.execute("DELETE FROM queue WHERE seq = ?",
                                     (message.seq,)).rowcount
            except sqlite3.Error as e:
                raise QueueError(f"cannot update the queue {self.path}: {e}") from None
        if removed:  # else dropped meanwhile to make room, and counted then
            with self._stats:
                self._depth -= 1
                self._bytes -= len(message.body)

    # ---------------------------------------------------------------------- figures
    @property
    def depth(self) -> int:
        with self._stats:
            return self._depth

    @property
    def size_bytes(self) -> int:
        with self._stats:
            return self._bytes

    def oldest_age(self) -> float:
        """Seconds the oldest queued event has waited (0 when empty)."""
        with self._stats:
            if self._depth <= 0 or self._oldest is None:
                return 0.0
            return max(0.0, time.time() - self._oldest)

    def _need(self, db: sqlite3.Connection | None) -> sqlite3.Connection:
        if db is None:
            raise QueueError(f"the queue {self.path} is not open")
        return db


def _rollback(db: sqlite3.Connection) -> None:
    try:
        db.execute("ROLLBACK")
    except sqlite3.Error:
        pass
