"""The embedded default store: one SQLite file in WAL mode under the data directory.

Each `append` is one transaction: the agents table takes the state the events carry (upserted, or deleted
for AGENT_DEREGISTERED), the events are appended, events older than the last `event_retention` are
dropped, and the revision counters are updated. The file names its history with an id made when it is
created (a restored backup gets a new one: its later revisions are not the ones clients saw). `synchronous=FULL` makes a commit durable before it
returns, across power loss too; the committer's group commit shares that fsync among all writes in flight.

One connection, used only from one worker thread, so the event loop never blocks on disk. A lock file
(`flock`) keeps a second daemon off the same directory.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from registryd.core.model import Event, EventType
from registryd.store.base import Snapshot, StoreError
from registryd.store.codec import (
    AGENT_COLUMNS,
    EVENT_COLUMNS,
    AgentRow,
    CardDecoder,
    CorruptRow,
    agent_from_row,
    agent_row,
    event_from_row,
    event_row,
)
from registryd.store.marker import DataMarker

DATA_FILE = "registry.sqlite3"
LOCK_FILE = "registryd.lock"
SCHEMA_VERSION = 5

_SCHEMA = f"""
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE meta (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    revision INTEGER NOT NULL,
    compacted_revision INTEGER NOT NULL,
    history_id TEXT NOT NULL
);
CREATE TABLE agents (
    agent_id TEXT PRIMARY KEY,
    runtime_id TEXT NOT NULL,
    card_name TEXT NOT NULL,
    card_description TEXT NOT NULL,
    card_version TEXT NOT NULL,
    card_a2a TEXT NOT NULL,
    card_capabilities TEXT NOT NULL,
    card_skills TEXT NOT NULL,
    card_labels TEXT NOT NULL,
    health INTEGER NOT NULL,
    health_reason INTEGER NOT NULL,
    registered_at REAL NOT NULL,
    last_heartbeat REAL NOT NULL,
    status_changed_at REAL NOT NULL,
    revision INTEGER NOT NULL,
    operator_status INTEGER,
    verified INTEGER NOT NULL
);
CREATE TABLE events (
    revision INTEGER PRIMARY KEY,
    type INTEGER NOT NULL,
    time REAL NOT NULL,
    agent_id TEXT NOT NULL,
    runtime_id TEXT NOT NULL,
    old_status INTEGER,
    new_status INTEGER,
    status_reason INTEGER,
    deregister_reason INTEGER,
    agent_card_name TEXT,
    agent_card_description TEXT,
    agent_card_version TEXT,
    agent_card_a2a TEXT,
    agent_card_capabilities TEXT,
    agent_card_skills TEXT,
    agent_card_labels TEXT,
    agent_health INTEGER,
    agent_health_reason INTEGER,
    agent_registered_at REAL,
    agent_last_heartbeat REAL,
    agent_status_changed_at REAL,
    agent_revision INTEGER,
    agent_operator_status INTEGER,
    agent_verified INTEGER
);
CREATE TABLE stream_runtimes (runtime_id TEXT PRIMARY KEY);
INSERT INTO schema_version VALUES ({SCHEMA_VERSION});
INSERT INTO meta VALUES (0, 0, 0, lower(hex(randomblob(16))));
"""

# Version 1 kept one status per agent, with reason OPERATOR (2) when an operator set it: that becomes the
# operator setting (none for ACTIVE) over a healthy agent. Stream holders were not recorded.
_MIGRATE_1_TO_2 = """
ALTER TABLE agents RENAME COLUMN status TO health;
ALTER TABLE agents RENAME COLUMN status_reason TO health_reason;
ALTER TABLE agents ADD COLUMN operator_status INTEGER;
UPDATE agents SET operator_status = CASE WHEN health != 1 THEN health END, health = 1, health_reason = 1
    WHERE health_reason = 2;
ALTER TABLE events RENAME COLUMN agent_status TO agent_health;
ALTER TABLE events RENAME COLUMN agent_status_reason TO agent_health_reason;
ALTER TABLE events ADD COLUMN agent_operator_status INTEGER;
UPDATE events SET agent_operator_status = CASE WHEN agent_health != 1 THEN agent_health END,
    agent_health = 1, agent_health_reason = 1 WHERE agent_health_reason = 2;
