"""Capability discovery over the local view, by the daemon's own rules.

The text rules (normalising, and how a query occurs in a text) are the daemon's functions themselves,
imported from `registryd.core.index` (pure Python, shipped in the same distribution), so the local answer
cannot drift from FindAgents. Ranking is FindAgents': by the best matching text, ordered by kind (exact,
whole word, substring), then shorter text, then text; agents of one text by id; each agent once.
"""

from __future__ import annotations

from collections.abc import Iterable

from agentregistry.convert import searchable_texts
from agentregistry.types import AgentMetadata
from registryd.core.index import match_kind, normalize


def rank_local(query: str, agents: Iterable[AgentMetadata], limit: int) -> list[AgentMetadata]:
    """The agents among `agents` whose searchable texts contain `query`, best first, at most `limit`."""
    wanted = normalize(query)
    if not wanted:
        raise ValueError("capability must not be empty")
    ranked = []
    for agent in agents:
        best = None
        for text in {normalize(t) for t in searchable_texts(agent.card)}:
            kind = match_kind(wanted, text)
            if kind is not None:
                rank = (kind, len(text), text)
                best = rank if best is None or rank < best else best
        if best is not None:
            ranked.append((best, agent.agent_id, agent))
    ranked.sort(key=lambda entry: entry[:2])
    return [agent for _, _, agent in ranked[:limit]]
