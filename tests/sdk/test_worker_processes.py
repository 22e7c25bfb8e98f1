"""Liveness a router can route on, seen through the SDK with workers as real processes (issue 10's cases):
killed (SIGKILL), hung (SIGSTOP), and dying while the daemon is away."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from agentregistry import AgentRegistry, AgentRegistryConfig, AgentStatus, RegistryEventType, StatusReason
from sdk_support import eventually, free_port

WORKER = Path(__file__).with_name("worker_process.py")
ROUTABLE = [AgentStatus.ACTIVE, AgentStatus.DEGRADED]


@pytest.fixture
def workers() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """`workers(target, runtime_id, heartbeat_timeout, auto, *agent_ids)` starts a worker process and
    returns once it is bound; every worker is killed at teardown (continued first if stopped)."""
    started: list[subprocess.Popen[str]] = []

    def start(target: str, runtime_id: str, hb: float, auto: float, *agent_ids: str) -> subprocess.Popen[str]:
        args = [sys.executable, str(WORKER), target, runtime_id, str(hb), str(auto), *agent_ids]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait(10)


async def routable(router: AgentRegistry) -> set[str]:
    return {a.agent_id for a in await router.find_agents_by_capability("code generation", ROUTABLE)}


async def test_pattern_3_a_hung_worker_turns_unhealthy_on_its_own_10s_timeout(
    daemon_process: Any, workers: Any
):
    process = daemon_process("--store", "memory")  # the daemon's own timeout stays 30 s
    worker = workers(process.address, "w1", 10.0, 20.0, "w1-coder")
    async with AgentRegistry(AgentRegistryConfig(target=process.address)) as router:
        changes = router.client.subscribe(types=[RegistryEventType.AGENT_STATUS_CHANGED])
        first = await anext(changes)  # the subscription is in place
        assert first is not None
        worker.send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        async for event in changes:
            if getattr(event, "event_type", None) is RegistryEventType.AGENT_STATUS_CHANGED:
                break
        assert event.agent is not None and event.agent.status_reason is StatusReason.HEARTBEAT_TIMEOUT
        late = (event.timestamp - event.agent.last_heartbeat).total_seconds() - 10.0
        print(
            f"\nUNHEALTHY {late * 1000:+.1f} ms from last beat + 10 s; {time.monotonic() - stopped:.1f} s after SIGSTOP"
        )
        assert -0.1 <= late <= 0.1
        assert await routable(router) == set()


async def test_an_operators_degraded_worker_killed_leaves_discovery_at_once(
    daemon_process: Any, workers: Any
):
    process = daemon_process("--store", "memory")
    worker = workers(process.address, "w3", 30.0, 60.0, "w3-coder")
    async with AgentRegistry(AgentRegistryConfig(target=process.address)) as router:
        await router.client.update_agent_status("w3-coder", AgentStatus.DEGRADED)  # registryctl status set
        assert await routable(router) == {"w3-coder"}
        worker.kill()
        killed = time.monotonic()
        await eventually(lambda: _empty(router), timeout=5)
        print(
            f"\ngone from ACTIVE+DEGRADED discovery {1000 * (time.monotonic() - killed):.0f} ms after kill -9"
        )
        agent = await router.get_agent("w3-coder")
        assert agent is not None
        assert (agent.status, agent.operator_status) == (AgentStatus.UNHEALTHY, AgentStatus.DEGRADED)


async def _empty(router: AgentRegistry) -> bool:
    return not await routable(router)


async def test_a_worker_that_dies_while_the_daemon_is_away_is_not_routed_to(
    daemon_process: Any, workers: Any, tmp_path: Path
):
    flags = [
        "--listen",
        f"127.0.0.1:{free_port()}",
        "--data-dir",
        str(tmp_path / "data"),
        "--rebind-grace",
        "3",
    ]
    first = daemon_process(*flags)
    survivor = workers(first.address, "alive", 30.0, 60.0, "alive-1")
    casualty = workers(first.address, "dead", 30.0, 60.0, "dead-1")
    assert survivor.poll() is None
    first.signal(signal.SIGKILL)
    casualty.kill()  # dies during the outage
    daemon_process(*flags)  # returns once ready
    ready = time.monotonic()
    async with AgentRegistry(AgentRegistryConfig(target=first.address)) as router:
        while "dead-1" in await routable(router):
            assert time.monotonic() - ready < 10, "the dead worker stayed routable"
            await asyncio.sleep(0.05)
        gone = time.monotonic() - ready
        runtimes = {r.runtime_id: r.stream_connected for r in (await router.client.list_runtimes()).runtimes}
        assert await routable(router) == {"alive-1"}
    print(f"\ndead worker left discovery {gone:.2f} s after the restart (rebind grace 3 s)")
    assert runtimes == {"alive": True, "dead": False}
    assert 2.9 <= gone < 5
