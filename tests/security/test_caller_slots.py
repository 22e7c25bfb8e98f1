"""One caller cannot take every stream slot (issue 11, item 4): Subscribe and HeartbeatStream slots are
counted per caller (token, client certificate, or peer address) as well as over the daemon, and a heartbeat
stream that never binds is ended after bind_timeout, giving its slot back."""

from __future__ import annotations

import asyncio
import time

import grpc
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc as pb_grpc
from polling import wait_for
from security_support import bearer, raise_if_refused, running, write_tokens

from registryd.auth import Role
from registryd.core.validation import Limits

EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED
CARD = pb.AgentCard(name="worker")


async def _outcome(first: object) -> str:
    """'served', or the refusal's status code name."""
    try:
        message = await first
    except grpc.aio.AioRpcError as error:
        return error.code().name
    return "served" if message is not grpc.aio.EOF else "ended"


async def test_a_reader_hoarding_subscriptions_cannot_lock_out_another(tmp_path):
    tokens = write_tokens(tmp_path / "tokens.toml", {"hog": (Role.READER, ()), "victim": (Role.READER, ())})
    limits = Limits(max_subscribers=4, max_subscribers_per_caller=2)
    async with (
        running(auth_tokens=str(tmp_path / "tokens.toml"), limits=limits) as daemon,
        grpc.aio.insecure_channel(daemon.address) as channel,
    ):
        stub = pb_grpc.RegistryServiceStub(channel)
        hog = [stub.Subscribe(pb.SubscribeRequest(), metadata=bearer(tokens["hog"])) for _ in range(4)]
        outcomes = [await _outcome(call.read()) for call in hog]
        assert sorted(outcomes) == ["RESOURCE_EXHAUSTED", "RESOURCE_EXHAUSTED", "served", "served"]
        refused = hog[outcomes.index("RESOURCE_EXHAUSTED")]
        assert "token 'hog' already holds max_subscribers_per_caller=2" in await refused.details()
        victim = stub.Subscribe(pb.SubscribeRequest(), metadata=bearer(tokens["victim"]))
        assert await _outcome(victim.read()) == "served"
        for call in [*hog, victim]:
            call.cancel()


async def test_a_runtime_hoarding_unbound_streams_cannot_lock_out_another(tmp_path):
    tokens = write_tokens(
        tmp_path / "tokens.toml", {"hog": (Role.RUNTIME, ("hog-*",)), "victim": (Role.RUNTIME, ("victim-*",))}
    )
    limits = Limits(max_streams=4, max_streams_per_caller=2)
    async with (
        running(auth_tokens=str(tmp_path / "tokens.toml"), limits=limits, bind_timeout=60.0) as daemon,
        grpc.aio.insecure_channel(daemon.address) as channel,
    ):
        stub = pb_grpc.RegistryServiceStub(channel)
        hog = [stub.HeartbeatStream(metadata=bearer(tokens["hog"])) for _ in range(2)]
        await wait_for(lambda: daemon.registry.stats().heartbeat_streams == 2, timeout=10)
        hog.append(stub.HeartbeatStream(metadata=bearer(tokens["hog"])))
        assert await _outcome(hog[2].read()) == "RESOURCE_EXHAUSTED"
        assert "max_streams_per_caller=2" in await hog[2].details()
        md = bearer(tokens["victim"])
        await stub.RegisterAgent(
            pb.RegisterAgentRequest(runtime_id="victim-1", agent_id="v1", card=CARD), metadata=md
        )
        victim = stub.HeartbeatStream(metadata=md)
        await victim.write(pb.HeartbeatStreamRequest(sequence=1, bind=pb.Bind(runtime_id="victim-1")))
        assert raise_if_refused(await victim.read()).bound_agents == 1
        for call in [*hog, victim]:
            call.cancel()


async def test_peers_without_tokens_are_counted_by_address():
    async with (
        running(limits=Limits(max_subscribers_per_caller=1)) as daemon,
        grpc.aio.insecure_channel(daemon.address) as one,
        grpc.aio.insecure_channel(daemon.address) as two,
    ):
        first = pb_grpc.RegistryServiceStub(one).Subscribe(pb.SubscribeRequest())
        assert await _outcome(first.read()) == "served"
        second = pb_grpc.RegistryServiceStub(two).Subscribe(pb.SubscribeRequest())  # same address
        assert await _outcome(second.read()) == EXHAUSTED.name
        assert "address 127.0.0.1 already holds" in await second.details()
        first.cancel()


async def test_a_stream_that_never_binds_is_ended_and_gives_its_slot_back():
    async with (
        running(bind_timeout=0.5, limits=Limits(max_streams=1)) as daemon,
        grpc.aio.insecure_channel(daemon.address) as channel,
    ):
        stub = pb_grpc.RegistryServiceStub(channel)
        idle = stub.HeartbeatStream()
        started = time.monotonic()
        assert await _outcome(idle.read()) == "FAILED_PRECONDITION"
        assert time.monotonic() - started < 10.0
        assert "no bind within bind_timeout=0.5s" in await idle.details()
        await wait_for(lambda: daemon.registry.stats().heartbeat_streams == 0, timeout=10)
        await stub.RegisterAgent(pb.RegisterAgentRequest(runtime_id="rt", agent_id="a1", card=CARD))
        bound = stub.HeartbeatStream()
        await bound.write(pb.HeartbeatStreamRequest(sequence=1, bind=pb.Bind(runtime_id="rt")))
        assert raise_if_refused(await bound.read()).bound_agents == 1
        await asyncio.sleep(1.0)  # past bind_timeout: a bound stream stays
        assert daemon.registry.stats().heartbeat_streams == 1
        bound.cancel()
