"""A store that keeps nothing: for tests, benchmarks and throwaway daemons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from registryd.core.model import Event
from registryd.store.base import Snapshot


class MemoryStore:
    async def load(self) -> Snapshot:
        return Snapshot()

    async def append(self, events: Sequence[Event], streams: Mapping[str, bool]) -> None:
        return None

    async def close(self) -> None:
        return None
