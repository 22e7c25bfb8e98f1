"""The etcd store: several registry replicas over one etcd cluster (DESIGN.md section 5).

Keys under the prefix:
  {prefix}/history      an id made once, when the prefix is first used (with etcd's cluster id it names
                        the history: a wiped or different etcd gives a different one)
  {prefix}/log          the events of the last change; its history of values is the event log
  {prefix}/agents/{id}  each registered agent (codec.agent_row as JSON)

A write is one Txn: compare {prefix}/log's mod revision with the last change the committer's view
applied (and each change's fence), then put/delete the agents and put the changes' events into
{prefix}/log. Changes larger than one Txn may be (over MAX_TXN_OPS or MAX_TXN_BYTES) are a chain of
Txns, each a part of the events in order, each comparing the log with the part before it: every replica
applies the parts in that order. Replicas follow by watching {prefix}/log from the revision after the
one they applied. The etcd client (aetcd) is used only here and in etcd_lease.py; etcd_client.py
builds it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aetcd
import aetcd.exceptions
import grpc
import structlog
from aetcd import rpc

from registryd.core.model import Agent, Event, EventType
from registryd.store.base import (
    Change,
    Conflict,
    Fence,
    Fenced,
    Snapshot,
    StoreError,
    StoreUnavailable,
)
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
# Changes larger than this are committed as a chain of Txns: etcd refuses a Txn of more than --max-txn-ops
# compares or operations (128 by default) or a request over --max-request-bytes (1.5 MiB by default).
MAX_TXN_OPS = 100  # agents written, and FENCE_OPS per fence
MAX_TXN_BYTES = 1 << 20
FENCE_OPS = 4  # a fence's compares (up to 3) and the session it may end
GOES_ON = b"null"  # the last row of a link whose last change goes on in the next link of its chain


def decode_agent(value: bytes, cards: CardDecoder) -> Agent:
    return agent_from_row(tuple(json.loads(value)), cards)


def decode_change(value: bytes, cards: CardDecoder) -> tuple[list[Event], bool]:
    """A link's events, and whether its last change goes on in the next link."""
    try:
        rows = json.loads(value)
    except ValueError as error:
        raise CorruptRow(f"undecodable change: {error}") from None
    goes_on = bool(rows) and rows[-1] is None
    return [event_from_row(tuple(row), cards) for row in rows[: -1 if goes_on else None]], goes_on


@dataclass(slots=True)
class _Link:
    """What one Txn writes: agents' values (None: deleted), log rows, the fences of the changes with a part
    in it (by index), the sessions it ends, how many changes end in it, and whether its last change goes on
    in the next link."""

    agents: dict[str, bytes | None] = field(default_factory=dict)
    rows: list[bytes] = field(default_factory=list)
    fences: list[tuple[int, Fence]] = field(default_factory=list)
    releases: list[str] = field(default_factory=list)
    ends: int = 0
    goes_on: bool = False
    ops: int = 0
    size: int = 0

    def fits(self, ops: int, size: int) -> bool:
        empty = not self.rows and not self.fences and not self.ends
        return empty or (self.ops + ops <= MAX_TXN_OPS and self.size + size <= MAX_TXN_BYTES)

    def join(self, index: int, fence: Fence | None) -> None:
        if fence is not None:
            self.fences.append((index, fence))
            self.ops += FENCE_OPS

    def add(self, row: bytes, agent_id: str | None, value: bytes | None, size: int) -> None:
        self.rows.append(row)
        if agent_id is not None:
            self.ops += agent_id not in self.agents
            self.agents[agent_id] = value
        self.size += size

    def new_key(self, agent_id: str | None) -> int:
        return int(agent_id is not None and agent_id not in self.agents)

    def log_value(self) -> bytes:
        return b"[" + b",".join([*self.rows, GOES_ON] if self.goes_on else self.rows) + b"]"


def _encoded(event: Event) -> tuple[bytes, str | None, bytes | None, int]:
    """An event's log row, the agent key it writes (if any) with its value (None: deleted), and the
    bytes both take in a Txn. The one place an agent becomes an etcd value (codec.agent_row)."""
    row = agent_row(event.agent) if event.agent is not None else None
    encoded = _encode(event_row(event, row)).encode()
    if event.type is EventType.AGENT_DEREGISTERED:
        return encoded, event.agent_id, None, len(encoded) + len(event.agent_id)
    if row is None:
        return encoded, None, None, len(encoded)
    value = _encode(row).encode()
    return encoded, event.agent_id, value, len(encoded) + len(value)


