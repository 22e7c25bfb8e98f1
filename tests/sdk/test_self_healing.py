"""AgentRegistry heals itself: a daemon killed and restarted under live clients, a subscriber cut off
for reading too slowly, events compacted away while it was behind."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
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
)
from agentregistry.heartbeat import RuntimeHeartbeat
from sdk_support import eventually, free_port

DAEMON_FLAGS = [
    "--heartbeat-timeout",
    "1",
    "--auto-deregister-timeout",
    "3",
    "--bookmark-interval",
    "0.2",
    "--log-level",
    "warning",
]
SDK = {"heartbeat_timeout": 1.0, "auto_deregister_timeout": 3.0, "reconnect_max_backoff": 0.3}
AGENTS = ["w-0", "w-1", "w-2"]
# 50 KB per event: a few hundred outgrow every HTTP/2 window, so the daemon's queue for a slow reader fills.
BULKY = AgentCard(name="bulky", labels={f"k{i}": "v" * 990 for i in range(50)})
FLOOD = 200


def record_every_event(registry: AgentRegistry) -> list[RegistryEvent]:
    seen: list[RegistryEvent] = []
    for event_type in RegistryEventType:
        if event_type is not RegistryEventType.AGENT_HEARTBEAT:
            registry.subscribe(event_type, seen.append)
    return seen


async def daemon_agents(target: str) -> dict[str, AgentStatus]:
    async with RegistryClient(target, timeout=2.0) as client:
        page = await client.list_all_agents()
    return {a.agent_id: a.status for a in page.agents}


async def kill_and_restart(daemon_process: Any, process: Any, store_flags: list[str]) -> Any:
    process.signal(signal.SIGKILL)
    return daemon_process("--listen", process.address, *store_flags, *DAEMON_FLAGS)


async def register_workers(worker: AgentRegistry) -> None:
    for agent_id in AGENTS:
        await worker.register_agent({"capability": "work"}, runtime_id="rt-w", agent_id=agent_id)
    assert await worker.wait_heartbeats_connected(5)


async def test_sqlite_daemon_killed_and_restarted_loses_no_agent_and_no_event(
    daemon_process: Any, make_registry: Any, tmp_path: Path
) -> None:
    store = ["--store", "sqlite", "--data-dir", str(tmp_path / "data")]
    process = daemon_process("--listen", f"127.0.0.1:{free_port()}", *store, *DAEMON_FLAGS)
    watcher = await make_registry(process.address, **SDK)
    seen = record_every_event(watcher)
    worker = await make_registry(process.address, **SDK)
    await register_workers(worker)
    await eventually(lambda: len(seen) >= 1 + len(AGENTS))  # RUNTIME_JOINED + registrations
    relists_before = watcher._watch.relists

    process = await kill_and_restart(daemon_process, process, store)
    # Made as soon as the daemon is back: the call waits for the connection rather than failing.
    await worker.update_agent_status("w-1", AgentStatus.DEGRADED)
    await eventually(
        lambda: watcher.agents.get("w-1") and watcher.agents["w-1"].status is AgentStatus.DEGRADED
    )

    assert await daemon_agents(process.address) == {
        "w-0": AgentStatus.ACTIVE,
        "w-1": AgentStatus.DEGRADED,
        "w-2": AgentStatus.ACTIVE,
    }
    revisions = [e.revision for e in seen]
    assert revisions == list(range(1, revisions[-1] + 1)), "every revision exactly once, in order"
    degraded = [e for e in seen if e.metadata.get("new_status") == "degraded"]
    assert [e.agent_id for e in degraded] == ["w-1"]
    assert set(watcher.agents) == set(AGENTS)
    assert watcher._watch.relists == relists_before, "the same history resumed without a re-list"
    assert await worker.wait_heartbeats_connected(5)
    await asyncio.sleep(1.5)  # past the daemon's heartbeat timeout: the reconnected stream keeps them alive
    assert (await daemon_agents(process.address))["w-0"] is AgentStatus.ACTIVE


async def test_memory_daemon_restarted_gets_every_agent_back_and_views_reconciled(
    daemon_process: Any, make_registry: Any
) -> None:
    store = ["--store", "memory"]
    process = daemon_process("--listen", f"127.0.0.1:{free_port()}", *store, *DAEMON_FLAGS)
    watcher = await make_registry(process.address, **SDK)
    seen = record_every_event(watcher)
    worker = await make_registry(process.address, **SDK)
    await register_workers(worker)
    await worker.register_agent({"capability": "temp"}, runtime_id="rt-w", agent_id="gone-soon")
    await worker.deregister_agent("gone-soon", runtime_id="rt-w")
    await eventually(lambda: any(e.agent_id == "gone-soon" and e.metadata.get("reason") for e in seen))
    relists_before = watcher._watch.relists
    old_history = len(seen)

    process = await kill_and_restart(daemon_process, process, store)
    # The new daemon starts empty at revision 0; the worker's heartbeat stream re-registers its agents.
    await eventually(lambda: daemon_agents(process.address), timeout=10)
    await eventually(lambda: set(watcher.agents) == set(AGENTS), timeout=10)
    await eventually(lambda: watcher._watch.relists > relists_before)  # the new history was detected
    assert await daemon_agents(process.address) == dict.fromkeys(AGENTS, AgentStatus.ACTIVE)

    await worker.update_agent_status("w-2", AgentStatus.DEGRADED)  # its own agent: a self-report
    await eventually(lambda: any(e.metadata.get("new_status") == "degraded" for e in seen))
    assert watcher.agents["w-2"].status is AgentStatus.DEGRADED
    # The worker's own view follows its own subscription, which may be a moment behind the watcher's.
    await eventually(lambda: worker.agents["w-2"].status is AgentStatus.DEGRADED, timeout=5)
    keys = [(e.revision, e.timestamp) for e in seen]
    assert len(keys) == len(set(keys)), "no event delivered twice"
    new_history = [e.revision for e in seen[old_history:]]
    assert new_history == sorted(new_history)


def read_slowly(registry: AgentRegistry, gate: asyncio.Event) -> None:
    """Make the registry's watch stop reading its event stream until `gate` is set (callbacks no longer
    slow it down: a stuck reader is a client starved of CPU)."""
    watch = registry._watch
    handle = watch._handle

    async def slowly(event: RegistryEvent) -> None:
        await gate.wait()
        await handle(event)

    watch._handle = slowly  # type: ignore[method-assign]


async def test_a_subscriber_cut_off_for_reading_slowly_resumes_without_loss(
    serve: Any, make_registry: Any
) -> None:
    running = await serve(event_queue_size=4, heartbeat_timeout=30.0, auto_deregister_timeout=60.0)
    watcher = await make_registry(running.address, event_queue_size=1000)
    gate = asyncio.Event()
    seen: list[int] = []
    watcher.subscribe(RegistryEventType.AGENT_REGISTERED, lambda event: seen.append(event.revision))
    read_slowly(watcher, gate)
    count = FLOOD
    async with RegistryClient(running.address) as client:
        for i in range(count):
            await client.register_agent("rt", BULKY, f"a{i:04d}")
        gate.set()
        await eventually(lambda: len(seen) == count, timeout=20)
    assert running.daemon.registry.hub.dropped_subscribers >= 1, "the daemon cut the reader off"
    assert seen == sorted(set(seen)), "each registration once, in revision order"
    assert len(watcher.agents) == count


async def test_events_compacted_while_behind_lead_to_a_relist_that_converges(
    serve: Any, make_registry: Any
) -> None:
    running = await serve(
        event_queue_size=4, event_retention=8, heartbeat_timeout=30.0, auto_deregister_timeout=60.0
    )
    watcher = await make_registry(running.address, event_queue_size=1000)
    gate = asyncio.Event()
    seen: list[int] = []
    watcher.subscribe(RegistryEventType.AGENT_REGISTERED, lambda event: seen.append(event.revision))
    read_slowly(watcher, gate)
    relists_before = watcher._watch.relists
    async with RegistryClient(running.address) as client:
        for i in range(FLOOD):
            await client.register_agent("rt", BULKY, f"a{i:04d}")
        gate.set()  # the reader wakes up cut off, and what it missed is no longer retained
        await eventually(lambda: watcher._watch.relists > relists_before, timeout=10)
        final = await client.list_all_agents()
    await eventually(lambda: set(watcher.agents) == {a.agent_id for a in final.agents}, timeout=10)
    assert seen == sorted(set(seen)), "no event twice, order kept"


async def test_shutdown_is_prompt_while_the_daemon_is_down(daemon_process: Any, make_registry: Any) -> None:
    process = daemon_process("--store", "memory", *DAEMON_FLAGS)
    slow_retries = {**SDK, "reconnect_initial_backoff": 20.0, "reconnect_max_backoff": 30.0}
    registry = await make_registry(process.address, **slow_retries)
    await register_workers(registry)
    process.signal(signal.SIGKILL)
    await eventually(lambda: not registry._heartbeats["rt-w"].connected.is_set())
    started = time.monotonic()
    await registry.shutdown()
    assert time.monotonic() - started < 2.0


async def test_a_restarted_daemon_that_already_counted_past_us_is_still_a_new_history(
    daemon_process: Any, make_registry: Any, tmp_path: Path
) -> None:
    # Daemon B's history: five revisions about agents o-0..o-3, persisted, then B stops.
    other = ["--store", "sqlite", "--data-dir", str(tmp_path / "b")]
    b = daemon_process("--listen", f"127.0.0.1:{free_port()}", *other, *DAEMON_FLAGS)
    async with RegistryClient(b.address) as client:
        for i in range(4):
            await client.register_agent("rt-b", AgentCard(name=f"o-{i}"), f"o-{i}")
    assert b.signal() == 0
    # Daemon A: the watcher sees revisions 1 and 2 (RUNTIME_JOINED, AGENT_REGISTERED of a-only).
    a = daemon_process("--listen", f"127.0.0.1:{free_port()}", "--store", "memory", *DAEMON_FLAGS)
    watcher = await make_registry(a.address, **SDK)
    async with RegistryClient(a.address) as client:
        await client.register_agent("rt-a", AgentCard(name="a"), "a-only")
    await eventually(lambda: watcher.revision == 2)

    a.signal(signal.SIGKILL)
    daemon_process("--listen", a.address, *other, *DAEMON_FLAGS)  # B, at revision 5, where A was
    # Revision 2 exists there too, but it is another event: only comparing it tells the histories apart.
    await eventually(lambda: set(watcher.agents) == {"o-0", "o-1", "o-2", "o-3"}, timeout=10)
    assert watcher.runtime_agents == {"rt-b": {"o-0", "o-1", "o-2", "o-3"}}


async def test_a_deregistration_that_fails_keeps_the_agent_alive(
    daemon_process: Any, make_registry: Any
) -> None:
    process = daemon_process("--listen", f"127.0.0.1:{free_port()}", "--store", "memory", *DAEMON_FLAGS)
    worker = await make_registry(process.address, **{**SDK, "rpc_timeout": 0.5})
    await register_workers(worker)
    process.signal(signal.SIGKILL)
    with pytest.raises(RegistryUnavailableError):
        await worker.deregister_agent("w-0", runtime_id="rt-w")
    process = daemon_process("--listen", process.address, "--store", "memory", *DAEMON_FLAGS)

    async def all_back() -> bool:
        return set(await daemon_agents(process.address)) == set(AGENTS)  # w-0 too: still this client's

    await eventually(all_back, timeout=10)


async def test_a_drained_daemon_is_rejoined_at_once_not_at_the_next_beat(
    daemon_process: Any, tmp_path: Path
) -> None:
    store = ["--store", "sqlite", "--data-dir", str(tmp_path / "data")]
    flags = ["--heartbeat-timeout", "60", "--auto-deregister-timeout", "120", "--log-level", "warning"]
    process = daemon_process("--listen", f"127.0.0.1:{free_port()}", *store, *flags)
    async with RegistryClient(process.address, timeout=2.0) as client:
        await client.register_agent("rt-w", AgentCard(name="w", capabilities=("work",)), "w-0")

        async def reregister(agent_ids: Any) -> list[str]:
            return list(agent_ids)

        config = AgentRegistryConfig(
            heartbeat_timeout=60,
            heartbeat_interval=20,
            reconnect_initial_backoff=0.05,
            reconnect_max_backoff=0.3,
        )
        heartbeat = RuntimeHeartbeat(client, "rt-w", config, reregister, lambda runtime_id, lost: None)
        heartbeat.add("w-0")
        await asyncio.wait_for(heartbeat.connected.wait(), 5)

        assert process.signal(signal.SIGTERM) == 0
        restarted_at = time.monotonic()
        daemon_process("--listen", process.address, *store, *flags)

        async def bound_again() -> bool:
            runtimes = await client.list_runtimes()
            return any(r.runtime_id == "rt-w" and r.stream_connected for r in runtimes.runtimes)

        try:
            await eventually(bound_again, timeout=10.0)
        finally:
            await heartbeat.stop()
    took = time.monotonic() - restarted_at
    print(f"\nstream re-bound {took:.2f} s after the restart (beat interval 20 s)")
