"""The runtimes in id order and by size, kept as agents come and go, so that a page of ListRuntimes and
GetStats's largest runtimes are read without sorting or scanning every runtime (at 1M agents both did, for
100-900 ms with the loop stopped; bench/stall_ops.py)."""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterator, Mapping
from itertools import islice

from sortedcontainers import SortedList


class RuntimeOrder:
    def __init__(self) -> None:
        self._ids: SortedList = SortedList()
        self._size: dict[str, int] = {}  # runtime id -> its agents
        self._by_size: dict[int, set[str]] = {}  # size -> the runtimes of that size
        self._sizes: list[int] = []  # the sizes in _by_size, ascending (few: at most max_agents_per_runtime)

    def __len__(self) -> int:
        return len(self._ids)

    def load(self, sizes: Mapping[str, int]) -> None:
        """Start from `sizes` (runtime id -> agents): one sort, not one insertion per runtime."""
        self._ids = SortedList(sizes)
        self._size = dict(sizes)
        self._by_size = {}
        for runtime_id, size in sizes.items():
            self._by_size.setdefault(size, set()).add(runtime_id)
        self._sizes = sorted(self._by_size)

    def resize(self, runtime_id: str, size: int) -> None:
        """The runtime now has `size` agents (0: it is gone)."""
        old = self._size.get(runtime_id, 0)
        if old == size:
            return
        if old:
            self._leave(runtime_id, old)
        else:
            self._ids.add(runtime_id)
        if size:
            self._size[runtime_id] = size
            bucket = self._by_size.get(size)
            if bucket is None:
                bucket = self._by_size[size] = set()
                bisect.insort(self._sizes, size)
            bucket.add(runtime_id)
        else:
            del self._size[runtime_id]
            self._ids.remove(runtime_id)

    def _leave(self, runtime_id: str, size: int) -> None:
        bucket = self._by_size[size]
        bucket.discard(runtime_id)
        if not bucket:
            del self._by_size[size]
            del self._sizes[bisect.bisect_left(self._sizes, size)]

    def after(self, runtime_id: str = "") -> Iterator[str]:
        """Runtime ids in order, after `runtime_id`."""
        return self._ids.irange(runtime_id, inclusive=(False, True)) if runtime_id else iter(self._ids)

    def largest(self, count: int) -> list[tuple[str, int]]:
        """(runtime id, agents) of the `count` runtimes with the most agents; ties by id."""
        found: list[tuple[str, int]] = []
        for size in reversed(self._sizes):
            wanted = count - len(found)
            if wanted <= 0:
                break
            bucket = self._by_size[size]
            if len(bucket) <= wanted:
                chosen = sorted(bucket)
            elif len(bucket) * len(bucket) <= wanted * len(self._ids):
                chosen = heapq.nsmallest(wanted, bucket)
            else:  # most runtimes have this size: walking them in id order finds enough soon
                chosen = list(islice((r for r in self._ids if r in bucket), wanted))
            found += [(runtime_id, size) for runtime_id in chosen]
        return found
