"""The SDK for daily use (issue 12) and liveness from the SDK's side (issue 10), against real daemons."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from agentregistry import (
    AgentCard,
    AgentRegistry,
    AgentRegistryConfig,
    AgentStatus,
    RegistryClient,
    RegistryEvent,
    RegistryEventType,
    RegistryUnavailableError,
    StatusReason,
    convert,
)
from agentregistry.heartbeat import RuntimeHeartbeat
from agentregistry.v1 import registry_pb2 as pb
from sdk_support import eventually, free_port

STEADY = {"heartbeat_timeout": 0.6, "auto_deregister_timeout": 1.2}


async def test_unsubscribing_a_stuck_callback_leaves_the_view_moving(daemon: Any, make_registry: Any) -> None:
    registry = await make_registry(daemon.address, event_queue_size=2)
    gate = asyncio.Event()

    async def stuck(event: RegistryEvent) -> None:
        await gate.wait()

    registry.subscribe(RegistryEventType.AGENT_REGISTERED, stuck)
    for i in range(5):
        await registry.register_agent({"capability": "x"}, "rt", agent_id=f"a{i}")
    registry.unsubscribe(RegistryEventType.AGENT_REGISTERED, stuck)
    await registry.register_agent({"capability": "x"}, "rt", agent_id="after")
    await eventually(lambda: "after" in registry.agents)


async def test_a_stuck_callback_costs_only_its_own_events(
    daemon: Any, make_registry: Any, caplog: pytest.LogCaptureFixture
) -> None:
    registry = await make_registry(daemon.address, event_queue_size=3, rpc_timeout=2.0)
    gate = asyncio.Event()
    stuck_seen: list[str] = []

    async def stuck(event: RegistryEvent) -> None:
        await gate.wait()
        stuck_seen.append(event.agent_id or "")

    registry.subscribe(RegistryEventType.AGENT_REGISTERED, stuck)
    started = time.monotonic()
    for i in range(20):
        await registry.register_agent({"capability": "x"}, "rt", agent_id=f"a{i:02d}")
    took = time.monotonic() - started
    assert took < 2.0, f"20 registrations took {took:.2f} s behind a stuck callback"
    assert {f"a{i:02d}" for i in range(20)} <= set(registry.agents)
    gate.set()
    await eventually(lambda: stuck_seen[-1:] == ["a19"])
    assert len(stuck_seen) <= 5, "it lost its own oldest events"
    await eventually(lambda: any("events were dropped" in r.getMessage() for r in caplog.records))


def test_values_from_a_newer_daemon_map_to_unknown() -> None:
    agent = pb.Agent(
        agent_id="a", runtime_id="rt", status=99, status_reason=77, health=99, operator_status=42
    )
    event = convert.event_from_proto(pb.Event(type=99, revision=5, agent_id="a", agent=agent))
    assert event.event_type is RegistryEventType.UNKNOWN and event.revision == 5
    assert event.agent is not None and event.agent.status is AgentStatus.UNKNOWN
    assert (
        event.agent.status_reason is StatusReason.UNKNOWN
        and event.agent.operator_status is AgentStatus.UNKNOWN
    )


async def test_a_taken_id_is_given_up_while_the_rest_stays_bound(daemon: Any) -> None:
    async with RegistryClient(daemon.address, timeout=5.0) as client:
        card = AgentCard(name="w", capabilities=("work",))
        for agent_id in ("a0", "a1"):
            await client.register_agent("rt-a", card, agent_id)
        await client.register_agent("rt-b", card, "a2")  # a2 expired and was taken by another runtime
        lost: list[str] = []
        config = AgentRegistryConfig(heartbeat_timeout=0.3, reconnect_initial_backoff=0.05)
        heartbeat = RuntimeHeartbeat(client, "rt-a", config, _none, lambda rt, ids: lost.extend(ids))
        for agent_id in ("a0", "a1", "a2"):
            heartbeat.add(agent_id)
        try:
            await asyncio.wait_for(heartbeat.connected.wait(), 5)
            await eventually(lambda: lost == ["a2"])
            assert heartbeat.agent_ids == {"a0", "a1"}
            await asyncio.sleep(1.0)  # > heartbeat_timeout: a0 and a1 are kept alive by the same stream
            runtimes = {r.runtime_id: r for r in (await client.list_runtimes()).runtimes}
            assert runtimes["rt-a"].stream_connected and lost == ["a2"]
            assert {a.status for a in (await client.list_all_agents("rt-a")).agents} == {AgentStatus.ACTIVE}
        finally:
            await heartbeat.stop()


async def _none(agent_ids: Any) -> list[str]:
    return []


async def test_a_read_cut_off_by_a_daemon_crash_is_retried_unless_fail_fast(daemon_process: Any) -> None:
    port = free_port()
    process = daemon_process("--listen", f"127.0.0.1:{port}", "--store", "memory")
    for fail_fast in (False, True):
        async with RegistryClient(process.address, timeout=10.0, wait_for_ready=not fail_fast) as client:
            await client.get_stats()
            process.proc.send_signal(signal.SIGSTOP)
            call = asyncio.ensure_future(client.list_all_agents())
            await asyncio.sleep(0.3)  # the call is in flight, unanswered
            process.signal(signal.SIGKILL)
            if fail_fast:
                with pytest.raises(RegistryUnavailableError):
                    await call
            else:
                process = daemon_process("--listen", f"127.0.0.1:{port}", "--store", "memory")
                assert (await call).agents == []


async def test_worker_only_clients_hold_no_view_and_no_subscription(daemon: Any) -> None:
    config = AgentRegistryConfig(target=daemon.address, **STEADY)
    workers = [AgentRegistry(config) for _ in range(50)]
    try:
        for i, worker in enumerate(workers):
            await worker.start()
            await worker.register_agent({"capability": "work"}, f"rt-{i}", agent_id=f"w{i}")
        assert (await workers[0].client.get_stats()).subscribers == 0
        assert set(workers[3].agents) == {"w3"}  # a worker sees its own agents; reading starts the view
        await workers[3].load_view()
        assert len(workers[3].agents) == 50
        await eventually(lambda: _subscribers(workers[0], 1))
    finally:
        for worker in workers:
            await worker.shutdown()


async def _subscribers(registry: AgentRegistry, expected: int) -> bool:
    return (await registry.client.get_stats()).subscribers == expected


async def test_local_find_ranks_like_the_daemon_and_survives_its_absence(daemon_process: Any) -> None:
    process = daemon_process("--store", "memory")
    config = AgentRegistryConfig(target=process.address, rpc_timeout=2.0)
    async with AgentRegistry(config) as registry:
        cards = {
            "z-exact": {"capabilities": ["python"]},
            "b-word": {"capabilities": ["python code generation"]},
            "a-word": {"capabilities": ["fast python"]},
            "sub": {"capabilities": ["pythonic style"]},
            "skill": AgentCard(name="s", skills=()).__class__.from_dict(
                {"skills": [{"name": "review", "tags": ["Python"]}]}
            ),
            "none": {"capabilities": ["rust"]},
        }
        for agent_id, card in cards.items():
            await registry.register_agent(card, "rt", agent_id=agent_id)
        await registry.update_agent_status("none", AgentStatus.OFFLINE, runtime_id="rt")
        for query in ("python", "PYTHON code", "py", "rust"):
            remote = [a.agent_id for a in await registry.find_agents_by_capability(query, None)]
            local = [a.agent_id for a in await registry.find_agents_by_capability(query, None, local=True)]
            assert local == remote, query
        process.signal(signal.SIGKILL)
        found = await registry.find_agents_by_capability("python", local=True)
        assert [a.agent_id for a in found] == ["skill", "z-exact", "a-word", "b-word", "sub"]
        assert registry.view_staleness is not None


async def test_the_originals_code_paths(daemon: Any, make_registry: Any) -> None:
    worker = await make_registry(daemon.address)
    watcher = await make_registry(daemon.address)
    assert watcher.runtime_agents["never-seen"] == set() and "never-seen" not in watcher.runtime_agents

    class PydanticCard:
        def model_dump(self) -> dict[str, Any]:
            return {"name": "p", "capabilities": ["pydantic"]}

    class WithToDict:
        def to_dict(self) -> dict[str, Any]:
            return {"name": "t", "capabilities": ["to dict"]}

    class Agent:
        def __init__(self, card: Any) -> None:
            self._a2a_card = card

    await worker.register_agent(Agent(PydanticCard()), "rt", agent_id="p")
    await worker.register_agent(Agent(WithToDict()), "rt", agent_id="t")
    await eventually(lambda: {"p", "t"} <= set(watcher.agents))
    for metadata in watcher.agents.values():  # the original's loop over every agent
        assert metadata.agent._a2a_card["capabilities"]


async def test_liveness_terms_are_asked_for_and_followed(serve: Any) -> None:
    running = await serve(heartbeat_timeout=30.0, auto_deregister_timeout=60.0, min_heartbeat_timeout=0.1)
    assert AgentRegistryConfig(heartbeat_timeout=90.0).effective_auto_deregister_timeout == 180.0
    config = AgentRegistryConfig(target=running.address, heartbeat_timeout=0.9)
    async with AgentRegistry(config) as registry:
        await registry.register_agent({"capability": "x"}, "rt", agent_id="a")
        assert await registry.wait_heartbeats_connected(5)
        runtime = (await registry.client.list_runtimes()).runtimes[0]
        assert (runtime.heartbeat_timeout, runtime.auto_deregister_timeout) == (0.9, 60.0)
        assert registry._heartbeats["rt"]._interval() == pytest.approx(0.3)
        await asyncio.sleep(1.5)
        assert (await registry.get_agent("a")).status is AgentStatus.ACTIVE  # type: ignore[union-attr]


async def test_a_worker_reports_itself_degraded_and_active_again(serve: Any, make_registry: Any) -> None:
    running = await serve(**STEADY)
    worker = await make_registry(running.address, **STEADY)
    await worker.register_agent({"capability": "x"}, "rt", agent_id="a")
    assert await worker.wait_heartbeats_connected(5)

    async def state() -> tuple[Any, ...]:
        agent = await worker.get_agent("a")
        assert agent is not None
        return (agent.status, agent.health, agent.health_reason, agent.operator_status)

    await worker.report_status("a", AgentStatus.DEGRADED)
    degraded = (AgentStatus.DEGRADED, AgentStatus.DEGRADED, StatusReason.SELF_REPORTED, None)
    await eventually(lambda: _is(state, degraded))
    await asyncio.sleep(1.0)  # beats go on and do not undo it
    assert await state() == degraded
    assert await worker.update_agent_status("a", AgentStatus.ACTIVE)  # its own agent: a self-report too
    await eventually(
        lambda: _is(state, (AgentStatus.ACTIVE, AgentStatus.ACTIVE, StatusReason.SELF_REPORTED, None))
    )
    with pytest.raises(ValueError, match="active or degraded"):
        await worker.report_status("a", AgentStatus.OFFLINE)


async def _is(state: Any, expected: tuple[Any, ...]) -> bool:
    return bool(await state() == expected)


async def test_the_views_last_heartbeat_stays_fresh(serve: Any, make_registry: Any) -> None:
    running = await serve(heartbeat_timeout=1.5, auto_deregister_timeout=5.0)
    worker = await make_registry(running.address, heartbeat_timeout=1.5, auto_deregister_timeout=5.0)
    watcher = await make_registry(running.other.address)
    await worker.register_agent({"capability": "x"}, "rt", agent_id="a")
    await eventually(lambda: "a" in watcher.agents)
    interval = 0.5
    worst = 0.0
    deadline = time.monotonic() + 4.0
    while time.monotonic() < deadline:
        age = (datetime.now(UTC) - watcher.agents["a"].last_heartbeat).total_seconds()
        worst = max(worst, age)
        await asyncio.sleep(0.05)
    print(f"\nworst last_heartbeat age in the view: {worst:.2f} s (beat interval {interval} s)")
    assert worst <= interval + 1.0 + 0.5  # + 0.5 s of slack for a loaded 2-core machine


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
async def test_streams_rebind_within_a_second_of_the_daemon_being_ready(
    daemon_process: Any, make_registry: Any, how: signal.Signals, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "agentregistry")
    flags = ["--store", "memory", "--log-level", "warning", "--shutdown-grace", "0.5"]
    process = daemon_process("--listen", f"127.0.0.1:{free_port()}", *flags)
    worker = await make_registry(process.address, heartbeat_timeout=3.0, auto_deregister_timeout=10.0)
    await worker.register_agent({"capability": "x"}, "rt", agent_id="a")
    assert await worker.wait_heartbeats_connected(5)
    process.signal(how)
    await eventually(lambda: not worker._heartbeats["rt"].connected.is_set())
    await asyncio.sleep(1.5)  # an outage long enough for backoffs to grow
    daemon_process("--listen", process.address, *flags)  # returns once it is ready
    ready = time.monotonic()
    await asyncio.wait_for(worker._heartbeats["rt"].connected.wait(), 10)
    took = time.monotonic() - ready
    print(f"\nre-bound {took:.2f} s after the daemon was ready ({how.name})")
    assert took < 1.0
    lines = [r.getMessage() for r in caplog.records if "heartbeat stream of runtime rt" in r.getMessage()]
    assert len(lines) == 2 and "lost" in lines[0] and "back after" in lines[1], lines
