"""Reconnect delays: exponential backoff with full jitter (a uniformly random delay between zero and
the current cap), so thousands of clients cut off together do not come back together."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, initial: float, maximum: float) -> None:
        self._initial = initial
        self._maximum = maximum
        self._attempt = 0

    def next_delay(self) -> float:
        """The delay before the next attempt; each call doubles the cap up to `maximum`."""
        cap = min(self._maximum, self._initial * 2**self._attempt)
        self._attempt = min(self._attempt + 1, 32)
        return random.uniform(0, cap)

    def reset(self) -> None:
        """A connection worked: the next failure starts from `initial` again."""
        self._attempt = 0
