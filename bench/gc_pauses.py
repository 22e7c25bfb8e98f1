"""`python -m bench.gc_pauses [--agents 200000]`: the longest pause of Python's cyclic garbage collector
while agents register (core registry, no gRPC), without and with registryd's collector hook (collector.py,
which freezes what a full collection leaves behind in large numbers).

A full (generation 2) collection stops the event loop while it walks every tracked object; Python starts
one on its own whenever the survivors of earlier ones grew by a quarter. Each variant runs in its own
process, freezes what it has after start (as the daemon does), registers the agents, then times one
explicit full collection as well.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import subprocess
import sys
import time

from registryd import collector, logs
from registryd.clock import SystemClock
from registryd.core.model import AgentCard, Skill
from registryd.core.registry import Registry, RegistrySettings


class PauseLog:
    """Times every full collection through gc.callbacks: (CPU time of the thread, wall clock). On a busy
    machine the wall clock also counts time the process waited for a core; CPU time does not."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, float]] = []
        self._started = (0.0, 0.0)

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        now = (time.thread_time(), time.perf_counter())
        if phase == "start":
            self._started = now
        else:
            self.pauses.append((now[0] - self._started[0], now[1] - self._started[1]))


async def measure(agents: int, hook: bool) -> str:
    registry = Registry(
        RegistrySettings(heartbeat_timeout=3600, auto_deregister_timeout=7200), clock=SystemClock()
    )
    await registry.start()
    gc.freeze()
    if hook:
        collector.install()
    pauses = PauseLog()
    gc.callbacks.insert(0, pauses)  # before the hook: the pause it times excludes the freeze
    for i in range(agents):
        card = AgentCard(
            name=f"worker {i}",
            capabilities=(f"topic-{i % 100:03d} analysis", "web search"),
            skills=(Skill(id="answer", name="question answering", tags=("qa",)),),
        )
        await registry.register(f"rt-{i // 100:05}", card, f"agent-{i:07}")
    automatic = list(pauses.pauses)
    gc.collect()
    explicit_cpu, explicit_wall = pauses.pauses[-1]
    gc.callbacks.remove(pauses)
    await registry.stop()
    cpu, wall = max(automatic, default=(0.0, 0.0))
    return (
        f"{'with' if hook else 'without'} the collector hook: {len(automatic)} full collections while "
        f"{agents:,} agents registered, longest {cpu * 1e3:.1f} ms CPU ({wall * 1e3:.1f} ms wall); an "
        f"explicit full collection after: {explicit_cpu * 1e3:.1f} ms CPU ({explicit_wall * 1e3:.1f} ms wall); "
        f"frozen {gc.get_freeze_count():,} objects"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=200_000)
    parser.add_argument("--variant", choices=["without", "with"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        logs.configure("console", "warning")
        print(asyncio.run(measure(args.agents, args.variant == "with")), flush=True)
        return
    for variant in ("without", "with"):
        command = [
            sys.executable,
            "-m",
            "bench.gc_pauses",
            "--agents",
            str(args.agents),
            "--variant",
            variant,
        ]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
