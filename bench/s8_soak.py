"""Scenario 8 (bench-full): soak. 10,000 agents on 1,000 runtime streams beating every 10 s with
heartbeat_timeout 30 s, plus a trickle of routers that register, find and subscribe. Counts UNHEALTHY
transitions nobody caused (goal 0), the daemon's event-loop lag and its RSS drift."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from agentregistry.v1 import registry_pb2 as pb

from bench import fleet, restart_100k, workload
from bench.context import Context
from bench.plan import Row
from bench.stats import latency_ms

HEARTBEAT = ["--heartbeat-timeout", "30", "--auto-deregister-timeout", "60"]
BEAT_INTERVAL = 10.0
TRICKLE_EVERY = 5.0  # a router joins every 5 s ...
TRICKLE_LIFETIME = 30.0  # ... and stays 30 s, finding every 2 s


def fleet_args(runtimes: int, agents: int) -> list[str]:
    """The daemon's flags for a fleet of `agents` on `runtimes` streams. The fleet stands in for that many
    machines but dials from one address, 127.0.0.1, which the daemon takes for one caller: without room for
    all of them (and the routers), every stream past max_streams_per_caller (2,000) is refused and retried
    forever. The routers' own agents need room beside a fleet of max_agents (1M) too."""
    return [
        *HEARTBEAT,
        "--max-streams-per-caller",
        str(runtimes + 1000),
        "--max-agents",
        str(max(agents + 1000, 1_000_000)),
    ]


@dataclass
class Fleet:
    """Runtimes kept alive by the SDK in two worker processes."""

    jobs: list[Future[Any]]
    stop: Any
    runtimes: int
    agents: int

    def finish(self) -> dict[str, int]:
        """Stop every runtime (a half-close each: their agents turn OFFLINE); the reconnect counts."""
        self.stop.set()
        timeout = 120.0 + self.agents / 5000  # the daemon writes every agent's OFFLINE
        results = [job.result(timeout=timeout) for job in self.jobs]
        return {key: sum(r[key] for r in results) for key in ("attempted", "failed", "reregistered")}


def start_fleet(
    ctx: Context, address: str, runtimes: int, agents: int, time_limit: float, preloaded: bool = False
) -> Fleet:
    manager = ctx.manager()
    reports, stop = manager.Queue(), manager.Event()
    per_runtime = agents // runtimes
    shares = [range(runtimes)[w::2] for w in range(2)]
    jobs = [
        ctx.pool.submit(
            fleet.fleet_worker,
            address,
            list(share),
            per_runtime,
            BEAT_INTERVAL,
            reports,
            stop,
            time_limit,
            preloaded,
        )
        for share in shares
    ]
    for _ in jobs:
        reports.get(timeout=600)
    return Fleet(jobs, stop, runtimes, per_runtime * runtimes)


@dataclass
class StatusWatch:
    """A subscriber in the parent that counts every AGENT_STATUS_CHANGED by new status and reason."""

    address: str
    counts: Counter[str] = field(default_factory=Counter)
    unhealthy: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._channel = grpc.insecure_channel(self.address)
        request = pb.SubscribeRequest(types=[pb.EVENT_TYPE_AGENT_STATUS_CHANGED])
        self._call = self._channel.unary_stream(
            workload.SERVICE + "Subscribe",
            request_serializer=pb.SubscribeRequest.SerializeToString,
            response_deserializer=pb.SubscribeResponse.FromString,
        )(request)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for message in self._call:
                if message.WhichOneof("kind") != "event":
                    continue
                event = message.event
                self.counts[
                    f"{pb.AgentStatus.Name(event.new_status)}/{pb.StatusReason.Name(event.status_reason)}"
                ] += 1
                if event.new_status == pb.AGENT_STATUS_UNHEALTHY:
                    self.unhealthy.append(event.agent_id)
        except grpc.RpcError:
            pass

    def close(self) -> None:
        self._call.cancel()
        self._thread.join(5)
        self._channel.close()


