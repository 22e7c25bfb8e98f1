"""Helpers for tests that talk to a real daemon through real gRPC channels."""

from __future__ import annotations

import asyncio
import time

import grpc
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc
from google.rpc import error_details_pb2, status_pb2

EVENT = pb.EventType
# Liveness far beyond any test's duration: `serve(**STEADY)` for tests that are not about timeouts.
STEADY: dict[str, float] = {"heartbeat_timeout": 60.0, "auto_deregister_timeout": 120.0}


def card(*capabilities: str, name: str = "agent", description: str = "") -> pb.AgentCard:
    return pb.AgentCard(name=name, capability_phrases=capabilities, description=description)


async def register(
    stub: registry_pb2_grpc.RegistryServiceStub, runtime_id: str, agent_id: str, *capabilities: str
) -> pb.RegisterAgentResponse:
    return await stub.RegisterAgent(  # type: ignore[no-any-return]
        pb.RegisterAgentRequest(runtime_id=runtime_id, agent_id=agent_id, card=card(*capabilities or ("x",)))
    )


def rich_status(error: grpc.aio.AioRpcError) -> status_pb2.Status:
    """The google.rpc.Status the server attached to a failed call."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            return status_pb2.Status.FromString(value)
    raise AssertionError(f"no google.rpc.Status details on {error.code()}: {error.details()}")


def bad_request_fields(error: grpc.aio.AioRpcError) -> list[str]:
    fields = []
    for detail in rich_status(error).details:
        violations = error_details_pb2.BadRequest()
        if detail.Unpack(violations):
            fields += [v.field for v in violations.field_violations]
    return fields


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    for detail in rich_status(error).details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info
    raise AssertionError(f"no ErrorInfo on {error.code()}: {error.details()}")


class Subscriber:
    """One Subscribe call, read by a background task into a queue (so reading never blocks a test)."""

    def __init__(self, stub: registry_pb2_grpc.RegistryServiceStub, request: pb.SubscribeRequest) -> None:
        self.call = stub.Subscribe(request)
        self.messages: asyncio.Queue[tuple[float, pb.SubscribeResponse]] = asyncio.Queue()
        self.error: grpc.aio.AioRpcError | None = None
        self.ended = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for message in self.call:
                self.messages.put_nowait((time.monotonic(), message))
        except grpc.aio.AioRpcError as error:
            self.error = error
        finally:
            self.ended.set()

    async def started(self, timeout: float = 5.0) -> int:
        """Wait for the first bookmark (the subscription is in place); returns its revision."""
        _, message = await asyncio.wait_for(self.messages.get(), timeout)
        assert message.WhichOneof("kind") == "bookmark"
        return message.bookmark.revision  # type: ignore[no-any-return]

    async def event(self, timeout: float = 5.0) -> tuple[float, pb.Event]:
        """The next event (skipping bookmarks) and the monotonic time it arrived."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no event within {timeout} s")
            at, message = await asyncio.wait_for(self.messages.get(), left)
            if message.WhichOneof("kind") == "event":
                return at, message.event

    async def events(self, count: int, timeout: float = 5.0) -> list[pb.Event]:
        return [(await self.event(timeout))[1] for _ in range(count)]

    async def event_of(self, event_type: int, timeout: float = 5.0) -> tuple[float, pb.Event]:
        deadline = time.monotonic() + timeout
        while True:
            at, event = await self.event(max(0.0, deadline - time.monotonic()))
            if event.type == event_type:
                return at, event

    def drained(self) -> list[pb.Event]:
        """Events received so far and not yet taken."""
        events = []
        while not self.messages.empty():
            _, message = self.messages.get_nowait()
            if message.WhichOneof("kind") == "event":
                events.append(message.event)
        return events

    async def close(self) -> None:
        self.call.cancel()
        await self.ended.wait()
