"""What a data directory has served, kept beside the data file, so a data file that lost data is refused
instead of served: a file emptied or truncated to 0 bytes, an older copy put back, or a copy of the file
taken without its `-wal` after an unclean stop (a naive backup: it holds only what was checkpointed).

The marker (`registry.marker`, JSON) says the last revision known committed (written at open, at most every
MARKER_INTERVAL seconds of writes, and at a clean close) and whether the store is open. It is replaced
atomically and fsynced, so it is never ahead of the data file's own fsynced commits.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from registryd.store.base import StoreError

MARKER_FILE = "registry.marker"
MARKER_INTERVAL = 1.0  # seconds between marker updates while writing
RECOVERY = (
    "To recover, stop here and restore a backup (`registryd restore --data-dir DIR BACKUP`, see the "
    "README), or start once with --accept-data-loss to serve what the file holds (clients that saw later "
    "revisions must list again)."
)


class DataMarker:
    def __init__(self, data_dir: Path, data_file: Path) -> None:
        self.path = data_dir / MARKER_FILE
        self._data_file = data_file
        self._wal = data_file.with_name(data_file.name + "-wal")
        self._written_at = 0.0
        self._revision = 0

    def check_before_open(self) -> None:
        """Refuse a data file that cannot hold everything this directory served (before SQLite opens it,
        as it would make an empty registry of a missing or empty file)."""
        held = self._read()
        size = self._data_file.stat().st_size if self._data_file.exists() else None
        if size == 0:
            raise StoreError(
                f"data file {self._data_file} is empty (0 bytes); refusing to start empty. {RECOVERY}"
            )
        if held is None:
            return  # a new directory, or one from before markers
        if size is None:
            raise StoreError(
                f"data file {self._data_file} is missing, but this data directory served revision "
                f"{held['revision']} ({self.path}); refusing to start empty. {RECOVERY}"
            )
        if held["open"] and not self._wal.exists():
            raise StoreError(
                f"data file {self._data_file} was not closed cleanly and its write-ahead log {self._wal} "
                "is missing, so the writes since its last checkpoint are gone (a copy taken without its "
                f"-wal file?); refusing to serve it rewound. {RECOVERY}"
            )

    def check_loaded(self, revision: int) -> None:
        held = self._read()
        if held is not None and revision < held["revision"]:
            raise StoreError(
                f"data file {self._data_file} holds revision {revision}, but this data directory served "
                f"revision {held['revision']} ({self.path}): the file was rewound (an older copy put "
                f"back?); refusing to serve it. {RECOVERY}"
            )

    def opened(self, revision: int) -> None:
        self.write(revision, is_open=True)

    def committed(self, revision: int) -> None:
        """After a commit: keep the marker at most MARKER_INTERVAL behind."""
        now = time.monotonic()
        if now - self._written_at >= MARKER_INTERVAL and revision > self._revision:
            self.write(revision, is_open=True)

    def write(self, revision: int, is_open: bool) -> None:
        temporary = self.path.with_name(self.path.name + ".tmp")
        with open(temporary, "w") as f:
            json.dump({"revision": revision, "open": is_open}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        self._written_at = time.monotonic()
        self._revision = revision

    def _read(self) -> dict[str, object] | None:
        try:
            held = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise StoreError(f"marker {self.path} is unreadable ({error}). {RECOVERY}") from None
        if not (
            isinstance(held, dict)
            and isinstance(held.get("revision"), int)
            and held["revision"] >= 0
            and isinstance(held.get("open"), bool)
        ):
            raise StoreError(f"marker {self.path} is not a registryd marker. {RECOVERY}")
        return held
