"""Scenario 9 (bench-full): reconnect storm. The daemon restarts under 1,000 SDK runtimes (backoff with
jitter): seconds until every agent is ACTIVE and bound to a stream again, duplicate agents, and stream
(re)opens that failed. Once on the sqlite store (agents persist), once on memory (the SDK registers
every agent again)."""

from __future__ import annotations

import time

import grpc
from agentregistry.v1 import registry_pb2 as pb

from bench import workload
from bench.context import Context
from bench.plan import Row
from bench.s8_soak import fleet_args, start_fleet

SETTLE_LIMIT = 180.0


def run(ctx: Context) -> list[Row]:
    if not ctx.sizes.storm_runtimes:
        return []
    rows = []
    for store in ("sqlite", "memory"):
        rows += _storm(ctx, store)
    return rows


def _storm(ctx: Context, store: str) -> list[Row]:
    sizes = ctx.sizes
    args = fleet_args(sizes.storm_runtimes, sizes.soak_agents) + ctx.store_args(store)
    daemon = ctx.start_registryd(args)
    address = daemon.address
    runtimes = None
    try:
        runtimes = start_fleet(ctx, address, sizes.storm_runtimes, sizes.soak_agents, SETTLE_LIMIT * 3)
        restarted_at = time.monotonic()
        daemon.stop()
        daemon = ctx.start_registryd(args, listen=address)
        serving_after = time.monotonic() - restarted_at
        stats = _wait_settled(address, runtimes.agents, runtimes.runtimes)
        settled_after = time.monotonic() - restarted_at
        counts = runtimes.finish()
    finally:
        if runtimes is not None:
            runtimes.stop.set()
        daemon.stop()
    duplicates = stats.total_agents - runtimes.agents
    failed_opens = counts["failed"]
    shape = f"{runtimes.agents} agents / {runtimes.runtimes} SDK runtimes, {store} store"
    detail = {
        "serving_after_s": round(serving_after, 2),
        **counts,
        "active": stats.status_distribution.get("ACTIVE", 0),
    }
    return [
        Row(
            9,
            f"restart under {shape}: seconds until every agent is ACTIVE on a stream",
            "s",
            round(settled_after, 2),
            None,
            None,
            "",
            None,
            detail,
        ),
        Row(
            9,
            f"  restart ({store}): duplicate agents",
            "agents",
            duplicates,
            None,
            None,
            "0",
            duplicates == 0,
        ),
        Row(
            9,
            f"  restart ({store}): stream opens that failed before their first ack",
            "opens",
            failed_opens,
        ),
    ]


def _wait_settled(address: str, agents: int, runtimes: int) -> pb.GetStatsResponse:
    """Poll GetStats until every agent is ACTIVE and every runtime has its stream."""
    deadline = time.monotonic() + SETTLE_LIMIT
    with grpc.insecure_channel(address) as channel:
        get_stats = channel.unary_unary(
            workload.SERVICE + "GetStats", response_deserializer=pb.GetStatsResponse.FromString
        )
        while True:
            stats = get_stats(pb.GetStatsRequest().SerializeToString(), timeout=10)
            active = stats.status_distribution.get("ACTIVE", 0)
            if active >= agents and stats.heartbeat_streams >= runtimes:
                return stats
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"after {SETTLE_LIMIT} s: {active}/{agents} ACTIVE, {stats.heartbeat_streams}/{runtimes} streams"
                )
            time.sleep(0.05)
