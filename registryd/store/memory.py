"""A store that keeps nothing: for tests, benchmarks and throwaway daemons. Each one is a new history."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from registryd.core.model import Event
from registryd.store.base import Snapshot


class MemoryStore:
    def __init__(self) -> None:
        self.history_id = uuid.uuid4().hex

    async def load(self) -> Snapshot:
        return Snapshot(history_id=self.history_id)

    async def append(self, events: Sequence[Event], streams: Mapping[str, bool]) -> None:
        return None

    async def close(self) -> None:
        return None
