"""Every RPC x every caller: no token, an unknown token, reader, runtime acting for its own runtime,
runtime acting for a foreign runtime, admin. Each cell checks the status code, and that a refused call
changed nothing (revision and every agent, heartbeat times included)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc
import pytest
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc as pb_grpc
from security_support import RefusedStreamMessage, bearer, raise_if_refused, running, write_tokens

from registryd.auth import METHOD_ROLES, Role
from registryd.server import SERVICE_NAME

OK = grpc.StatusCode.OK
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
DENIED = grpc.StatusCode.PERMISSION_DENIED


@dataclass(frozen=True)
class Target:
    runtime: str
    agent: str


OWN = Target("own-1", "agent-own")
FOREIGN = Target("other-1", "agent-foreign")
CARD = pb.AgentCard(name="coder", capability_phrases=["Python code generation"])

Call = Callable[[pb_grpc.RegistryServiceStub, Target, tuple[tuple[str, str], ...]], Awaitable[object]]


async def _heartbeat_stream(stub: pb_grpc.RegistryServiceStub, t: Target, md: tuple) -> None:
    call = stub.HeartbeatStream(metadata=md, timeout=5)
    try:
        await call.write(
            pb.HeartbeatStreamRequest(sequence=1, bind=pb.Bind(runtime_id=t.runtime, agent_ids=[t.agent]))
        )
        response = await call.read()
        if response is grpc.aio.EOF:
            await call.wait_for_connection()
            raise AssertionError(f"stream ended without an ack: {await call.code()}")
        raise_if_refused(response)
    finally:
        call.cancel()


async def _subscribe(stub: pb_grpc.RegistryServiceStub, t: Target, md: tuple) -> None:
    call = stub.Subscribe(pb.SubscribeRequest(runtime_id=t.runtime), metadata=md, timeout=5)
    try:
        assert (await call.read()).HasField("bookmark")
    finally:
        call.cancel()


async def _release(stub: pb_grpc.RegistryServiceStub, t: Target, md: tuple) -> None:
    """A router releases what it reserved (SelectAgent needs the same role)."""
    selected = await stub.SelectAgent(pb.SelectAgentRequest(capability="python", reserve=True), metadata=md)
    await stub.ReleaseReservation(
        pb.ReleaseReservationRequest(reservation_id=selected.reservation.reservation_id), metadata=md
    )


async def _renew(stub: pb_grpc.RegistryServiceStub, t: Target, md: tuple) -> None:
    """A router renews what it reserved."""
    selected = await stub.SelectAgent(pb.SelectAgentRequest(capability="python", reserve=True), metadata=md)
    await stub.RenewReservation(
        pb.RenewReservationRequest(reservation_id=selected.reservation.reservation_id), metadata=md
    )


CALLS: dict[str, Call] = {
    "RegisterAgent": lambda s, t, md: s.RegisterAgent(
        pb.RegisterAgentRequest(agent_id="agent-new", runtime_id=t.runtime, card=CARD), metadata=md
    ),
    # No runtime_id in the request: ownership is decided by the agent's actual owner.
    "DeregisterAgent": lambda s, t, md: s.DeregisterAgent(
        pb.DeregisterAgentRequest(agent_id=t.agent), metadata=md
    ),
    "GetAgent": lambda s, t, md: s.GetAgent(pb.GetAgentRequest(agent_id=t.agent), metadata=md),
    "ListAgents": lambda s, t, md: s.ListAgents(pb.ListAgentsRequest(runtime_id=t.runtime), metadata=md),
    "FindAgents": lambda s, t, md: s.FindAgents(pb.FindAgentsRequest(capability="python"), metadata=md),
    "UpdateAgentStatus": lambda s, t, md: s.UpdateAgentStatus(
        pb.UpdateAgentStatusRequest(agent_id=t.agent, status=pb.AGENT_STATUS_DEGRADED), metadata=md
    ),
    "Heartbeat": lambda s, t, md: s.Heartbeat(
        pb.HeartbeatRequest(runtime_id=t.runtime, agent_ids=[t.agent]), metadata=md
    ),
    "HeartbeatStream": _heartbeat_stream,
    "Subscribe": _subscribe,
    "ListRuntimes": lambda s, t, md: s.ListRuntimes(pb.ListRuntimesRequest(), metadata=md),
    "GetStats": lambda s, t, md: s.GetStats(pb.GetStatsRequest(), metadata=md),
    "SelectAgent": lambda s, t, md: s.SelectAgent(
        pb.SelectAgentRequest(capability="python", reserve=True), metadata=md
    ),
    "ReleaseReservation": _release,
    "RenewReservation": _renew,
}

CALLERS = ["none", "unknown", "reader", "runtime-own", "runtime-foreign", "admin"]


def expected(rpc: str, caller: str) -> grpc.StatusCode:
    if caller in ("none", "unknown"):
        return UNAUTHENTICATED
    if METHOD_ROLES[rpc] is Role.READER or caller in ("runtime-own", "admin"):
        return OK
    return DENIED  # a reader changing anything, or a runtime token acting for another runtime


MATRIX = [(rpc, caller) for rpc in CALLS for caller in CALLERS]


def test_matrix_covers_every_rpc_and_caller():
    service_methods = set(pb.DESCRIPTOR.services_by_name["RegistryService"].methods_by_name)
    assert set(CALLS) == service_methods == set(METHOD_ROLES)
    assert len(MATRIX) == len(service_methods) * len(CALLERS) == 84
    print(f"authorization matrix: {len(service_methods)} RPCs x {len(CALLERS)} callers = {len(MATRIX)} cells")


@pytest.fixture
def tokens(tmp_path):
    path = tmp_path / "tokens.toml"
    issued = write_tokens(
        path,
        {
            "reader": (Role.READER, ()),
            "worker": (Role.RUNTIME, ("own-*",)),
            "ops": (Role.ADMIN, ()),
        },
    )
    return path, issued


def _snapshot(daemon):
    return daemon.registry.revision, tuple(daemon.registry.list_agents(limit=1000).agents)


@pytest.mark.parametrize(("rpc", "caller"), MATRIX)
async def test_call_is_allowed_or_refused_by_role_and_ownership(tokens, rpc, caller):
    path, issued = tokens
    async with running(auth_tokens=str(path)) as daemon, grpc.aio.insecure_channel(daemon.address) as channel:
        stub = pb_grpc.RegistryServiceStub(channel)
        admin = bearer(issued["ops"])
        for t in (OWN, FOREIGN):
            await stub.RegisterAgent(
                pb.RegisterAgentRequest(agent_id=t.agent, runtime_id=t.runtime, card=CARD), metadata=admin
            )
        metadata = {
            "none": (),
            "unknown": bearer("not-a-token-anyone-was-given"),
            "reader": bearer(issued["reader"]),
            "runtime-own": bearer(issued["worker"]),
            "runtime-foreign": bearer(issued["worker"]),
            "admin": admin,
        }[caller]
        target = OWN if caller == "runtime-own" else FOREIGN
        before = _snapshot(daemon)
        try:
            await CALLS[rpc](stub, target, metadata)
            code = OK
        except grpc.RpcError as error:
            code = error.code()
            assert error.details(), "a refusal says why"
        assert code is expected(rpc, caller), f"{rpc} by {caller}"
        if code is not OK:
            assert _snapshot(daemon) == before, f"refused {rpc} by {caller} changed state"


async def test_runtime_token_cannot_reach_a_foreign_agent_by_naming_its_own_runtime(tokens):
    path, issued = tokens
    async with running(auth_tokens=str(path)) as daemon, grpc.aio.insecure_channel(daemon.address) as channel:
        stub = pb_grpc.RegistryServiceStub(channel)
        await stub.RegisterAgent(
            pb.RegisterAgentRequest(agent_id=FOREIGN.agent, runtime_id=FOREIGN.runtime, card=CARD),
            metadata=bearer(issued["ops"]),
        )
        worker = bearer(issued["worker"])
        before = _snapshot(daemon)
        attempts = [
            stub.DeregisterAgent(
                pb.DeregisterAgentRequest(agent_id=FOREIGN.agent, runtime_id=OWN.runtime), metadata=worker
            ),
            stub.UpdateAgentStatus(
                pb.UpdateAgentStatusRequest(
                    agent_id=FOREIGN.agent, runtime_id=OWN.runtime, status=pb.AGENT_STATUS_OFFLINE
                ),
                metadata=worker,
            ),
        ]
        for attempt in attempts:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await attempt
            assert refused.value.code() is DENIED
        beat = await stub.Heartbeat(
            pb.HeartbeatRequest(runtime_id=OWN.runtime, agent_ids=[FOREIGN.agent]), metadata=worker
        )
        assert list(beat.refused_agent_ids) == [FOREIGN.agent]  # named, not beaten
        with pytest.raises(grpc.aio.AioRpcError) as taken:  # the id is taken; the token still owns own-1
            await stub.RegisterAgent(
                pb.RegisterAgentRequest(agent_id=FOREIGN.agent, runtime_id=OWN.runtime, card=CARD),
                metadata=worker,
            )
        assert taken.value.code() is grpc.StatusCode.ALREADY_EXISTS
        assert _snapshot(daemon) == before


async def test_heartbeat_stream_cannot_switch_to_a_foreign_runtime(tokens):
    path, issued = tokens
    async with running(auth_tokens=str(path)) as daemon, grpc.aio.insecure_channel(daemon.address) as channel:
        stub = pb_grpc.RegistryServiceStub(channel)
        call = stub.HeartbeatStream(metadata=bearer(issued["worker"]), timeout=5)
        await call.write(pb.HeartbeatStreamRequest(sequence=1, bind=pb.Bind(runtime_id="own-7")))
        assert (await call.read()).sequence == 1
        await call.write(pb.HeartbeatStreamRequest(sequence=2, bind=pb.Bind(runtime_id="other-1")))
        with pytest.raises(RefusedStreamMessage) as refused:
            raise_if_refused(await call.read())
        assert refused.value.code() is DENIED
        assert daemon.registry.revision == 0


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Basic dXNlcjpwYXNz", "Bearer  ", "token-without-scheme"],
)
async def test_malformed_authorization_is_unauthenticated(tokens, header):
    path, _ = tokens
    async with running(auth_tokens=str(path)) as daemon, grpc.aio.insecure_channel(daemon.address) as channel:
        stub = pb_grpc.RegistryServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.GetStats(pb.GetStatsRequest(), metadata=(("authorization", header),))
        assert refused.value.code() is UNAUTHENTICATED


async def test_bearer_scheme_is_case_insensitive(tokens):
    path, issued = tokens
    async with running(auth_tokens=str(path)) as daemon, grpc.aio.insecure_channel(daemon.address) as channel:
        stub = pb_grpc.RegistryServiceStub(channel)
        response = await stub.GetStats(
            pb.GetStatsRequest(), metadata=(("authorization", f"bearer {issued['reader']}"),)
        )
        assert response.total_agents == 0


async def test_unknown_method_needs_a_token_too(tokens):
    path, _ = tokens
    async with running(auth_tokens=str(path)) as daemon, grpc.aio.insecure_channel(daemon.address) as channel:
        call = channel.unary_unary(f"/{SERVICE_NAME}/NoSuchMethod")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call(b"", timeout=5)
        assert refused.value.code() is UNAUTHENTICATED
