"""The Prometheus endpoint (--metrics-listen): scraped over HTTP from a real daemon."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from prometheus_client.parser import text_string_to_metric_families

from registryd.auth import Role, new_token, token_entry
from registryd.core.events import EventFilter
from registryd.server import DaemonError

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(address: str) -> Samples:
    """GET /metrics from a thread: the daemon answers scrapes through the event loop this test runs on."""

    def get() -> str:
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as response:
            return response.read().decode()

    text = await asyncio.to_thread(get)
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


async def register(stub: object, agent_id: str, runtime_id: str = "rt-1") -> None:
    await stub.RegisterAgent(  # type: ignore[attr-defined]
        pb.RegisterAgentRequest(
            agent_id=agent_id,
            runtime_id=runtime_id,
            card=pb.AgentCard(name=agent_id, capability_phrases=["search"]),
        )
    )


async def test_metrics_report_agents_counters_and_rpc_timings(serve: Callable[..., object]) -> None:
    daemon = await serve(metrics_listen="127.0.0.1:0")  # type: ignore[misc]
    stub = daemon.stub
    await register(stub, "a1")
    await register(stub, "a2")
    await stub.UpdateAgentStatus(pb.UpdateAgentStatusRequest(agent_id="a2", status=pb.AGENT_STATUS_DEGRADED))
    await stub.DeregisterAgent(pb.DeregisterAgentRequest(agent_id="a1"))
    await stub.Heartbeat(pb.HeartbeatRequest(runtime_id="rt-1"))
    await stub.FindAgents(pb.FindAgentsRequest(capability="sea", statuses=[pb.AGENT_STATUS_DEGRADED]))
    try:
        await stub.GetAgent(pb.GetAgentRequest(agent_id="nobody"))
    except grpc.aio.AioRpcError as error:
        assert error.code() is grpc.StatusCode.NOT_FOUND

    samples = await scrape(daemon.daemon.metrics_address)

    assert value(samples, "registryd_agents", status="ACTIVE") == 0
    assert value(samples, "registryd_agents", status="DEGRADED") == 1
    assert value(samples, "registryd_runtimes") == 1
    assert value(samples, "registryd_registrations_total") == 2
    assert value(samples, "registryd_deregistrations_total", reason="REQUESTED") == 1
    assert value(samples, "registryd_deregistrations_total", reason="EXPIRED") == 0
    assert value(samples, "registryd_status_changes_total", reason="OPERATOR", status="DEGRADED") == 1
    assert value(samples, "registryd_heartbeats_total") == 1
    assert value(samples, "registryd_queries_total") == 1
    assert value(samples, "registryd_revision") == daemon.daemon.registry.revision
    assert value(samples, "registryd_leader") == 1  # a single daemon always leads
    service = "agentregistry.v1.RegistryService"
    rpc = "registryd_rpc_duration_seconds_count"
    assert value(samples, rpc, service=service, method="RegisterAgent", code="OK") == 2
    assert value(samples, rpc, service=service, method="GetAgent", code="NOT_FOUND") == 1
    assert (
        value(
            samples,
            "registryd_rpc_duration_seconds_sum",
            service=service,
            method="GetAgent",
            code="NOT_FOUND",
        )
        < 1
    )
    assert ("process_open_fds", frozenset()) in samples


async def test_metrics_count_streams_and_their_loss(serve: Callable[..., object]) -> None:
    daemon = await serve(metrics_listen="127.0.0.1:0")  # type: ignore[misc]
    await register(daemon.stub, "a1")
    events = daemon.new_stub().Subscribe(pb.SubscribeRequest())
    await events.read()
    stream = daemon.new_stub().HeartbeatStream()
    await stream.write(pb.HeartbeatStreamRequest(bind=pb.Bind(runtime_id="rt-1")))
    await stream.read()

    open_samples = await scrape(daemon.daemon.metrics_address)
    stream.cancel()
    changed = await events.read()
    events.cancel()
    assert changed.event.status_reason == pb.STATUS_REASON_STREAM_LOST
    closed_samples = await poll_scrape(
        daemon.daemon.metrics_address,
        lambda s: value(s, "registryd_heartbeat_streams") == 0 and value(s, "registryd_subscribers") == 0,
    )

    assert value(open_samples, "registryd_heartbeat_streams") == 1
    assert value(open_samples, "registryd_subscribers") == 1
    assert (
        value(closed_samples, "registryd_status_changes_total", reason="STREAM_LOST", status="UNHEALTHY") == 1
    )
    assert value(closed_samples, "registryd_agents", status="UNHEALTHY") == 1
    labels = {"service": "agentregistry.v1.RegistryService", "method": "HeartbeatStream", "code": "CANCELLED"}
    assert value(closed_samples, "registryd_rpc_duration_seconds_count", **labels) == 1


async def test_metrics_count_subscribers_cut_off_by_overflow(serve: Callable[..., object]) -> None:
    daemon = await serve(metrics_listen="127.0.0.1:0", event_queue_size=1)  # type: ignore[misc]
    stalled = daemon.daemon.registry.subscribe(EventFilter())  # never read, so its queue overflows

    await register(daemon.stub, "a1")  # RUNTIME_JOINED and AGENT_REGISTERED: one commit, taken whole
    await register(daemon.stub, "a2")  # the queue is already full: cut off
    samples = await scrape(daemon.daemon.metrics_address)

    assert stalled.overflow is not None
    assert value(samples, "registryd_subscriber_overflows_total") == 1
    assert value(samples, "registryd_overflow_dropped_events_total") == 3


async def test_metrics_show_the_expiry_guard_holding_then_releasing(serve: Callable[..., object]) -> None:
    daemon = await serve(metrics_listen="127.0.0.1:0", expiry_guard_min_agents=2)  # type: ignore[misc]
    await register(daemon.stub, "a1")
    await register(daemon.stub, "a2")  # neither ever beats: all agents go stale at once

    held = await poll_scrape(
        daemon.daemon.metrics_address, lambda s: value(s, "registryd_expiry_guard_active") == 1
    )
    released = await poll_scrape(
        daemon.daemon.metrics_address,
        lambda s: value(s, "registryd_deregistrations_total", reason="EXPIRED") == 2,
    )

    assert value(held, "registryd_agents", status="UNHEALTHY") == 2
    assert value(held, "registryd_status_changes_total", reason="HEARTBEAT_TIMEOUT", status="UNHEALTHY") == 2
    assert value(released, "registryd_expiry_guard_active") == 0


async def poll_scrape(address: str, ready: Callable[[Samples], bool], timeout: float = 10.0) -> Samples:
    deadline = time.monotonic() + timeout
    while True:
        samples = await scrape(address)
        if ready(samples):
            return samples
        assert time.monotonic() < deadline, "the metrics never showed the expected state"
        await asyncio.sleep(0.05)


async def test_metrics_show_event_loop_lag_and_a_stall_of_the_daemon(serve: Callable[..., object]) -> None:
    daemon = await serve(metrics_listen="127.0.0.1:0")  # type: ignore[misc]
    ticks = await poll_scrape(
        daemon.daemon.metrics_address, lambda s: value(s, "registryd_event_loop_lag_seconds_count") >= 3
    )
    assert value(ticks, "registryd_stalls_total") == 0
    time.sleep(0.6)  # noqa: ASYNC251 - blocking this loop, the daemon's, is the stall under test
    samples = await poll_scrape(
        daemon.daemon.metrics_address, lambda s: value(s, "registryd_stalls_total") == 1
    )
    assert 0.4 < value(samples, "registryd_stalled_seconds_total") < 5
    assert value(samples, "registryd_event_loop_lag_seconds_bucket", le="0.25") < value(
        samples, "registryd_event_loop_lag_seconds_bucket", le="+Inf"
    )


def test_metrics_listen_must_be_host_and_port() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "registryd", "--store", "memory", "--metrics-listen", "9090"],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2
    assert "metrics_listen must be host:port (got '9090')" in result.stderr


async def test_metrics_port_in_use_stops_the_daemon_with_a_clear_error(serve: Callable[..., object]) -> None:
    first = await serve(metrics_listen="127.0.0.1:0")  # type: ignore[misc]
    taken = first.daemon.metrics_address

    with pytest.raises(DaemonError, match=f"cannot serve metrics on {taken}"):
        await serve(metrics_listen=taken)  # type: ignore[misc]


async def test_made_up_method_names_share_one_series(serve: Callable[..., object], tmp_path: Path) -> None:
    """Unauthenticated calls to 50 made-up methods: one "unknown" series, not 50 (3,000 made 122 MiB)."""
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(token_entry("reader", Role.READER, new_token()[1], ()))
    daemon = await serve(metrics_listen="127.0.0.1:0", auth_tokens=str(tokens))  # type: ignore[misc]
    for i in range(50):
        service = "agentregistry.v1.RegistryService" if i % 2 else f"made.up.Service{i}"
        call = daemon.channel.unary_unary(f"/{service}/Method{i}")
        with pytest.raises(grpc.aio.AioRpcError):
            await call(b"")
    samples = await scrape(daemon.daemon.metrics_address)
    series = {labels for name, labels in samples if name == "registryd_rpc_duration_seconds_count"}
    assert {dict(labels)["method"] for labels in series} == {"unknown"}
    # Names outside the service never reach a handler (gRPC answers UNIMPLEMENTED itself) and add nothing.
    assert sum(samples[("registryd_rpc_duration_seconds_count", labels)] for labels in series) == 25
