"""Issue 11 items 1 and 2, measured on the core (no gRPC): what maximal cards cost the daemon, and how
long the worst FindAgents blocks the loop. Not a timed test: prints figures.

    .venv/bin/python -m bench.hostile_index
"""

from __future__ import annotations

import asyncio
import gc
import random
import resource
import statistics
import time

from registryd import logs
from registryd.clock import SystemClock
from registryd.core.model import AgentCard, AgentStatus
from registryd.core.registry import Registry, RegistrySettings

CARDS = 200
TEXTS = 64  # max_capabilities
LENGTH = 256  # max_text_length
SETTINGS = RegistrySettings(heartbeat_timeout=600, auto_deregister_timeout=1200)


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def maximal_cards(alphabet: str, seed: int) -> list[AgentCard]:
    rnd = random.Random(seed)
    return [
        AgentCard(
            name="hostile",
            capabilities=tuple("".join(rnd.choices(alphabet, k=LENGTH)) for _ in range(TEXTS)),
        )
        for _ in range(CARDS)
    ]


async def memory(label: str, cards: list[AgentCard]) -> None:
    registry = Registry(SETTINGS, clock=SystemClock())
    await registry.start()
    gc.collect()
    base = _rss()
    worst = 0.0
    for i, card in enumerate(cards):
        started = time.perf_counter()
        await registry.register("rt", card, f"a{i}")
        worst = max(worst, time.perf_counter() - started)
    gc.collect()
    grown = _rss() - base
    for i in range(len(cards)):
        await registry.deregister(f"a{i}")
    gc.collect()
    after_dereg = _rss() - base
    for i, card in enumerate(cards):
        await registry.register("rt", card, f"a{i}")
    gc.collect()
    again = _rss() - base
    print(
        f"{label}: {CARDS} maximal cards: RSS +{grown / 2**20:.1f} MiB ({grown / CARDS / 1024:.0f} KiB/card), "
        f"slowest register {worst * 1000:.1f} ms; after deregistering all +{after_dereg / 2**20:.1f} MiB; "
        f"registering them again +{again / 2**20:.1f} MiB (growth {(again - grown) / 2**20:+.1f} MiB)"
    )
    await registry.stop()


async def one_char_queries() -> None:
    registry = Registry(SETTINGS, clock=SystemClock())
    await registry.start()
    rnd = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz"
    for i in range(1000):
        caps = tuple("".join(rnd.choices(letters, k=12)) for _ in range(TEXTS))
        await registry.register("rt", AgentCard(name="n", capabilities=caps), f"a{i:04d}")
    for query, statuses in (
        ("e", [AgentStatus.OFFLINE]),
        ("e", [AgentStatus.ACTIVE]),
        ("ab", [AgentStatus.DEGRADED]),
        ("q", []),
        ("zzzzzz", []),
    ):
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            registry.find(query, statuses, limit=1)
            timings.append(time.perf_counter() - started)
        names = ",".join(s.name for s in statuses) or "default"
        print(
            f"FindAgents({query!r}, limit=1, statuses={names}) at 1000 agents x 64 texts: "
            f"median {statistics.median(timings) * 1000:.2f} ms, max {max(timings) * 1000:.2f} ms"
        )
    await registry.stop()


async def main() -> None:
    logs.configure("console", "warning")
    await memory("ASCII", maximal_cards("abcdefghijklmnopqrstuvwxyz0123456789 -", 1))
    await memory("CJK", maximal_cards("".join(chr(c) for c in range(0x4E00, 0x9FFF)), 2))
    await one_char_queries()


if __name__ == "__main__":
    asyncio.run(main())
