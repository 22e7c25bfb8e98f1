"""Scenario 10: routing a simulated fleet (20 agents of capacity 4, heavy-tailed task times, 8 routers at 70%
and 90% of capacity): random among FindAgents' ACTIVE agents, round robin, and SelectAgent p2c with
reservations; task latency with queueing, rejections, and what a selection costs.

The agents live in this process: an agent at its capacity rejects a task, and its router chooses again
after RETRY_DELAY (the rejection and the wait count in the task's latency). Workers report their load on
unary heartbeats every REPORT_INTERVAL, as an SDK worker's beats would. Everything is over loopback gRPC
to a registryd process, bounded in count and time."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

import grpc
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc as pb_grpc

from bench.context import Context
from bench.plan import Row
from bench.stats import percentile

AGENTS = 20
RUNTIMES = 5
CAPACITY = 4
ROUTERS = 8
MEAN_TASK = 0.5  # seconds; Pareto with alpha 2 (heavy tail: the p99 task is about 7x the mean)
PARETO_ALPHA = 2.0
LOADS = (0.7, 0.9)
RETRY_DELAY = 0.005
MAX_ATTEMPTS = 200  # a task still rejected after this many tries is dropped (counted)
REPORT_INTERVAL = 0.1
CAPABILITY = "code generation"
STRATEGIES = ("random (FindAgents)", "round robin (FindAgents)", "SelectAgent p2c + reservations")
LIVENESS = ["--heartbeat-timeout", "3", "--auto-deregister-timeout", "60"]


@dataclass
class SimAgent:
    agent_id: str
    runtime_id: str
    in_flight: int = 0


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    rejections: int = 0
    dropped: int = 0
    select_seconds: list[float] = field(default_factory=list)


def run(ctx: Context) -> list[Row]:
    seconds = ctx.sizes.routing_seconds
    daemon = ctx.start_registryd(LIVENESS + ctx.store_args("memory"))
    try:
        results = asyncio.run(_all(daemon.address, seconds))
    finally:
        daemon.stop()
    rows = []
    for (strategy, load), outcome in results["runs"].items():
        done = len(outcome.latencies)
        rows.append(
            Row(
                10,
                f"routing at {load:.0%} load: {strategy}",
                "p99 ms",
                round(percentile(outcome.latencies, 99) * 1000, 1),
                detail={
                    "p50_ms": round(percentile(outcome.latencies, 50) * 1000, 1),
                    "p99_ms": round(percentile(outcome.latencies, 99) * 1000, 1),
                    "tasks": done,
                    "rejections": outcome.rejections,
                    "rejections_per_1000_tasks": round(1000 * outcome.rejections / max(1, done), 1),
                    "dropped": outcome.dropped,
                    "selection_us_mean": round(
                        1e6 * sum(outcome.select_seconds) / max(1, len(outcome.select_seconds))
                    ),
                },
            )
        )
    for name, cost in results["idle_cost"].items():
        rows.append(Row(10, f"one call on an idle daemon, 20 agents: {name}", "us", cost))
    ctx.note(
        f"scenario 10: {AGENTS} agents x capacity {CAPACITY}, Pareto(alpha {PARETO_ALPHA}) task times with mean "
        f"{MEAN_TASK * 1000:.0f} ms, {ROUTERS} routers, {seconds:.0f} s of Poisson arrivals per run; a rejected "
        f"task is retried after {RETRY_DELAY * 1000:.0f} ms; load reported every {REPORT_INTERVAL * 1000:.0f} ms"
    )
    print(table(results["runs"]), flush=True)
    return rows


def table(runs: dict[tuple[str, float], Outcome]) -> str:
    lines = [
        "| load | strategy | tasks | p50 ms | p99 ms | rejections / 1000 tasks | dropped | selection us (mean) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (strategy, load), o in runs.items():
        n = len(o.latencies)
        lines.append(
            f"| {load:.0%} | {strategy} | {n} | {percentile(o.latencies, 50) * 1000:.0f} | "
            f"{percentile(o.latencies, 99) * 1000:.0f} | {1000 * o.rejections / max(1, n):.0f} | {o.dropped} | "
            f"{1e6 * sum(o.select_seconds) / max(1, len(o.select_seconds)):.0f} |"
        )
    return "\n".join(lines)


async def _all(address: str, seconds: float) -> dict[str, Any]:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.RegistryServiceStub(channel)
        agents = [SimAgent(f"sim-{i:02d}", f"sim-rt-{i % RUNTIMES}") for i in range(AGENTS)]
        card = pb.AgentCard(name="coder")
        for agent in agents:
            await stub.RegisterAgent(
                pb.RegisterAgentRequest(
                    agent_id=agent.agent_id, runtime_id=agent.runtime_id, card=card, capabilities=[CAPABILITY]
                )
            )
        idle_cost = {
            "FindAgents": await _mean_call_us(stub.FindAgents, pb.FindAgentsRequest(capability=CAPABILITY)),
            "SelectAgent (p2c)": await _mean_call_us(
                stub.SelectAgent, pb.SelectAgentRequest(capability=CAPABILITY)
            ),
        }
        runs: dict[tuple[str, float], Outcome] = {}
        for load in LOADS:
            for strategy in STRATEGIES:
                print(f"      routing: {strategy} at {load:.0%}", flush=True)
                runs[strategy, load] = await _simulate(stub, agents, strategy, load, seconds)
        return {"runs": runs, "idle_cost": idle_cost}


async def _mean_call_us(method: Any, request: Any, calls: int = 500) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        await method(request)
    return round(1e6 * (time.perf_counter() - started) / calls, 1)


async def _simulate(stub: Any, agents: list[SimAgent], strategy: str, load: float, seconds: float) -> Outcome:
    outcome = Outcome()
    by_id = {a.agent_id: a for a in agents}
    rng = random.Random(15)
    rate = load * AGENTS * CAPACITY / MEAN_TASK / ROUTERS  # arrivals per second per router
    scale = MEAN_TASK * (PARETO_ALPHA - 1) / PARETO_ALPHA
    tasks: set[asyncio.Task[None]] = set()
    stop = asyncio.Event()

    async def report() -> None:
        while not stop.is_set():
            for runtime in {a.runtime_id for a in agents}:
                loads = [
                    pb.LoadReport(agent_ids=[a.agent_id], in_flight=a.in_flight, max_concurrency=CAPACITY)
                    for a in agents
                    if a.runtime_id == runtime
                ]
                await stub.Heartbeat(pb.HeartbeatRequest(runtime_id=runtime, loads=loads))
            await asyncio.sleep(REPORT_INTERVAL)

    async def task(cursor: list[int], arrived: float, work: float) -> None:
        for _ in range(MAX_ATTEMPTS):
            started = time.perf_counter()
            reservation = ""
            if strategy.startswith("SelectAgent"):
                answer = await stub.SelectAgent(pb.SelectAgentRequest(capability=CAPABILITY, reserve=True))
                chosen = answer.agent.agent_id if answer.HasField("agent") else ""
                reservation = answer.reservation.reservation_id
            else:
                found = await stub.FindAgents(pb.FindAgentsRequest(capability=CAPABILITY))
                ids = [m.agent.agent_id for m in found.matches]
                if strategy.startswith("random"):
                    chosen = rng.choice(ids)
                else:
                    cursor[0] += 1
                    chosen = sorted(ids)[cursor[0] % len(ids)]
            outcome.select_seconds.append(time.perf_counter() - started)
            agent = by_id.get(chosen)
            if agent is not None and agent.in_flight < CAPACITY:
                agent.in_flight += 1
                try:
                    await asyncio.sleep(work)
                finally:
                    agent.in_flight -= 1
                if reservation:
                    await stub.ReleaseReservation(
                        pb.ReleaseReservationRequest(
                            reservation_id=reservation, outcome=pb.RESERVATION_OUTCOME_OK
                        )
                    )
                outcome.latencies.append(time.perf_counter() - arrived)
                return
            if agent is not None:
                outcome.rejections += 1  # the agent was full: the router chose it anyway
            if reservation:
                await stub.ReleaseReservation(pb.ReleaseReservationRequest(reservation_id=reservation))
            await asyncio.sleep(RETRY_DELAY)
        outcome.dropped += 1

    async def router(index: int) -> None:
        cursor = [index * 3]  # round-robin routers start at different agents
        deadline = time.perf_counter() + seconds
        next_at = time.perf_counter()
        while True:
            next_at += rng.expovariate(rate)
            if next_at >= deadline:
                return
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            work = scale * rng.paretovariate(PARETO_ALPHA)
            spawned = asyncio.create_task(task(cursor, time.perf_counter(), work))
            tasks.add(spawned)
            spawned.add_done_callback(tasks.discard)

    reporter = asyncio.create_task(report())
    await asyncio.gather(*(router(i) for i in range(ROUTERS)))
    if tasks:
        await asyncio.wait(tuple(tasks), timeout=60)
    stop.set()
    await reporter
    for leftover in tuple(tasks):
        leftover.cancel()
    return outcome
