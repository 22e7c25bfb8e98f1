"""Messages built once per immutable core value, however many responses carry it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

Value = TypeVar("Value")
Message = TypeVar("Message")


class IdentityMemo(Generic[Value, Message]):
    """`build(value)` for the last `size` values seen, keyed by identity (core values are immutable).

    Each entry keeps its value alive, so its id cannot be reused by another object while it is cached.
    Callers must not mutate a returned message; gRPC writes and protobuf constructors copy it.
    """

    def __init__(self, size: int, build: Callable[[Value], Message]) -> None:
        self._size = size
        self._build = build
        self._entries: dict[int, tuple[Value, Message]] = {}

    def __call__(self, value: Value) -> Message:
        entry = self._entries.get(id(value))
        if entry is not None and entry[0] is value:
            return entry[1]
        message = self._build(value)
        self._entries[id(value)] = (value, message)
        if len(self._entries) > self._size:
            del self._entries[next(iter(self._entries))]  # the oldest
        return message
