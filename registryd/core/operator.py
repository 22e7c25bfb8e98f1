"""Operator actions composed of registry calls: draining a runtime sets each of its agents OFFLINE."""

from __future__ import annotations

import asyncio

from registryd.core.errors import NotFound
from registryd.core.model import AgentStatus
from registryd.core.registry import Registry
from registryd.core.validation import validate_id


async def drain_runtime(registry: Registry, runtime_id: str) -> tuple[int, int, int]:
    """Set every agent of `runtime_id` OFFLINE by operator, so routers stop picking them while the
    runtime keeps running. Returns (agents, changed, revision). A runtime with no agents is NOT_FOUND."""
    validate_id("runtime_id", runtime_id, registry.limits)
    agent_ids = registry.agents_of(runtime_id)
    if not agent_ids:
        raise NotFound(f"runtime {runtime_id!r} has no agents", field="runtime_id")
    # Concurrently, so group commit writes the changes together rather than one write per agent.
    results = await asyncio.gather(
        *(registry.update_status(a, AgentStatus.OFFLINE) for a in agent_ids), return_exceptions=True
    )
    changed = 0
    for result in results:
        if isinstance(result, NotFound):  # deregistered while we drained: nothing left to set
            continue
        if isinstance(result, BaseException):
            raise result
        changed += result[1]
    return len(agent_ids), changed, registry.committed_revision
