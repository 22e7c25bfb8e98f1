"""The HTTP face against a real daemon on loopback: the JSON API agrees with gRPC, refusals map to HTTP
statuses, agent cards carry ETags, the event stream resumes without a gap and cuts off slow readers, and
tokens and roles apply as over gRPC."""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from agentregistry.v1 import registry_pb2 as pb
from google.protobuf import json_format
from polling import wait_for
from web_support import STEADY, card, register, write_tokens

from registryd.auth import Role
from registryd.config import Config
from registryd.core.validation import Limits
from registryd.server import Daemon

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "security"))
from throwaway_pki import CertificateAuthority

Serve = Callable[..., Awaitable[Any]]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def started(serve: Serve, **overrides: object) -> tuple[Any, str]:
    daemon = await serve(http_listen="127.0.0.1:0", **{**STEADY, **overrides})
    return daemon, daemon.daemon.console_url.rstrip("/")


async def get_json(http: aiohttp.ClientSession, url: str, status: int = 200, **kwargs: Any) -> Any:
    async with http.get(url, **kwargs) as response:
        assert response.status == status, await response.text()
        return await response.json()


def grpc_json(message: Any) -> Any:
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)


async def test_reads_answer_what_grpc_answers(serve: Serve, http: aiohttp.ClientSession) -> None:
    daemon, base = await started(serve)
    stub = daemon.stub
    for i in range(5):
        labels = {"team": "red" if i % 2 else "blue"}
        await register(
            stub, f"rt-{i % 2}", f"agent-{i}", card(f"a{i}", ["translate" if i < 3 else "summarize"], labels)
        )
    await stub.UpdateAgentStatus(
        pb.UpdateAgentStatusRequest(agent_id="agent-4", status=pb.AGENT_STATUS_OFFLINE)
    )

    listed = await stub.ListAgents(pb.ListAgentsRequest(page_size=2, statuses=[pb.AGENT_STATUS_ACTIVE]))
    page = await get_json(http, f"{base}/api/v1/agents?page_size=2&status=ACTIVE")
    assert page == grpc_json(listed)
    rest = await get_json(
        http, f"{base}/api/v1/agents", params={"status": "ACTIVE", "page_token": page["nextPageToken"]}
    )
    assert [a["agentId"] for a in page["agents"] + rest["agents"]] == [
        "agent-0",
        "agent-1",
        "agent-2",
        "agent-3",
    ]

    reds = await get_json(http, f"{base}/api/v1/agents?label=team=red&runtime_id=rt-1")
    assert [a["agentId"] for a in reds["agents"]] == ["agent-1", "agent-3"]
    found = await stub.FindAgents(pb.FindAgentsRequest(capability="transl"))
    assert await get_json(http, f"{base}/api/v1/find?capability=transl") == grpc_json(found)
    blue = await get_json(http, f"{base}/api/v1/find?capability=transl&label=team=blue")
    assert [m["agent"]["agentId"] for m in blue["matches"]] == ["agent-0", "agent-2"]
    only = pb.AgentFilter(label_selector="team in (red),!gone")
    filtered = await stub.FindAgents(pb.FindAgentsRequest(filter=only))
    by_selector = await get_json(http, f"{base}/api/v1/find", params={"selector": "team in (red),!gone"})
    assert by_selector == grpc_json(filtered)
    assert [m["agent"]["agentId"] for m in by_selector["matches"]] == ["agent-1", "agent-3"]

    one = await stub.GetAgent(pb.GetAgentRequest(agent_id="agent-4"))
    assert await get_json(http, f"{base}/api/v1/agents/agent-4") == grpc_json(one)
    runtimes = await stub.ListRuntimes(pb.ListRuntimesRequest())
    assert await get_json(http, f"{base}/api/v1/runtimes") == grpc_json(runtimes)
    assert await get_json(http, f"{base}/api/v1/runtimes?consistent=1") == grpc_json(runtimes)
    assert await get_json(http, f"{base}/api/v1/agents/agent-4?consistent=true") == grpc_json(one)
    stats = await get_json(http, f"{base}/api/v1/stats")
    assert stats["statusDistribution"] == {
        "ACTIVE": "4",
        "DEGRADED": "0",
        "UNHEALTHY": "0",
        "OFFLINE": "1",
    }  # int64: strings, as in grpcurl

    recent = await get_json(http, f"{base}/api/v1/agents/agent-4/events")
    assert [e["type"] for e in recent["events"]] == [
        "EVENT_TYPE_AGENT_REGISTERED",
        "EVENT_TYPE_AGENT_STATUS_CHANGED",
    ]
    joined = await get_json(http, f"{base}/api/v1/events?type=RUNTIME_JOINED")
    assert [e["runtimeId"] for e in joined["events"]] == ["rt-0", "rt-1"]
    async with http.get(f"{base}/metrics") as response:
        assert 'registryd_agents{status="OFFLINE"} 1.0' in await response.text()


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/api/v1/agents?status=SLEEPY", 400, "status"),
        ("/api/v1/agents?page_size=-1", 400, "page_size"),
        ("/api/v1/agents?page_token=garbage", 400, "page_token"),
        ("/api/v1/agents?label==x", 400, "label"),
        ("/api/v1/agents?selector=a%20in%20()", 400, "filter.label_selector"),
        ("/api/v1/find?tag=%20", 400, "filter.tags[0]"),
        ("/api/v1/find?streaming=maybe", 400, "streaming"),
        ("/api/v1/stats?consistent=maybe", 400, "consistent"),
        ("/api/v1/agents/nobody", 404, "agent_id"),
        ("/api/v1/agents/nobody/events", 404, "agent_id"),
        ("/api/v1/find?capability=", 400, "capability"),
        ("/api/v1/events?type=NAP", 400, "type"),
        ("/api/v1/events/stream?from_revision=x", 400, "from_revision"),
        ("/agents/nobody/.well-known/agent-card.json", 404, "agent_id"),
    ],
)
async def test_refusals_are_http_statuses_with_a_reason(
    serve: Serve, http: aiohttp.ClientSession, path: str, status: int, field: str | None
) -> None:
    _, base = await started(serve)
    body = await get_json(http, base + path, status)
    assert body["error"]["code"] == status and body["error"]["message"]
    assert body["error"].get("field") == field


