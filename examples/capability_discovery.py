"""Pattern 2: capability discovery with event monitoring.

A monitor subscribes to lifecycle events (sync and async callbacks) while a runtime registers agents
with capabilities and skills; discovery is a case-insensitive substring match over capabilities, skill
names and skill tags, filtered by status. Status changes arrive as events with the original registry's
metadata keys (old_status, new_status, reason).

    .venv/bin/python examples/capability_discovery.py [--target 127.0.0.1:50051]
"""

from __future__ import annotations

import asyncio

from agentregistry import (
    AgentCard,
    AgentRegistry,
    AgentRegistryConfig,
    AgentStatus,
    RegistryEvent,
    RegistryEventType,
    Skill,
)
from common import parse_args, wait_until

RUNTIME = "example-discovery-runtime"


async def main(target: str) -> None:
    config = AgentRegistryConfig(target=target)
    # The monitor mirrors the registry from start() on, so its callbacks see every event after start();
    # without it the mirror (and the events) would begin a moment after the first subscribe().
    monitor_config = AgentRegistryConfig(target=target, local_view=True)
    events: list[RegistryEvent] = []

    def on_registered(event: RegistryEvent) -> None:  # a sync callback
        if event.runtime_id == RUNTIME:
            print(f"  event: {event.agent_id} registered with {event.metadata['capabilities']}")
            events.append(event)

    async def on_change(event: RegistryEvent) -> None:  # an async callback
        if event.runtime_id == RUNTIME:
            print(f"  event: {event.event_type.value} {event.agent_id} {event.metadata}")
            events.append(event)

    async with AgentRegistry(monitor_config) as monitor, AgentRegistry(config) as runtime:
        monitor.subscribe(RegistryEventType.AGENT_REGISTERED, on_registered)
        monitor.subscribe(RegistryEventType.AGENT_STATUS_CHANGED, on_change)
        monitor.subscribe(RegistryEventType.AGENT_DEREGISTERED, on_change)

        cards = {
            "example-translator": {"name": "translator", "capability": "Translation EN-DE"},
            "example-writer": {"name": "writer", "capabilities": ["technical writing", "translation review"]},
            "example-researcher": AgentCard(
                name="researcher",
                skills=(Skill(id="search", name="web research", tags=("citations", "summaries")),),
            ),
        }
        for agent_id, card in cards.items():
            await runtime.register_agent(card, runtime_id=RUNTIME, agent_id=agent_id)
        await wait_until(lambda: len(events) == 3, "three registration events")

        for query in ("translation", "CITATIONS", "writing"):
            found = await monitor.find_agents_by_capability(query)
            print(f"discover {query!r}: {[a.agent_id for a in found]}")
        assert [a.agent_id for a in await monitor.find_agents_by_capability("translation")] == [
            "example-translator",
            "example-writer",
        ]

        print("the writer is overloaded: its runtime reports it DEGRADED")
        await runtime.report_status("example-writer", AgentStatus.DEGRADED)
        await wait_until(lambda: len(events) == 4, "the status event")
        assert events[-1].metadata == {
            "old_status": "active",
            "new_status": "degraded",
            "reason": "self_reported",
        }
        active = await monitor.find_agents_by_capability("translation")
        degraded = await monitor.find_agents_by_capability("translation", status_filter=AgentStatus.DEGRADED)
        anything = await monitor.find_agents_by_capability("translation", status_filter=None)
        print(f"ACTIVE only: {[a.agent_id for a in active]}; DEGRADED: {[a.agent_id for a in degraded]}")
        print(f"any status: {[a.agent_id for a in anything]}")
        assert [a.agent_id for a in active] == ["example-translator"]

        for agent_id in cards:
            await runtime.deregister_agent(agent_id, runtime_id=RUNTIME)
        await wait_until(lambda: len(events) == 7, "three deregistration events")
        print("done")


if __name__ == "__main__":
    asyncio.run(main(parse_args(__doc__ or "").target))
