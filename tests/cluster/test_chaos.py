"""Chaos on a three-member etcd and three replicas (real processes): SDK runtimes register, churn and beat
through `ipv4:A,B,C` while a replica or the etcd leader is killed, a replica is stopped past its lease, or
two replicas die at once. Afterwards: every acknowledged write is there, the surviving replicas'
subscribers saw one gap-free, duplicate-free revision sequence, no agent expired, and every runtime is
bound and ACTIVE again within RECOVERY_BOUND. `-s` prints the counts."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable

import pytest
from agentregistry import AgentRegistry, AgentRegistryConfig, AgentStatus, RegistryClient
from agentregistry.v1 import registry_pb2 as pb

from scripts.etcd_server import EtcdCluster
from tests.cluster.test_liveness import TTL, Replica
from tests.service.service_support import Subscriber, register

RUNTIMES = 3
AGENTS_PER_RUNTIME = 3
CHURN_STEPS = 40  # per runtime: register a new agent, deregister the one before (bounded in count)
HEARTBEAT_TIMEOUT = 2.0
AUTO_DEREGISTER = 10.0  # an agent unhealthy this long would expire: the runtimes must be back sooner
RECOVERY_BOUND = TTL + 5.0  # end of the fault -> every runtime bound and every agent ACTIVE
STOPPED_FOR = TTL + 1.5  # SIGSTOP past the replica's lease


@pytest.fixture
async def chaos(daemon_process, etcd3: EtcdCluster, prefix: str):
    made: list[Replica] = []

    def start(count: int, *args: str) -> list[Replica]:
        flags = (
            "--store", "etcd", "--etcd-endpoints", ",".join(etcd3.endpoints), "--etcd-prefix", prefix,
            "--etcd-timeout", "1", "--etcd-lease-ttl", str(TTL), "--bookmark-interval", "0.5", *args,
        )  # fmt: skip
        new = [Replica(daemon_process(*flags)) for _ in range(count)]
        made.extend(new)
        return new

    yield start
    for replica in made:
        if replica.process.proc.poll() is None:
            replica.process.proc.send_signal(signal.SIGCONT)
        await replica.close()


def card(name: str) -> dict[str, object]:
    return {"name": name, "description": "a chaos worker", "version": "1.0"}


class Ledger:
    """What each acknowledged registration or deregistration left: agent id -> registered or not."""

    def __init__(self) -> None:
        self.state: dict[str, bool] = {}
        self.acked = 0

    async def write(self, op: Callable[[], Awaitable[object]], agent_id: str, registered: bool) -> None:
        """Retry until acknowledged (registrations are idempotent; a deregistration whose answer was lost
        finds the agent gone), then record it."""
        deadline = time.monotonic() + 30
        while True:
            try:
                await op()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        self.state[agent_id] = registered
        self.acked += 1

    def present(self) -> set[str]:
        return {agent_id for agent_id, registered in self.state.items() if registered}


async def churn(runtime: AgentRegistry, runtime_id: str, ledger: Ledger, stop: asyncio.Event) -> None:
    previous = None
    for step in range(CHURN_STEPS):
        if stop.is_set():
            return
        agent_id = f"{runtime_id}-c{step}"
        await ledger.write(lambda a=agent_id: runtime.register_agent(card(a), runtime_id, a), agent_id, True)
        if previous is not None:
            await ledger.write(lambda a=previous: runtime.deregister_agent(a), previous, False)
        previous = agent_id
        await asyncio.sleep(0.05)


async def settled(replicas: list[Replica], runtime_ids: set[str]) -> bool:
    """Every runtime's stream held by one of `replicas` (GetStats' per-replica count), every runtime
    bound and every agent ACTIVE (the cluster-wide view of the first of them)."""
    streams = 0
    for replica in replicas:
        streams += (await replica.stub.GetStats(pb.GetStatsRequest())).heartbeat_streams
    async with RegistryClient(replicas[0].process.address) as client:
        agents = (await client.list_all_agents()).agents
        runtimes = (await client.list_runtimes()).runtimes
    bound = {r.runtime_id for r in runtimes if r.stream_connected}
    return (
        streams >= len(runtime_ids)
        and bound >= runtime_ids
        and all(agent.status is AgentStatus.ACTIVE for agent in agents)
    )


async def wait_settled(replicas: list[Replica], runtime_ids: set[str], bound: float) -> float:
    started = time.monotonic()
    while not await settled(replicas, runtime_ids):
        assert time.monotonic() - started < bound, f"not bound and ACTIVE within {bound} s"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


def busiest(replicas: list[Replica], stats: list[pb.GetStatsResponse], count: int) -> list[int]:
    """The `count` replicas holding the most heartbeat streams (a per-replica fact of GetStats)."""
    order = sorted(range(len(replicas)), key=lambda i: -stats[i].heartbeat_streams)
    return order[:count]


async def kill_a_replica(replicas, stats, etcd3) -> list[int]:
    (victim,) = busiest(replicas, stats, 1)
    replicas[victim].process.proc.send_signal(signal.SIGKILL)
    return [victim]


async def kill_the_etcd_leader(replicas, stats, etcd3) -> list[int]:
    etcd3.kill_leader()
    return []


async def stop_a_replica_past_its_lease(replicas, stats, etcd3) -> list[int]:
    (victim,) = busiest(replicas, stats, 1)
    proc = replicas[victim].process.proc
    proc.send_signal(signal.SIGSTOP)
    await asyncio.sleep(STOPPED_FOR)
    proc.send_signal(signal.SIGCONT)
    return []


async def kill_two_replicas(replicas, stats, etcd3) -> list[int]:
    victims = busiest(replicas, stats, 2)
    for victim in victims:
        replicas[victim].process.proc.send_signal(signal.SIGKILL)
    return victims


@pytest.mark.parametrize(
    "fault", [kill_a_replica, kill_the_etcd_leader, stop_a_replica_past_its_lease, kill_two_replicas]
)
async def test_chaos_loses_no_acknowledged_write_nor_event_and_expires_nobody(chaos, etcd3, fault):
    replicas = chaos(3)
    target = "ipv4:" + ",".join(r.process.address for r in replicas)
    watchers = [Subscriber(r.stub, pb.SubscribeRequest()) for r in replicas]
    first = [await watcher.started() for watcher in watchers]
    config = AgentRegistryConfig(
        target=target,
        load_balancing="round_robin",
        heartbeat_timeout=HEARTBEAT_TIMEOUT,
        auto_deregister_timeout=AUTO_DEREGISTER,
        reconnect_initial_backoff=0.05,
        reconnect_max_backoff=0.3,
        rpc_timeout=10.0,
    )
    runtime_ids = {f"rt{i}" for i in range(RUNTIMES)}
    runtimes = {runtime_id: AgentRegistry(config) for runtime_id in sorted(runtime_ids)}
    ledger, stop = Ledger(), asyncio.Event()
    try:
        for runtime_id, runtime in runtimes.items():
            await runtime.start()
            for i in range(AGENTS_PER_RUNTIME):
                agent_id = f"{runtime_id}-a{i}"
                await ledger.write(
                    lambda r=runtime, a=agent_id, rt=runtime_id: r.register_agent(card(a), rt, a),
                    agent_id,
                    True,
                )
        await wait_settled(replicas, runtime_ids, 10)
        stats = [await r.stub.GetStats(pb.GetStatsRequest()) for r in replicas]
        load = [
            asyncio.create_task(churn(runtime, runtime_id, ledger, stop))
            for runtime_id, runtime in runtimes.items()
        ]
        await asyncio.sleep(0.5)
        dead = await fault(replicas, stats, etcd3)
        fault_ended = time.monotonic()
        survivors = [i for i in range(len(replicas)) if i not in dead]
        alive = [replicas[i] for i in survivors]
        recovered = await wait_settled(alive, runtime_ids, RECOVERY_BOUND)
        # past every lease that ended in the fault: the re-bound sessions hold and nobody turned UNHEALTHY
        await asyncio.sleep(max(0.5, fault_ended + TTL + 1.5 - time.monotonic()))
        assert await settled(alive, runtime_ids)
        stop.set()
        await asyncio.gather(*load)

        # every acknowledged write, on every surviving replica
        expected = ledger.present()
        final = 0
        for i in survivors:
            async with RegistryClient(replicas[i].process.address) as client:
                listed = await client.list_all_agents()
                final = max(final, (await client.get_stats()).revision)
            assert {a.agent_id for a in listed.agents} == expected, i

        # the survivors' subscribers: one gap-free, duplicate-free sequence, the same everywhere
        seen: dict[int, list[pb.Event]] = {}
        for i in survivors:
            events: list[pb.Event] = []
            while not events or events[-1].revision < final:
                events.append((await watchers[i].event(10))[1])
            revisions = [e.revision for e in events]
            assert revisions == list(range(first[i] + 1, final + 1)), (i, revisions)
            seen[i] = events
        reference = seen[survivors[0]]
        for i in survivors[1:]:
            assert [(e.revision, e.type, e.agent_id) for e in seen[i]] == [
                (e.revision, e.type, e.agent_id) for e in reference
            ]
        # nobody expired (the runtimes kept beating), and each acknowledged write has its event
        expired = [e.agent_id for e in reference if e.deregister_reason == pb.DEREGISTER_REASON_EXPIRED]
        assert expired == []
        registered = {e.agent_id for e in reference if e.type == pb.EVENT_TYPE_AGENT_REGISTERED}
        deregistered = {e.agent_id for e in reference if e.type == pb.EVENT_TYPE_AGENT_DEREGISTERED}
        churned = {a for a in ledger.state if "-c" in a}
        assert churned <= registered and churned - expected <= deregistered
        unhealthy = sum(e.new_status == pb.AGENT_STATUS_UNHEALTHY for e in reference)
        print(
            f"\n{fault.__name__}: {ledger.acked} acknowledged writes checked, "
            f"{sum(len(e) for e in seen.values())} events checked on {len(survivors)} replica(s), "
            f"bound and ACTIVE {recovered:.2f} s after the fault (bound {RECOVERY_BOUND} s), "
            f"{unhealthy} UNHEALTHY transition(s) meanwhile, 0 expired"
        )
    finally:
        stop.set()
        for runtime in runtimes.values():
            await runtime.shutdown()
        for watcher in watchers:
            await watcher.close()


QUIET_TIMEOUT, QUIET_EXPIRY = 5.0, 8.0  # --heartbeat-timeout and --auto-deregister-timeout of that test


async def replica_of(replica: Replica) -> pb.Replica:
    return (await replica.stub.GetStats(pb.GetStatsRequest())).replica


async def says_it_leads(replica: Replica) -> None:
    """It learns that it won `{prefix}/leader` a moment after the key is written."""
    deadline = time.monotonic() + 5
    while not (await replica_of(replica)).leader:
        assert time.monotonic() < deadline, "the replica {prefix}/leader names does not say it leads"
        await asyncio.sleep(0.05)


async def test_the_leader_killed_on_purpose_hands_over_within_the_lease_and_nobody_expires_early(
    chaos, etcd3, prefix
):
    replicas = chaos(
        3, "--heartbeat-timeout", str(QUIET_TIMEOUT), "--auto-deregister-timeout", str(QUIET_EXPIRY)
    )
    leader_key = f"{prefix}/leader"
    deadline = time.monotonic() + 10
    while (first := etcd3.leader().get(leader_key)) is None:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    ids = [(await replica_of(replica)).replica_id for replica in replicas]
    old = ids.index(first)
    await says_it_leads(replicas[old])
    survivors = [i for i in range(3) if i != old]
    assert not any([(await replica_of(replicas[i])).leader for i in survivors])
    watchers = {i: Subscriber(replicas[i].stub, pb.SubscribeRequest()) for i in survivors}
    for watcher in watchers.values():
        await watcher.started()
    registered_at = time.monotonic()
    await register(replicas[survivors[0]].stub, "quiet", "q1", "python")  # never beats
    await register(replicas[old].stub, "busy", "b1", "python")  # beats through a survivor, unary

    async def beat() -> None:
        while True:
            await replicas[survivors[1]].stub.Heartbeat(
                pb.HeartbeatRequest(runtime_id="busy", agent_ids=["b1"])
            )
            await asyncio.sleep(0.5)

    beating = asyncio.create_task(beat())
    try:
        await asyncio.sleep(1.0)
        replicas[old].process.proc.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        while (now := etcd3.leader().get(leader_key)) in (None, first):
            assert time.monotonic() - killed_at < TTL + 1, "no new leader within the lease TTL + 1 s"
            await asyncio.sleep(0.05)
        handover = time.monotonic() - killed_at
        assert ids.index(now) in survivors
        await says_it_leads(replicas[ids.index(now)])
        expiry_bound = registered_at + QUIET_TIMEOUT + QUIET_EXPIRY + 3
        for i, watcher in watchers.items():
            q1: list[tuple[float, pb.Event]] = []
            while not q1 or q1[-1][1].type != pb.EVENT_TYPE_AGENT_DEREGISTERED:
                at, event = await watcher.event(max(0.1, expiry_bound - time.monotonic()))
                assert event.agent_id != "b1" or event.type == pb.EVENT_TYPE_AGENT_REGISTERED, event
                if event.agent_id == "q1":
                    q1.append((at, event))
            (timed_out_at, timed_out), (expired_at, expired) = q1[-2:]
            assert (timed_out.new_status, timed_out.status_reason) == (
                pb.AGENT_STATUS_UNHEALTHY,
                pb.STATUS_REASON_HEARTBEAT_TIMEOUT,
            ), (i, q1)
            assert expired.deregister_reason == pb.DEREGISTER_REASON_EXPIRED
            # never early: a deadline counts from the registration's commit, after `registered_at`
            assert (
                timed_out_at >= registered_at + QUIET_TIMEOUT and expired_at >= registered_at + QUIET_EXPIRY
            )
            assert [e.type for _, e in q1].count(pb.EVENT_TYPE_AGENT_DEREGISTERED) == 1
        await asyncio.sleep(0.5)
        for watcher in watchers.values():
            assert all(e.agent_id != "q1" for e in watcher.drained()), "q1 expired twice"
        print(
            f"\nleader killed -> another leads in {handover:.2f} s (bound {TTL + 1} s); the silent agent "
            f"timed out {timed_out_at - registered_at:.2f} s (>= {QUIET_TIMEOUT}) and expired "
            f"{expired_at - registered_at:.2f} s (>= {QUIET_EXPIRY}) after it registered; the beating one stayed"
        )
    finally:
        beating.cancel()
        for watcher in watchers.values():
            await watcher.close()
