"""The live event stream as Server-Sent Events: each event's id is its revision, so a client that
reconnects with Last-Event-ID gets every event after it (replayed from the retained log), then live ones.

Filters are the Subscribe filters (`type`, `runtime_id`, `agent_id`). An idle stream gets a `bookmark`
event every bookmark_interval whose id is the revision up to which the client has seen everything that
matched, so resuming after it skips nothing and repeats nothing. A resume point that is no longer retained
is answered 410 Gone: list again and stream from the list's revision.

A reader that falls event_queue_size events behind is cut off, by the same rule and the same queue as a
gRPC subscriber: when its connection is stuck (the server blocked writing to it) the connection is dropped;
otherwise it is sent an `error` event naming the revision to resume from. Either way, reconnecting with
Last-Event-ID resumes without a gap.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import structlog
from aiohttp import web

from registryd.api import convert
from registryd.core.errors import InvalidArgument, SubscriberOverflow
from registryd.core.events import Subscription, SubscriptionClosed
from registryd.http.api import REGISTRY, event_filter, refusing, to_json
from registryd.http.guard import caller_of

log = structlog.get_logger("registryd.http")

BOOKMARK_INTERVAL = web.AppKey("bookmark_interval", float)
RETRY_MS = 1000  # how long an EventSource waits before it reconnects


def frame(kind: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def bookmark(subscription: Subscription) -> bytes:
    revision = subscription.bookmark()
    return frame("bookmark", {"revision": str(revision)}, revision)


def resume_point(request: web.Request) -> int:
    """The revision to start from: after Last-Event-ID when reconnecting, else `from_revision`, else live."""
    last_id = request.headers.get("Last-Event-ID", "").strip()
    if last_id:
        if not last_id.isdigit() or len(last_id) > 19:
            raise InvalidArgument(
                f"Last-Event-ID must be a revision (got {last_id[:32]!r})", field="Last-Event-ID"
            )
        return int(last_id) + 1
    raw = request.query.get("from_revision", "")
    if raw and (not raw.isdigit() or len(raw) > 19):
        raise InvalidArgument(f"from_revision must be a revision (got {raw[:32]!r})", field="from_revision")
    return int(raw or 0)


class _Writer:
    """Writes frames, and drops the connection if the subscription overflows while a write is stuck."""

    def __init__(self, request: web.Request, response: web.StreamResponse) -> None:
        self._request = request
        self._response = response
        self._writing = False

    async def write(self, data: bytes) -> None:
        self._writing = True
        try:
            await self._response.write(data)
        finally:
            self._writing = False

    def on_overflow(self) -> None:
        transport = self._request.transport
        if self._writing and transport is not None:
            transport.abort()  # wakes the stuck write with ConnectionResetError


@refusing
async def event_stream(request: web.Request) -> web.StreamResponse:
    registry = request.app[REGISTRY]
    subscription = registry.subscribe(event_filter(request), resume_point(request), caller_of(request))
    try:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",  # tell proxies not to hold events back
            }
        )
        await response.prepare(request)
        writer = _Writer(request, response)
        subscription.on_overflow = writer.on_overflow
        await writer.write(f"retry: {RETRY_MS}\n\n".encode() + bookmark(subscription))
        interval = request.app[BOOKMARK_INTERVAL]
        while True:
            event = await subscription.next(interval)
            if event is None:
                await writer.write(bookmark(subscription))
            else:
                data = to_json(convert.event_to_proto(event))
                await writer.write(frame(event.type.name, data, event.revision or None))
    except SubscriberOverflow as overflow:
        await _say_overflow(writer, overflow)
    except SubscriptionClosed:
        pass  # the daemon is stopping; the client reconnects from its last id
    except ConnectionError:
        if subscription.overflow is not None:
            log.info("event stream reader cut off: too slow", remote=request.remote)
    finally:
        subscription.close()
    return response


async def _say_overflow(writer: _Writer, overflow: SubscriberOverflow) -> None:
    error = {
        "status": "RESOURCE_EXHAUSTED",
        "reason": "SUBSCRIBER_OVERFLOW",
        "message": overflow.message,
        "last_revision": str(overflow.last_revision),
    }
    with contextlib.suppress(ConnectionError):
        await writer.write(frame("error", {"error": error}))
