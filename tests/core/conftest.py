from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from core_support import FakeClock, running

from registryd.core.events import EventFilter, Subscription
from registryd.core.registry import Registry


@pytest.fixture
async def registry() -> AsyncIterator[Registry]:
    """A started in-memory registry whose agents do not time out during a test."""
    async with running() as reg:
        yield reg


@pytest.fixture
def events(registry: Registry) -> Subscription:
    """A live subscription to every event type except AGENT_HEARTBEAT."""
    return registry.subscribe(EventFilter())


@pytest.fixture
def clock() -> FakeClock:
    """Time that moves only when the test says so (tests that take it pass it to `running`)."""
    return FakeClock()
