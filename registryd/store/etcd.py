"""The etcd store: several registry replicas over one etcd cluster (DESIGN.md section 5).

Keys under the prefix:
  {prefix}/history      an id made once, when the prefix is first used (with etcd's cluster id it names
                        the history: a wiped or different etcd gives a different one)
  {prefix}/log          the events of the last change; its history of values is the event log
  {prefix}/agents/{id}  each registered agent (codec.agent_row as JSON)

A change is one Txn: compare {prefix}/log's mod revision with the last change the committer's view
applied, then put/delete the agents and put the change into {prefix}/log. Replicas follow by watching
{prefix}/log from the revision after the one they applied. The etcd client (aetcd) is used only here and
in etcd_lease.py; etcd_client.py builds it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aetcd
import aetcd.exceptions
import grpc
import structlog
from aetcd import rpc

from registryd.core.model import Agent, Event, EventType
from registryd.store.base import Conflict, Fence, Fenced, Snapshot, StoreError, StoreUnavailable
from registryd.store.codec import (
    CardDecoder,
    CorruptRow,
    agent_from_row,
    agent_row,
    event_from_row,
    event_row,
)
from registryd.store.etcd_client import EtcdOptions, etcd_client
from registryd.store.etcd_lease import EtcdSessions, _range_end

log = structlog.get_logger("registryd.etcd")

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
RETRY_DELAY = 0.2  # seconds between attempts to watch again after the connection broke


def encode_agent(agent: Agent) -> bytes:
    """The one place an agent becomes an etcd value (a card model change touches codec.agent_row only)."""
    return _encode(agent_row(agent)).encode()


def decode_agent(value: bytes, cards: CardDecoder) -> Agent:
    return agent_from_row(tuple(json.loads(value)), cards)


def encode_change(events: Sequence[Event]) -> bytes:
    return _encode(
        [event_row(e, agent_row(e.agent) if e.agent is not None else None) for e in events]
    ).encode()


def decode_change(value: bytes, cards: CardDecoder) -> list[Event]:
    try:
        rows = json.loads(value)
    except ValueError as error:
        raise CorruptRow(f"undecodable change: {error}") from None
    return [event_from_row(tuple(row), cards) for row in rows]


class EtcdStore:
    def __init__(self, options: EtcdOptions) -> None:
        self.options = options
        self._client = etcd_client(options)
        prefix = options.prefix.rstrip("/")
        self._history_key = f"{prefix}/history".encode()
        self._log_key = f"{prefix}/log".encode()
        self._agents = f"{prefix}/agents/".encode()
        self._cards = CardDecoder()
        self._sessions: EtcdSessions | None = None

    @property
    def timeout(self) -> float:
        return self.options.timeout

    @property
    def client(self) -> aetcd.Client:
        return self._client

    def sessions(self) -> EtcdSessions:
        if self._sessions is None:
            self._sessions = EtcdSessions(self, self.options.lease_ttl)
        return self._sessions

    async def _call(self, method: str, request: Any) -> Any:
        """One KV request (`method` of etcd's KV service) with the request timeout."""
        try:
            await self._client.connect()
            call = getattr(self._client.kvstub, method)
            return await call(request, timeout=self.options.timeout, metadata=self._client.metadata)
        except (TimeoutError, grpc.RpcError, aetcd.exceptions.ClientError, OSError) as error:
            raise StoreUnavailable(
                f"etcd at {','.join(self.options.endpoints)} is unavailable: {error}"
            ) from None

    async def load(self) -> Snapshot:
        try:
            history_id = await self._history()
            response = await self._call(
                "Range",
                rpc.RangeRequest(key=self._agents, range_end=_range_end(self._agents)),
            )
            log_kv = await self._call(
                "Range",
                rpc.RangeRequest(key=self._log_key, revision=response.header.revision),
            )
        except StoreUnavailable as error:
            raise StoreError(str(error)) from None
        agents = [decode_agent(kv.value, self._cards) for kv in response.kvs]
        revision, store_revision = 0, 0
        if log_kv.kvs:
            store_revision = log_kv.kvs[0].mod_revision
            events = decode_change(log_kv.kvs[0].value, self._cards)
            revision = max(event.revision for event in events)
        cluster_id = response.header.cluster_id
        return Snapshot(
            agents=agents,
            revision=revision,
            compacted_revision=revision,  # history before this replica started is not replayed
            store_revision=store_revision,
            history_id=f"{cluster_id:016x}-{history_id}",
        )

    async def _history(self) -> str:
        """The prefix's history id, made by the first replica that used it."""
        made = uuid.uuid4().hex.encode()
        response = await self._call(
            "Txn",
            rpc.TxnRequest(
                compare=[
                    rpc.Compare(
                        key=self._history_key,
                        result=rpc.Compare.EQUAL,
                        target=rpc.Compare.CREATE,
                        create_revision=0,
                    )
                ],
                success=[rpc.RequestOp(request_put=rpc.PutRequest(key=self._history_key, value=made))],
                failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=self._history_key))],
            ),
        )
        if response.succeeded:
            return made.decode()
        return bytes(response.responses[0].response_range.kvs[0].value).decode()

    async def commit(self, events: Sequence[Event], expected: int, fence: Fence | None = None) -> int:
        states: dict[str, Agent | None] = {}
        for event in events:
            if event.type is EventType.AGENT_DEREGISTERED:
                states[event.agent_id] = None
            elif event.agent is not None:
                states[event.agent_id] = event.agent
        ops = [
            rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=self._agents + agent_id.encode()))
            if agent is None
            else rpc.RequestOp(
                request_put=rpc.PutRequest(key=self._agents + agent_id.encode(), value=encode_agent(agent))
            )
            for agent_id, agent in states.items()
        ]
        if events:
            ops.append(
                rpc.RequestOp(request_put=rpc.PutRequest(key=self._log_key, value=encode_change(events)))
            )
        compare = [
            rpc.Compare(
                key=self._log_key, result=rpc.Compare.EQUAL, target=rpc.Compare.MOD, mod_revision=expected
            )
        ]
        if fence is not None:
            compare += self.sessions().compares(fence)
            if fence.release:
                key = self.sessions().session_key(fence.held_here)
                ops.append(rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=key)))
        response = await self._call(
            "Txn",
            rpc.TxnRequest(
                compare=compare,
                success=ops,
                failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=self._log_key))],
            ),
        )
        if not response.succeeded:
            kvs = response.responses[0].response_range.kvs
            store_revision = kvs[0].mod_revision if kvs else 0
            if store_revision != expected:
                raise Conflict(store_revision)
            raise Fenced(f"the change's fence no longer holds: {fence}")
        return int(response.header.revision)

    async def read_revision(self) -> int:
        response = await self._call("Range", rpc.RangeRequest(key=self._log_key))
        return int(response.kvs[0].mod_revision) if response.kvs else 0

    async def follow(self, after: int) -> AsyncIterator[tuple[int, list[Event]]]:
        """Changes after store revision `after`; rewatches from the last one seen when the watch breaks."""
        while True:
            try:
                await self._client.connect()
                watch = await self._client.watch(self._log_key, start_revision=after + 1)
                async for event in watch:
                    if event.kv.mod_revision > after:
                        after = event.kv.mod_revision
                        yield after, decode_change(event.kv.value, self._cards)
            except aetcd.exceptions.RevisionCompactedError as error:
                raise StoreError(f"etcd compacted the log past revision {after}: {error}") from None
            except (TimeoutError, grpc.RpcError, aetcd.exceptions.ClientError, OSError) as error:
                log.warning("etcd watch broke; watching again", error=str(error), after=after)
                await self._reconnect()
                await asyncio.sleep(RETRY_DELAY)

    async def _reconnect(self) -> None:
        try:
            await self._client.close()
        except Exception as error:  # the connection is already broken; a new one is made next
            log.debug("closing the broken etcd connection failed", error=str(error))

    async def close(self) -> None:
        await self._client.close()
