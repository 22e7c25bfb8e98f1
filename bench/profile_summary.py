"""Summarise a py-spy profile: where a daemon's time goes, and how much of it is our code.

Record (on a busy daemon; --native shows gRPC's and uvloop's C code too), then summarise:

    py-spy record --pid PID --duration 20 --native --threads --format raw --output prof.raw
    .venv/bin/python -m bench.profile_summary prof.raw [--top 30]

Own time is the samples in which a function is the innermost frame. Each sample is put in one group by
the innermost frame that names a known file: our code (registryd's core, api and store, agentregistry; not
the __main__ that runs the loop), gRPC, the event loop
(uvloop, asyncio), protobuf, sqlite, or the interpreter and C library (the rest).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# Samples whose innermost frames wait (for the GIL, a lock, a queue, epoll or the disk) are not CPU time.
WAITS = (
    "pthread_cond_wait",
    "pthread_cond_timedwait",
    "sem_wait",
    "sem_timedwait",
    "epoll_wait",
    "epoll_pwait",
    "take_gil",
    "PyThread_acquire_lock_timed",
    "fdatasync",
    "fsync",
    "poll (libc",
    "nanosleep",
    "select (libc",
)
WAIT_DEPTH = 4  # how many innermost frames may name the wait (a libc address sits below it)
FRAME = re.compile(r"^(?P<function>.*?) \((?P<where>[^()]*)\)$")
GROUPS = (  # (group, patterns of the frame's file), first match wins, innermost frame first
    (
        "ours (registryd core, api, store; agentregistry)",
        ("registryd/core", "registryd/api", "registryd/store", "agentregistry/"),
    ),
    ("gRPC (cygrpc, grpc core, grpc/)", ("cygrpc", "grpc/", "libgrpc", "/src/core/")),
    ("protobuf", ("google/protobuf", "_message", "upb")),
    ("event loop (uvloop, asyncio)", ("uvloop", "loop.c", "asyncio", "_asynciomodule", "libuv", "core.c")),
    ("sqlite", ("sqlite",)),
)


def parse(line: str) -> tuple[list[str], int]:
    stack, _, count = line.rstrip().rpartition(" ")
    return stack.split(";"), int(count)


def where(frame: str) -> tuple[str, str]:
    match = FRAME.match(frame)
    if match is None:
        return frame, ""
    return match["function"], match["where"].rsplit(":", 1)[0]


def group_of(stack: list[str]) -> str:
    for frame in reversed(stack):
        _, file = where(frame)
        for group, patterns in GROUPS:
            if any(p in file for p in patterns):
                return group
    return "interpreter, C library, other"


def summarise(lines: list[str], top: int) -> str:
    own: Counter[str] = Counter()
    groups: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    ours_inclusive = ours_own = 0
    total = waiting = 0
    for line in lines:
        if not line.strip():
            continue
        stack, count = parse(line)
        if any(w in frame for frame in stack[-WAIT_DEPTH:] for w in WAITS):
            waiting += count
            continue
        total += count
        function, file = where(stack[-1])
        own[f"{function} ({file})"] += count
        groups[group_of(stack)] += count
        if stack[0].startswith("thread"):
            threads[stack[0]] += count
        if any(p in where(f)[1] for f in stack for p in GROUPS[0][1]):
            ours_inclusive += count
        if any(p in file for p in GROUPS[0][1]):
            ours_own += count
    out = [
        f"{total} samples on CPU ({waiting} more waiting, left out)",
        "",
        "| group (by innermost known frame) | share |",
        "|---|---|",
    ]
    out += [f"| {g} | {n / total:.1%} |" for g, n in groups.most_common()]
    out += [
        "",
        f"Own time of our Python functions: {ours_own / total:.1%}; samples with a frame of ours on the stack "
        f"(what our code calls included): {ours_inclusive / total:.1%}",
        "",
    ]
    if threads:
        out += ["| thread | share |", "|---|---|"]
        out += [f"| {t} | {n / total:.1%} |" for t, n in threads.most_common(8)]
        out += [""]
    out += [f"Top {top} functions by own time:", "", "| own | function |", "|---|---|"]
    out += [f"| {n / total:.1%} | `{f}` |" for f, n in own.most_common(top)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, help="py-spy record --format raw output")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    print(summarise(args.raw.read_text().splitlines(), args.top))


if __name__ == "__main__":
    main()