def _links(changes: Sequence[Change]) -> list[_Link]:
    """The changes packed into Txns etcd accepts, in order: whole changes while they fit; a change larger
    than one Txn takes a chain of its own."""
    links = [_Link()]
    for index, change in enumerate(changes):
        encoded = [_encoded(event) for event in change.events]
        keys = {agent_id for _, agent_id, _, _ in encoded if agent_id is not None}
        fence_ops = FENCE_OPS if change.fence is not None else 0
        if not links[-1].fits(len(keys) + fence_ops, sum(size for *_, size in encoded)):
            links.append(_Link())
        links[-1].join(index, change.fence)
        for row, agent_id, value, size in encoded:
            if not links[-1].fits(links[-1].new_key(agent_id), size):
                links[-1].goes_on = True
                links.append(_Link())
                links[-1].join(index, change.fence)
            links[-1].add(row, agent_id, value, size)
        if change.fence is not None and change.fence.release:
            links[-1].releases.append(change.fence.held_here)
        links[-1].ends += 1
    return links


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
            events, _ = decode_change(log_kv.kvs[0].value, self._cards)
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

    async def commit(self, changes: Sequence[Change], expected: int) -> int:
        """One Txn, or a chain of them when the changes are larger than one Txn may be (each link compares
        the log with the link before it, so another replica's change between two links is a Conflict)."""
        committed = 0
        for link in _links(changes):
            expected = await self._commit_link(link, expected, committed)
            committed += link.ends
        return expected

    async def _commit_link(self, link: _Link, expected: int, committed: int) -> int:
        ops = [
            rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=self._agents + agent_id.encode()))
            if value is None
            else rpc.RequestOp(request_put=rpc.PutRequest(key=self._agents + agent_id.encode(), value=value))
            for agent_id, value in link.agents.items()
        ]
        if link.rows:
            ops.append(rpc.RequestOp(request_put=rpc.PutRequest(key=self._log_key, value=link.log_value())))
        ops += [self.sessions().release_op(runtime_id) for runtime_id in link.releases]
        conditions = {index: self.sessions().conditions(fence) for index, fence in link.fences}
        compares = {
            (key, compare.SerializeToString()): compare
            for fence_conditions in conditions.values()
            for key, compare, _ in fence_conditions
        }
        log_compare = rpc.Compare(
            key=self._log_key, result=rpc.Compare.EQUAL, target=rpc.Compare.MOD, mod_revision=expected
        )
        keys = [self._log_key, *dict.fromkeys(key for key, _ in compares)]
        response = await self._call(
            "Txn",
            rpc.TxnRequest(
                compare=[log_compare, *compares.values()],
                success=ops,
                failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=key)) for key in keys],
            ),
        )
        if response.succeeded:
            for runtime_id in link.releases:
                await self.sessions().forget_released(runtime_id)
            # the store revision is the log's: a link that only released sessions leaves it where it was
            return int(response.header.revision) if link.rows else expected
        found = {
            key: (answer.response_range.kvs[0] if answer.response_range.kvs else None)
            for key, answer in zip(keys, response.responses, strict=True)
        }
        log_kv = found[self._log_key]
        store_revision = log_kv.mod_revision if log_kv is not None else 0
        fenced = frozenset(
            index
            for index, fence_conditions in conditions.items()
            if not all(holds(found[key]) for key, _, holds in fence_conditions)
        )
        if store_revision != expected or not fenced:
            raise Conflict(store_revision, committed)
        raise Fenced(expected, fenced, committed)

    async def read_revision(self) -> int:
        response = await self._call("Range", rpc.RangeRequest(key=self._log_key))
        return int(response.kvs[0].mod_revision) if response.kvs else 0

    async def follow(self, after: int) -> AsyncIterator[tuple[int, list[Event]]]:
        """Changes after store revision `after`; rewatches from the last one seen when the watch breaks. The
        links of a chain come as one change, at the revision of its last link, so every replica publishes
        it whole, as a single daemon does."""
        chain: list[Event] = []
        while True:
            try:
                await self._client.connect()
                watch = await self._client.watch(self._log_key, start_revision=after + 1)
                async for event in watch:
                    if event.kv.mod_revision > after:
                        after = event.kv.mod_revision
                        events, goes_on = decode_change(event.kv.value, self._cards)
                        chain += events
                        if not goes_on:  # a chain cut short by a conflict ends with the change after it
                            yield after, chain
                            chain = []
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
