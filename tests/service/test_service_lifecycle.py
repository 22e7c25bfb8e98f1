"""The daemon as a process: health, drain on SIGTERM, one daemon per port, and a killed client."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
import time

import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from service_support import EVENT, Subscriber, register

SERVICE = "agentregistry.v1.RegistryService"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
STATUS_CHANGED = EVENT.Value("EVENT_TYPE_AGENT_STATUS_CHANGED")


async def test_health_check_serves_the_registry_and_the_whole_server(daemon):
    health = health_pb2_grpc.HealthStub(daemon.channel)
    for service in ("", SERVICE):
        response = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert response.status == SERVING
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


async def test_sigterm_drains_not_serving_statuses_unchanged_exit_0(daemon_process):
    process = daemon_process("--heartbeat-timeout", "5", "--auto-deregister-timeout", "10")
    async with grpc.aio.insecure_channel(process.address) as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        await register(stub, "rt", "a1")
        await register(stub, "rt", "a2")
        stream = stub.HeartbeatStream()
        await stream.write(pb.HeartbeatStreamRequest(sequence=1, bind=pb.Bind(runtime_id="rt")))
        assert (await stream.read()).bound_agents == 2
        events = Subscriber(stub, pb.SubscribeRequest())
        await events.started()
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=SERVICE))
        assert (await watch.read()).status == SERVING

        signalled_at = time.monotonic()
        process.proc.send_signal(signal.SIGTERM)
        assert (await asyncio.wait_for(watch.read(), 5)).status == NOT_SERVING
        await asyncio.wait_for(events.ended.wait(), 5)
        assert events.error is not None and events.error.code() == grpc.StatusCode.UNAVAILABLE
        assert events.drained() == []  # no status change went out while draining
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await asyncio.wait_for(stream.read(), 5)
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
        code = await asyncio.to_thread(process.proc.wait, 10)
        took = time.monotonic() - signalled_at
    print(f"\nSIGTERM -> exit {code} in {took:.2f} s")
    assert code == 0 and took < 5

    restarted = daemon_process("--heartbeat-timeout", "5", "--auto-deregister-timeout", "10")
    async with grpc.aio.insecure_channel(restarted.address) as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        listed = await stub.ListAgents(pb.ListAgentsRequest())
        assert [(a.agent_id, a.status) for a in listed.agents] == [
            ("a1", pb.AGENT_STATUS_ACTIVE),
            ("a2", pb.AGENT_STATUS_ACTIVE),
        ]
        history = Subscriber(stub, pb.SubscribeRequest(from_revision=1))
        replayed = await history.events(listed.revision)
        await history.close()
        assert STATUS_CHANGED not in {e.type for e in replayed}


async def test_a_second_daemon_on_the_same_port_fails_to_start(daemon_process):
    first = daemon_process("--store", "memory")
    second = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "registryd", "--listen", first.address, "--store", "memory"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode == 1
    assert "cannot listen on " + first.address in second.stderr
    async with grpc.aio.insecure_channel(first.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        assert (await health.Check(health_pb2.HealthCheckRequest())).status == SERVING


# A runtime process that binds its agents on a heartbeat stream, says so, and then just keeps it open.
RUNTIME = textwrap.dedent(
    """
    import asyncio, sys
    import grpc
    from agentregistry.v1 import registry_pb2 as pb, registry_pb2_grpc

    async def main():
        async with grpc.aio.insecure_channel(sys.argv[1]) as channel:
            call = registry_pb2_grpc.RegistryServiceStub(channel).HeartbeatStream()
            await call.write(pb.HeartbeatStreamRequest(sequence=1, bind=pb.Bind(runtime_id="rt")))
            await call.read()
            print("bound", flush=True)
            await asyncio.sleep(60)

    asyncio.run(main())
    """
)


async def test_killed_runtime_process_makes_its_agents_unhealthy_at_once(daemon_process):
    process = daemon_process(
        "--store", "memory", "--heartbeat-timeout", "10", "--auto-deregister-timeout", "20"
    )
    async with grpc.aio.insecure_channel(process.address) as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        await register(stub, "rt", "a1")
        runtime = await asyncio.create_subprocess_exec(
            sys.executable, "-c", RUNTIME, process.address, stdout=asyncio.subprocess.PIPE
        )
        try:
            assert runtime.stdout is not None
            assert await asyncio.wait_for(runtime.stdout.readline(), 15) == b"bound\n"
            events = Subscriber(stub, pb.SubscribeRequest(types=[STATUS_CHANGED]))
            await events.started()
            killed_at = time.monotonic()
            runtime.kill()
            at, event = await events.event(timeout=5)
            await events.close()
        finally:
            if runtime.returncode is None:
                runtime.kill()
            await runtime.wait()
    latency = at - killed_at
    print(
        f"\nSIGKILL of a runtime process -> STREAM_LOST at a subscriber (daemon process): {latency * 1000:.1f} ms"
    )
    assert (event.agent_id, event.new_status, event.status_reason) == (
        "a1",
        pb.AGENT_STATUS_UNHEALTHY,
        pb.STATUS_REASON_STREAM_LOST,
    )
    assert latency < 2.0
