"""Scenario 7: registryd restarts on a sqlite store holding 100k agents: seconds until it serves
(ready file written, every agent loaded), beside the no-op server's start from nothing."""

from __future__ import annotations

import time

import grpc
from agentregistry.v1 import registry_pb2 as pb

from bench import unary, workload
from bench.context import Context
from bench.plan import Row
from bench.s1_unary import CALM_LIVENESS


def run(ctx: Context) -> list[Row]:
    if not ctx.has_store("sqlite"):
        ctx.note("scenario 7 skipped: this registryd has no --store sqlite")
        return []
    n = ctx.sizes.restart_agents
    args = CALM_LIVENESS + ctx.store_args("sqlite", ctx.workdir / "restart-data")
    daemon = ctx.start_registryd(args)
    try:
        unary.register_agents(ctx.pool, daemon.address, 0, n)
    finally:
        daemon.stop()
    started = time.monotonic()
    daemon = ctx.start_registryd(args)
    serving = time.monotonic() - started
    try:
        with grpc.insecure_channel(daemon.address) as channel:
            stats = channel.unary_unary(
                workload.SERVICE + "GetStats", response_deserializer=pb.GetStatsResponse.FromString
            )(pb.GetStatsRequest().SerializeToString(), timeout=10)
        rss_mb = round(daemon.rss_bytes() / 2**20, 1)
    finally:
        daemon.stop()
    if stats.total_agents != n:
        raise RuntimeError(f"registryd came back with {stats.total_agents} agents, not {n}")
    started = time.monotonic()
    noop = ctx.start_noop()
    noop_start = time.monotonic() - started
    noop.stop()
    return [
        Row(
            7,
            f"restart with {n:,} persisted agents (sqlite): seconds until serving (no-op: a bare start)",
            "s",
            round(serving, 2),
            round(noop_start, 2),
            round(serving / noop_start, 2),
            "",
            None,
            {"rss_after_restart_mb": rss_mb, "agents_loaded": stats.total_agents},
        )
    ]
