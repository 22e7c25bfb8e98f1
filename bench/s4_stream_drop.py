"""Scenario 4: a heartbeat stream drops -> AGENT_STATUS_CHANGED at a subscriber, with 10k agents attached
on other streams; against the no-op server publishing one event when an echo stream drops."""

from __future__ import annotations

import time
from concurrent.futures import Future
from typing import Any

from bench import events, streams, unary, workload
from bench.context import Context
from bench.plan import Row
from bench.s1_unary import CALM_LIVENESS
from bench.stats import latency_ms, ratio

AGENTS_PER_RUNTIME = 10
GOAL_P99_MS = 50.0
BEAT_INTERVAL = 10.0


def run(ctx: Context) -> list[Row]:
    n, drops = ctx.sizes.attached_agents, ctx.sizes.drops
    runtimes = n // AGENTS_PER_RUNTIME
    daemon = ctx.start_registryd(CALM_LIVENESS + ctx.store_args("memory"))
    try:
        unary.register_agents(ctx.pool, daemon.address, 0, n, AGENTS_PER_RUNTIME)
        unary.register_agents(ctx.pool, daemon.address, n, n + drops, per_runtime=1)
        holders = streams.bind_messages(runtimes, AGENTS_PER_RUNTIME)
        probes = [workload.bind_message(n + d, 1) for d in range(drops)]
        method = workload.SERVICE + "HeartbeatStream"
        mine = _while_held(
            ctx, daemon.address, method, holders, events.Feed(daemon.address, noop=False), probes
        )
    finally:
        daemon.stop()
    noop = ctx.start_noop()
    try:
        echo = workload.echo_request(len(holders[0]), 30)
        method = workload.ECHO + "EchoStream"
        ceiling = _while_held(
            ctx, noop.address, method, [echo] * runtimes, events.Feed(noop.address, noop=True), [echo] * drops
        )
    finally:
        noop.stop()
    ctx.latencies[f"stream drop -> event, {n} agents attached"] = (mine, ceiling)
    ours, theirs = latency_ms(mine), latency_ms(ceiling)
    return [
        Row(
            4,
            f"stream drop -> AGENT_STATUS_CHANGED at a subscriber, {n} agents on {runtimes} streams: p99",
            "ms",
            ours["p99_ms"],
            theirs["p99_ms"],
            ratio(ours["p99_ms"], theirs["p99_ms"]),
            f"p99 < {GOAL_P99_MS:.0f} ms",
            ours["p99_ms"] < GOAL_P99_MS,
            {"registryd": ours, "noop": theirs},
        )
    ]


def _while_held(
    ctx: Context, address: str, method: str, holders: list[bytes], feed: events.Feed, probes: list[bytes]
) -> list[float]:
    """Hold the holder streams (one worker) while the other worker drops probe streams."""
    manager = ctx.manager()
    reports, storm, stop = manager.Queue(), manager.Event(), manager.Event()
    time_limit = 180.0
    load = streams.StreamLoad(address, method, tuple(holders), holders[0], interval=BEAT_INTERVAL)
    holder: Future[Any] = ctx.pool.submit(streams.hold_worker, load, reports, storm, stop, time_limit)
    try:
        reports.get(timeout=time_limit)
        time.sleep(0.5)
        probe = ctx.pool.submit(events.drop_worker, feed, method, probes, 10.0)
        result = probe.result(timeout=time_limit)
    finally:
        stop.set()
    holder.result(timeout=time_limit)
    return result["latencies"]
