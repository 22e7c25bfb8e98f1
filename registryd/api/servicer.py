"""RegistryService: each method validates wire-level input, calls the core, and translates the answer.
Core refusals become gRPC statuses through `registryd.api.errors` only."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
import structlog
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc as pb_grpc

from registryd.api import convert
from registryd.api.auth import Authorizer, caller
from registryd.api.errors import abort, code_for, set_status
from registryd.api.memo import IdentityMemo
from registryd.api.paging import decode_page_token, encode_page_token
from registryd.api.wire import parsed
from registryd.core.commit import CommitFailed
from registryd.core.errors import InvalidArgument, NotFound, RegistryError
from registryd.core.events import DEFAULT_TYPES, EventFilter, SubscriptionClosed
from registryd.core.model import BeatResult, Event, HeartbeatDigest
from registryd.core.registry import Registry
from registryd.core.streams import HeartbeatSession, StreamEnd
from registryd.core.validation import page_size

log = structlog.get_logger("registryd.api")

Response = TypeVar("Response")

# Every answer names the store's history in this metadata (Snapshot.history_id), so a client can tell a
# different history (a wiped or another etcd, a restored backup, a memory store restarted) from a replica
# or a daemon that lags behind.
HISTORY_KEY = "registry-history"
HALF_CLOSE_SETTLE = 0.05  # seconds; see HeartbeatStream


def unary(
    method: Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[Response]],
) -> Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[Response]]:
    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Response:
        try:
            if self._registry.history_id:
                context.set_trailing_metadata(((HISTORY_KEY, self._registry.history_id),))
            return await method(self, parsed(request), context)
        except (RegistryError, CommitFailed) as error:
            await abort(context, error)
            raise  # unreachable: abort raises

    return wrapper


class RegistryServicer(pb_grpc.RegistryServiceServicer):
    def __init__(
        self, registry: Registry, bookmark_interval: float = 5.0, authorizer: Authorizer | None = None
    ) -> None:
        self._registry = registry
        self._authorizer = authorizer
        self._bookmark_interval = bookmark_interval
        self._draining = False
        self._streams: set[asyncio.Task[Any]] = set()
        # Every subscriber of an event is sent one shared message (a write serialises it at once).
        self._event_message = IdentityMemo(256, _event_message)
        # Heartbeat acks carry the same few durations again and again.
        self._duration = IdentityMemo(64, convert.duration)

    # ------------------------------------------------------------------ unary

    @unary
    async def RegisterAgent(
        self, request: pb.RegisterAgentRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterAgentResponse:
        self._authorize_runtime(request.runtime_id)
        agent, created, revision = await self._registry.register(
            request.runtime_id,
            convert.card_from_proto(request.card, request.capabilities, request.labels),
            request.agent_id,
            convert.optional_seconds(request, "heartbeat_timeout"),
            convert.optional_seconds(request, "auto_deregister_timeout"),
        )
        terms = self._registry.terms_of(request.runtime_id)
        return pb.RegisterAgentResponse(
            agent=convert.agent_to_proto(agent),
            created=created,
            revision=revision,
            heartbeat_timeout=self._duration(terms.heartbeat_timeout),
            auto_deregister_timeout=self._duration(terms.auto_deregister_timeout),
        )

    @unary
    async def DeregisterAgent(
        self, request: pb.DeregisterAgentRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeregisterAgentResponse:
        self._authorize_agent(request.agent_id)
        agent, revision = await self._registry.deregister(request.agent_id, request.runtime_id)
        return pb.DeregisterAgentResponse(agent=convert.agent_to_proto(agent), revision=revision)

    @unary
    async def GetAgent(
        self, request: pb.GetAgentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAgentResponse:
        await self._reflect_all_writes(request)
        revision = self._registry.revision
        agent = self._registry.get(request.agent_id)
        return pb.GetAgentResponse(
            agent=convert.agent_to_proto(agent), revision=await self._registry.durable(revision)
        )

    @unary
    async def ListAgents(
        self, request: pb.ListAgentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAgentsResponse:
        await self._reflect_all_writes(request)
        statuses = convert.statuses_from_proto(request.statuses, "statuses")
        agent_filter = convert.agent_filter_from_proto(request.filter)
        limit = page_size(request.page_size, self._registry.limits)
        after = decode_page_token(request.page_token, request.runtime_id, statuses, agent_filter)
        page = self._registry.list_agents(request.runtime_id, statuses, after, limit, agent_filter)
        token = (
            encode_page_token(page.next_after, request.runtime_id, statuses, agent_filter)
            if page.next_after
            else ""
        )
        return pb.ListAgentsResponse(
            agents=await convert.agent_messages(page.agents),
            next_page_token=token,
            revision=await self._registry.durable(page.revision),
        )

    @unary
    async def FindAgents(
        self, request: pb.FindAgentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.FindAgentsResponse:
        await self._reflect_all_writes(request)
        statuses = convert.statuses_from_proto(request.statuses, "statuses")
        limit = page_size(request.limit, self._registry.limits, field="limit")
        revision = self._registry.revision
        agent_filter = convert.agent_filter_from_proto(request.filter)
        found = self._registry.find(request.capability, statuses, limit, agent_filter)
        response = pb.FindAgentsResponse(revision=await self._registry.durable(revision))
        convert.add_matches(response.matches, found)
        return response

    @unary
    async def UpdateAgentStatus(
        self, request: pb.UpdateAgentStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateAgentStatusResponse:
        status = convert.status_from_proto(request.status, "status")
        self._authorize_agent(request.agent_id)
        agent, changed, revision = await self._registry.update_status(
            request.agent_id, status, request.runtime_id
        )
        return pb.UpdateAgentStatusResponse(
            agent=convert.agent_to_proto(agent), changed=changed, revision=revision
        )

    @unary
    async def Heartbeat(
        self, request: pb.HeartbeatRequest, context: grpc.aio.ServicerContext
    ) -> pb.HeartbeatResponse:
        status = convert.optional_status_from_proto(request.status, "status")
        self._authorize_runtime(request.runtime_id)
        result, revision = await self._registry.heartbeat(
            request.runtime_id,
            list(request.agent_ids),
            status,
            convert.optional_seconds(request, "heartbeat_timeout"),
            convert.optional_seconds(request, "auto_deregister_timeout"),
            convert.loads_from_proto(request.loads),
        )
        terms = self._registry.terms_of(request.runtime_id)
        return pb.HeartbeatResponse(
            unknown_agent_ids=result.unknown_agent_ids,
            refused_agent_ids=result.refused_agent_ids,
            server_time=convert.timestamp(time.time()),
            heartbeat_timeout=self._duration(terms.heartbeat_timeout),
            auto_deregister_timeout=self._duration(terms.auto_deregister_timeout),
            revision=revision,
        )

    @unary
    async def SelectAgent(
        self, request: pb.SelectAgentRequest, context: grpc.aio.ServicerContext
    ) -> pb.SelectAgentResponse:
        # A waiting call counts against its caller's share of the line (token, certificate or address).
        waiter = caller(context)
        await self._reflect_all_writes(request)
        selection = await self._registry.placement.select_waiting(
            convert.select_request_from_proto(request), waiter
        )
        return convert.selection_to_proto(selection, time.time())

    @unary
    async def ReleaseReservation(
        self, request: pb.ReleaseReservationRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReleaseReservationResponse:
        outcome = convert.outcome_from_proto(request.outcome)
        reservation = self._registry.loads.release(request.reservation_id, outcome)
        return pb.ReleaseReservationResponse(agent_id=reservation.agent_id)

    @unary
    async def RenewReservation(
        self, request: pb.RenewReservationRequest, context: grpc.aio.ServicerContext
    ) -> pb.RenewReservationResponse:
        ttl = convert.optional_seconds(request, "ttl")
        reservation = self._registry.loads.renew(request.reservation_id, ttl)
        return pb.RenewReservationResponse(reservation=convert.reservation_to_proto(reservation, time.time()))

    @unary
    async def ListRuntimes(
        self, request: pb.ListRuntimesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListRuntimesResponse:
        await self._reflect_all_writes(request)
        limit = page_size(request.page_size, self._registry.limits)
        page = self._registry.runtimes(decode_page_token(request.page_token, "", ()), limit)
        return convert.runtime_page_to_proto(page, await self._registry.durable(page.revision))

    @unary
    async def GetStats(
        self, request: pb.GetStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetStatsResponse:
        await self._reflect_all_writes(request)
        stats = self._registry.stats()
        await self._registry.durable(stats.revision)
        return convert.stats_to_proto(stats)

    async def _reflect_all_writes(self, request: Any) -> None:
        """A read with `consistent` set first catches up with every write acknowledged anywhere."""
        if request.consistent:
            await self._registry.sync()

    # ------------------------------------------------------------------ streams

    async def HeartbeatStream(
        self, request_iterator: AsyncIterator[pb.HeartbeatStreamRequest], context: grpc.aio.ServicerContext
    ) -> None:
        try:
            session = HeartbeatSession(self._registry, caller(context))
        except RegistryError as error:
            await abort(context, error)
        end = StreamEnd.LOST
        session.on_expired = self._track_stream().cancel
        try:  # context.write rather than yield, for the reason given in Subscribe
            async for raw in request_iterator:
                try:
                    result = await self._stream_action(session, parsed(raw))
                except RegistryError as error:  # nothing of it was applied: say so, keep the stream
                    log.info(
                        "heartbeat stream refused a message", runtime_id=session.runtime_id, error=str(error)
                    )
                    result = BeatResult(bound_agents=len(session.bound))
                    refusal = pb.StreamError(
                        code=code_for(error).name, message=error.message, field=error.field or ""
                    )
                else:
                    refusal = None
                terms = self._registry.terms_of(session.runtime_id)
                await context.write(
                    pb.HeartbeatStreamResponse(
                        sequence=getattr(raw, "sequence", 0),  # a malformed message has none
                        server_time=convert.timestamp(time.time()),
                        heartbeat_timeout=self._duration(terms.heartbeat_timeout),
                        auto_deregister_timeout=self._duration(terms.auto_deregister_timeout),
                        unknown_agent_ids=result.unknown_agent_ids,
                        refused_agent_ids=result.refused_agent_ids,
                        bound_agents=result.bound_agents,
                        error=refusal,
                    )
                )
            # grpc.aio ends the request stream the same way when the client cancels or its connection
            # dies; the cancellation reaches this task a moment later. Only an end that outlives this
            # wait is a half-close (without it, about a fifth of killed clients looked like clean closes).
            await asyncio.sleep(HALF_CLOSE_SETTLE)
            end = StreamEnd.CLOSED
            log.debug("heartbeat stream half-closed", runtime_id=session.runtime_id)
            await session.finish(end)  # the stream ends once its agents are OFFLINE
        except CommitFailed as error:
            set_status(context, error)
        except asyncio.CancelledError:
            if session.expired is not None:  # nothing was bound: nothing changes
                set_status(context, session.expired)
            elif self._draining:
                end = StreamEnd.DRAINED
                _set_draining(context, "reconnect and bind again; your agents keep their status")
            else:
                log.debug("heartbeat stream lost", runtime_id=session.runtime_id)
                raise
        finally:
            session.close(StreamEnd.DRAINED if self._draining else end)

    async def _stream_action(
        self, session: HeartbeatSession, message: pb.HeartbeatStreamRequest
    ) -> BeatResult:
        action = message.WhichOneof("action")
        if action == "beat":
            status = convert.optional_status_from_proto(message.beat.status, "beat.status")
            loads = convert.loads_from_proto(message.beat.loads)
            return await session.beat(list(message.beat.agent_ids), status, loads)
        if action == "bind":
            self._authorize_runtime(message.bind.runtime_id or session.runtime_id)
            bind = message.bind
            return await session.bind(
                bind.runtime_id,
                list(bind.agent_ids),
                convert.optional_seconds(bind, "heartbeat_timeout"),
                convert.optional_seconds(bind, "auto_deregister_timeout"),
            )
        if action == "unbind":
            return await session.unbind(list(message.unbind.agent_ids))
        raise InvalidArgument("a heartbeat stream message needs one of bind, beat or unbind", field="action")

    async def Subscribe(self, request: pb.SubscribeRequest, context: grpc.aio.ServicerContext) -> None:
        try:
            request = parsed(request)
            types = convert.event_types_from_proto(request.types, "types")
            event_filter = EventFilter(
                types or DEFAULT_TYPES, request.runtime_id, request.agent_id, request.heartbeat_digests
            )
            subscription = self._registry.subscribe(
                event_filter,
                request.from_revision,
                caller(context),
                convert.agent_filter_from_proto(request.filter),
            )
        except RegistryError as error:
            await abort(context, error)
        if self._registry.history_id:
            await context.send_initial_metadata(((HISTORY_KEY, self._registry.history_id),))
        task = self._track_stream()
        subscription.on_overflow = task.cancel
        # context.write, not yield: when an overflow or a drain cancels a write blocked on a slow reader,
        # the cancellation must land here, where a status can still be set. (grpc.aio drops a cancelled
        # generator's status and leaves the call open; the event being written is still delivered.)
        try:
            await context.write(pb.SubscribeResponse(bookmark=pb.Bookmark(revision=subscription.bookmark())))
            while True:
                item = await subscription.next(self._bookmark_interval)
                if item is None:
                    await context.write(
                        pb.SubscribeResponse(bookmark=pb.Bookmark(revision=subscription.bookmark()))
                    )
                elif isinstance(item, HeartbeatDigest):
                    await context.write(convert.heartbeat_digest_to_proto(item))
                else:
                    await context.write(self._event_message(item))
        except SubscriptionClosed:
            if self._draining:
                _set_draining(context, "resume from your last revision + 1")
        except RegistryError as error:  # overflow noticed by next()
            set_status(context, error)
        except asyncio.CancelledError:
            if subscription.overflow is not None:
                set_status(context, subscription.overflow)
            elif self._draining:
                _set_draining(context, "resume from your last revision + 1")
            else:
                raise
        finally:
            subscription.close()

    # ------------------------------------------------------------------ authorization
    # Each check runs right before the core call it guards, with no await between, so the owner it
    # consulted is the owner the core acts on.

    def _authorize_runtime(self, runtime_id: str) -> None:
        if self._authorizer is not None:
            self._authorizer.authorize_runtime(runtime_id)

    def _authorize_agent(self, agent_id: str) -> None:
        """Changing an agent is decided by its actual owner, whatever runtime_id the request names."""
        if self._authorizer is not None:
            try:
                owner = self._registry.get(agent_id).runtime_id
            except NotFound:
                return  # the core answers NOT_FOUND, to every role alike
            self._authorizer.authorize_runtime(owner)

    def _track_stream(self) -> asyncio.Task[Any]:
        task = asyncio.current_task()
        assert task is not None
        self._streams.add(task)
        task.add_done_callback(self._streams.discard)
        return task

    async def drain(self) -> None:
        """Server shutdown: end every stream cleanly; bound agents keep their status."""
        self._draining = True
        self._registry.hub.close_all()
        for task in tuple(self._streams):
            task.cancel()
        if self._streams:
            await asyncio.wait(tuple(self._streams), timeout=2.0)


def _event_message(event: Event) -> pb.SubscribeResponse:
    return pb.SubscribeResponse(event=convert.event_to_proto(event))


def _set_draining(context: grpc.aio.ServicerContext, hint: str) -> None:
    context.set_code(grpc.StatusCode.UNAVAILABLE)
    context.set_details(f"registryd is shutting down; {hint}")
