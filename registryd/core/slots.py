"""Slots for long-lived streams, counted over the whole daemon and per caller, so that no one caller can
hold every slot and lock the others out. A caller is whoever the transport says is calling: a token, a
client certificate, or a peer address when there is no authentication (registryd/api/caller.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from registryd.core.errors import ResourceExhausted


class CallerSlots:
    def __init__(self, kind: str, total: int, per_caller: int, total_limit: str, caller_limit: str) -> None:
        self._kind = kind
        self._total = total
        self._per_caller = per_caller
        self._total_limit = total_limit  # the names of the options, for the refusals
        self._caller_limit = caller_limit
        self._held: Counter[str] = Counter()
        self.count = 0

    def take(self, caller: str) -> Callable[[], None]:
        """One slot for `caller`; returns the function that gives it back (once, however often called)."""
        if self.count >= self._total:
            raise ResourceExhausted(
                f"the daemon already serves {self._total_limit}={self._total} {self._kind}"
            )
        if self._held[caller] >= self._per_caller:
            raise ResourceExhausted(
                f"{caller or 'this caller'} already holds {self._caller_limit}={self._per_caller} {self._kind}; "
                "close some first"
            )
        self._held[caller] += 1
        self.count += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.count -= 1
                self._held[caller] -= 1
                if not self._held[caller]:
                    del self._held[caller]

        return release
