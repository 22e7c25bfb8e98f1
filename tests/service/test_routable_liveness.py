"""Liveness a router can trust, through real gRPC: an operator's setting never hides a dead agent, a
restart does not forgive runtimes that died while the daemon was away, a stall of the daemon does not blame
agents that kept beating, one big change does not cut off prompt subscribers, and a runtime chooses its
own timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator

import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc
from google.protobuf.duration_pb2 import Duration
from service_support import EVENT, STEADY, register

STATUS_CHANGED = EVENT.Value("EVENT_TYPE_AGENT_STATUS_CHANGED")
ROUTABLE = [pb.AGENT_STATUS_ACTIVE, pb.AGENT_STATUS_DEGRADED]


def seconds(value: float) -> Duration:
    duration = Duration()
    duration.FromNanoseconds(int(value * 1e9))
    return duration


async def found(stub, capability: str = "x") -> list[str]:
    answer = await stub.FindAgents(pb.FindAgentsRequest(capability=capability, statuses=ROUTABLE))
    return [m.agent.agent_id for m in answer.matches]


class BeatingRuntime:
    """A runtime's heartbeat stream on a connection of its own, beating every `interval` until stopped."""

    def __init__(self, address: str, runtime_id: str, interval: float = 0.1, **bind: object) -> None:
        self.channel = grpc.aio.insecure_channel(address)
        self.call = registry_pb2_grpc.RegistryServiceStub(self.channel).HeartbeatStream()
        self.runtime_id, self.interval, self.bind_fields = runtime_id, interval, bind
        self.acks: list[pb.HeartbeatStreamResponse] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self, beat: bool = True) -> pb.HeartbeatStreamResponse:
        await self.call.write(
            pb.HeartbeatStreamRequest(
                sequence=1, bind=pb.Bind(runtime_id=self.runtime_id, **self.bind_fields)
            )
        )
        ack = await self.call.read()
        if beat:
            self._task = asyncio.create_task(self._beat())
        return ack  # type: ignore[no-any-return]

    async def _beat(self) -> None:
        sequence = 2
        while True:
            await asyncio.sleep(self.interval)
            await self.call.write(pb.HeartbeatStreamRequest(sequence=sequence, beat=pb.Beat()))
            self.acks.append(await self.call.read())
            sequence += 1

    async def kill(self) -> None:
        """The process dies: its connection goes without a goodbye."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
                await self._task
        await self.channel.close()


@contextlib.asynccontextmanager
async def runtimes(address: str, *ids: str, **bind: object) -> AsyncIterator[list[BeatingRuntime]]:
    started = [BeatingRuntime(address, runtime_id, **bind) for runtime_id in ids]
    try:
        for runtime in started:
            await runtime.start()
        yield started
    finally:
        for runtime in started:
            await runtime.kill()


async def test_an_operators_degraded_does_not_hide_a_killed_worker(serve, subscribe):
    daemon = await serve(**STEADY)
    await register(daemon.stub, "w3", "w3-coder")
    await daemon.synced()  # a subscriber on the other replica starts after what was written
    events = subscribe(daemon.other.stub)
    await events.started()
    async with runtimes(daemon.address, "w3") as (worker,):
        await daemon.stub.UpdateAgentStatus(
            pb.UpdateAgentStatusRequest(agent_id="w3-coder", status=pb.AGENT_STATUS_DEGRADED)
        )
        assert await found(daemon.stub) == ["w3-coder"]
        await worker.kill()
        await events.event_of(STATUS_CHANGED)
        _, lost = await events.event_of(STATUS_CHANGED)
    assert (lost.new_status, lost.status_reason) == (pb.AGENT_STATUS_UNHEALTHY, pb.STATUS_REASON_STREAM_LOST)
    assert (
        lost.agent.operator_status == pb.AGENT_STATUS_DEGRADED
        and lost.agent.health == pb.AGENT_STATUS_UNHEALTHY
    )
    assert await found(daemon.stub) == []


async def test_an_operators_degraded_stays_after_a_heartbeat_gap(serve, subscribe):
    daemon = await serve()  # heartbeat timeout 0.3 s
    await register(daemon.stub, "rt", "a1")
    await daemon.synced()  # a subscriber on the other replica starts after what was written
    events = subscribe(daemon.other.stub)
    await events.started()
    await daemon.stub.UpdateAgentStatus(
        pb.UpdateAgentStatusRequest(agent_id="a1", status=pb.AGENT_STATUS_DEGRADED)
    )
    await events.event_of(STATUS_CHANGED)
    _, timed_out = await events.event_of(STATUS_CHANGED)
    assert timed_out.new_status == pb.AGENT_STATUS_UNHEALTHY
    await daemon.stub.Heartbeat(pb.HeartbeatRequest(runtime_id="rt"))
    agent = (await daemon.stub.GetAgent(pb.GetAgentRequest(agent_id="a1"))).agent
    assert (agent.status, agent.status_reason) == (pb.AGENT_STATUS_DEGRADED, pb.STATUS_REASON_OPERATOR)
    _, resumed = await events.event_of(STATUS_CHANGED)
    assert (resumed.new_status, resumed.status_reason) == (
        pb.AGENT_STATUS_DEGRADED,
        pb.STATUS_REASON_HEARTBEAT_RESUMED,
    )
    _, timed_out_again = await events.event_of(STATUS_CHANGED)  # it stops beating again
    assert timed_out_again.new_status == pb.AGENT_STATUS_UNHEALTHY
    cleared = await daemon.stub.UpdateAgentStatus(
        pb.UpdateAgentStatusRequest(agent_id="a1", status=pb.AGENT_STATUS_ACTIVE)
    )
    assert (cleared.agent.status, cleared.agent.operator_status) == (
        pb.AGENT_STATUS_UNHEALTHY,  # operator ACTIVE clears the setting; it never revives a dead agent
        pb.AGENT_STATUS_UNSPECIFIED,
    )


async def test_after_kill_9_a_worker_that_died_meanwhile_is_not_routed_to(daemon_process, tmp_path):
    args = ("--data-dir", str(tmp_path / "data"), "--rebind-grace", "1", "--heartbeat-timeout", "60")
    first = daemon_process(*args, "--auto-deregister-timeout", "120")
    async with grpc.aio.insecure_channel(first.address) as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        await register(stub, "dies", "d1")
        await register(stub, "lives", "l1")
        await register(stub, "unary", "u1")
        async with runtimes(first.address, "dies", "lives"):
            first.signal(signal.SIGKILL)
    second = daemon_process(*args, "--auto-deregister-timeout", "120")
    started = time.monotonic()
    async with grpc.aio.insecure_channel(second.address) as channel, runtimes(second.address, "lives"):
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        await stub.Heartbeat(pb.HeartbeatRequest(runtime_id="unary"))
        while "d1" in await found(stub):
            assert time.monotonic() - started < 10, "the dead worker's agent stayed routable"
            await asyncio.sleep(0.05)
        waited = time.monotonic() - started
        assert sorted(await found(stub)) == ["l1", "u1"]
        agent = (await stub.GetAgent(pb.GetAgentRequest(agent_id="d1"))).agent
    assert (agent.status, agent.status_reason) == (pb.AGENT_STATUS_UNHEALTHY, pb.STATUS_REASON_STREAM_LOST)
    assert 0.9 <= waited < 5, waited


@pytest.mark.parametrize("agents", [4, 20])
async def test_a_stopped_daemon_blames_no_agent_that_kept_beating(daemon_process, subscribe, agents):
    process = daemon_process(
        "--store", "memory", "--heartbeat-timeout", "1", "--auto-deregister-timeout", "2",
        "--expiry-guard-min-agents", "100",
    )  # fmt: skip
    async with grpc.aio.insecure_channel(process.address) as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        ids = [f"rt{i % 2}" for i in range(agents)]
        for i, runtime_id in enumerate(ids):
            await register(stub, runtime_id, f"a{i}")
        events = subscribe(stub)
        await events.started()
        async with runtimes(process.address, "rt0", "rt1"):
            await asyncio.sleep(0.5)
            process.proc.send_signal(signal.SIGSTOP)
            try:
                await asyncio.sleep(4.0)  # 4 x heartbeat_timeout; the runtimes keep writing beats
            finally:
                process.proc.send_signal(signal.SIGCONT)
            await asyncio.sleep(2.5)  # past the expiry deadline of anything that had been blamed
            stats = await stub.GetStats(pb.GetStatsRequest())
        assert events.drained() == []
        assert (stats.total_agents, stats.status_distribution["ACTIVE"]) == (agents, agents)
    assert "the daemon stalled" in process.log()


async def test_one_change_bigger_than_the_queue_reaches_a_prompt_subscriber_whole(serve, subscribe):
    daemon = await serve(event_queue_size=100, **STEADY)
    for i in range(1000):
        await register(daemon.stub, "big", f"a{i:04d}")
    await daemon.synced()  # a subscriber on the other replica starts after what was written
    events = subscribe(daemon.other.stub)
    await events.started()
    async with runtimes(daemon.address, "big") as (runtime,):
        await runtime.kill()
        changed = await events.events(1000)
    assert {e.status_reason for e in changed} == {pb.STATUS_REASON_STREAM_LOST}
    assert events.error is None and not events.ended.is_set()


async def test_a_unary_heartbeat_of_150_agents_reaches_a_heartbeat_subscriber_whole(serve, subscribe):
    daemon = await serve(event_queue_size=100, **STEADY)
    for i in range(150):
        await register(daemon.stub, "big", f"a{i:03d}")
    beats = subscribe(daemon.stub, types=[EVENT.Value("EVENT_TYPE_AGENT_HEARTBEAT")])
    await beats.started()
    await daemon.stub.Heartbeat(pb.HeartbeatRequest(runtime_id="big"))
    assert len(await beats.events(150)) == 150
    assert beats.error is None


async def test_a_runtime_chooses_its_heartbeat_timeout_and_a_hung_one_is_caught_on_time(serve, subscribe):
    daemon = await serve(min_heartbeat_timeout=0.1, **STEADY)  # the daemon's own default is 60 s
    await register(daemon.stub, "rt", "a1")
    await daemon.synced()  # a subscriber on the other replica starts after what was written
    events = subscribe(daemon.other.stub)
    await events.started()
    runtime = BeatingRuntime(daemon.address, "rt", heartbeat_timeout=seconds(0.5))
    try:
        ack = await runtime.start(beat=False)  # binds, then hangs with its connection open
        bound_at = time.monotonic()
        assert (ack.heartbeat_timeout.ToNanoseconds(), ack.auto_deregister_timeout.ToSeconds()) == (5e8, 120)
        at, timed_out = await events.event_of(STATUS_CHANGED)
        assert timed_out.status_reason == pb.STATUS_REASON_HEARTBEAT_TIMEOUT
        assert 0.5 - 0.05 <= at - bound_at < 0.5 + 0.1 + 0.05
        listed = await daemon.stub.ListRuntimes(pb.ListRuntimesRequest())
        assert listed.runtimes[0].heartbeat_timeout.ToNanoseconds() == 5e8
    finally:
        await runtime.kill()
