"""Scenario 5: one event to 1,000 subscribers: delivery latency against the no-op fan-out."""

from __future__ import annotations

import time
from typing import Any

import grpc
from agentregistry.v1 import registry_pb2 as pb

from bench import events, unary, workload
from bench.context import Context
from bench.noop import echo_pb2 as echo_pb
from bench.plan import Row
from bench.s1_unary import CALM_LIVENESS
from bench.stats import latency_ms, ratio

GOAL = 1.2
SUBSCRIBERS_PER_CONNECTION = 10
GAP = 0.5  # seconds between events, so each is delivered to everyone before the next


def run(ctx: Context) -> list[Row]:
    n, count = ctx.sizes.subscribers, ctx.sizes.fanout_events
    daemon = ctx.start_registryd(CALM_LIVENESS + ctx.store_args("memory"))
    try:
        unary.register_agents(ctx.pool, daemon.address, 0, 1)
        with grpc.insecure_channel(daemon.address) as channel:
            update = channel.unary_unary(workload.SERVICE + "UpdateAgentStatus")

            def trigger(i: int) -> None:
                status = pb.AGENT_STATUS_DEGRADED if i % 2 == 0 else pb.AGENT_STATUS_ACTIVE
                request = pb.UpdateAgentStatusRequest(agent_id=workload.agent_id(0), status=status)
                update(request.SerializeToString(), timeout=10)

            mine, event_bytes = _deliver(ctx, events.Feed(daemon.address, noop=False), trigger)
    finally:
        daemon.stop()
    noop = ctx.start_noop()
    try:
        with grpc.insecure_channel(noop.address) as channel:
            publish = channel.unary_unary(workload.ECHO + "Publish")
            request = echo_pb.PublishRequest(size=event_bytes).SerializeToString()
            ceiling, _ = _deliver(
                ctx, events.Feed(noop.address, noop=True), lambda i: publish(request, timeout=10)
            )
    finally:
        noop.stop()
    ctx.latencies[f"one event to {n} subscribers"] = (mine, ceiling)
    ours, theirs = latency_ms(mine), latency_ms(ceiling)
    r = ratio(ours["p99_ms"], theirs["p99_ms"])
    return [
        Row(
            5,
            f"one event to {n} subscribers ({count} events of {event_bytes} B): delivery p99",
            "ms",
            ours["p99_ms"],
            theirs["p99_ms"],
            r,
            f"<= {GOAL}",
            r <= GOAL,
            {"registryd": ours, "noop": theirs},
        )
    ]


def _deliver(ctx: Context, feed: events.Feed, trigger: Any) -> tuple[list[float], int]:
    """Subscribe everyone (two workers), fire the events one by one, return every delivery latency."""
    n, count = ctx.sizes.subscribers, ctx.sizes.fanout_events
    reports = ctx.manager().Queue()
    time_limit = 60 + count * GAP * 4
    jobs = [
        ctx.pool.submit(
            events.fanout_worker, feed, share, SUBSCRIBERS_PER_CONNECTION, count, reports, time_limit
        )
        for share in (n // 2, n - n // 2)
    ]
    for _ in jobs:
        reports.get(timeout=time_limit)
    fired = []
    for i in range(count):
        time.sleep(GAP)
        fired.append(time.monotonic())
        trigger(i)
    results = [job.result(timeout=time_limit) for job in jobs]
    latencies = [t - fired[i] for r in results for i, arrivals in enumerate(r["arrivals"]) for t in arrivals]
    return latencies, max(r["event_bytes"] for r in results)
