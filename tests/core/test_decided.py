"""The view as the changes decided for one write leave it (core/decided.py): what group commit decides by."""

from __future__ import annotations

from dataclasses import replace

from registryd.core.decided import Decided
from registryd.core.model import (
    Agent,
    AgentCard,
    AgentStatus,
    Event,
    EventType,
    StatusReason,
)


def agent(agent_id: str, runtime_id: str, revision: int = 1) -> Agent:
    return Agent(
        agent_id,
        runtime_id,
        AgentCard(name="agent"),
        AgentStatus.ACTIVE,
        StatusReason.REGISTERED,
        0.0,
        0.0,
        0.0,
        revision,
    )


def event(event_type: EventType, subject: Agent, revision: int) -> Event:
    return Event(revision, event_type, 0.0, subject.runtime_id, subject.agent_id, subject)


def test_decisions_see_the_changes_decided_before_them_and_nothing_once_cleared():
    held = agent("a1", "rt")
    agents, runtimes = {"a1": held}, {"rt": {"a1"}}
    decided = Decided(agents, runtimes)
    new, changed = agent("b1", "new", 2), replace(held, health=AgentStatus.UNHEALTHY, revision=3)
    decided.note(
        [event(EventType.AGENT_REGISTERED, new, 2), event(EventType.AGENT_STATUS_CHANGED, changed, 3)]
    )
    assert decided.agent("b1") == new and decided.agent("a1") == changed
    assert (decided.agent_count(), decided.runtime_size("new"), decided.runtime_size("rt")) == (2, 1, 1)
    decided.note([event(EventType.AGENT_DEREGISTERED, changed, 4)])
    assert decided.agent("a1") is None
    assert (decided.agent_count(), decided.runtime_size("rt")) == (1, 0)
    decided.note([Event(0, EventType.AGENT_HEARTBEAT, 0.0, "new", "b1", new)])  # ephemeral: no change
    assert decided.agent_count() == 1
    decided.clear()
    assert decided.agent("a1") == held and decided.agent("b1") is None
    assert (decided.agent_count(), decided.runtime_size("rt"), decided.runtime_size("new")) == (1, 1, 0)
