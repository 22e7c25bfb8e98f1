"""The SDK over several replicas (gRPC's `ipv4:a,b` target): a replica killed with -9 loses nothing."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
from agentregistry import AgentRegistry, AgentRegistryConfig, AgentStatus, RegistryClient, RegistryEventType

from tests.cluster.test_liveness import TTL

REBOUND_BOUND = TTL + 4.0  # kill -> every agent bound elsewhere and ACTIVE (reconnect backoff + re-bind)
LIFECYCLE = (
    RegistryEventType.RUNTIME_JOINED,
    RegistryEventType.AGENT_REGISTERED,
    RegistryEventType.AGENT_STATUS_CHANGED,
    RegistryEventType.AGENT_DEREGISTERED,
    RegistryEventType.RUNTIME_LEFT,
)


def card(name: str) -> dict[str, object]:
    return {"name": name, "description": "a worker", "version": "1.0"}


@pytest.mark.parametrize("load_balancing", ["pick_first", "round_robin"])
async def test_the_sdk_fails_over_to_another_replica_without_losing_a_registration_or_an_event(
    cluster, load_balancing
):
    a, b = (cluster("--etcd-lease-ttl", str(TTL), "--bookmark-interval", "0.5") for _ in range(2))
    config = AgentRegistryConfig(
        target=f"ipv4:{a.address},{b.address}",
        load_balancing=load_balancing,
        heartbeat_timeout=2.0,
        reconnect_initial_backoff=0.05,
        reconnect_max_backoff=0.3,
        event_stream_idle_timeout=2.0,
        rpc_timeout=10.0,
    )
    runtime, watcher = AgentRegistry(config), AgentRegistry(config)
    revisions: list[int] = []
    arrived = asyncio.Event()

    def seen(event) -> None:
        revisions.append(event.revision)
        arrived.set()

    try:
        await runtime.start()
        await watcher.start()
        for event_type in LIFECYCLE:
            watcher.subscribe(event_type, seen)
        ids = [await runtime.register_agent(card(f"w{i}"), "rt", f"w{i}") for i in range(3)]
        async with RegistryClient(b.address) as on_b:
            before = (await on_b.get_stats()).revision
        while before not in revisions:  # the watcher's subscription is in place (it started lazily)
            await runtime.register_agent(card("probe"), "rt", "probe")
            await runtime.deregister_agent("probe")
            await asyncio.sleep(0.2)
            async with RegistryClient(b.address) as on_b:
                before = (await on_b.get_stats()).revision
        a.signal(signal.SIGKILL)
        killed_at = time.monotonic()
        async with RegistryClient(b.address) as on_b:
            while True:
                listed = await on_b.list_agents()
                runtimes = (await on_b.list_runtimes()).runtimes
                if (
                    sorted(agent.agent_id for agent in listed.agents) == ids
                    and all(agent.status is AgentStatus.ACTIVE for agent in listed.agents)
                    and [r.stream_connected for r in runtimes] == [True]
                ):
                    break
                assert time.monotonic() - killed_at < REBOUND_BOUND, (listed, runtimes)
                await asyncio.sleep(0.1)
            print(
                f"\nkill -9 -> every agent ACTIVE on the other replica: {time.monotonic() - killed_at:.2f} s"
            )
            await asyncio.sleep(TTL + 1)  # A's lease and sessions are gone: the runtime is bound to B
            listed = await on_b.list_agents()
            assert all(agent.status is AgentStatus.ACTIVE for agent in listed.agents), listed
            assert [r.stream_connected for r in (await on_b.list_runtimes()).runtimes] == [True]
            await runtime.register_agent(card("late"), "rt", "late")  # the survivor takes writes
            await runtime.deregister_agent("w0")
            final = (await on_b.get_stats()).revision
        while max(revisions) < final:
            arrived.clear()
            await asyncio.wait_for(arrived.wait(), 10)
        # every event from the first one the watcher saw, once: none lost or repeated across the failover
        assert sorted(revisions) == list(range(min(revisions), final + 1)) and min(revisions) <= before
    finally:
        await runtime.shutdown()
        await watcher.shutdown()
