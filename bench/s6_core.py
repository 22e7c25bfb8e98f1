"""Scenario 6: core only, no gRPC: FindAgents time at 1k/10k/100k agents and registrations/s, beside a
linear-scan registry that follows the original's rules (bench/baseline.py), in one process."""

from __future__ import annotations

import statistics
import time
from typing import Any

import uvloop
from google.protobuf.json_format import MessageToDict

from bench import workload
from bench.baseline import LinearScanRegistry
from bench.context import Context
from bench.plan import Row
from bench.stats import ratio
from registryd import logs
from registryd.api.convert import card_from_proto
from registryd.clock import SystemClock
from registryd.core.registry import Registry, RegistrySettings

SPEEDUP_GOAL = 300.0
GOAL_AT = 100_000
# FindAgents' default limit, and its maximum: every match at 100k agents, as the original returns.
QUERY_LIMITS = (100, 1000)
QUERY_TIME = 0.5  # seconds of repeated queries per size (at least 3 queries)
ORIGINAL = "linear scan (original's rule)"
OURS = "registryd core"


def run(ctx: Context) -> list[Row]:
    result = ctx.pool.submit(core_worker, ctx.sizes.core_agents).result(timeout=900)
    rows = []
    for n in ctx.sizes.core_agents:
        for limit in QUERY_LIMITS:
            rows.append(_find_row(result, n, limit))
            ours = result["find"][OURS][n, limit]["seconds"]
            ctx.discovery.setdefault(f"{OURS} (limit {limit})", []).append((n, ours))
        ctx.discovery.setdefault(ORIGINAL, []).append((n, result["find"][ORIGINAL][n]["seconds"]))
    ours, theirs = result["register"][OURS], result["register"][ORIGINAL]
    rows.append(
        Row(
            6,
            f"registrations/s core, {max(ctx.sizes.core_agents):,} agents one after another",
            "reg/s",
            ours,
            theirs,
            ratio(ours, theirs),
            "",
            None,
            {
                "note": "ratio = registryd / original; registryd also validates, indexes text and keeps an event log"
            },
        )
    )
    ctx.note(
        "scenario 6 baseline: kailash-kaizen 2.2.1 downloads but its registry cannot be imported "
        "(needs kailash.mcp_server, missing in the kailash pip resolves); bench/baseline.py keeps its "
        "register and linear-scan discovery code paths"
    )
    return rows


def _find_row(result: dict[str, Any], n: int, limit: int) -> Row:
    ours, theirs = result["find"][OURS][n, limit], result["find"][ORIGINAL][n]
    speedup = ratio(theirs["seconds"], ours["seconds"])
    at_goal = n == GOAL_AT
    return Row(
        6,
        f"FindAgents core, {n:,} agents, ~1% match, limit {limit} ({ours['matches']} returned; "
        f"original returns {theirs['matches']}): ms per query",
        "ms",
        round(ours["seconds"] * 1000, 4),
        round(theirs["seconds"] * 1000, 3),
        speedup,
        f"original/registryd >= {SPEEDUP_GOAL:.0f}" if at_goal else "",
        speedup >= SPEEDUP_GOAL if at_goal else None,
    )


def core_worker(sizes: tuple[int, ...]) -> dict[str, Any]:
    logs.configure("console", "warning")  # the state machine alone: no per-registration log line
    return uvloop.run(_core(sizes))


async def _core(sizes: tuple[int, ...]) -> dict[str, Any]:
    cards = [workload.card(i) for i in range(max(sizes))]
    ours = Registry(
        RegistrySettings(heartbeat_timeout=3600, auto_deregister_timeout=7200), clock=SystemClock()
    )
    await ours.start()
    theirs = LinearScanRegistry()
    await theirs.start()
    core_cards = [card_from_proto(c) for c in cards]
    # The original kept its capability phrases in the card dict; ours are the deprecated pre-1.0 field.
    dict_cards = [{**MessageToDict(c), "capabilities": list(c.capability_phrases)} for c in cards]
    find: dict[str, dict[Any, dict[str, Any]]] = {OURS: {}, ORIGINAL: {}}
    spent = {OURS: 0.0, ORIGINAL: 0.0}
    done = 0
    for n in sorted(sizes):
        started = time.perf_counter()
        for i in range(done, n):
            await ours.register(workload.runtime_id(i), core_cards[i], workload.agent_id(i))
        spent[OURS] += time.perf_counter() - started
        started = time.perf_counter()
        for i in range(done, n):
            await theirs.register_agent(dict_cards[i], workload.runtime_id(i), workload.agent_id(i))
        spent[ORIGINAL] += time.perf_counter() - started
        done = n
        for limit in QUERY_LIMITS:
            find[OURS][n, limit] = _time_queries(lambda limit=limit: ours.find(workload.QUERY, (), limit))
        find[ORIGINAL][n] = await _time_async_queries(
            lambda: theirs.find_agents_by_capability(workload.QUERY)
        )
    await ours.stop()
    await theirs.shutdown()
    return {"find": find, "register": {name: round(done / seconds, 1) for name, seconds in spent.items()}}


def _time_queries(query: Any) -> dict[str, Any]:
    times, matches = [], 0
    deadline = time.perf_counter() + QUERY_TIME
    while len(times) < 3 or time.perf_counter() < deadline:
        started = time.perf_counter()
        matches = len(query())
        times.append(time.perf_counter() - started)
    return {"seconds": statistics.median(times), "matches": matches, "queries": len(times)}


async def _time_async_queries(query: Any) -> dict[str, Any]:
    times, matches = [], 0
    deadline = time.perf_counter() + QUERY_TIME
    while len(times) < 3 or time.perf_counter() < deadline:
        started = time.perf_counter()
        matches = len(await query())
        times.append(time.perf_counter() - started)
    return {"seconds": statistics.median(times), "matches": matches, "queries": len(times)}