def run(ctx: Context) -> list[Row]:
    sizes = ctx.sizes
    if not sizes.soak_seconds:
        return []
    lag_file = ctx.workdir / "soak-lag.txt"
    stall_file = ctx.workdir / "soak-stalls.txt"
    data_dir = ctx.workdir / "soak-data"
    if sizes.soak_preload:
        started = time.monotonic()
        asyncio.run(restart_100k.build(data_dir, sizes.soak_agents, sizes.soak_agents // sizes.soak_runtimes))
        ctx.note(
            f"soak: {sizes.soak_agents:,} agents built into the store in {time.monotonic() - started:.0f} s"
        )
    daemon = ctx.start_registryd(
        fleet_args(sizes.soak_runtimes, sizes.soak_agents) + ctx.store_args("sqlite", data_dir),
        module="bench.lagged_daemon",
        env={"BENCH_LAG_FILE": str(lag_file), "BENCH_STALL_FILE": str(stall_file)},
    )
    watch = runtimes = None
    trickle_stop = ctx.manager().Event()
    try:
        time_limit = sizes.soak_seconds + 600
        runtimes = start_fleet(
            ctx, daemon.address, sizes.soak_runtimes, sizes.soak_agents, time_limit, sizes.soak_preload
        )
        watch = StatusWatch(daemon.address)
        trickle = (
            ctx.pool.submit(
                fleet.trickle_worker,
                daemon.address,
                TRICKLE_EVERY,
                TRICKLE_LIFETIME,
                trickle_stop,
                time_limit,
            )
            if sizes.soak_routers
            else None
        )
        lag_lines_before, stall_lines_before = _lines(lag_file), _lines(stall_file)
        rss, cpu_start, started = [daemon.rss_bytes()], daemon.cpu_seconds(), time.monotonic()
        ctx.note(
            f"soak: {runtimes.agents} agents on {runtimes.runtimes} streams ready; soaking {sizes.soak_seconds:.0f} s"
        )
        while time.monotonic() - started < sizes.soak_seconds:
            time.sleep(min(10.0, sizes.soak_seconds - (time.monotonic() - started)))
            rss.append(daemon.rss_bytes())
        cpu_percent = (daemon.cpu_seconds() - cpu_start) / (time.monotonic() - started) * 100
        soaked = slice(lag_lines_before, _lines(lag_file)), slice(stall_lines_before, _lines(stall_file))
        trickle_stop.set()
        trickled = trickle.result(timeout=TRICKLE_LIFETIME + 60) if trickle else "no routers"
        false_unhealthy = len(watch.unhealthy)
        transitions = dict(watch.counts)
        try:
            fleet_counts: dict[str, Any] = runtimes.finish()
        except TimeoutError:  # the soak's figures stand; only the reconnect counts are lost
            fleet_counts = {"error": "the fleet did not stop in time"}
    finally:
        trickle_stop.set()
        if runtimes is not None:
            runtimes.stop.set()
        if watch is not None:
            watch.close()
        daemon.stop()
    lags = [float(x) for line in _read_lines(lag_file)[soaked[0]] for x in line.split()]
    stalls = Counter(_read_lines(stall_file)[soaked[1]])
    lag = latency_ms(lags)
    drift_mb = (rss[-1] - rss[0]) / 2**20
    shape = f"{runtimes.agents} agents / {runtimes.runtimes} streams, {sizes.soak_seconds / 60:.0f} min"
    if not sizes.soak_routers:
        shape += ", no routers"
    detail = {
        "transitions": transitions,
        "trickle": trickled,
        "fleet": fleet_counts,
        "rss_mb": [round(r / 2**20, 1) for r in rss],
        "stalls": sum(stalls.values()),
        "stall_stacks": stalls.most_common(8),  # what held the loop 20 ms into each stall
    }
    return [
        Row(
            8,
            f"soak ({shape}): false UNHEALTHY transitions",
            "transitions",
            false_unhealthy,
            None,
            None,
            "0",
            false_unhealthy == 0,
            detail,
        ),
        Row(
            8,
            "  soak: daemon event-loop lag p99 (p50 / max in detail)",
            "ms",
            lag["p99_ms"],
            None,
            None,
            "",
            None,
            {"lag": lag},
        ),
        Row(
            8,
            "  soak: daemon RSS drift over the run",
            "MB",
            round(drift_mb, 1),
            None,
            None,
            "",
            None,
            {"start_mb": round(rss[0] / 2**20, 1), "end_mb": round(rss[-1] / 2**20, 1)},
        ),
        Row(8, "  soak: daemon CPU", "% of a core", round(cpu_percent, 1)),
    ]


def _read_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _lines(path: Path) -> int:
    return len(_read_lines(path))
