"""Answers to recent discovery queries, kept until the view changes.

Routers repeat the same few queries (one per capability they route to) far more often than agents come,
go or change status: between two changes, a query's matched agents are the same, so the index lookup
and ranking is done once. Any applied change forgets every answer (a beat changes no answer: it changes
neither a card nor a status); at most `size` answers are kept, the oldest dropped first.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class QueryCache(Generic[V]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._answers: dict[Hashable, V] = {}

    def get(self, key: Hashable) -> V | None:
        return self._answers.get(key)

    def put(self, key: Hashable, answer: V) -> None:
        if len(self._answers) >= self._size:
            del self._answers[next(iter(self._answers))]
        self._answers[key] = answer

    def clear(self) -> None:
        if self._answers:
            self._answers.clear()

    def __len__(self) -> int:
        return len(self._answers)
