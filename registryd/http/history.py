"""Agents by status over the last minutes, sampled on the daemon so a console opened now sees the past."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

from registryd.core.registry import Registry

SAMPLE_INTERVAL = 5.0  # seconds
SAMPLES = 120  # ten minutes


class StatusHistory:
    def __init__(self, registry: Registry, interval: float = SAMPLE_INTERVAL, size: int = SAMPLES) -> None:
        self._registry = registry
        self.interval = interval
        self._samples: deque[dict[str, object]] = deque(maxlen=size)
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        self._samples.append({"time": time.time(), "counts": self._registry.stats().status_distribution})

    def samples(self) -> list[dict[str, object]]:
        return list(self._samples)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)
