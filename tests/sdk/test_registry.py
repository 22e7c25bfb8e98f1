"""AgentRegistry: the original in-process registry's API and documented behaviours, over a real daemon."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest
from agentregistry import (
    AgentAlreadyExistsError,
    AgentCard,
    AgentRegistry,
    AgentRegistryConfig,
    AgentStatus,
    PermissionDeniedError,
    RegistryClient,
    RegistryEvent,
    RegistryEventType,
    RegistryUnavailableError,
    RemoteAgent,
    Skill,
    StatusReason,
)
from sdk_support import eventually

# Liveness a busy 2-core machine keeps comfortably: three beats per daemon timeout.
STEADY = {"heartbeat_timeout": 0.6, "auto_deregister_timeout": 1.2}


class A2AAgent:
    """An agent object as the original registry took it: `agent_id` and an `_a2a_card` dict."""

    def __init__(self, agent_id: str | None, capability: str) -> None:
        self.agent_id = agent_id
        self._a2a_card = {"name": f"agent {capability}", "capability": capability}


async def test_register_accepts_card_dict_and_agent_object(daemon: Any, make_registry: Any) -> None:
    registry: AgentRegistry = await make_registry(daemon.address)
    card_id = await registry.register_agent(AgentCard(name="c", capabilities=("translation",)), "rt")
    dict_id = await registry.register_agent(
        {"name": "d", "capabilities": ["code generation", "code review"], "description": "dict card"},
        runtime_id="rt",
    )
    worker = A2AAgent("obj-1", "data analysis")
    obj_id = await registry.register_agent(worker, runtime_id="rt")
    assert obj_id == "obj-1"
    assert registry.agents[obj_id].agent is worker
    assert registry.agents[obj_id].card.capabilities == ("data analysis",)
    assert registry.agents[obj_id].a2a_card["capabilities"] == ["data analysis"]
    assert registry.agents[dict_id].card.description == "dict card"
    assert registry.runtime_agents == {"rt": {card_id, dict_id, obj_id}}
    with pytest.raises(TypeError, match="_a2a_card"):
        await registry.register_agent(object(), runtime_id="rt")


async def test_generated_id_when_none_given(daemon: Any, make_registry: Any) -> None:
    registry = await make_registry(daemon.address)
    agent_id = await registry.register_agent(A2AAgent(None, "x"), runtime_id="rt")
    assert agent_id and agent_id in registry.agents


async def test_duplicate_id_from_another_runtime_raises_and_same_runtime_reregisters(
    daemon: Any, make_registry: Any
) -> None:
    registry = await make_registry(daemon.address)
    await registry.register_agent({"capability": "a"}, runtime_id="rt-1", agent_id="x")
    with pytest.raises(AgentAlreadyExistsError, match="x"):
        await registry.register_agent({"capability": "b"}, runtime_id="rt-2", agent_id="x")
    await registry.register_agent({"capability": "c"}, runtime_id="rt-1", agent_id="x")
    assert registry.agents["x"].card.capabilities == ("c",)


async def test_find_by_capability_matches_substrings_skills_and_filters_status(
    daemon: Any, make_registry: Any
) -> None:
    registry = await make_registry(daemon.address)
    await registry.register_agent({"capability": "Python code generation"}, "rt", agent_id="py")
    await registry.register_agent(
        AgentCard(name="r", skills=(Skill(id="s", name="Code Review", tags=("quality",)),)), "rt", "rev"
    )
    await registry.register_agent({"capability": "translation"}, "rt", agent_id="tr")
    assert [a.agent_id for a in await registry.find_agents_by_capability("code")] == ["rev", "py"]
    assert [a.agent_id for a in await registry.find_agents_by_capability("QUALITY")] == ["rev"]
    assert await registry.update_agent_status("py", AgentStatus.UNHEALTHY)
    assert [a.agent_id for a in await registry.find_agents_by_capability("python")] == []
    unhealthy = await registry.find_agents_by_capability("python", status_filter=AgentStatus.UNHEALTHY)
    assert [a.agent_id for a in unhealthy] == ["py"]
    every = await registry.find_agents_by_capability("code", status_filter=None)
    assert {a.agent_id for a in every} == {"py", "rev"}


async def test_list_and_find_by_runtime_and_status(daemon: Any, make_registry: Any) -> None:
    registry = await make_registry(daemon.address)
    for runtime, agent_id in (("rt-1", "a"), ("rt-1", "b"), ("rt-2", "c")):
        await registry.register_agent({"capability": "x"}, runtime, agent_id=agent_id)
    await registry.update_agent_status("b", AgentStatus.DEGRADED)
    assert [a.agent_id for a in await registry.list_agents()] == ["a", "b", "c"]
    assert [a.agent_id for a in await registry.list_agents(runtime_id="rt-1")] == ["a", "b"]
    assert [a.agent_id for a in await registry.list_agents(status_filter=AgentStatus.ACTIVE)] == ["a", "c"]
    degraded = await registry.list_agents("rt-1", [AgentStatus.DEGRADED, AgentStatus.OFFLINE])
    assert [a.agent_id for a in degraded] == ["b"]
    assert [a.agent_id for a in await registry.find_agents_by_runtime("rt-2")] == ["c"]
    assert [a.agent_id for a in await registry.find_agents_by_status(AgentStatus.DEGRADED)] == ["b"]
    assert await registry.find_agents_by_runtime("nobody") == []


async def test_get_agent_and_unknown_agents_return_none_or_false(daemon: Any, make_registry: Any) -> None:
    registry = await make_registry(daemon.address)
    await registry.register_agent({"capability": "x"}, "rt", agent_id="a")
    agent = await registry.get_agent("a")
    assert agent is not None and agent.runtime_id == "rt" and agent.agent == {"capability": "x"}
    assert agent.last_heartbeat.tzinfo is not None
    assert await registry.get_agent("ghost") is None
    assert await registry.update_agent_status("ghost", AgentStatus.OFFLINE) is False
    assert await registry.update_agent_heartbeat("ghost") is False
    assert await registry.deregister_agent("ghost", runtime_id="rt") is False


async def test_deregister_removes_agent_and_runtime_and_checks_ownership(
    daemon: Any, make_registry: Any
) -> None:
    registry = await make_registry(daemon.address)
    await registry.register_agent({"capability": "x"}, "rt", agent_id="a")
    with pytest.raises(PermissionDeniedError):
        await registry.deregister_agent("a", runtime_id="other")
    assert await registry.deregister_agent("a", runtime_id="rt") is True
    assert "a" not in registry.agents and "rt" not in registry.runtime_agents
    await asyncio.sleep(0.5)  # past the heartbeat timeout: the heartbeat must not bring it back
    assert await registry.get_agent("a") is None


async def test_update_heartbeat_beats_an_agent_of_another_client(daemon: Any, make_registry: Any) -> None:
    owner = await make_registry(daemon.address, enable_heartbeat_monitoring=False)
    other = await make_registry(daemon.other.address)
    await owner.register_agent({"capability": "x"}, "rt", agent_id="a")
    await daemon.synced()
    before = (await other.get_agent("a")).last_heartbeat
    assert await other.update_agent_heartbeat("a") is True
    assert (await other.get_agent("a")).last_heartbeat > before


async def test_agents_registered_through_the_client_stay_active_past_the_timeout(
    serve: Any, make_registry: Any
) -> None:
    running = await serve(**STEADY)
    registry = await make_registry(running.address, **STEADY)
    await registry.register_agent({"capability": "x"}, "rt", agent_id="a")
    await asyncio.sleep(1.5)  # > auto_deregister_timeout: only heartbeats keep it
    agent = await registry.get_agent("a")
    assert agent is not None and agent.status is AgentStatus.ACTIVE


async def test_without_heartbeats_an_agent_turns_unhealthy_then_is_deregistered(
    daemon: Any, make_registry: Any
) -> None:
    registry = await make_registry(daemon.address, enable_heartbeat_monitoring=False)
    events: list[RegistryEvent] = []
    registry.subscribe(RegistryEventType.AGENT_STATUS_CHANGED, events.append)
    registry.subscribe(RegistryEventType.AGENT_DEREGISTERED, events.append)
    await registry.register_agent({"capability": "x"}, "rt", agent_id="a")
    await eventually(lambda: len(events) == 2)
    assert events[0].metadata == {
        "old_status": "active",
        "new_status": "unhealthy",
        "reason": "heartbeat_timeout",
    }
    assert events[1].metadata == {"reason": "expired"}
    assert "a" not in registry.agents


async def test_events_carry_the_originals_metadata_keys(serve: Any, make_registry: Any) -> None:
    running = await serve(**STEADY)  # no heartbeat flaps to add status events under load
    registry = await make_registry(running.address, **STEADY)
    seen: list[RegistryEvent] = []
    for event_type in RegistryEventType:
        if event_type is not RegistryEventType.AGENT_HEARTBEAT:
            registry.subscribe(event_type, seen.append)
    operator = await make_registry(running.address, **STEADY)  # on another client: an operator setting
    await registry.register_agent({"capabilities": ["a", "b"]}, "rt", agent_id="x")
    await operator.update_agent_status("x", AgentStatus.DEGRADED)
    await operator.update_agent_status("x", AgentStatus.DEGRADED)  # no change: no event
    await registry.deregister_agent("x", "rt")
    await eventually(lambda: len(seen) == 5)
    assert [(e.event_type, e.metadata) for e in seen] == [
        (RegistryEventType.RUNTIME_JOINED, {}),
        (RegistryEventType.AGENT_REGISTERED, {"capabilities": ["a", "b"]}),
        (
            RegistryEventType.AGENT_STATUS_CHANGED,
            {"old_status": "active", "new_status": "degraded", "reason": "operator"},
        ),
        (RegistryEventType.AGENT_DEREGISTERED, {"reason": "requested"}),
        (RegistryEventType.RUNTIME_LEFT, {}),
    ]
    assert [e.revision for e in seen] == sorted({e.revision for e in seen})
    assert seen[1].agent is not None and seen[1].agent.agent == {"capabilities": ["a", "b"]}


async def test_async_and_sync_callbacks_and_unsubscribe(daemon: Any, make_registry: Any) -> None:
    registry = await make_registry(daemon.address)
    sync_seen: list[str] = []
    async_seen: list[str] = []

    async def on_async(event: RegistryEvent) -> None:
        async_seen.append(event.agent_id or "")

    def on_sync(event: RegistryEvent) -> None:
        sync_seen.append(event.agent_id or "")

    registry.subscribe(RegistryEventType.AGENT_REGISTERED, on_async)
    registry.subscribe(RegistryEventType.AGENT_REGISTERED, on_sync)
    await registry.register_agent({"capability": "x"}, "rt", agent_id="a")
    await eventually(lambda: sync_seen == ["a"] and async_seen == ["a"])
    registry.unsubscribe(RegistryEventType.AGENT_REGISTERED, on_sync)
    await registry.register_agent({"capability": "x"}, "rt", agent_id="b")
    await eventually(lambda: async_seen == ["a", "b"])
    assert sync_seen == ["a"]


async def test_a_raising_callback_is_logged_and_others_still_run(
    daemon: Any, make_registry: Any, caplog: pytest.LogCaptureFixture
) -> None:
    registry = await make_registry(daemon.address)
    seen: list[str] = []

    def broken(event: RegistryEvent) -> None:
        raise RuntimeError("callback bug")

    registry.subscribe(RegistryEventType.AGENT_REGISTERED, broken)
    registry.subscribe(RegistryEventType.AGENT_REGISTERED, lambda e: seen.append(e.agent_id))
    with caplog.at_level(logging.ERROR, logger="agentregistry"):
        await registry.register_agent({"capability": "x"}, "rt", agent_id="a")
        await registry.register_agent({"capability": "x"}, "rt", agent_id="b")
        await eventually(lambda: seen == ["a", "b"])
        await eventually(lambda: sum("callback bug" in r.exc_text for r in caplog.records if r.exc_text) == 2)


async def test_a_slow_callback_delays_neither_heartbeats_nor_other_callbacks(
    serve: Any, make_registry: Any
) -> None:
    running = await serve(**STEADY)
    registry = await make_registry(running.address, **STEADY)
    release = threading.Event()
    fast: list[str] = []
    for _ in range(8):  # more blocking callbacks than a default thread pool has threads
        registry.subscribe(RegistryEventType.AGENT_REGISTERED, lambda e: release.wait(10))
    registry.subscribe(RegistryEventType.AGENT_REGISTERED, lambda e: fast.append(e.agent_id))

    async def stuck(event: RegistryEvent) -> None:
        await asyncio.sleep(10)

    registry.subscribe(RegistryEventType.AGENT_REGISTERED, stuck)
    await registry.register_agent({"capability": "x"}, "rt", agent_id="a")
    await registry.register_agent({"capability": "x"}, "rt", agent_id="b")
    await eventually(lambda: fast == ["a", "b"])
    await asyncio.sleep(1.5)  # > auto_deregister_timeout while both slow callbacks hang
    assert {a.status for a in await registry.list_agents()} == {AgentStatus.ACTIVE}
    release.set()


async def test_local_view_follows_changes_made_by_other_clients(daemon: Any, make_registry: Any) -> None:
    watcher = await make_registry(daemon.other.address)
    worker = await make_registry(daemon.address)
    await worker.register_agent({"capability": "x"}, "rt-w", agent_id="w")
    await eventually(lambda: "w" in watcher.agents and watcher.runtime_agents == {"rt-w": {"w"}})
    stand_in = watcher.agents["w"].agent  # not registered through this client: a read-only stand-in
    assert isinstance(stand_in, RemoteAgent) and stand_in._a2a_card["capabilities"] == ["x"]
    await worker.update_agent_status("w", AgentStatus.DEGRADED)
    await eventually(lambda: watcher.agents["w"].status is AgentStatus.DEGRADED)
    await worker.deregister_agent("w", "rt-w")
    await eventually(lambda: watcher.agents == {} and watcher.runtime_agents == {})


async def test_start_loads_existing_agents_into_the_view(daemon: Any, make_registry: Any) -> None:
    first = await make_registry(daemon.address)
    for i in range(3):
        await first.register_agent({"capability": "x"}, "rt", agent_id=f"a{i}")
    await daemon.synced()
    second = await make_registry(daemon.other.address)
    assert set(second.agents) == {"a0", "a1", "a2"}
    assert second.revision == first.revision


async def test_get_metrics_has_the_originals_keys(daemon: Any, make_registry: Any) -> None:
    registry = await make_registry(daemon.address)
    await registry.register_agent({"capability": "Code"}, "rt-1", agent_id="a")
    await registry.register_agent({"capability": "code"}, "rt-2", agent_id="b")
    await registry.update_agent_status("b", AgentStatus.OFFLINE)
    await registry.find_agents_by_capability("code")
    metrics = await registry.get_metrics()
    assert metrics["total_agents"] == 2 and metrics["total_runtimes"] == 2
    assert metrics["status_distribution"]["active"] == 1 and metrics["status_distribution"]["offline"] == 1
    assert metrics["runtime_distribution"] == {"rt-1": 1, "rt-2": 1}
    assert (metrics["total_queries"], metrics["total_registrations"], metrics["total_deregistrations"]) == (
        1,
        2,
        0,
    )
    assert metrics["capability_index_size"] == 1  # one normalised text shared by both


async def test_shutdown_closes_streams_so_its_agents_turn_offline(daemon: Any, make_registry: Any) -> None:
    watcher = await make_registry(daemon.other.address)
    async with AgentRegistry(
        AgentRegistryConfig(target=daemon.address, heartbeat_timeout=0.3, auto_deregister_timeout=0.8)
    ) as worker:
        await worker.register_agent({"capability": "x"}, "rt", agent_id="a")
        assert await worker.wait_heartbeats_connected(5)
    assert worker.agents == {}
    await eventually(lambda: watcher.agents.get("a") and watcher.agents["a"].status is AgentStatus.OFFLINE)
    assert watcher.agents["a"].status_reason is StatusReason.STREAM_CLOSED


async def test_start_fails_clearly_without_a_daemon() -> None:
    registry = AgentRegistry(AgentRegistryConfig(target="127.0.0.1:1", rpc_timeout=0.3))
    started = time.monotonic()
    with pytest.raises(RegistryUnavailableError, match=r"127\.0\.0\.1:1"):
        await registry.start()
    assert time.monotonic() - started < 3
    await registry.shutdown()


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="heartbeat_timeout"):
        AgentRegistryConfig(heartbeat_timeout=0)
    with pytest.raises(ValueError, match="auto_deregister_timeout"):
        AgentRegistryConfig(heartbeat_timeout=30, auto_deregister_timeout=10)
    with pytest.raises(ValueError, match="client_key"):
        AgentRegistryConfig(client_certificate=b"cert")
    assert AgentRegistryConfig(heartbeat_timeout=30).beat_interval == 10
    assert AgentRegistryConfig(heartbeat_interval=2).beat_interval == 2


async def test_heartbeat_events_are_delivered_once_someone_subscribes(
    daemon: Any, make_registry: Any
) -> None:
    registry = await make_registry(daemon.address)
    await registry.register_agent({"capability": "x"}, "rt", agent_id="a")
    beats: list[RegistryEvent] = []
    registry.subscribe(RegistryEventType.AGENT_HEARTBEAT, beats.append)
    await eventually(lambda: len(beats) >= 2)  # the stream beats every 0.1 s
    assert {(e.agent_id, e.revision) for e in beats} == {("a", 0)}
    assert beats[1].timestamp > beats[0].timestamp


async def test_one_callback_on_several_types_sees_them_in_revision_order(
    daemon: Any, make_registry: Any, client: RegistryClient
) -> None:
    registry = await make_registry(daemon.address)
    seen: list[int] = []

    def record(event: RegistryEvent) -> None:
        time.sleep(0.01)  # slower than the changes come, so events queue up
        seen.append(event.revision)

    for event_type in (RegistryEventType.AGENT_REGISTERED, RegistryEventType.AGENT_DEREGISTERED):
        registry.subscribe(event_type, record)
    for i in range(20):
        await client.register_agent("rt", AgentCard(name="x"), f"a{i}")
        await client.deregister_agent(f"a{i}", "rt")
    await eventually(lambda: len(seen) == 40)
    assert seen == sorted(seen)
    registry.unsubscribe(RegistryEventType.AGENT_REGISTERED, record)
    await registry.register_agent({"capability": "x"}, "rt", agent_id="b")
    await registry.deregister_agent("b", "rt")
    await eventually(lambda: len(seen) == 41)  # still subscribed to deregistrations


def test_made_outside_an_event_loop_and_started_again_after_shutdown(daemon_process: Any) -> None:
    process = daemon_process("--store", "memory", "--log-level", "warning")
    registry = AgentRegistry(AgentRegistryConfig(target=process.address))  # no loop running yet

    async def use() -> list[str]:
        async with registry:
            await registry.register_agent({"capability": "x"}, "rt", agent_id="a")
            return sorted(registry.agents)

    assert asyncio.run(use()) == ["a"]
    assert registry.agents == {}
    assert asyncio.run(use()) == ["a"]  # a second life, on another loop


async def test_calls_before_start_say_so() -> None:
    registry = AgentRegistry()
    with pytest.raises(RuntimeError, match="start"):
        await registry.register_agent({"capability": "x"}, "rt")
