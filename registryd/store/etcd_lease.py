"""A replica's etcd lease and what hangs on it (DESIGN.md section 5, liveness).

Keys under the prefix, all attached to the writing replica's lease:
  {prefix}/sessions/{runtime_id}  the replica holding the runtime's heartbeat stream. A runtime that
                                  re-binds elsewhere is written again with the new replica's lease, which
                                  fences the old one: the old lease's expiry no longer deletes the key.
                                  When the stream ends on a live replica, the key is marked released (an
                                  empty value) in the transaction of the change the end makes, and deleted
                                  after: followers tell that from a death, where the lease deletes the key.
  {prefix}/leader                 the elected replica's id (won by a Txn on the key's absence)
  {prefix}/beats/{replica_id}     the agents beaten through that replica lately (coalesced heartbeats)

A replica that dies stops renewing its lease; etcd deletes its keys after the TTL, and every replica sees
the deletions on its watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

import aetcd.exceptions
import grpc
import structlog
from aetcd import rpc

from registryd.store.base import Fence, SessionListener, StoreUnavailable

if TYPE_CHECKING:
    from registryd.store.etcd import EtcdStore

log = structlog.get_logger("registryd.etcd")

RETRY_DELAY = 0.2  # seconds between attempts after etcd failed to answer
STOP_WAIT = 1.0  # seconds stop() waits for its cancelled tasks
RELEASED = b""  # a session key's value once its holder ended the session (a replica id otherwise)

_BROKEN = (TimeoutError, grpc.RpcError, aetcd.exceptions.ClientError, OSError, StoreUnavailable)


class EtcdSessions:
    def __init__(self, store: EtcdStore, ttl: int) -> None:
        self._store = store
        self.ttl = ttl
        self.replica_id = uuid.uuid4().hex
        prefix = store.options.prefix.rstrip("/")
        self._sessions = f"{prefix}/sessions/".encode()
        self._leader = f"{prefix}/leader".encode()
        self._beats = f"{prefix}/beats/".encode()
        self.lease_id = 0
        self.leading = False
        self._listener: SessionListener | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._lease_granted = asyncio.Event()
        self._released: set[str] = set()  # runtimes whose session key is marked released (deleted soon)

    # ------------------------------------------------------------------ fences (the store's Txn compares)

    def session_key(self, runtime_id: str) -> bytes:
        return self._sessions + runtime_id.encode()

    def conditions(self, fence: Fence) -> list[tuple[bytes, Any, Callable[[Any], bool]]]:
        """What `fence` requires, each as (key, the Txn's compare on it, the same test of the key's kv as
        read, None when absent), so a refused Txn can tell which of its fences failed."""
        conditions: list[tuple[bytes, Any, Callable[[Any], bool]]] = []
        if fence.leader:
            me = self.replica_id.encode()
            conditions.append(
                (
                    self._leader,
                    rpc.Compare(
                        key=self._leader, result=rpc.Compare.EQUAL, target=rpc.Compare.VALUE, value=me
                    ),
                    lambda kv: kv is not None and bytes(kv.value) == me,
                )
            )
        if fence.held_here:
            key, lease = self.session_key(fence.held_here), self.lease_id
            conditions.append(
                (
                    key,
                    rpc.Compare(key=key, result=rpc.Compare.EQUAL, target=rpc.Compare.LEASE, lease=lease),
                    lambda kv: kv is not None and kv.lease == lease,
                )
            )
        if fence.unheld:
            key = self.session_key(fence.unheld)
            conditions.append(
                (
                    key,
                    rpc.Compare(
                        key=key, result=rpc.Compare.EQUAL, target=rpc.Compare.CREATE, create_revision=0
                    ),
                    lambda kv: kv is None,
                )
            )
        return conditions

    def compares(self, fence: Fence) -> list[Any]:
        return [compare for _, compare, _ in self.conditions(fence)]

    # ------------------------------------------------------------------ SessionPort

    async def start(self, listener: SessionListener) -> None:
        self._listener = listener
        await self._grant()
        held = await self._store._call(
            "Range", rpc.RangeRequest(key=self._sessions, range_end=_range_end(self._sessions))
        )
        for kv in held.kvs:
            runtime_id = bytes(kv.key)[len(self._sessions) :].decode()
            if bytes(kv.value) == RELEASED:
                self._released.add(runtime_id)
            else:
                listener.session_changed(runtime_id, kv.lease == self.lease_id)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._keep_alive()),
            loop.create_task(self._campaign()),
            loop.create_task(self._follow_sessions(held.header.revision)),
            loop.create_task(self._follow_beats()),
        ]

    async def hold(self, runtime_id: str, take: bool = True) -> None:
        put = rpc.RequestOp(
            request_put=rpc.PutRequest(
                key=self.session_key(runtime_id), value=self.replica_id.encode(), lease=self.lease_id
            )
        )
        if take:
            await self._store._call("Txn", rpc.TxnRequest(success=[put]))
        else:
            await self._store._call(
                "Txn", rpc.TxnRequest(compare=self.compares(Fence(unheld=runtime_id)), success=[put])
            )

    def release_op(self, runtime_id: str) -> Any:
        """Marks the runtime's session released, in the transaction of the change its stream's end makes."""
        put = rpc.PutRequest(key=self.session_key(runtime_id), value=RELEASED, lease=self.lease_id)
        return rpc.RequestOp(request_put=put)

    async def forget_released(self, runtime_id: str) -> None:
        """Deletes the released mark (unless the runtime was held again meanwhile); a mark left behind goes
        with this replica's lease."""
        key = self.session_key(runtime_id)
        still_released = [
            rpc.Compare(key=key, result=rpc.Compare.EQUAL, target=rpc.Compare.VALUE, value=RELEASED),
            rpc.Compare(key=key, result=rpc.Compare.EQUAL, target=rpc.Compare.LEASE, lease=self.lease_id),
        ]
        delete = rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=key))
        try:
            await self._store._call("Txn", rpc.TxnRequest(compare=still_released, success=[delete]))
        except StoreUnavailable as error:
            log.warning("released session left to the lease", runtime_id=runtime_id, error=str(error))

    async def publish_beats(self, agent_ids: Sequence[str]) -> None:
        value = json.dumps(list(agent_ids), separators=(",", ":")).encode()
        request = rpc.PutRequest(key=self._beats + self.replica_id.encode(), value=value, lease=self.lease_id)
        await self._store._call("Put", request)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # Bounded: a task cancelled inside aetcd's watcher (add_callback) waits to re-take a condition's
            # lock that the watcher's own request task holds until the client is closed, which the store
            # does after this; waiting for it here hung a replica's shutdown about one time in ten.
            await asyncio.wait(self._tasks, timeout=STOP_WAIT)
        self._tasks = []

    # ------------------------------------------------------------------ the lease

    async def _grant(self) -> None:
        client = self._store.client
        await client.connect()
        try:
            response = await client.leasestub.LeaseGrant(
                rpc.LeaseGrantRequest(TTL=self.ttl),
                timeout=self._store.options.timeout,
                metadata=client.metadata,
            )
        except _BROKEN as error:
            raise StoreUnavailable(f"etcd did not grant a lease: {error}") from None
        self.lease_id = response.ID
        self._lease_granted.set()

    async def _keep_alive(self) -> None:
        """Renew every third of the TTL; when the lease is gone (this replica was cut off or stopped for
        longer than the TTL), take a new one and tell the listener."""
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                reply = await self._store.client.refresh_lease(self.lease_id)
                if reply is not None and reply.TTL > 0:
                    continue
                log.warning("this replica's etcd lease expired; taking a new one", lease=self.lease_id)
                self._lease_granted.clear()
                self._set_leading(False)
                await self._grant()
            except _BROKEN as error:
                log.warning("etcd lease not renewed", error=str(error))
                continue
            assert self._listener is not None
            self._listener.lease_renewed()

    # ------------------------------------------------------------------ leadership

    def _set_leading(self, leading: bool) -> None:
        if leading != self.leading:
            self.leading = leading
            log.info("leading" if leading else "not leading", replica=self.replica_id)
            assert self._listener is not None
            self._listener.leadership_changed(leading)

    async def _campaign(self) -> None:
        """Win {prefix}/leader when it is free (its holder's lease ended), then wait until it is free."""
        while True:
            try:
                await self._lease_granted.wait()
                lease = self.lease_id
                put = rpc.PutRequest(key=self._leader, value=self.replica_id.encode(), lease=lease)
                response = await self._store._call(
                    "Txn",
                    rpc.TxnRequest(
                        compare=[
                            rpc.Compare(
                                key=self._leader,
                                result=rpc.Compare.EQUAL,
                                target=rpc.Compare.CREATE,
                                create_revision=0,
                            )
                        ],
                        success=[rpc.RequestOp(request_put=put)],
                        failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=self._leader))],
                    ),
                )
                if response.succeeded:
                    revision = response.header.revision
                    self._set_leading(lease == self.lease_id)
                else:
                    kvs = response.responses[0].response_range.kvs
                    revision = kvs[0].mod_revision if kvs else response.header.revision
                    self._set_leading(bool(kvs) and bytes(kvs[0].value) == self.replica_id.encode())
                async for kind, _kv in self._watch(self._leader, None, revision + 1):
                    if kind == "DELETE":
                        self._set_leading(False)
                        break
            except _BROKEN as error:
                log.warning("leader election interrupted", error=str(error))
                await asyncio.sleep(RETRY_DELAY)

    # ------------------------------------------------------------------ following sessions and beats

    async def _follow_sessions(self, revision: int) -> None:
        assert self._listener is not None
        async for kind, kv in self._rewatching(self._sessions, _range_end(self._sessions), revision + 1):
            runtime_id = bytes(kv.key)[len(self._sessions) :].decode()
            if kind == "DELETE":
                if runtime_id in self._released:
                    self._released.discard(runtime_id)  # the mark of a released session, removed
                else:
                    self._listener.session_changed(runtime_id, None)
            elif bytes(kv.value) == RELEASED:
                self._released.add(runtime_id)
                self._listener.session_released(runtime_id)
            else:
                self._released.discard(runtime_id)
                self._listener.session_changed(runtime_id, kv.lease == self.lease_id)
            # One runtime's agents per turn of the loop: a replica's lapsed lease ends all its sessions in
            # one watch response, and each change parks, unparks or marks every agent of its runtime.
            await asyncio.sleep(0)

    async def _follow_beats(self) -> None:
        assert self._listener is not None
        mine = self._beats + self.replica_id.encode()
        async for kind, kv in self._rewatching(self._beats, _range_end(self._beats), None):
            if kind == "PUT" and bytes(kv.key) != mine:
                self._listener.beats_heard(json.loads(kv.value))

    async def _rewatching(
        self, key: bytes, range_end: bytes | None, start: int | None
    ) -> AsyncIterator[tuple[str, Any]]:
        """A watch that is made again from the last revision seen when the connection breaks."""
        while True:
            try:
                async for kind, kv in self._watch(key, range_end, start):
                    start = kv.mod_revision + 1
                    yield kind, kv
            except aetcd.exceptions.RevisionCompactedError:
                start = None  # a beat or a session change lost to compaction: follow from now
            except _BROKEN as error:
                log.warning("etcd watch broke; watching again", error=str(error))
                await asyncio.sleep(RETRY_DELAY)

    async def _watch(
        self, key: bytes, range_end: bytes | None, start: int | None
    ) -> AsyncIterator[tuple[str, Any]]:
        client = self._store.client
        await client.connect()
        watch = await client.watch(key, range_end=range_end, start_revision=start)
        try:
            async for event in watch:
                yield event.kind, event.kv
        finally:
            with contextlib.suppress(*_BROKEN):
                await watch.cancel()


def _range_end(prefix: bytes) -> bytes:
    """The end of etcd's range of keys that start with `prefix`."""
    return prefix[:-1] + bytes([prefix[-1] + 1])
