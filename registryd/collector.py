"""Keeps long-lived objects out of the cyclic garbage collector's generations.

Python runs a full collection whenever the objects that survived earlier ones grew by a quarter, and a full
collection walks every tracked object with the event loop stopped: at 200k agents registered since start
(about ten objects each) that is over half a second (bench/gc_pauses.py). Agent records live until their
agents go, so when a full collection leaves many objects behind they are moved to the permanent generation
(gc.freeze): later full collections walk only what came after. Frozen objects are still freed by reference
counting when their agent goes; only a reference cycle among them would stay, and agent records hold none.

Python still counts what was frozen as survivors of the last full collection, and would start the next one
only once a quarter as many new objects had piled up, then walk them all in one stop (75-220 ms at 1M
agents, bench scenario 8). So a freeze is followed, on the next turn of the event loop, by a full collection
of what is left (little): the count starts again from there, and full collections stay small and frequent.

A full collection also waits for ten younger ones by default, long enough for 150k new objects to pile up
in a mass timeout at 1M agents (20 ms to walk); the hook makes it three, and freezes from 20k objects left:
no automatic full collection took over 5 ms there (bench.stall_ops --mass-expiry), nor over 3.2 ms while
200k agents register (19.6 ms with ten and 40k; bench.gc_pauses).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Iterator

FREEZE_AFTER = 20_000  # objects a full collection leaves behind before they are frozen
FULL_AFTER = 3  # middle-generation collections between two full ones (Python's default: 10)
_thresholds_before: list[int] = []


@contextlib.contextmanager
def loading() -> Iterator[None]:
    """Around a restart's load: no collections while it makes ~10 long-lived objects per agent (they would
    only rescan them), then what it loaded is frozen (a full collection no longer walks it: 2 s at 1M
    agents, bench.stall_ops). Agents registered later follow them there through the hook (`install`)."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
    freeze()


def freeze() -> None:
    """Move every tracked object to the permanent generation, then collect what is left on the next turn of
    the event loop, so that the count of old objects starts again from there."""
    gc.freeze()
    with contextlib.suppress(RuntimeError):  # no loop running (a test, a tool): the next one recounts
        asyncio.get_running_loop().call_soon(gc.collect)


def _after_collection(phase: str, info: dict[str, int]) -> None:
    if phase == "stop" and info["generation"] == 2 and len(gc.get_objects(generation=2)) > FREEZE_AFTER:
        freeze()


def install() -> None:
    """Freeze after every full collection that leaves more than FREEZE_AFTER objects, and run one every
    third middle-generation collection (idempotent)."""
    if _after_collection not in gc.callbacks:
        gc.callbacks.append(_after_collection)
        _thresholds_before[:] = gc.get_threshold()
        gc.set_threshold(_thresholds_before[0], _thresholds_before[1], FULL_AFTER)


def uninstall() -> None:
    if _after_collection in gc.callbacks:
        gc.callbacks.remove(_after_collection)
        gc.set_threshold(*_thresholds_before)
