"""The view as the changes decided for one write will leave it (cluster group commit).

Several changes share one write to a shared store; each is decided against the view as the ones before
it in that write leave it, though none is applied yet (the view changes only by applying committed
changes). Decisions read agents, agent counts and runtimes through this overlay. It holds anything only
while the committer decides one write's changes, all at once, so no read ever sees it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from registryd.core.model import Agent, Event, EventType


class Decided:
    def __init__(self, agents: Mapping[str, Agent], runtimes: Mapping[str, set[str]]) -> None:
        self._agents = agents
        self._runtimes = runtimes
        self._pending: dict[str, Agent | None] = {}  # agent_id -> state after the decided changes
        self._joined: Counter[str] = Counter()  # runtime_id -> agents added minus agents removed

    def agent(self, agent_id: str) -> Agent | None:
        if agent_id in self._pending:
            return self._pending[agent_id]
        return self._agents.get(agent_id)

    def agent_count(self) -> int:
        return len(self._agents) + sum(self._joined.values())

    def runtime_size(self, runtime_id: str) -> int:
        return len(self._runtimes.get(runtime_id, ())) + self._joined[runtime_id]

    def note(self, events: Sequence[Event]) -> None:
        """A change decided for the write being prepared."""
        for event in events:
            if event.type is EventType.AGENT_DEREGISTERED:
                self._pending[event.agent_id] = None
                self._joined[event.runtime_id] -= 1
            elif event.agent is not None and event.revision:
                if self.agent(event.agent_id) is None:
                    self._joined[event.runtime_id] += 1
                self._pending[event.agent_id] = event.agent

    def clear(self) -> None:
        self._pending.clear()
        self._joined.clear()
