"""Scenario 2: HeartbeatStream messages/s over 100 ping-pong streams against the no-op bidi echo."""

from __future__ import annotations

import time

import grpc

from bench import streams, unary, workload
from bench.context import Context
from bench.plan import Row
from bench.s1_unary import CALM_LIVENESS
from bench.stats import latency_ms, ratio

AGENTS_PER_STREAM = 10  # a runtime's agents share its stream, as in the soak
GOAL = 0.8


def run(ctx: Context) -> list[Row]:
    n = ctx.sizes.echo_streams
    daemon = ctx.start_registryd(CALM_LIVENESS + ctx.store_args("memory"))
    noop = ctx.start_noop()
    try:
        unary.register_agents(ctx.pool, daemon.address, 0, n * AGENTS_PER_STREAM, AGENTS_PER_STREAM)
        binds = streams.bind_messages(n, AGENTS_PER_STREAM)
        beat = workload.beat_message()
        ack_size = stream_reply_size(daemon.address, binds[0], beat)
        mine = _measure(ctx, daemon.address, workload.SERVICE + "HeartbeatStream", binds, beat)
        echo_first = [workload.echo_request(len(binds[0]), ack_size)] * n
        echo_beat = workload.echo_request(len(beat), ack_size)
        ceiling = _measure(ctx, noop.address, workload.ECHO + "EchoStream", echo_first, echo_beat)
    finally:
        daemon.stop()
        noop.stop()
    ctx.latencies[f"HeartbeatStream ping-pong, {n} streams"] = (
        mine.pop("latencies"),
        ceiling.pop("latencies"),
    )
    r = ratio(mine["rate"], ceiling["rate"])
    return [
        Row(
            2,
            f"HeartbeatStream beats over {n} streams ({AGENTS_PER_STREAM} agents each)",
            "msgs/s",
            mine["rate"],
            ceiling["rate"],
            r,
            f">= {GOAL}",
            r >= GOAL,
            {"registryd": mine, "noop": ceiling, "ack_bytes": ack_size},
        )
    ]


def stream_reply_size(address: str, first: bytes, beat: bytes) -> int:
    """The size of registryd's answer to a beat, for sizing the echo."""
    with grpc.insecure_channel(address) as channel:
        replies = channel.stream_stream(workload.SERVICE + "HeartbeatStream")(iter([first, beat]), timeout=10)
        return len(list(replies)[-1])


def _measure(ctx: Context, address: str, method: str, first: list[bytes], beat: bytes) -> dict:
    loads = streams.stream_pairs(
        address, method, first, beat, 2, start_at=time.monotonic() + 1.0, duration=ctx.sizes.window * 2
    )
    results = list(ctx.pool.map(streams.pingpong_worker, loads))
    count = sum(r["count"] for r in results)
    elapsed = max(r["elapsed"] for r in results)
    latencies = [x for r in results for x in r["latencies"]]
    return {
        "rate": round(count / elapsed, 1),
        "messages": count,
        **latency_ms(latencies),
        "latencies": latencies,
    }