CREATE TABLE stream_runtimes (runtime_id TEXT PRIMARY KEY);
UPDATE schema_version SET version = 2;
"""

# Version 2 kept a pre-A2A-1.0 card: its url becomes the first supported interface (JSONRPC, protocol 0.3,
# as A2A's 0.3 -> 1.0 notes say) in the column of the card's A2A parts (codec._a2a_parts).
_MIGRATE_2_TO_3 = """
ALTER TABLE agents RENAME COLUMN card_url TO card_a2a;
UPDATE agents SET card_a2a = CASE WHEN card_a2a = '' THEN '[]'
    ELSE json_array(json_array(json_array(card_a2a, 'JSONRPC', '', '0.3'))) END;
ALTER TABLE events RENAME COLUMN agent_card_url TO agent_card_a2a;
UPDATE events SET agent_card_a2a = CASE WHEN agent_card_a2a = '' THEN '[]'
    ELSE json_array(json_array(json_array(agent_card_a2a, 'JSONRPC', '', '0.3'))) END
    WHERE agent_card_a2a IS NOT NULL;
UPDATE schema_version SET version = 3;
"""

# Version 3 named no history: the file's history gets its id here, once.
_MIGRATE_3_TO_4 = """
ALTER TABLE meta ADD COLUMN history_id TEXT NOT NULL DEFAULT '';
UPDATE meta SET history_id = lower(hex(randomblob(16)));
UPDATE schema_version SET version = 4;
"""

# Version 4 kept no verdict on signed cards (each start verified them again): they are stored unverified,
# which Registry.start takes as "verify with this start's keys"; a verdict made from then on is kept.
_MIGRATE_4_TO_5 = """
ALTER TABLE agents ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN agent_verified INTEGER;
UPDATE schema_version SET version = 5;
"""

# The script that takes a file from each older version to the next.
_MIGRATIONS = {1: _MIGRATE_1_TO_2, 2: _MIGRATE_2_TO_3, 3: _MIGRATE_3_TO_4, 4: _MIGRATE_4_TO_5}
NEW_HISTORY = "UPDATE meta SET history_id = lower(hex(randomblob(16)))"

_UPSERT_AGENT = f"INSERT OR REPLACE INTO agents ({', '.join(AGENT_COLUMNS)}) VALUES ({', '.join('?' * len(AGENT_COLUMNS))})"
_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
)

# The writer thread needs the GIL back after every sqlite step of a commit. With the default 5 ms switch
# interval each step can wait 5 ms for a busy event loop, and every write's answer waits for its commit;
# 1 ms keeps commits short (bench/store_throughput.py: about +25% registrations/s at 16 in flight).
WRITER_SWITCH_INTERVAL = 0.001

T = TypeVar("T")


class SqliteStore:
    def __init__(self, data_dir: Path, event_retention: int, accept_data_loss: bool = False) -> None:
        self.data_dir = data_dir.absolute()  # error messages name the full path
        self.path = self.data_dir / DATA_FILE
        self._marker = DataMarker(self.data_dir, self.path)
        self._accept_data_loss = accept_data_loss
        self._revision = 0
        self._serving = False  # loaded and checked: the marker follows this store from here on
        self.lock_path = data_dir / LOCK_FILE
        self._retention = event_retention
        self._compacted = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="registryd-sqlite")
        self._lock_fd: int | None = None
        self._db: sqlite3.Connection | None = None
        self._closed = False

    async def load(self) -> Snapshot:
        sys.setswitchinterval(min(sys.getswitchinterval(), WRITER_SWITCH_INTERVAL))
        try:
            return await self._run(self._open_and_read)
        except BaseException:
            if self._db is not None:  # cancelled while reading (a signal at start): end the read there
                self._db.interrupt()
            await self.close()
            raise

    async def append(self, events: Sequence[Event], streams: Mapping[str, bool]) -> None:
        await self._run(self._write, events, streams)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._run(self._close)
            self._executor.shutdown(wait=False)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    # ------------------------------------------------------------------ worker thread only

    def _open_and_read(self) -> Snapshot:
        self._lock()
        if not self._accept_data_loss:
            self._marker.check_before_open()
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._prepare(self._db)
            snapshot = self._read(self._db)
        except (sqlite3.Error, CorruptRow) as error:
            raise StoreError(
                f"data file {self.path} is unreadable or corrupt ({error}); refusing to start empty. "
                "Restore it from a backup, or move it aside to start with an empty registry."
            ) from None
        if not self._accept_data_loss:
            self._marker.check_loaded(snapshot.revision)
        self._revision = snapshot.revision
        self._marker.opened(snapshot.revision)
        self._serving = True
        return snapshot

    def _lock(self) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise StoreError(f"cannot use data dir {self.data_dir}: {error.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreError(
                f"data dir {self.data_dir} is in use by another registryd (pid {holder}, lock file "
                f"{self.lock_path}); stop it first or choose another --data-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _prepare(self, db: sqlite3.Connection) -> None:
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise sqlite3.DatabaseError(f"cannot switch to WAL journal mode (got {mode})")
        db.execute("PRAGMA synchronous=FULL")
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
        if not tables:
            db.executescript(f"BEGIN; {_SCHEMA} COMMIT;")
            return
        if "schema_version" not in tables:
            raise sqlite3.DatabaseError(f"not a registryd data file (tables: {', '.join(sorted(tables))})")
        (version,) = db.execute("SELECT version FROM schema_version").fetchone()
        while version in _MIGRATIONS:
            db.executescript(f"BEGIN; {_MIGRATIONS[version]} COMMIT;")
            version += 1
        if version != SCHEMA_VERSION:
            raise sqlite3.DatabaseError(
                f"schema version {version}, this registryd reads version {SCHEMA_VERSION}"
            )

    def _read(self, db: sqlite3.Connection) -> Snapshot:
        revision, compacted, history_id = db.execute(
            "SELECT revision, compacted_revision, history_id FROM meta"
        ).fetchone()
        cards = CardDecoder()
        agents = [
            agent_from_row(row, cards) for row in db.execute(f"SELECT {', '.join(AGENT_COLUMNS)} FROM agents")
        ]
        events = [
            event_from_row(row, cards)
            for row in db.execute(f"SELECT {', '.join(EVENT_COLUMNS)} FROM events ORDER BY revision")
        ]
        expected = compacted + 1
        for event in events:
            if event.revision != expected:
                raise CorruptRow(f"event log has a gap: revision {event.revision} follows {expected - 1}")
            expected += 1
        if expected - 1 != revision:
            raise CorruptRow(f"event log ends at revision {expected - 1}, the counter says {revision}")
        self._compacted = compacted
        streams = {row[0] for row in db.execute("SELECT runtime_id FROM stream_runtimes")}
        return Snapshot(agents, revision, events, compacted, streams, history_id=history_id)

    def _write(self, events: Sequence[Event], streams: Mapping[str, bool]) -> None:
        db = self._db
        assert db is not None, "append before load"
        events = [e for e in events if e.revision]
        if not events and not streams:
            return
        db.execute("BEGIN")
        try:
            compacted = self._write_events(db, events) if events else self._compacted
            self._write_streams(db, streams)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        self._compacted = compacted
        if events:
            self._revision = events[-1].revision
            self._marker.committed(self._revision)

    def _write_events(self, db: sqlite3.Connection, events: Sequence[Event]) -> int:
        """Write the events and the agent states they carry; returns the new compacted revision."""
        rows: dict[int, AgentRow] = {}  # each agent state is encoded once, for its event and its table row
        latest: dict[str, AgentRow | None] = {}  # the agents table's new rows (None: deleted)
        for event in events:
            if event.agent is not None:
                row = rows.get(id(event.agent))
                if row is None:
                    row = rows[id(event.agent)] = agent_row(event.agent)
                latest[event.agent_id] = None if event.type is EventType.AGENT_DEREGISTERED else row
        revision = events[-1].revision
        compacted = max(self._compacted, revision - self._retention)
        db.executemany(_UPSERT_AGENT, [row for row in latest.values() if row is not None])
        gone = [(agent_id,) for agent_id, row in latest.items() if row is None]
        if gone:
            db.executemany("DELETE FROM agents WHERE agent_id = ?", gone)
        db.executemany(
            _INSERT_EVENT, [event_row(e, None if e.agent is None else rows[id(e.agent)]) for e in events]
        )
        if compacted > self._compacted:
            db.execute("DELETE FROM events WHERE revision <= ?", (compacted,))
        db.execute("UPDATE meta SET revision = ?, compacted_revision = ?", (revision, compacted))
        return compacted

    @staticmethod
    def _write_streams(db: sqlite3.Connection, streams: Mapping[str, bool]) -> None:
        held = [(r,) for r, holds in streams.items() if holds]
        gone = [(r,) for r, holds in streams.items() if not holds]
        db.executemany("INSERT OR IGNORE INTO stream_runtimes VALUES (?)", held)
        db.executemany("DELETE FROM stream_runtimes WHERE runtime_id = ?", gone)

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()  # the last connection: checkpoints and removes the -wal
            self._db = None
            if self._serving:
                self._marker.write(self._revision, is_open=False)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
