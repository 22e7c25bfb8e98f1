"""SDK fixtures: `make_registry(target, **config)` makes a started AgentRegistry with fast test settings
(shut down at teardown); `client` is a RegistryClient on the in-process daemon."""

from __future__ import annotations

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
    "local_view": True,  # most tests read the view at once; test_lazy_view covers the default
}


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
