"""Scenario 3: 10,000 heartbeat streams beating every 10 s: server RSS and CPU against the no-op server
holding as many echo streams, then a reconnect storm of all of them at once (failed opens)."""

from __future__ import annotations

import time
from typing import Any

from bench import streams, unary, workload
from bench.context import Context
from bench.plan import Row
from bench.procs import ServerProcess
from bench.s1_unary import CALM_LIVENESS
from bench.s2_stream_rate import stream_reply_size
from bench.stats import ratio

BEAT_INTERVAL = 10.0
STREAMS_PER_CONNECTION = 10
RSS_GOAL = 1.2


def run(ctx: Context) -> list[Row]:
    n = ctx.sizes.held_streams
    daemon = ctx.start_registryd(CALM_LIVENESS + ctx.store_args("memory"))
    try:
        unary.register_agents(ctx.pool, daemon.address, 0, n, per_runtime=1)
        binds = streams.bind_messages(n, 1)
        beat = workload.beat_message()
        ack_size = stream_reply_size(daemon.address, binds[0], beat)
        mine = hold(ctx, daemon, workload.SERVICE + "HeartbeatStream", binds, beat)
    finally:
        daemon.stop()
    noop = ctx.start_noop()
    try:
        echo_first = [workload.echo_request(len(binds[0]), ack_size)] * n
        ceiling = hold(
            ctx, noop, workload.ECHO + "EchoStream", echo_first, workload.echo_request(len(beat), ack_size)
        )
    finally:
        noop.stop()
    rss = ratio(mine["rss_mb"], ceiling["rss_mb"])
    per_stream = ratio(mine["kb_per_stream"], ceiling["kb_per_stream"])
    cpu = ratio(mine["cpu_percent"], ceiling["cpu_percent"])
    shape = f"{n} streams, {STREAMS_PER_CONNECTION} per connection, beat every {BEAT_INTERVAL:.0f} s"
    failed = mine["open_failures"] + mine["storm_failures"]
    return [
        Row(
            3,
            f"server RSS holding {shape}",
            "MB",
            mine["rss_mb"],
            ceiling["rss_mb"],
            rss,
            f"<= {RSS_GOAL}",
            rss <= RSS_GOAL,
            {"registryd": mine, "noop": ceiling},
        ),
        Row(
            3,
            "  RSS added per stream (over the idle server)",
            "KB",
            mine["kb_per_stream"],
            ceiling["kb_per_stream"],
            per_stream,
        ),
        Row(3, "  server CPU while holding", "% of a core", mine["cpu_percent"], ceiling["cpu_percent"], cpu),
        Row(
            3,
            f"reconnect storm: all {n} streams dropped and reopened at once: failed opens",
            "opens",
            failed,
            ceiling["open_failures"] + ceiling["storm_failures"],
            None,
            "0",
            failed == 0,
        ),
        Row(
            3,
            "  reconnect storm: time until every stream is open again",
            "s",
            mine["storm_seconds"],
            ceiling["storm_seconds"],
            ratio(mine["storm_seconds"], ceiling["storm_seconds"]),
        ),
    ]


def hold(ctx: Context, server: ServerProcess, method: str, first: list[bytes], beat: bytes) -> dict[str, Any]:
    """Hold the streams from two workers, measure the server, storm, and collect what happened."""
    manager = ctx.manager()
    reports, storm, stop = manager.Queue(), manager.Event(), manager.Event()
    idle_rss = server.rss_bytes()
    window = ctx.sizes.hold_seconds
    time_limit = 120 + 3 * window
    loads = streams.stream_pairs(
        server.address,
        method,
        first,
        beat,
        2,
        streams_per_channel=STREAMS_PER_CONNECTION,
        interval=BEAT_INTERVAL,
    )
    jobs = [ctx.pool.submit(streams.hold_worker, load, reports, storm, stop, time_limit) for load in loads]
    try:
        opened = [reports.get(timeout=time_limit) for _ in jobs]
        cpu_before, started = server.cpu_seconds(), time.monotonic()
        time.sleep(window)
        cpu_percent = (server.cpu_seconds() - cpu_before) / (time.monotonic() - started) * 100
        rss = server.rss_bytes()
        storm.set()
        stormed = [reports.get(timeout=time_limit) for _ in jobs]
    finally:
        stop.set()
        storm.set()
    results = [job.result(timeout=time_limit) for job in jobs]
    return {
        "rss_mb": round(rss / 2**20, 1),
        "idle_rss_mb": round(idle_rss / 2**20, 1),
        "kb_per_stream": round((rss - idle_rss) / len(first) / 1024, 1),
        "cpu_percent": round(cpu_percent, 1),
        "open_seconds": round(max(o[2] for o in opened), 2),
        "open_failures": sum(o[1] for o in opened),
        "storm_failures": sum(s[1] for s in stormed),
        "storm_seconds": round(max(s[2] for s in stormed), 2),
        "beats_ok": sum(r["ok"] for r in results),
        "beats_failed": sum(r["failed"] for r in results),
    }
