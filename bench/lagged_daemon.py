"""registryd exactly as `python -m registryd` runs it (same config, uvloop, one process), plus a task
that measures event-loop lag: it asks to wake every 100 ms and appends how late it woke (seconds) to
the file named by $BENCH_LAG_FILE. For the soak, where the loop's responsiveness is the question.

With $BENCH_STALL_FILE, a thread also catches the work that holds the loop: when the loop is 20 ms late
for a wake-up, it appends the main thread's stack at that moment (innermost frames first), one line per
stall. The thread needs the interpreter lock to look, so a long stretch of C code that holds it (a garbage
collection) is seen only at the first Python line after it; each collection of 5 ms or more is therefore
also appended, with its generation, how many objects it freed (garbage freed inside a collection is
freed while it holds the loop) and, with BENCH_GC_KINDS=1 and a generation of over 50k objects, their
most common types (counted inside the collection's stall, which that lengthens)."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
import time
import traceback
from collections import Counter

import uvloop

from registryd import logs
from registryd.config import load_config
from registryd.server import Daemon

TICK = 0.1
STALL = 0.02  # seconds late before the stack is taken
STALL_FRAMES = 8
LARGE_GENERATION = 50_000  # objects in the generation being collected worth naming by type

expected_wake = [float("inf")]  # when the sampler should wake next (time.monotonic())


async def sample_lag(path: str) -> None:
    with open(path, "a", buffering=1) as out:  # noqa: ASYNC230 - a line per second, written by this task only
        lags: list[float] = []
        while True:
            asked = time.monotonic()
            expected_wake[0] = asked + TICK
            await asyncio.sleep(TICK)
            lags.append(time.monotonic() - asked - TICK)
            if len(lags) >= 10:
                out.write(" ".join(f"{lag:.5f}" for lag in lags) + "\n")
                lags.clear()


def catch_stalls(path: str, main_thread: int) -> None:
    caught = float("-inf")  # the wake-up whose stall was caught
    with open(path, "a", buffering=1) as out:
        while True:
            time.sleep(0.005)
            due = expected_wake[0]
            if due != caught and time.monotonic() - due > STALL:
                caught = due
                frame = sys._current_frames().get(main_thread)
                stack = traceback.extract_stack(frame)[::-1][:STALL_FRAMES] if frame else []
                out.write(" < ".join(f"{f.name} ({f.filename.rpartition('/')[2]}:{f.lineno})" for f in stack))
                out.write("\n")


def time_collections(path: str) -> None:
    out = open(path, "a", buffering=1)  # noqa: SIM115 - open for the life of the process
    started = (0.0, 0.0)

    kinds = ""  # what a large generation held when its collection started
    count_kinds = os.environ.get("BENCH_GC_KINDS") == "1"  # costs tens of ms inside each long collection

    def timed(phase: str, info: dict[str, int]) -> None:
        nonlocal started, kinds
        if phase == "start":
            kinds = ""
            if count_kinds and len(held := gc.get_objects(info["generation"])) > LARGE_GENERATION:
                common = Counter(type(o).__qualname__ for o in held).most_common(5)
                kinds = f"; it held {len(held):,}: " + ", ".join(f"{n:,} {kind}" for kind, n in common)
            started = (time.perf_counter(), time.thread_time())
        elif (took := time.perf_counter() - started[0]) >= 0.005:
            cpu = time.thread_time() - started[1]  # far below the wall time: it waited (a lock, the GIL)
            out.write(
                f"gc generation {info['generation']}: {took * 1000:.0f} ms ({cpu * 1000:.0f} ms CPU), "
                f"{info['collected']} objects collected{kinds}\n"
            )

    gc.callbacks.append(timed)


async def serve() -> None:
    config = load_config(sys.argv[1:])
    if "BENCH_STALL_FILE" in os.environ:
        time_collections(os.environ["BENCH_STALL_FILE"])
        threading.Thread(
            target=catch_stalls, args=(os.environ["BENCH_STALL_FILE"], threading.get_ident()), daemon=True
        ).start()
    logs.configure(config.log_format, config.log_level)
    sampler = asyncio.create_task(sample_lag(os.environ["BENCH_LAG_FILE"]))
    try:
        await Daemon(config).run()
    finally:
        sampler.cancel()


if __name__ == "__main__":
    uvloop.run(serve())
