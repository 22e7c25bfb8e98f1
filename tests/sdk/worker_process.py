"""A worker runtime as its own process, written the way the original registry's users write one:
`python worker_process.py TARGET RUNTIME_ID HEARTBEAT_TIMEOUT AUTO_DEREGISTER_TIMEOUT AGENT_ID...`
registers the agents with the SDK, prints "ready" once its heartbeat stream is bound, then runs until
it is killed (the tests SIGKILL or SIGSTOP it)."""

from __future__ import annotations

import asyncio
import sys

from agentregistry import AgentRegistry, AgentRegistryConfig


async def main(target: str, runtime_id: str, heartbeat_timeout: str, auto: str, *agent_ids: str) -> None:
    config = AgentRegistryConfig(
        target=target, heartbeat_timeout=float(heartbeat_timeout), auto_deregister_timeout=float(auto)
    )
    async with AgentRegistry(config) as registry:
        for agent_id in agent_ids:
            await registry.register_agent(
                {"name": agent_id, "capabilities": ["code generation"]}, runtime_id, agent_id=agent_id
            )
        if not await registry.wait_heartbeats_connected(10):
            raise SystemExit("the heartbeat stream did not bind")
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
