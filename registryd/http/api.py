"""The JSON API: each handler validates the query, calls the registry as the gRPC servicer does, and
answers with the gRPC response message in its canonical JSON form (what `grpcurl -emit-defaults` prints),
so scripts can use either face interchangeably."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from agentregistry.v1 import registry_pb2 as pb
from aiohttp import web
from google.protobuf import json_format
from google.protobuf.message import Message

from registryd.api import convert
from registryd.api.paging import decode_page_token, encode_page_token
from registryd.core.commit import CommitFailed
from registryd.core.errors import InvalidArgument, RegistryError
from registryd.core.events import EventFilter
from registryd.core.filters import AgentFilter
from registryd.core.model import AgentStatus
from registryd.core.operator import drain_runtime
from registryd.core.registry import Registry
from registryd.core.selection import parse_selector, recent_events
from registryd.core.validation import page_size
from registryd.http.errors import refusal
from registryd.http.guard import principal_of

REGISTRY = web.AppKey("registry", Registry)
DEFAULT_RECENT_EVENTS = 50

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def refusing(handler: Handler) -> Handler:
    """Core refusals become HTTP errors (registryd.http.errors decides which)."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except (RegistryError, CommitFailed) as error:
            return refusal(error)

    return wrapper


def to_json(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)  # type: ignore[no-any-return]


