"""The original in-process registry's hot paths (kailash-kaizen 2.2.1, kaizen/orchestration/registry.py),
for scenario 6. The package itself cannot be imported here: its registry module imports
kaizen.core.base_agent, which needs `kailash.mcp_server` (missing from the kailash release pip resolves)
plus undeclared Pillow and anyio. So this keeps what its register and capability search do, step by
step: a lock around registration, dict and set bookkeeping, an index that is written and never read,
two events through a bounded asyncio.Queue drained by a broadcaster task; discovery is a linear scan of
every agent's card with a lowercased substring test, scored by word Jaccard and sorted."""

from __future__ import annotations

import asyncio
import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class OriginalAgentMetadata:
    agent_id: str
    a2a_card: dict[str, Any]
    status: str = "active"
    last_heartbeat: datetime.datetime = field(default_factory=datetime.datetime.now)


class LinearScanRegistry:
    def __init__(self, event_queue_size: int = 1000) -> None:
        self.agents: dict[str, OriginalAgentMetadata] = {}
        self.runtime_agents: dict[str, set[str]] = defaultdict(set)
        self.capability_index: dict[str, set[str]] = defaultdict(set)
        self.status_index: dict[str, set[str]] = defaultdict(set)
        self.event_queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=event_queue_size)
        self._lock = asyncio.Lock()
        self._queries = asyncio.Semaphore(100)
        self._broadcaster: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._broadcaster = asyncio.get_running_loop().create_task(self._broadcast())

    async def shutdown(self) -> None:
        if self._broadcaster is not None:
            self._broadcaster.cancel()

    async def register_agent(self, card: dict[str, Any], runtime_id: str, agent_id: str) -> str:
        async with self._lock:
            if agent_id in self.agents:
                raise ValueError(f"Agent with ID '{agent_id}' is already registered")
            metadata = OriginalAgentMetadata(agent_id=agent_id, a2a_card=card)
            self.agents[agent_id] = metadata
            first = len(self.runtime_agents[runtime_id]) == 0
            self.runtime_agents[runtime_id].add(agent_id)
            self.status_index[metadata.status].add(agent_id)
            for cap in self._capabilities(card):
                self.capability_index[cap.lower()].add(agent_id)
            if first:
                await self.event_queue.put({"type": "runtime_joined", "runtime_id": runtime_id})
            await self.event_queue.put(
                {"type": "agent_registered", "agent_id": agent_id, "capabilities": self._capabilities(card)}
            )
            return agent_id

    async def find_agents_by_capability(self, capability: str, status: str = "active") -> list[Any]:
        async with self._queries:
            matching = []
            for metadata in self.agents.values():
                if status and metadata.status != status:
                    continue
                if metadata.a2a_card:
                    for cap in self._capabilities(metadata.a2a_card):
                        if capability.lower() in cap.lower():
                            matching.append((metadata, self._score(capability, cap)))
                            break
            matching.sort(key=lambda pair: pair[1], reverse=True)
            return [metadata for metadata, _ in matching]

    @staticmethod
    def _capabilities(card: dict[str, Any]) -> list[str]:
        capabilities = []
        if "capability" in card:
            capabilities.append(card["capability"])
        if "capabilities" in card:
            caps = card["capabilities"]
            if isinstance(caps, list):
                capabilities.extend(caps)
            elif isinstance(caps, str):
                capabilities.append(caps)
        return capabilities

    @staticmethod
    def _score(query: str, capability: str) -> float:
        query_words, cap_words = set(query.lower().split()), set(capability.lower().split())
        if not query_words or not cap_words:
            return 0.0
        return len(query_words & cap_words) / len(query_words | cap_words)

    async def _broadcast(self) -> None:
        while True:
            await self.event_queue.get()
