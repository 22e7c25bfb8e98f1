"""Scenario 10: routing a simulated fleet (20 agents of capacity 4, heavy-tailed task times, 8 routers at 70% and
90% of capacity): random among FindAgents' ACTIVE agents, round robin, and SelectAgent p2c with reservations
(polling, and waiting in the daemon's line); task latency with queueing, rejections, and what a selection costs.

The agents live in this process: an agent at its capacity rejects a task. Every strategy gets the same
arrivals (one seeded sequence per load) and the same retry rule: a task that could not be placed (its agent
rejected it, or SelectAgent answered none) tries again after an exponential backoff with full jitter; a
task still unplaced after GIVE_UP seconds is dropped, and counted in the latencies at that time. Latency is
from arrival to the end of the work, so queueing counts for all. Workers report load on unary heartbeats
every REPORT_INTERVAL, as an SDK worker's beats would. Strategies take turns within each repetition, so a
noisy machine weighs on all of them; medians over the repetitions are reported. Everything is over loopback
gRPC to a registryd process, bounded in count and time."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from agentregistry.backoff import Backoff
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc as pb_grpc
from google.protobuf.duration_pb2 import Duration

from bench.context import Context
from bench.plan import Row
from bench.stats import percentile

AGENTS = 20
RUNTIMES = 5
CAPACITY = 4
ROUTERS = 8
MEAN_TASK = 0.5  # seconds; Pareto with alpha 2 (heavy tail: the p99 task is about 5x the mean)
PARETO_ALPHA = 2.0
LOADS = (0.7, 0.9)
RETRY_FIRST = 0.01  # seconds: the first retry's backoff ceiling (full jitter), doubling per retry
RETRY_CAP = 0.2
GIVE_UP = 30.0  # seconds a task may stay unplaced
WAIT = 5.0  # seconds SelectAgent may hold a call in its line (then the task backs off as any other)
REPORT_INTERVAL = 0.1
CAPABILITY = "code generation"
RANDOM, ROUND_ROBIN, P2C, P2C_WAIT = (
    "random (FindAgents)",
    "round robin (FindAgents)",
    "SelectAgent p2c + reservations",
    "SelectAgent p2c + reservations + wait",
)
STRATEGIES = (RANDOM, ROUND_ROBIN, P2C, P2C_WAIT)
LIVENESS = ["--heartbeat-timeout", "3", "--auto-deregister-timeout", "60"]


@dataclass
class SimAgent:
    agent_id: str
    runtime_id: str
    in_flight: int = 0


@dataclass(frozen=True)
class Arrival:
    router: int
    at: float  # seconds from the start
    work: float  # seconds


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)  # latency minus work: the queueing
    rejections: int = 0
    dropped: int = 0
    client_cpu: float = 0.0  # share of one core the simulating process used


@dataclass
class Summary:
    """Medians over repetitions."""

    tasks: float
    p50_ms: float
    p99_ms: float
    wait_p99_ms: float
    rejections_per_1000: float
    dropped: float
    client_cpu: float
    runs: int


def run(ctx: Context) -> list[Row]:
    seconds = ctx.sizes.routing_seconds
    repeats = ctx.sizes.routing_repeats
    daemon = ctx.start_registryd(LIVENESS + ctx.store_args("memory"))
    try:
        results = asyncio.run(_all(daemon.address, seconds, repeats))
        daemon_cpu = daemon.cpu_seconds()
    finally:
        daemon.stop()
    summaries = {key: summarize(outcomes) for key, outcomes in results["runs"].items()}
    rows = [
        Row(10, f"routing at {load:.0%} load: {strategy}", "p99 ms", s.p99_ms, detail=s.__dict__)
        for (strategy, load), s in summaries.items()
    ]
    for name, cost in results["idle_cost"].items():
        rows.append(Row(10, f"one call on an idle daemon, 20 agents: {name}", "us", cost))
    ctx.note(
        f"scenario 10: {AGENTS} agents x capacity {CAPACITY}, Pareto(alpha {PARETO_ALPHA}) task times with mean "
        f"{MEAN_TASK * 1000:.0f} ms, {ROUTERS} routers, {seconds:.0f} s of Poisson arrivals per run, {repeats} "
        f"repetitions (medians); an unplaced task retries after full-jitter backoff ({RETRY_FIRST * 1000:.0f} ms "
        f"doubling to {RETRY_CAP * 1000:.0f} ms), SelectAgent with wait holds it up to {WAIT:.0f} s; load "
        f"reported every {REPORT_INTERVAL * 1000:.0f} ms; the daemon used {daemon_cpu:.0f} CPU seconds in all"
    )
    print(table(summaries), flush=True)
    return rows


def summarize(outcomes: list[Outcome]) -> Summary:
    def median(of: Callable[[Outcome], float]) -> float:
        return round(statistics.median(of(o) for o in outcomes), 1)

    return Summary(
        median(lambda o: len(o.latencies)),
        median(lambda o: percentile(o.latencies, 50) * 1000),
        median(lambda o: percentile(o.latencies, 99) * 1000),
        median(lambda o: percentile(o.waits, 99) * 1000),
        median(lambda o: 1000 * o.rejections / max(1, len(o.latencies))),
        median(lambda o: o.dropped),
        median(lambda o: o.client_cpu * 100),
        len(outcomes),
    )


def table(summaries: dict[tuple[str, float], Summary]) -> str:
    lines = [
        "| load | strategy | tasks | p50 ms | p99 ms | p99 queueing ms | rejections / 1000 tasks | dropped "
        "| client CPU % |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (strategy, load), s in summaries.items():
        lines.append(
            f"| {load:.0%} | {strategy} | {s.tasks:.0f} | {s.p50_ms:.0f} | {s.p99_ms:.0f} | {s.wait_p99_ms:.0f} "
            f"| {s.rejections_per_1000:.0f} | {s.dropped:.0f} | {s.client_cpu:.0f} |"
        )
    return "\n".join(lines)


def arrivals(load: float, seconds: float) -> list[Arrival]:
    """The same Poisson arrivals and Pareto task times for every strategy at this load."""
    rng = random.Random(f"scenario 10 at {load}")
    rate = load * AGENTS * CAPACITY / MEAN_TASK / ROUTERS  # arrivals per second per router
    scale = MEAN_TASK * (PARETO_ALPHA - 1) / PARETO_ALPHA
    sequence = []
    for router in range(ROUTERS):
        at = rng.expovariate(rate)
        while at < seconds:
            sequence.append(Arrival(router, at, scale * rng.paretovariate(PARETO_ALPHA)))
            at += rng.expovariate(rate)
    return sorted(sequence, key=lambda a: a.at)


async def _all(address: str, seconds: float, repeats: int) -> dict[str, Any]:
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
            "FindAgents": await _median_call_us(stub.FindAgents, pb.FindAgentsRequest(capability=CAPABILITY)),
            "SelectAgent (p2c)": await _median_call_us(
                stub.SelectAgent, pb.SelectAgentRequest(capability=CAPABILITY)
            ),
        }
        runs: dict[tuple[str, float], list[Outcome]] = {}
        for load in LOADS:
            sequence = arrivals(load, seconds)
            for repeat in range(repeats):
                for strategy in STRATEGIES:
                    print(f"      routing: {strategy} at {load:.0%} ({repeat + 1}/{repeats})", flush=True)
                    outcome = await _simulate(stub, agents, strategy, sequence, seconds, repeat)
                    runs.setdefault((strategy, load), []).append(outcome)
        return {"runs": runs, "idle_cost": idle_cost}


async def _median_call_us(method: Any, request: Any, calls: int = 300, rounds: int = 5) -> float:
    means = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            await method(request)
        means.append(1e6 * (time.perf_counter() - started) / calls)
    return round(statistics.median(means), 1)


async def _simulate(
    stub: Any, agents: list[SimAgent], strategy: str, sequence: list[Arrival], seconds: float, repeat: int
) -> Outcome:
    outcome = Outcome()
    by_id = {a.agent_id: a for a in agents}
    ids = sorted(by_id)
    rng = random.Random(f"{strategy} {repeat}")  # choices and jitter: independent of the arrivals
    cursors = [router * 3 for router in range(ROUTERS)]  # round-robin routers start at different agents
    find = pb.FindAgentsRequest(capability=CAPABILITY)
    select = pb.SelectAgentRequest(
        capability=CAPABILITY,
        reserve=True,
        wait_timeout=Duration(seconds=int(WAIT)) if strategy == P2C_WAIT else None,
    )
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

    async def choose(router: int) -> tuple[str, str]:
        """An agent id (empty: none) and the reservation to release."""
        if strategy in (P2C, P2C_WAIT):
            answer = await stub.SelectAgent(select, timeout=WAIT + 30)
            return answer.agent.agent_id, answer.reservation.reservation_id
        found = await stub.FindAgents(find)
        active = [m.agent.agent_id for m in found.matches]
        if strategy == RANDOM:
            return rng.choice(active), ""
        cursors[router] += 1
        return ids[cursors[router] % len(ids)], ""

    async def task(arrival: Arrival, arrived: float) -> None:
        backoff = Backoff(RETRY_FIRST, RETRY_CAP)
        while True:
            chosen, reservation = await choose(arrival.router)
            agent = by_id.get(chosen)
            if agent is not None and agent.in_flight < CAPACITY:
                agent.in_flight += 1
                try:
                    await asyncio.sleep(arrival.work)
                finally:
                    agent.in_flight -= 1
                done = time.perf_counter() - arrived
                outcome.latencies.append(done)
                outcome.waits.append(max(0.0, done - arrival.work))
                if reservation:
                    await stub.ReleaseReservation(
                        pb.ReleaseReservationRequest(
                            reservation_id=reservation, outcome=pb.RESERVATION_OUTCOME_OK
                        )
                    )
                return
            if agent is not None:
                outcome.rejections += 1  # sent to a full agent, which refused it
            if reservation:
                await stub.ReleaseReservation(pb.ReleaseReservationRequest(reservation_id=reservation))
            if time.perf_counter() - arrived >= GIVE_UP:
                outcome.dropped += 1
                outcome.latencies.append(time.perf_counter() - arrived)
                outcome.waits.append(time.perf_counter() - arrived)
                return
            await asyncio.sleep(backoff.next_delay())

    reporter = asyncio.create_task(report())
    tasks: set[asyncio.Task[None]] = set()
    cpu_started, started = time.process_time(), time.perf_counter()
    for arrival in sequence:
        await asyncio.sleep(max(0.0, started + arrival.at - time.perf_counter()))
        spawned = asyncio.create_task(task(arrival, time.perf_counter()))
        tasks.add(spawned)
        spawned.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tuple(tasks), timeout=GIVE_UP + 60)
    outcome.client_cpu = (time.process_time() - cpu_started) / (time.perf_counter() - started)
    stop.set()
    await reporter
    for leftover in tuple(tasks):
        leftover.cancel()
    return outcome