def proto_response(message: Message, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(to_json(message), headers=headers)


# ------------------------------------------------------------------ query parameters


def enum_value(word: str, enum: Any, prefix: str, field: str) -> int:
    """An enum name with or without its proto prefix: ACTIVE or AGENT_STATUS_ACTIVE."""
    key = word.strip().upper()
    try:
        return enum.Value(key if key.startswith(prefix) else prefix + key)  # type: ignore[no-any-return]
    except ValueError:
        names = ", ".join(n.removeprefix(prefix) for n in enum.keys()[1:])
        raise InvalidArgument(f"{field} {word[:64]!r} is not one of {names}", field=field) from None


def enum_values(request: web.Request, name: str, enum: Any, prefix: str) -> list[int]:
    """Repeated (or comma-separated) `name` parameters holding enum names."""
    return [
        enum_value(word, enum, prefix, name)
        for raw in request.query.getall(name, [])
        for word in raw.split(",")
        if word
    ]


def statuses(request: web.Request) -> frozenset[AgentStatus]:
    return convert.statuses_from_proto(
        enum_values(request, "status", pb.AgentStatus, "AGENT_STATUS_"), "status"
    )


def flag(request: web.Request, name: str) -> bool:
    raw = request.query.get(name, "").strip().lower()
    if raw in ("", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise InvalidArgument(f"{name} must be true or false (got {raw[:32]!r})", field=name)


async def consistent(request: web.Request, registry: Registry) -> None:
    """`?consistent=1`: the read first catches up with every write acknowledged anywhere (as the gRPC
    requests' `consistent`)."""
    if flag(request, "consistent"):
        await registry.sync()


def agent_filter(request: web.Request) -> AgentFilter:
    """AgentFilter's fields as parameters (repeated ones repeated: tag=a&tag=b), `selector` its label
    selector, and each `label` one more requirement of it (label=tier=gold, label=!canary)."""
    query = request.query
    labels = query.getall("label", [])
    for term in labels:
        parse_selector(term, "label")  # a bad one is named as the parameter it came in
    selector = ",".join(part for part in (*labels, query.get("selector", "")) if part.strip())
    return AgentFilter(
        skill_ids=tuple(query.getall("skill_id", [])),
        tags=tuple(query.getall("tag", [])),
        input_modes=tuple(query.getall("input_mode", [])),
        output_modes=tuple(query.getall("output_mode", [])),
        protocol_bindings=tuple(query.getall("protocol_binding", [])),
        streaming=flag(request, "streaming"),
        push_notifications=flag(request, "push_notifications"),
        provider=query.get("provider", ""),
        verified=flag(request, "verified"),
        label_selector=selector,
    )


def integer(request: web.Request, name: str, default: int = 0) -> int:
    raw = request.query.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidArgument(f"{name} must be an integer (got {raw[:32]!r})", field=name) from None
    if value < 0:
        raise InvalidArgument(f"{name} must not be negative (got {value})", field=name)
    return value


def event_filter(request: web.Request) -> EventFilter:
    types = convert.event_types_from_proto(enum_values(request, "type", pb.EventType, "EVENT_TYPE_"), "type")
    ids = {"runtime_id": request.query.get("runtime_id", ""), "agent_id": request.query.get("agent_id", "")}
    return EventFilter(types, **ids) if types else EventFilter(**ids)


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidArgument("the body must be a JSON object")
    return body


# ------------------------------------------------------------------ reads


@refusing
async def list_agents(request: web.Request) -> web.Response:
    """ListAgents, with the filter's parameters (see agent_filter)."""
    registry = request.app[REGISTRY]
    await consistent(request, registry)
    runtime_id = request.query.get("runtime_id", "")
    wanted = statuses(request)
    only = agent_filter(request)
    limit = page_size(integer(request, "page_size"), registry.limits)
    after = decode_page_token(request.query.get("page_token", ""), runtime_id, wanted, only)
    page = registry.list_agents(runtime_id, wanted, after, limit, only)
    token = encode_page_token(page.next_after, runtime_id, wanted, only) if page.next_after else ""
    response = pb.ListAgentsResponse(
        agents=await convert.agent_messages(page.agents),
        next_page_token=token,
        revision=await registry.durable(page.revision),
    )
    return proto_response(response)


@refusing
async def find_agents(request: web.Request) -> web.Response:
    """FindAgents by `capability`, with the same `status` parameter and filter parameters as the list."""
    registry = request.app[REGISTRY]
    await consistent(request, registry)
    wanted = statuses(request)
    only = agent_filter(request)
    limit = page_size(integer(request, "limit"), registry.limits, field="limit")
    revision = registry.revision
    found = registry.find(request.query.get("capability", ""), wanted, limit, only)
    response = pb.FindAgentsResponse(revision=await registry.durable(revision))
    convert.add_matches(response.matches, found)
    return proto_response(response)


@refusing
async def get_agent(request: web.Request) -> web.Response:
    registry = request.app[REGISTRY]
    await consistent(request, registry)
    revision = registry.revision
    agent = registry.get(request.match_info["agent_id"])
    response = pb.GetAgentResponse(
        agent=convert.agent_to_proto(agent), revision=await registry.durable(revision)
    )
    return proto_response(response)


@refusing
async def events(request: web.Request) -> web.Response:
    """The last `limit` retained events matching the same filters as the event stream, oldest first."""
    registry = request.app[REGISTRY]
    wanted = event_filter(request)
    if "agent_id" in request.match_info:
        registry.get(request.match_info["agent_id"])  # NOT_FOUND for an agent that is not there
        wanted = EventFilter(wanted.types, wanted.runtime_id, request.match_info["agent_id"])
    limit = min(integer(request, "limit", DEFAULT_RECENT_EVENTS), registry.limits.max_page_size)
    revision = registry.revision
    found = recent_events(registry, wanted, limit)
    body = {
        "events": [to_json(convert.event_to_proto(e)) for e in found],
        "revision": str(await registry.durable(revision)),
    }
    return web.json_response(body)


@refusing
async def list_runtimes(request: web.Request) -> web.Response:
    """ListRuntimes, paged the same way (`page_size`, `page_token`)."""
    registry = request.app[REGISTRY]
    await consistent(request, registry)
    limit = page_size(integer(request, "page_size"), registry.limits)
    page = registry.runtimes(decode_page_token(request.query.get("page_token", ""), "", ()), limit)
    return proto_response(convert.runtime_page_to_proto(page, await registry.durable(page.revision)))


@refusing
async def stats(request: web.Request) -> web.Response:
    registry = request.app[REGISTRY]
    await consistent(request, registry)
    current = registry.stats()
    await registry.durable(current.revision)
    return proto_response(convert.stats_to_proto(current))


async def whoami(request: web.Request) -> web.Response:
    """Who the console is talking as, so it offers operator actions only to those who may take them."""
    principal = principal_of(request)
    if principal is None:
        return web.json_response({"authenticated": False, "name": "", "role": "admin"})
    return web.json_response(
        {"authenticated": True, "name": principal.name, "role": principal.role.name.lower()}
    )


@refusing
async def agent_card(request: web.Request) -> web.Response:
    """The agent's card at A2A's well-known name, with an ETag of its content."""
    agent = request.app[REGISTRY].get(request.match_info["agent_id"])
    # ProtoJSON without defaults: the deprecated pre-1.0 fields stay out, so the body is an A2A card.
    card = json_format.MessageToDict(convert.card_to_proto(agent.card))
    body = json.dumps(card, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type="application/json", headers=headers)


# ------------------------------------------------------------------ operator actions (admin)


@refusing
async def set_status(request: web.Request) -> web.Response:
    body = await json_body(request)
    status_name = body.get("status")
    if not isinstance(status_name, str):
        raise InvalidArgument("status must be one of ACTIVE, DEGRADED, UNHEALTHY, OFFLINE", field="status")
    status = convert.status_from_proto(
        enum_value(status_name, pb.AgentStatus, "AGENT_STATUS_", "status"), "status"
    )
    agent, changed, revision = await request.app[REGISTRY].update_status(
        request.match_info["agent_id"], status
    )
    return proto_response(
        pb.UpdateAgentStatusResponse(agent=convert.agent_to_proto(agent), changed=changed, revision=revision)
    )


@refusing
async def deregister(request: web.Request) -> web.Response:
    agent, revision = await request.app[REGISTRY].deregister(request.match_info["agent_id"])
    return proto_response(pb.DeregisterAgentResponse(agent=convert.agent_to_proto(agent), revision=revision))


@refusing
async def drain(request: web.Request) -> web.Response:
    agents, changed, revision = await drain_runtime(request.app[REGISTRY], request.match_info["runtime_id"])
    return web.json_response({"agents": agents, "changed": changed, "revision": str(revision)})
