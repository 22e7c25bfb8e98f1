"""`RegistryClient`: a typed async wrapper over every RPC of registryd, one method per RPC.

It does no retrying and keeps no state beyond the channel: each method makes one call and either
returns the SDK's public types or raises a `RegistryError` subclass (mapped in `agentregistry.convert`).
The self-healing `AgentRegistry` and the `registryctl` CLI are both built on it.

    async with RegistryClient("127.0.0.1:50051", token="...") as client:
        result = await client.register_agent("runtime-1", AgentCard(name="coder", capabilities=("code",)))
        async for item in client.subscribe(from_revision=result.revision + 1):
            ...
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from agentregistry import convert
from agentregistry.backoff import Backoff
from agentregistry.types import (
    AgentCard,
    AgentMetadata,
    AgentPage,
    AgentStatus,
    Bookmark,
    DeregisterResult,
    FindResult,
    HeartbeatAck,
    HeartbeatDigest,
    Liveness,
    LoadReport,
    Outcome,
    PemSource,
    RegisterResult,
    RegistryError,
    RegistryEvent,
    RegistryEventType,
    RegistryStats,
    RegistryUnavailableError,
    Reservation,
    ReservationNotFoundError,
    RuntimeList,
    Selection,
    SelectionStrategy,
    ServingStatus,
    StatusUpdate,
)
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc as pb_grpc
from registryd.core.filters import AgentFilter

Request = TypeVar("Request")
# Load reports for a heartbeat: (agent ids, report); no ids means every agent the beat covers.
Loads = Sequence[tuple[Sequence[str], LoadReport]]
Response = TypeVar("Response")

# Keepalive finds a dead daemon behind a silent network within ~25 s (the daemon permits pings every
# 10 s). The channel's own reconnect backoff is capped so a restarted daemon is found quickly.
# gRPC's default 4 MiB receive limit is too small for the daemon's answers: a ListAgents page of 100 or a
# FindAgents answer of 1000 agents with 64 KiB cards (the card limit) is 6.4 or 64 MiB.
LOAD_BALANCING = ("pick_first", "round_robin")  # gRPC's policies over several replicas' addresses
_CHANNEL_OPTIONS: list[tuple[str, int]] = [
    ("grpc.max_receive_message_length", 128 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 15_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
]


def _pem(source: PemSource | None) -> bytes | None:
    if source is None or isinstance(source, bytes):
        return source
    return Path(source).read_bytes()


class RegistryClient:
    """A connection to registryd: one daemon, or any of several cluster-mode replicas.

    target: "host:port", or gRPC's own names for several replicas: "ipv4:10.0.0.1:50051,10.0.0.2:50051"
    or "dns:///registry.example:50051". `load_balancing` is gRPC's policy over them: "pick_first" (one
    replica at a time, moving on when it fails) or "round_robin" (calls spread over every replica up).
    A heartbeat stream or subscription cut off with its replica reconnects to another and re-binds or
    resumes; every replica emits the same events with the same revisions. TLS is used when `root_certificates` is given (PEM bytes, or a path);
    `client_certificate` and `client_key` add mTLS. `token` is sent on every call as
    `authorization: Bearer <token>`. `timeout` bounds every unary call (seconds; None waits forever).
    `max_reconnect_backoff` caps the channel's own reconnect backoff (seconds). With `wait_for_ready`,
    a call made while the daemon is unreachable waits for it (within `timeout`) instead of failing at
    once with RegistryUnavailableError; nothing is sent before the connection is up, so this is safe for
    every call. A call the daemon's crash cuts off while in flight is then retried too (within the same
    `timeout`) when that is safe: reads, and writes that are idempotent (register with an id, status,
    heartbeat); the others raise RegistryUnavailableError.
    """

    def __init__(
        self,
        target: str,
        *,
        root_certificates: PemSource | None = None,
        client_certificate: PemSource | None = None,
        client_key: PemSource | None = None,
        token: str | None = None,
        timeout: float | None = 10.0,
        max_reconnect_backoff: float = 1.0,
        wait_for_ready: bool = False,
        load_balancing: str = "pick_first",
    ) -> None:
        if load_balancing not in LOAD_BALANCING:
            raise ValueError(
                f"load_balancing must be one of {', '.join(LOAD_BALANCING)} (got {load_balancing!r})"
            )
        if (client_certificate is None) != (client_key is None):
            raise ValueError("client_certificate and client_key must be given together")
        if client_certificate is not None and root_certificates is None:
            raise ValueError("client_certificate (mTLS) needs root_certificates (TLS)")
        self.target = target
        self.timeout = timeout
        self._wait_for_ready = wait_for_ready
        backoff_ms = max(100, int(max_reconnect_backoff * 1000))
        options = [
            *_CHANNEL_OPTIONS,
            ("grpc.initial_reconnect_backoff_ms", min(100, backoff_ms)),
            ("grpc.min_reconnect_backoff_ms", min(100, backoff_ms)),
            ("grpc.max_reconnect_backoff_ms", backoff_ms),
            ("grpc.lb_policy_name", load_balancing),
        ]
        if root_certificates is None:
            self._channel = grpc.aio.insecure_channel(target, options=options)
        else:
            credentials = grpc.ssl_channel_credentials(
                _pem(root_certificates), _pem(client_key), _pem(client_certificate)
            )
            self._channel = grpc.aio.secure_channel(target, credentials, options=options)
        self._metadata: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {token}"),) if token else ()
        self._stub = pb_grpc.RegistryServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the channel; calls and streams in flight end with RegistryUnavailableError."""
        await self._channel.close()

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until the channel is connected; RegistryUnavailableError after `timeout` seconds."""
        try:
            async with asyncio.timeout(timeout):
                await self._channel.channel_ready()
        except TimeoutError:
            raise RegistryUnavailableError(
                f"registryd at {self.target} not reachable within {timeout} s",
                grpc.StatusCode.UNAVAILABLE,
            ) from None

    async def pause(self, delay: float) -> None:
        """Sleep `delay` seconds, or less when the channel makes a new connection meanwhile (a restarted
        daemon): streams then come back as soon as the daemon is, while repeated failures on one
        connection still wait out their backoff."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._new_connection()

    async def _new_connection(self) -> None:
        state = self._channel.get_state(try_to_connect=True)
        was_down = state is not grpc.ChannelConnectivity.READY
        while True:
            await self._channel.wait_for_state_change(state)
            state = self._channel.get_state(try_to_connect=True)
            if state is grpc.ChannelConnectivity.READY and was_down:
                return
            was_down = was_down or state is not grpc.ChannelConnectivity.READY

    async def _unary(
        self, method: Callable[..., Any], request: Request, *, retry: bool = True, waits: float = 0.0
    ) -> Any:
        """One call; with `retry` (safe to repeat) and `wait_for_ready`, a call cut off by a lost
        connection is made again once the daemon is back, all within `timeout` (plus `waits`, the seconds
        the daemon may hold the call on purpose)."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout + waits
        backoff = Backoff(0.05, 1.0)  # a draining daemon answers UNAVAILABLE at once: do not spin
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await method(request, **self._stream_options(), timeout=remaining)
            except grpc.RpcError as error:
                lost = error.code() is grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
                delay = backoff.next_delay()
                if not (lost and retry and self._wait_for_ready) or (
                    deadline is not None and time.monotonic() + delay >= deadline
                ):
                    raise convert.error_from_rpc(error) from None
            await asyncio.sleep(delay)

    def _stream_options(self) -> dict[str, Any]:
        return {"metadata": self._metadata, "wait_for_ready": self._wait_for_ready}

    # ------------------------------------------------------------------------------------ agents

    async def register_agent(
        self, runtime_id: str, card: AgentCard, agent_id: str = "", liveness: Liveness | None = None
    ) -> RegisterResult:
        """Register an agent (the daemon makes an id when `agent_id` is empty). The same id from the same
        runtime is an idempotent re-register (`created` False); from another runtime it raises
        AgentAlreadyExistsError. `liveness`: the timeouts the runtime asks for (see Bind)."""
        request = pb.RegisterAgentRequest(
            agent_id=agent_id,
            runtime_id=runtime_id,
            card=convert.card_to_proto(card),
            capabilities=card.capabilities,
            labels=card.labels,
            **convert.liveness_fields(liveness),
        )
        # Without an id a repeat would register a second agent.
        response = await self._unary(self._stub.RegisterAgent, request, retry=bool(agent_id))
        return convert.register_result(response)

    async def deregister_agent(self, agent_id: str, runtime_id: str = "") -> DeregisterResult:
        """Remove an agent. AgentNotFoundError when unknown; PermissionDeniedError when `runtime_id` is
        given and does not own it."""
        request = pb.DeregisterAgentRequest(agent_id=agent_id, runtime_id=runtime_id)
        # Not repeated: a repeat of a removal that went through would answer NOT_FOUND.
        response = await self._unary(self._stub.DeregisterAgent, request, retry=False)
        return convert.deregister_result(response)

    async def get_agent(self, agent_id: str, *, consistent: bool = False) -> AgentMetadata:
        """One agent; AgentNotFoundError when unknown. With `consistent`, the answer reflects every write
        acknowledged by any replica before the call (the replica catches up first; the same keyword on
        every read below)."""
        request = pb.GetAgentRequest(agent_id=agent_id, consistent=consistent)
        response = await self._unary(self._stub.GetAgent, request)
        return convert.agent_from_proto(response.agent)

    async def list_agents(
        self,
        runtime_id: str = "",
        statuses: Iterable[AgentStatus] = (),
        page_size: int = 0,
        page_token: str = "",
        *,
        filter: AgentFilter | None = None,
        consistent: bool = False,
    ) -> AgentPage:
        """One page of agents ordered by id (empty `statuses`: every status), of those that pass
        `filter`. Pass the page's `next_page_token` with the same filters for the next page;
        `list_all_agents` does that."""
        request = pb.ListAgentsRequest(
            runtime_id=runtime_id,
            statuses=convert.statuses_to_proto(statuses),
            page_size=page_size,
            page_token=page_token,
            filter=convert.agent_filter_to_proto(filter),
            consistent=consistent,
        )
        response = await self._unary(self._stub.ListAgents, request)
        return convert.agent_page(response)

    async def list_all_agents(
        self,
        runtime_id: str = "",
        statuses: Iterable[AgentStatus] = (),
        page_size: int = 0,
        *,
        filter: AgentFilter | None = None,
        consistent: bool = False,
    ) -> AgentPage:
        """Every page joined. The revision is the first page's: subscribing from revision + 1 replays
        anything that changed while later pages were read, so nothing is missed."""
        statuses = tuple(statuses)
        first = await self.list_agents(runtime_id, statuses, page_size, filter=filter, consistent=consistent)
        agents, token = list(first.agents), first.next_page_token
        while token:
            page = await self.list_agents(runtime_id, statuses, page_size, token, filter=filter)
            agents.extend(page.agents)
            token = page.next_page_token
        return AgentPage(agents, "", first.revision)

    async def find_agents(
        self,
        capability: str = "",
        statuses: Iterable[AgentStatus] = (),
        limit: int = 0,
        *,
        filter: AgentFilter | None = None,
        consistent: bool = False,
    ) -> FindResult:
        """Agents whose capabilities, skill names or skill tags (then, ranked below, descriptions and
        skill examples) match `capability` as words or a substring (see the README), best match first, of those that pass `filter` (with a blank capability: every agent that passes
        it, by id). Empty `statuses` means ACTIVE only; `limit` 0 means the daemon's default."""
        request = pb.FindAgentsRequest(
            capability=capability,
            statuses=convert.statuses_to_proto(statuses),
            limit=limit,
            filter=convert.agent_filter_to_proto(filter),
            consistent=consistent,
        )
        response = await self._unary(self._stub.FindAgents, request)
        return convert.find_result(response)

    async def update_agent_status(
        self, agent_id: str, status: AgentStatus, runtime_id: str = ""
    ) -> StatusUpdate:
        """Set an operator status (sticky until an operator sets ACTIVE again, which clears it)."""
        request = pb.UpdateAgentStatusRequest(
            agent_id=agent_id, status=convert.status_to_proto(status), runtime_id=runtime_id
        )
        response = await self._unary(self._stub.UpdateAgentStatus, request)
        return convert.status_update(response)

    async def heartbeat(
        self,
        runtime_id: str,
        agent_ids: Sequence[str] = (),
        status: AgentStatus | None = None,
        liveness: Liveness | None = None,
        loads: Loads = (),
    ) -> HeartbeatAck:
        """Beat agents of a runtime (every one of them when `agent_ids` is empty), optionally
        self-reporting ACTIVE or DEGRADED and reporting load (`loads`: (agent ids, LoadReport) pairs; no
        ids means every agent beaten). Unknown ids come back in `unknown_agent_ids`, ids of another
        runtime in `refused_agent_ids`."""
        request = pb.HeartbeatRequest(
            runtime_id=runtime_id,
            agent_ids=list(agent_ids),
            status=convert.status_to_proto(status) if status else pb.AGENT_STATUS_UNSPECIFIED,
            loads=convert.loads_to_proto(loads),
            **convert.liveness_fields(liveness),
        )
        response = await self._unary(self._stub.Heartbeat, request)
        return convert.heartbeat_ack(response)

    async def select_agent(
        self,
        capability: str,
        strategy: SelectionStrategy = SelectionStrategy.P2C,
        *,
        affinity_key: str = "",
        exclude_agent_ids: Iterable[str] = (),
        exclude_runtime_ids: Iterable[str] = (),
        allow_degraded: bool = False,
        reserve: bool = False,
        reservation_ttl: float | None = None,
        wait: float = 0.0,
        filter: AgentFilter | None = None,
        consistent: bool = False,
    ) -> Selection:
        """One agent for a task among those `find_agents(capability)` would answer, chosen by load
        (see SelectionStrategy); with `reserve`, it counts one more task at once until released (or
        `reservation_ttl` seconds pass, default 60). When none fits, the daemon holds the call up to
        `wait` seconds (at most 30) for one that does, first come first served; `Selection.agent` is
        None when none fits by then."""
        request = pb.SelectAgentRequest(
            capability=capability,
            strategy=convert.strategy_to_proto(strategy),
            affinity_key=affinity_key,
            exclude_agent_ids=list(exclude_agent_ids),
            exclude_runtime_ids=list(exclude_runtime_ids),
            allow_degraded=allow_degraded,
            reserve=reserve,
            reservation_ttl=convert.duration_or_none(reservation_ttl),
            wait_timeout=convert.duration_or_none(wait or None),
            filter=convert.agent_filter_to_proto(filter),
            consistent=consistent,
        )
        # A reserving select is not repeated: a repeat would hold a second reservation.
        response = await self._unary(self._stub.SelectAgent, request, retry=not reserve, waits=wait)
        return convert.selection(response)

    async def release_reservation(self, reservation_id: str, outcome: Outcome | None = None) -> str:
        """End a reservation with the task's outcome (None: not counted); returns its agent id.
        ReservationNotFoundError when it is not open (released already, or expired)."""
        request = pb.ReleaseReservationRequest(
            reservation_id=reservation_id, outcome=convert.outcome_to_proto(outcome)
        )
        response = await self._on_reservation(self._stub.ReleaseReservation, request, retry=False)
        return response.agent_id  # type: ignore[no-any-return]

    async def renew_reservation(self, reservation_id: str, ttl: float | None = None) -> Reservation:
        """Extend a reservation for a long task: it lasts `ttl` seconds from now (None: the TTL it has;
        clamped to 1 s..1 h). ReservationNotFoundError when it is not open (released, or expired)."""
        request = pb.RenewReservationRequest(reservation_id=reservation_id, ttl=convert.duration_or_none(ttl))
        response = await self._on_reservation(self._stub.RenewReservation, request, retry=True)
        return convert.reservation_from_proto(response.reservation)

    async def _on_reservation(self, method: Callable[..., Any], request: Request, *, retry: bool) -> Any:
        try:
            return await self._unary(method, request, retry=retry)
        except LookupError as error:
            raise ReservationNotFoundError(str(error.args[0]), grpc.StatusCode.NOT_FOUND) from None

    def heartbeat_stream(self, runtime_id: str, liveness: Liveness | None = None) -> HeartbeatStream:
        """Open the long-lived heartbeat stream of a runtime; use as `async with`. Call `bind` first.
        `liveness`: the timeouts the runtime asks for, sent with every bind."""
        call = self._stub.HeartbeatStream(**self._stream_options())
        return HeartbeatStream(call, runtime_id, liveness)

    # ------------------------------------------------------------------------------------ events

    async def subscribe(
        self,
        types: Iterable[RegistryEventType] = (),
        runtime_id: str = "",
        agent_id: str = "",
        from_revision: int = 0,
        idle_timeout: float | None = None,
        heartbeat_digests: bool = False,
        filter: AgentFilter | None = None,
    ) -> AsyncIterator[RegistryEvent | Bookmark | HeartbeatDigest]:
        """Events in revision order, interleaved with bookmarks (the first item is one), and with
        `heartbeat_digests`, about once a second the last heartbeat of every matching agent that beat
        since the previous digest.

        Empty `types` means every type except AGENT_HEARTBEAT. `from_revision` 0 means live events only;
        otherwise retained events from that revision are replayed first (RevisionCompactedError when
        they are gone). A reader that falls too far behind gets SubscriberOverflowError and resumes from
        its last revision + 1. With `idle_timeout`, a stream that brings nothing, not even a bookmark,
        for that many seconds is taken as dead (RegistryUnavailableError); set it to a few times the
        daemon's bookmark interval. Closing the iterator cancels the stream.
        """
        request = pb.SubscribeRequest(
            types=[convert.event_type_to_proto(t) for t in types],
            runtime_id=runtime_id,
            agent_id=agent_id,
            from_revision=from_revision,
            heartbeat_digests=heartbeat_digests,
            filter=convert.agent_filter_to_proto(filter),
        )
        call = self._stub.Subscribe(request, **self._stream_options())
        try:
            while True:
                try:
                    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
                    # races with a message, and the stream would outlive its owner.
                    async with asyncio.timeout(idle_timeout):
                        message = await call.read()
                except TimeoutError:
                    raise RegistryUnavailableError(
                        f"no event or bookmark from {self.target} for {idle_timeout} s",
                        grpc.StatusCode.UNAVAILABLE,
                    ) from None
                if message is grpc.aio.EOF:
                    return
                item = convert.subscribe_item_from_proto(message)
                if item is not None:
                    yield item
        except grpc.RpcError as error:
            raise convert.error_from_rpc(error) from None
        finally:
            call.cancel()

    # ------------------------------------------------------------------------------------ others

    async def list_runtimes(self, page_size: int = 0, *, consistent: bool = False) -> RuntimeList:
        """Every runtime with its agent ids and whether a heartbeat stream is bound to it: every page
        joined, with the first page's revision (as `list_all_agents`)."""
        first = await self.list_runtimes_page(page_size, consistent=consistent)
        runtimes, token = list(first.runtimes), first.next_page_token
        while token:
            page = await self.list_runtimes_page(page_size, token)
            runtimes.extend(page.runtimes)
            token = page.next_page_token
        return RuntimeList(runtimes, first.revision)

    async def list_runtimes_page(
        self, page_size: int = 0, page_token: str = "", *, consistent: bool = False
    ) -> RuntimeList:
        """One page of runtimes ordered by id; pass its `next_page_token` for the next."""
        request = pb.ListRuntimesRequest(page_size=page_size, page_token=page_token, consistent=consistent)
        response = await self._unary(self._stub.ListRuntimes, request)
        return convert.runtime_list(response)

    async def get_stats(self, *, consistent: bool = False) -> RegistryStats:
        """Totals, distributions and counters (the original's get_metrics, and more)."""
        response = await self._unary(self._stub.GetStats, pb.GetStatsRequest(consistent=consistent))
        return convert.stats(response)

    async def health_check(self, service: str = "") -> ServingStatus:
        """The standard gRPC health check ("" = the whole daemon). NOT_SERVING while it drains."""
        request = health_pb2.HealthCheckRequest(service=service)
        try:
            response = await self._unary(self._health.Check, request)
        except LookupError:  # NOT_FOUND: the daemon does not know that service name
            return ServingStatus.SERVICE_UNKNOWN
        return convert.serving_status(response.status)


