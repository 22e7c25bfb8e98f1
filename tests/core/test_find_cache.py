"""A repeated FindAgents query reuses its answer only while nothing in the view changes."""

from __future__ import annotations

from core_support import card

from registryd.core import registry as registry_module
from registryd.core.model import AgentStatus
from registryd.core.registry import Registry


def found(registry: Registry, query: str = "python", **kw: object) -> list[str]:
    return [f.agent.agent_id for f in registry.find(query, **kw)]  # type: ignore[arg-type]


async def test_a_repeated_query_answers_the_same_and_with_the_agents_latest_records(registry: Registry):
    await registry.register("rt", card("python code"), "a1")
    assert found(registry) == found(registry) == ["a1"]
    await registry.heartbeat("rt", ["a1"])
    assert registry.find("python")[0].agent is registry.get("a1")  # a beat's new record, not the old one


async def test_every_applied_change_is_seen_by_the_next_query(registry: Registry):
    await registry.register("rt", card("python code"), "a1")
    assert found(registry) == ["a1"]
    await registry.register("rt", card("python tests"), "a2")
    assert found(registry) == ["a1", "a2"]
    await registry.update_status("a1", AgentStatus.OFFLINE)
    assert found(registry) == ["a2"]
    assert found(registry, statuses=[AgentStatus.OFFLINE]) == ["a1"]
    await registry.register("rt", card("rust"), "a2")  # a new card
    assert found(registry) == []
    await registry.deregister("a1")
    assert found(registry, statuses=[AgentStatus.OFFLINE]) == []


async def test_queries_that_differ_in_statuses_or_limit_get_their_own_answers(registry: Registry):
    for i in range(3):
        await registry.register("rt", card("python"), f"a{i}")
    assert found(registry, limit=2) == ["a0", "a1"]
    assert found(registry, limit=3) == ["a0", "a1", "a2"]
    assert found(registry, statuses=[AgentStatus.DEGRADED]) == []


async def test_the_kept_answers_are_bounded(registry: Registry):
    await registry.register("rt", card("python"), "a1")
    for i in range(registry_module.FIND_CACHE_SIZE + 50):
        registry.find("python", limit=i + 1)
    assert len(registry._found) == registry_module.FIND_CACHE_SIZE