async def test_agent_card_at_the_well_known_name_with_etag(serve: Serve, http: aiohttp.ClientSession) -> None:
    daemon, base = await started(serve)
    await register(daemon.stub, "rt", "carded", card("Carded", ["plan"], description="plans things"))
    url = f"{base}/agents/carded/.well-known/agent-card.json"
    async with http.get(url) as response:
        assert response.status == 200 and response.content_type == "application/json"
        etag = response.headers["ETag"]
        assert (await response.json())["name"] == "Carded"
    async with http.get(url, headers={"If-None-Match": etag}) as response:
        assert response.status == 304
    await register(daemon.stub, "rt", "carded", card("Carded", ["plan", "replan"]))
    async with http.get(url, headers={"If-None-Match": etag}) as response:
        assert response.status == 200 and response.headers["ETag"] != etag


class EventReader:
    """An SSE client: frames as (id, event, data) in order."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def frame(self, timeout: float = 5.0) -> tuple[str | None, str, str]:
        fields: dict[str, str] = {}
        while True:
            line = (await asyncio.wait_for(self.response.content.readline(), timeout)).decode()
            if line in ("\n", ""):
                if line == "" and not fields:
                    raise EOFError
                if "event" in fields:
                    return fields.get("id"), fields["event"], fields.get("data", "")
                fields = {}
                continue
            key, _, value = line.rstrip("\n").partition(": ")
            fields[key] = value

    async def events(self, count: int) -> list[tuple[int, str]]:
        """The next `count` non-bookmark events as (id, type)."""
        found = []
        while len(found) < count:
            event_id, kind, _ = await self.frame()
            if kind != "bookmark":
                found.append((int(event_id or 0), kind))
        return found


async def test_event_stream_resumes_from_last_event_id_without_a_gap(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    daemon, base = await started(serve, event_retention=20)
    async with http.get(f"{base}/api/v1/events/stream") as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        reader = EventReader(response)
        assert (await reader.frame())[1] == "bookmark"
        await register(daemon.stub, "rt", "a1", card("a"))
        first = await reader.events(2)
    assert first == [(1, "RUNTIME_JOINED"), (2, "AGENT_REGISTERED")]
    for i in range(2, 6):  # while nobody listens
        await register(daemon.stub, "rt", f"a{i}", card("a"))
    async with http.get(f"{base}/api/v1/events/stream", headers={"Last-Event-ID": "2"}) as response:
        missed = await EventReader(response).events(4)
    assert missed == [
        (3, "AGENT_REGISTERED"),
        (4, "AGENT_REGISTERED"),
        (5, "AGENT_REGISTERED"),
        (6, "AGENT_REGISTERED"),
    ]

    for i in range(30):  # more than is retained
        await register(daemon.stub, "rt", f"b{i}", card("b"))
    body = await get_json(http, f"{base}/api/v1/events/stream", 410, headers={"Last-Event-ID": "2"})
    assert body["error"]["field"] == "from_revision"


async def test_a_filtered_stream_resumes_after_its_bookmarks(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    daemon, base = await started(serve, bookmark_interval=0.1)
    async with http.get(f"{base}/api/v1/events/stream?agent_id=mine") as response:
        reader = EventReader(response)
        await reader.frame()
        await register(daemon.stub, "rt", "other", card("o"))
        while (frame := await reader.frame())[0] != "2":  # a bookmark past the events that did not match
            assert frame[1] == "bookmark"
    await register(daemon.stub, "rt", "mine", card("m"))
    async with http.get(
        f"{base}/api/v1/events/stream?agent_id=mine", headers={"Last-Event-ID": "2"}
    ) as response:
        assert await EventReader(response).events(1) == [(3, "AGENT_REGISTERED")]


async def test_a_change_bigger_than_the_queue_reaches_a_prompt_reader_whole_and_it_resumes(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    daemon, base = await started(serve, event_queue_size=4)
    for i in range(10):
        await register(daemon.stub, "rt", f"a{i:02d}", card("a"))
    async with http.get(f"{base}/api/v1/events/stream") as response:
        reader = EventReader(response)
        _, _, data = await reader.frame()
        last_seen = data.split('"')[3]
        async with http.post(f"{base}/api/v1/runtimes/rt/drain", json={}) as drained:
            assert (await drained.json())["changed"] == 10  # one commit of 10 events, queue of 4
        assert [kind for _, kind in await reader.events(10)] == ["AGENT_STATUS_CHANGED"] * 10
    async with http.get(f"{base}/api/v1/events/stream", headers={"Last-Event-ID": last_seen}) as response:
        assert [kind for _, kind in await EventReader(response).events(10)] == ["AGENT_STATUS_CHANGED"] * 10


async def test_a_reader_that_stops_reading_is_cut_off(serve: Serve) -> None:
    daemon, base = await started(serve, event_queue_size=8)
    registry = daemon.daemon.registry
    host, port = base.removeprefix("http://").rsplit(":", 1)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    try:
        await loop.sock_connect(sock, (host, int(port)))
        await loop.sock_sendall(sock, f"GET /api/v1/events/stream HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        await wait_for(lambda: registry.hub.subscriber_count == 1)
        big = "d" * 4000
        for i in range(2000):  # bounded: far more than the socket buffers hold
            await register(daemon.stub, "rt", f"slow-{i}", card("s", description=big))
            if registry.hub.dropped_subscribers:
                break
        assert registry.hub.dropped_subscribers == 1
        await wait_for(lambda: registry.hub.subscriber_count == 0)
    finally:
        sock.close()


async def test_tokens_and_roles_apply_as_over_grpc(
    serve: Serve, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    tokens = write_tokens(
        tmp_path / "tokens.toml", {"ops": Role.ADMIN, "viewer": Role.READER, "rt": Role.RUNTIME}
    )
    daemon, base = await started(serve, auth_tokens=str(tmp_path / "tokens.toml"))
    await register(daemon.stub, "rt", "x", card("x"), tokens["rt"])

    def auth(name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[name]}"}

    async with http.get(f"{base}/") as response:  # the console's files carry no data
        assert response.status == 200
    for path in (
        "/api/v1/agents",
        "/api/v1/events/stream",
        "/metrics",
        "/agents/x/.well-known/agent-card.json",
    ):
        async with http.get(base + path) as response:
            assert response.status == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
        async with http.get(base + path, headers={"Authorization": "Bearer wrong"}) as response:
            assert response.status == 401
    async with http.get(
        f"{base}/api/v1/agents/x", cookies={"Authorization": f"Bearer {tokens['ops']}"}
    ) as response:
        assert response.status == 401  # never a cookie
    assert (await get_json(http, f"{base}/api/v1/agents/x", headers=auth("viewer")))["agent"][
        "agentId"
    ] == "x"
    assert await get_json(http, f"{base}/api/v1/whoami", headers=auth("viewer")) == {
        "authenticated": True,
        "name": "viewer",
        "role": "reader",
    }
    for name in ("viewer", "rt"):
        async with http.post(
            f"{base}/api/v1/agents/x/status", json={"status": "OFFLINE"}, headers=auth(name)
        ) as response:
            assert response.status == 403
    async with http.post(
        f"{base}/api/v1/agents/x/status", json={"status": "NAPPING"}, headers=auth("ops")
    ) as response:
        assert response.status == 400
    async with http.post(
        f"{base}/api/v1/agents/x/status", json={"status": "OFFLINE"}, headers=auth("ops")
    ) as response:
        body = await response.json()
        assert body["changed"] is True and body["agent"]["statusReason"] == "STATUS_REASON_OPERATOR"
    async with http.delete(f"{base}/api/v1/agents/x", json={}, headers=auth("ops")) as response:
        assert response.status == 200
    await get_json(http, f"{base}/api/v1/agents/x", 404, headers=auth("ops"))


async def test_changes_come_as_json_from_this_origin_only(serve: Serve, http: aiohttp.ClientSession) -> None:
    daemon, base = await started(serve)
    await register(daemon.stub, "rt", "x", card("x"))
    url = f"{base}/api/v1/agents/x/status"
    async with http.post(
        url, data='{"status":"OFFLINE"}', headers={"Content-Type": "text/plain"}
    ) as response:
        assert response.status == 415  # what a cross-site form could send without a preflight
    async with http.post(
        url, json={"status": "OFFLINE"}, headers={"Origin": "http://evil.example"}
    ) as response:
        assert response.status == 403
    assert (await get_json(http, f"{base}/api/v1/agents/x"))["agent"]["status"] == "AGENT_STATUS_ACTIVE"


async def test_https_with_the_daemons_tls_settings(tmp_path: Path) -> None:
    ca = CertificateAuthority(tmp_path)
    server = ca.server()
    tls = {"tls_cert": str(server.cert), "tls_key": str(server.key)}
    daemon = Daemon(
        Config(listen="127.0.0.1:0", http_listen="127.0.0.1:0", store="memory", shutdown_grace=0.5, **tls)
    )
    await daemon.start()
    try:
        assert daemon.console_url.startswith("https://127.0.0.1:")
        trust = ssl.create_default_context(cafile=str(ca.cert_path))
        async with aiohttp.ClientSession() as session:
            stats = await get_json(session, f"{daemon.console_url}api/v1/stats", ssl=trust)
            assert stats["totalAgents"] == "0"
            with pytest.raises(aiohttp.ClientConnectorError):
                await session.get(f"{daemon.console_url}api/v1/stats")  # not trusted without the CA
    finally:
        await daemon.stop()


async def test_event_streams_take_subscriber_slots_of_their_caller(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    """The SSE stream counts as a subscriber: the same per-caller limit as Subscribe (issue 11, item 4)."""
    daemon, base = await started(serve, limits=Limits(max_subscribers_per_caller=1))
    grpc_sub = daemon.stub.Subscribe(pb.SubscribeRequest())
    assert (await grpc_sub.read()).HasField("bookmark")  # the one slot of 127.0.0.1
    async with http.get(f"{base}/api/v1/events/stream") as refused:
        assert refused.status == 429, await refused.text()
        assert "max_subscribers_per_caller=1" in (await refused.json())["error"]["message"]
    grpc_sub.cancel()
    await wait_for(lambda: daemon.daemon.registry.stats().subscribers == 0, timeout=10)
    async with http.get(f"{base}/api/v1/events/stream") as served:
        assert served.status == 200
