"""Scenario 1: GetAgent, Heartbeat, FindAgents and RegisterAgent (memory and sqlite stores) at 1, 16
and 64 in flight against the no-op Echo, measured back to back so both see the same machine load."""

from __future__ import annotations

import time
from dataclasses import replace

from bench import unary, workload
from bench.context import Context
from bench.plan import Row
from bench.unary import Load

# Nothing may expire while the benchmark loads and reads agents that nobody heartbeats.
CALM_LIVENESS = ["--heartbeat-timeout", "3600", "--auto-deregister-timeout", "7200"]

READS = (("GetAgent", "get", 0.8), ("Heartbeat", "heartbeat", 0.8), ("FindAgents", "find", 0.8))
REGISTER_GOAL = 0.6


def run(ctx: Context) -> list[Row]:
    rows: list[Row] = []
    noop = ctx.start_noop()
    try:
        rows += _memory_store(ctx, noop.address)
        if ctx.has_store("sqlite"):
            rows += _sqlite_store(ctx, noop.address)
        else:
            ctx.note("RegisterAgent (sqlite) skipped: this registryd has no --store sqlite yet")
    finally:
        noop.stop()
    return rows


def _memory_store(ctx: Context, noop: str) -> list[Row]:
    sizes = ctx.sizes
    rows: list[Row] = []
    daemon = ctx.start_registryd(CALM_LIVENESS + ctx.store_args("memory"))
    try:
        loaded = unary.register_agents(ctx.pool, daemon.address, 0, sizes.agents)
        ctx.note(f"loaded {sizes.agents} agents at {loaded['rps']} registrations/s (2 clients, 64 in flight)")
        for method, kind, goal in READS:
            request = unary.requests_for(Load("", "", kind, 0, 1))[0]
            request_size, reply_size = unary.message_sizes(daemon.address, method, request)
            for in_flight in sizes.in_flight:
                ours = Load(daemon.address, workload.SERVICE + method, kind, 0, sizes.agents, in_flight)
                rows.append(_pair(ctx, method, ours, noop, request_size, reply_size, goal))
            if ctx.h2load:
                rows.extend(_h2load_pair(ctx, method, daemon.address, noop, request, reply_size, goal))
        for i, in_flight in enumerate(sizes.in_flight):
            first = sizes.agents + i * _register_range(ctx)
            rows.append(_register_pair(ctx, "memory", daemon.address, noop, in_flight, first))
    finally:
        daemon.stop()
    return rows


def _sqlite_store(ctx: Context, noop: str) -> list[Row]:
    rows: list[Row] = []
    daemon = ctx.start_registryd(CALM_LIVENESS + ctx.store_args("sqlite"))
    try:
        for i, in_flight in enumerate(ctx.sizes.in_flight):
            rows.append(
                _register_pair(ctx, "sqlite", daemon.address, noop, in_flight, i * _register_range(ctx))
            )
    finally:
        daemon.stop()
    return rows


def _register_range(ctx: Context) -> int:
    return int(5000 * ctx.sizes.window) + 1000  # more than any client can send in one window


def _register_pair(ctx: Context, store: str, address: str, noop: str, in_flight: int, first: int) -> Row:
    request = workload.register_request(first + 10_000_000)
    request_size, reply_size = unary.message_sizes(address, "RegisterAgent", request)
    ours = Load(
        address,
        workload.SERVICE + "RegisterAgent",
        "register",
        first,
        first + _register_range(ctx),
        in_flight,
    )
    return _pair(
        ctx,
        f"RegisterAgent ({store})",
        replace(ours, unique=True),
        noop,
        request_size,
        reply_size,
        REGISTER_GOAL,
    )


def _pair(
    ctx: Context, name: str, ours: Load, noop_address: str, request_size: int, reply_size: int, goal: float
) -> Row:
    workers = 1 if ours.in_flight == 1 else 2
    lead = 1.0 if ours.unique else 0.5  # time to build the requests and connect before the clock starts
    ours = replace(ours, start_at=time.monotonic() + lead, duration=ctx.sizes.window)
    mine = unary.run_load(ctx.pool, unary.split(ours, workers))
    echo = Load(
        noop_address,
        workload.ECHO + "Echo",
        "echo",
        in_flight=ours.in_flight,
        start_at=time.monotonic() + 0.5,
        duration=ctx.sizes.window,
        request_size=request_size,
        reply_size=reply_size,
    )
    ceiling = unary.run_load(ctx.pool, unary.split(echo, workers))
    ctx.latencies[f"{name} @{ours.in_flight}"] = (mine.pop("latencies"), ceiling.pop("latencies"))  # type: ignore[arg-type]
    r = unary.compare(mine, ceiling)
    return Row(
        1,
        f"{name} @{ours.in_flight} in flight",
        "req/s",
        mine["rps"],  # type: ignore[arg-type]
        ceiling["rps"],  # type: ignore[arg-type]
        r,
        f">= {goal}",
        r >= goal,
        {
            "registryd": _summary(mine),
            "noop": _summary(ceiling),
            "request_bytes": request_size,
            "reply_bytes": reply_size,
            "client": "python grpc.aio",
        },
    )


def _h2load_pair(
    ctx: Context, method: str, address: str, noop_address: str, request: bytes, reply_size: int, goal: float
) -> list[Row]:
    rows = []
    echo = workload.echo_request(len(request), reply_size)
    for in_flight in ctx.sizes.h2load_in_flight:
        mine = unary.h2load_rps(address, workload.SERVICE + method, request, in_flight, ctx.sizes.window)
        ceiling = unary.h2load_rps(noop_address, workload.ECHO + "Echo", echo, in_flight, ctx.sizes.window)
        r = round(mine / ceiling, 3) if ceiling else float("nan")
        rows.append(
            Row(
                1,
                f"{method} @{in_flight} in flight (h2load)",
                "req/s",
                mine,
                ceiling,
                r,
                f">= {goal}",
                r >= goal,
                {"client": "h2load, 1 connection"},
            )
        )
    return rows


def _summary(result: dict[str, object]) -> dict[str, object]:
    return {k: result[k] for k in ("rps", "p50_ms", "p99_ms", "max_ms", "errors", "error_codes")}
