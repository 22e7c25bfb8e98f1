"""Scenario 7: registryd restarts on a sqlite store holding 100k agents: seconds until it serves
(ready file written, every agent loaded), beside the no-op server's bare start. The data dir is built
straight through the store and timed by bench/restart_100k.py."""

from __future__ import annotations

import asyncio

from bench import restart_100k
from bench.context import Context
from bench.plan import Row


def run(ctx: Context) -> list[Row]:
    if not ctx.has_store("sqlite"):
        ctx.note("scenario 7 skipped: this registryd has no --store sqlite")
        return []
    n = ctx.sizes.restart_agents
    data_dir = ctx.workdir / "restart-data"
    asyncio.run(restart_100k.build(data_dir, n))
    serving, noop_start, total = restart_100k.time_process(data_dir, ctx.workdir)
    if total != n:
        raise RuntimeError(f"registryd came back with {total} agents, not {n}")
    goal = restart_100k.GOAL_SECONDS
    return [
        Row(
            7,
            f"restart with {n:,} persisted agents (sqlite): seconds until serving (no-op: a bare start)",
            "s",
            round(serving, 2),
            round(noop_start, 2),
            round(serving / noop_start, 2),
            f"< {goal:.0f} s (issue 4)",
            serving < goal,
        )
    ]
