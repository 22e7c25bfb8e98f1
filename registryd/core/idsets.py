"""Sets of ids that give their memory back. CPython never shrinks a set's table as members leave: a set
that held a million ids and now holds ten is still walked slot by slot, by iteration and by an
intersection with any larger set. At 1M agents, once most agents had left ACTIVE, each stream beat's
`bound & active` took 16 ms and 10,000 streams could not bind (bench scenario 8)."""

from __future__ import annotations

import sys
from collections.abc import MutableMapping
from typing import TypeVar

Key = TypeVar("Key")

_SLOT_BYTES = 16  # a set table entry: the hash and the key
_CHECK_EVERY = 64  # sizes at which a set's table is looked at


def discard(sets: MutableMapping[Key, set[str]], key: Key, member: str) -> set[str]:
    """Remove `member` from sets[key]; a set whose table has become 16 times larger than it needs is
    replaced by a copy of its size (amortised: that takes more removals than the copy has members).
    Returns the set now at sets[key]."""
    members = sets[key]
    members.discard(member)
    size = len(members)
    if size % _CHECK_EVERY == 0 and sys.getsizeof(members) > 16 * _SLOT_BYTES * (size + _CHECK_EVERY):
        members = sets[key] = set(members)
    return members
