"""Sets of ids that give their memory back. CPython never shrinks a set's table as members leave: a set
that held a million ids and now holds ten is still walked slot by slot, by iteration and by an
intersection with any larger set. At 1M agents, once most agents had left ACTIVE, each stream beat's
`bound & active` took 16 ms and 10,000 streams could not bind (bench scenario 8).

Replacing a set walks its old table twice, to copy what is left and to free it: 12 and 10 ms for a table
that held 1M ids. Each walk takes a turn of the event loop of its own, not the turn of the removal that
found the set oversized (a slice of a mass expiry, 10-15 ms at 1M agents by itself)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import MutableMapping
from typing import TypeVar

Key = TypeVar("Key")

_SLOT_BYTES = 16  # a set table entry: the hash and the key
_CHECK_EVERY = 64  # sizes at which a set's table is looked at


def discard(sets: MutableMapping[Key, set[str]], key: Key, member: str) -> set[str]:
    """Remove `member` from sets[key]; a set whose table has become 16 times larger than it needs is
    replaced by a copy of its size (amortised: that takes more removals than the copy has members), on the
    next turn of the running loop (at once without one). Returns the set at sets[key]."""
    members = sets[key]
    members.discard(member)
    size = len(members)
    if size % _CHECK_EVERY == 0 and _oversized(members):
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            members = sets[key] = set(members)
        else:
            loop.call_soon(_replace, loop, sets, key)
    return members


def _oversized(members: set[str]) -> bool:
    return sys.getsizeof(members) > 16 * _SLOT_BYTES * (len(members) + _CHECK_EVERY)


def _replace(loop: asyncio.AbstractEventLoop, sets: MutableMapping[Key, set[str]], key: Key) -> None:
    members = sets.get(key)
    if members is not None and _oversized(members):  # not emptied and dropped, or replaced, since
        sets[key] = set(members)
        loop.call_soon(_free, members)


def _free(members: set[str]) -> None:
    """Nothing to do: this call holds the last reference to a replaced set (unless a reader still has it),
    so the set is freed when the call is done, in a turn of its own."""
