"""Online backup and restore of the sqlite store: `registryd backup` and `registryd restore`.

A backup is one self-contained SQLite file, copied with SQLite's online backup API from a read-only
connection, so it is consistent (one committed revision) and can be taken while the daemon serves; the
daemon's own -wal is never checkpointed or removed by it. Restore needs the daemon stopped (it takes the
data directory's lock), checks the backup the way a start would, puts it in place of the data file, and
resets the directory's marker to the backup's revision, so the next start serves it. The restored file
names a new history: revisions after the backup's will be handed out again, to other changes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from pathlib import Path

from registryd.store.base import StoreError
from registryd.store.marker import DataMarker
from registryd.store.sqlite import DATA_FILE, NEW_HISTORY, SqliteStore

RESTORE_DIR = "restoring"


def backup(data_dir: Path, out: Path) -> int:
    """Copy the data file to `out` (which must not exist); returns the revision it holds."""
    source = data_dir.absolute() / DATA_FILE
    if not source.is_file() or not source.stat().st_size:
        raise StoreError(f"no data file to back up at {source}")
    if out.exists():
        raise StoreError(f"{out} exists; give a new file name")
    try:
        with sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True) as src, sqlite3.connect(out) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
            (revision,) = dst.execute("SELECT revision FROM meta").fetchone()
        src.close()
        dst.close()
    except sqlite3.Error as error:
        out.unlink(missing_ok=True)
        raise StoreError(f"cannot back up {source} to {out}: {error}") from None
    with open(out, "rb") as f:
        os.fsync(f.fileno())
    return int(revision)


def restore(data_dir: Path, backup_file: Path) -> int:
    """Replace the data file with a backup; returns the revision it holds. The daemon must be stopped."""
    data_dir = data_dir.absolute()
    if not backup_file.is_file():
        raise StoreError(f"no backup file at {backup_file}")
    lock = SqliteStore(data_dir, 1)
    lock._lock()  # refuses while a daemon uses the directory
    staging = data_dir / RESTORE_DIR
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        shutil.copyfile(backup_file, staging / DATA_FILE)
        revision = asyncio.run(_check(staging))  # reads it all, as a start would
        _new_history(staging / DATA_FILE)
        target = data_dir / DATA_FILE
        os.replace(staging / DATA_FILE, target)
        for stale in ("-wal", "-shm"):
            target.with_name(DATA_FILE + stale).unlink(missing_ok=True)
        DataMarker(data_dir, target).write(revision, is_open=False)
        return revision
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        asyncio.run(lock.close())


def _new_history(data_file: Path) -> None:
    db = sqlite3.connect(data_file, isolation_level=None)
    try:
        db.execute(NEW_HISTORY)
    finally:
        db.close()


async def _check(staging: Path) -> int:
    store = SqliteStore(staging, 2**62)
    try:
        return (await store.load()).revision
    finally:
        await store.close()
