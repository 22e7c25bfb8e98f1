"""Pattern 1: basic multi-runtime coordination.

Two worker runtimes register their agents with registryd; a router in a third client discovers them by
capability across runtimes, sees which runtime hosts what, and reads the registry's metrics.

    make run                                   # in one terminal
    .venv/bin/python examples/basic_coordination.py [--target 127.0.0.1:50051]
"""

from __future__ import annotations

import asyncio

from agentregistry import AgentCard, AgentRegistry, AgentRegistryConfig, Skill
from common import parse_args, wait_until


async def main(target: str) -> None:
    config = AgentRegistryConfig(target=target)
    async with (
        AgentRegistry(config) as runtime_1,
        AgentRegistry(config) as runtime_2,
        AgentRegistry(config) as router,
    ):
        coder = await runtime_1.register_agent(
            {"name": "coder", "capability": "Python code generation"},
            runtime_id="example-runtime-1",
            agent_id="example-coder",
        )
        reviewer = await runtime_1.register_agent(
            AgentCard(
                name="reviewer",
                capabilities=("code review",),
                skills=(Skill(id="lint", name="static analysis", tags=("lint", "style")),),
            ),
            runtime_id="example-runtime-1",
            agent_id="example-reviewer",
        )
        analyst = await runtime_2.register_agent(
            {"name": "analyst", "capabilities": ["data analysis", "SQL queries"]},
            runtime_id="example-runtime-2",
            agent_id="example-analyst",
        )
        print(f"runtime 1 registered {coder} and {reviewer}; runtime 2 registered {analyst}")

        for query in ("code", "python", "lint", "sql"):
            found = await router.find_agents_by_capability(query)
            print(f"router: {query!r} -> {[(a.agent_id, a.runtime_id) for a in found]}")
        assert [a.agent_id for a in await router.find_agents_by_capability("code")] == [
            "example-reviewer",
            "example-coder",
        ]

        expected = {
            "example-runtime-1": ["example-coder", "example-reviewer"],
            "example-runtime-2": ["example-analyst"],
        }

        def runtimes() -> dict[str, list[str]]:
            return {r: sorted(ids) for r, ids in router.runtime_agents.items() if r.startswith("example-")}

        await wait_until(lambda: runtimes() == expected, "the router's view")  # it follows by events
        print(f"router sees runtimes: {runtimes()}")
        metrics = await router.get_metrics()
        print(f"metrics: {metrics}")

        for agent_id, runtime_id in ((coder, "example-runtime-1"), (reviewer, "example-runtime-1")):
            assert await runtime_1.deregister_agent(agent_id, runtime_id=runtime_id)
        assert await runtime_2.deregister_agent(analyst, runtime_id="example-runtime-2")
        print("all agents deregistered; done")


if __name__ == "__main__":
    asyncio.run(main(parse_args(__doc__ or "").target))
