"""Pattern 3: fault tolerance across processes.

A worker runtime runs in its own process and hosts the primary "code generation" agent; a backup runtime
hosts a standby. The router routes to the primary while it is ACTIVE. The worker process is killed
(SIGKILL, no goodbye): its heartbeat stream breaks, the daemon marks the primary UNHEALTHY at once, the
router hears the event and fails over to the backup. A new worker process comes up, registers the same
agent again, the primary is ACTIVE, and the router routes to it again.

    .venv/bin/python examples/fault_tolerance.py [--target 127.0.0.1:50051]
"""

from __future__ import annotations

import asyncio
import signal
import sys

from agentregistry import (
    AgentMetadata,
    AgentRegistry,
    AgentRegistryConfig,
    AgentStatus,
    RegistryEvent,
    RegistryEventType,
)
from common import parse_args, wait_until

CAPABILITY = "code generation"
PRIMARY, WORKER_RUNTIME = "example-primary", "example-worker"
BACKUP, BACKUP_RUNTIME = "example-backup", "example-backup-runtime"


async def worker(target: str) -> None:
    """The worker process: register the primary, say so, serve until stdin closes, then leave cleanly."""
    async with AgentRegistry(AgentRegistryConfig(target=target)) as registry:
        await registry.register_agent(
            {"name": "primary coder", "capability": CAPABILITY}, runtime_id=WORKER_RUNTIME, agent_id=PRIMARY
        )
        if not await registry.wait_heartbeats_connected(10):  # from now on a crash is noticed at once
            raise SystemExit("the heartbeat stream did not connect")
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await registry.deregister_agent(PRIMARY, runtime_id=WORKER_RUNTIME)


async def start_worker(target: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--worker",
        "--target",
        target,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    if line.strip() != b"ready":
        raise SystemExit(f"worker did not start (said {line!r})")
    print(f"worker process {process.pid} is up and hosts {PRIMARY}")
    return process


def route(candidates: list[AgentMetadata]) -> str:
    """Prefer the primary; any other ACTIVE agent with the capability is a fallback."""
    ids = [a.agent_id for a in candidates]
    return PRIMARY if PRIMARY in ids else ids[0] if ids else "nobody"


async def router(target: str) -> None:
    primary_status: list[str] = []

    def on_status(event: RegistryEvent) -> None:
        if event.agent_id == PRIMARY:
            print(
                f"  event: {PRIMARY} {event.metadata['old_status']} -> {event.metadata['new_status']}"
                f" ({event.metadata['reason']})"
            )
            primary_status.append(event.metadata["new_status"])

    config = AgentRegistryConfig(target=target)
    async with AgentRegistry(config) as registry, AgentRegistry(config) as backup_runtime:
        registry.subscribe(RegistryEventType.AGENT_STATUS_CHANGED, on_status)
        await backup_runtime.register_agent(
            {"name": "backup coder", "capability": CAPABILITY}, runtime_id=BACKUP_RUNTIME, agent_id=BACKUP
        )
        process = await start_worker(target)
        chosen = route(await registry.find_agents_by_capability(CAPABILITY))
        print(f"router -> {chosen}")
        assert chosen == PRIMARY

        print(f"killing worker process {process.pid} (SIGKILL)")
        process.send_signal(signal.SIGKILL)
        await process.wait()
        await wait_until(
            lambda: AgentStatus.UNHEALTHY.value in primary_status, "the primary to turn UNHEALTHY"
        )
        chosen = route(await registry.find_agents_by_capability(CAPABILITY))
        print(f"router fails over -> {chosen}")
        assert chosen == BACKUP

        process = await start_worker(target)
        await wait_until(lambda: primary_status[-1] == AgentStatus.ACTIVE.value, "the primary to be ACTIVE")
        chosen = route(await registry.find_agents_by_capability(CAPABILITY))
        print(f"worker is back; router -> {chosen}")
        assert chosen == PRIMARY

        assert process.stdin is not None
        process.stdin.close()  # the worker deregisters and exits
        assert await asyncio.wait_for(process.wait(), 30) == 0
        await backup_runtime.deregister_agent(BACKUP, runtime_id=BACKUP_RUNTIME)
        print("done")


if __name__ == "__main__":
    args = parse_args(__doc__ or "")
    asyncio.run(worker(args.target) if args.worker else router(args.target))