class HeartbeatStream:
    """One HeartbeatStream RPC: the first call must be `bind`; each call sends one message and waits for
    its ack. A message the daemon refuses raises the RegistryError a unary call would (nothing of it was
    applied) and the stream stays open. Leaving `async with` normally half-closes (`close`: bound agents turn OFFLINE); leaving it
    with an exception aborts (`abort`: the daemon marks bound agents UNHEALTHY, as for a crash)."""

    def __init__(self, call: Any, runtime_id: str, liveness: Liveness | None = None) -> None:
        self._call = call
        self.runtime_id = runtime_id
        self._liveness = convert.liveness_fields(liveness)
        self._sequence = 0
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> HeartbeatStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            await self.close()
        else:
            self.abort()

    async def bind(self, agent_ids: Sequence[str] = ()) -> HeartbeatAck:
        """Bind agents (on the first bind, empty means every agent of the runtime); binding beats them.
        Agents of another runtime come back in `refused_agent_ids`, unknown ones in `unknown_agent_ids`."""
        bind = pb.Bind(runtime_id=self.runtime_id, agent_ids=list(agent_ids), **self._liveness)
        return await self._send(bind, "bind")

    async def beat(
        self, agent_ids: Sequence[str] = (), status: AgentStatus | None = None, loads: Loads = ()
    ) -> HeartbeatAck:
        """Beat agents (every bound agent when empty), optionally self-reporting ACTIVE or DEGRADED (the
        agents' health, reason SELF_REPORTED, until the next report; an operator setting still wins) and
        reporting load (`loads`: (agent ids, LoadReport) pairs; no ids means every agent beaten)."""
        status_value = convert.status_to_proto(status) if status else pb.AGENT_STATUS_UNSPECIFIED
        beat = pb.Beat(agent_ids=list(agent_ids), status=status_value, loads=convert.loads_to_proto(loads))
        return await self._send(beat, "beat")

    async def unbind(self, agent_ids: Sequence[str]) -> HeartbeatAck:
        """Unbind agents: the stream's end no longer affects them."""
        return await self._send(pb.Unbind(agent_ids=list(agent_ids)), "unbind")

    async def ended(self) -> RegistryError:
        """Wait until the daemon ends the stream (a drain, a restart, a refusal) and say why."""
        await self._call.code()
        return convert.error_from_rpc(await self._final_error())

    async def _send(self, action: Any, name: str) -> HeartbeatAck:
        async with self._lock:
            self._sequence += 1
            try:
                if self._call.done():
                    raise await self._final_error()
                await self._call.write(pb.HeartbeatStreamRequest(sequence=self._sequence, **{name: action}))
                response = await self._call.read()
            except grpc.RpcError as error:
                raise convert.error_from_rpc(error) from None
            except asyncio.InvalidStateError:
                raise convert.error_from_rpc(await self._final_error()) from None
            if response is grpc.aio.EOF:
                raise convert.error_from_rpc(await self._final_error())
            if response.HasField("error"):  # refused; the stream stays open
                raise convert.stream_error(response.error)
            return convert.heartbeat_ack(response)

    async def _final_error(self) -> grpc.aio.AioRpcError:
        code = await self._call.code()
        if code is grpc.StatusCode.OK:
            code = grpc.StatusCode.UNAVAILABLE
        return grpc.aio.AioRpcError(
            code,
            grpc.aio.Metadata(),
            await self._call.trailing_metadata() or grpc.aio.Metadata(),
            await self._call.details() or "the daemon ended the heartbeat stream",
        )

    async def close(self) -> None:
        """Half-close and wait for the daemon to end the stream; agents still bound turn OFFLINE."""
        if self._call.done():
            return
        try:
            await self._call.done_writing()
            while await self._call.read() is not grpc.aio.EOF:
                pass
        except (grpc.RpcError, asyncio.InvalidStateError):
            pass  # the stream is over either way

    def abort(self) -> None:
        """Cancel the stream; the daemon marks agents still bound UNHEALTHY (STREAM_LOST)."""
        self._call.cancel()
