from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from agentregistry.v1 import registry_pb2 as pb
from service_support import STEADY, Subscriber


@pytest.fixture
async def daemon(serve: Callable[..., Awaitable[object]]) -> object:
    """A daemon whose agents do not time out during a test, so a stall under load cannot add events.
    Time-based tests use `await serve()` (tenth-of-a-second liveness) or override this fixture."""
    return await serve(**STEADY)


@pytest.fixture
async def subscribe() -> AsyncIterator[Callable[..., Subscriber]]:
    """`subscribe(stub, **request_fields)` opens a Subscribe stream; all are cancelled at teardown."""
    opened: list[Subscriber] = []

    def open_(stub: object, **fields: object) -> Subscriber:
        subscriber = Subscriber(stub, pb.SubscribeRequest(**fields))  # type: ignore[arg-type]
        opened.append(subscriber)
        return subscriber

    yield open_
    for subscriber in opened:
        await subscriber.close()
