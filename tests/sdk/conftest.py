"""SDK fixtures: `registry(**config)` makes a started AgentRegistry on the in-process daemon (or any
address), shut down at teardown."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from agentregistry import AgentRegistry, AgentRegistryConfig, RegistryClient

# Short settings for tests: the daemon fixture's heartbeat_timeout is 0.3 s.
FAST_SDK = {
    "heartbeat_timeout": 0.3,
    "auto_deregister_timeout": 0.8,
    "reconnect_initial_backoff": 0.05,
    "reconnect_max_backoff": 0.3,
    "event_stream_idle_timeout": 1.0,  # five of the daemon fixture's bookmark intervals
    "rpc_timeout": 5.0,
}


async def eventually(check: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Poll `check` (sync or async) until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {check}")
        await asyncio.sleep(interval)


@pytest.fixture
async def make_registry() -> AsyncIterator[Callable[..., Any]]:
    started: list[AgentRegistry] = []

    async def make(target: str, **overrides: Any) -> AgentRegistry:
        registry = AgentRegistry(AgentRegistryConfig(target=target, **{**FAST_SDK, **overrides}))
        await registry.start()
        started.append(registry)
        return registry

    yield make
    for registry in started:
        await registry.shutdown()


@pytest.fixture
async def client(daemon: Any) -> AsyncIterator[RegistryClient]:
    async with RegistryClient(daemon.address, timeout=5.0) as c:
        yield c
