"""The real clock the daemon hands to the core."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from registryd.core.clock import Timer


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def schedule(self, delay: float, callback: Callable[[], object]) -> Timer:
        # call_later, not call_at: the loop's clock (uvloop's) need not share time.monotonic()'s origin.
        return asyncio.get_running_loop().call_later(max(0.0, delay), callback)
