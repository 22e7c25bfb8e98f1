"""Capability discovery over the local view, by the daemon's own rules.

The text rules (normalising, and how a query occurs in a text) are the daemon's functions themselves,
imported from `registryd.core.index` (pure Python, shipped in the same distribution), so the local answer
cannot drift from FindAgents. Ranking is FindAgents': capabilities, skill names and tags before
descriptions and examples, then by the best matching text, ordered by kind (exact, whole word,
substring), then shorter text, then text; agents of one text by id; each agent once.
"""

from __future__ import annotations

from collections.abc import Iterable

from agentregistry.convert import searchable_texts
from agentregistry.types import AgentMetadata
from registryd.core.index import best_match, normalize


def rank_local(query: str, agents: Iterable[AgentMetadata], limit: int) -> list[AgentMetadata]:
    """The agents among `agents` whose searchable texts contain `query`, best first, at most `limit`."""
    wanted = normalize(query)
    if not wanted:
        raise ValueError("capability must not be empty")
    ranked = []
    for agent in agents:
        for tier, texts in enumerate(searchable_texts(agent.card)):
            best = best_match(wanted, {normalize(t) for t in texts})
            if best is not None:
                kind, text = best
                ranked.append(((tier, kind, len(text), text), agent.agent_id, agent))
                break
    ranked.sort(key=lambda entry: entry[:2])
    return [agent for _, _, agent in ranked[:limit]]
