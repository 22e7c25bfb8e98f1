"""Committing to a store shared by several replicas (cluster mode, DESIGN.md section 5).

A change is decided against this replica's view and committed with the expectation that the store's
last change is the one the view applied last: if another replica's change came first, the commit is
refused, this replica waits until its view has applied that change and decides again (so two replicas
can never both win an id or an ownership race). The view changes only by applying committed changes
from the store's stream (`follow`), this replica's and everyone else's alike, so every replica emits the
same events in the same order. A write is answered once this replica's view has applied it.

Group commit: the changes queued while a write is in flight share the next one. They are decided in
queue order, each against the view as the ones before it leave it (core/decided.py), and the store
commits them atomically, each under its own fence: a change whose fence no longer holds is dropped and
the others are decided again, as after a conflict.
Heartbeat events (revision 0) are never written: they go to this replica's subscribers only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from registryd.core.commit import Apply, CommitFailed, Decision
from registryd.core.decided import Decided
from registryd.core.errors import Unavailable
from registryd.core.model import Event
from registryd.store.base import (
    Change,
    Conflict,
    Fence,
    Fenced,
    SharedStore,
    Snapshot,
    StoreUnavailable,
)

log = structlog.get_logger("registryd.cluster")

MAX_BATCH = 200  # changes decided for one write at most (deciding them is one stretch of the loop)


@dataclass(eq=False, slots=True)
class _Queued:
    decide: Decision
    fence: Fence | None
    done: asyncio.Future[list[Event]] | None  # None: nobody waits (submit)

    def resolve(self, events: list[Event]) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_result(events)

    def fail(self, error: Exception) -> None:
        if self.done is None:
            log.warning("background change not committed", error=str(error))
        elif not self.done.done():
            self.done.set_exception(error)


class ClusterCommitter:
    def __init__(
        self,
        store: SharedStore,
        apply: Apply,
        publish: Callable[[Sequence[Event]], None],
        rewind: Callable[[], None],
        decided: Decided,
        on_availability: Callable[[bool], None] | None = None,
        probe_interval: float = 1.0,
    ) -> None:
        self._store = store
        self._apply = apply
        self._publish = publish
        self._rewind = rewind  # forget revisions handed out by a decision that was not committed
        self._decided = decided
        self._on_availability = on_availability
        self._probe_interval = probe_interval
        self._prober: asyncio.Task[None] | None = None
        self.available = True  # the store answered the last request
        self._queue: deque[_Queued] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._follower: asyncio.Task[None] | None = None
        self._applied = 0  # the store revision of the last change the view applied
        self._progress = asyncio.Event()  # set (and replaced) whenever the view applies a change
        self.failure: BaseException | None = None  # never set: a shared store's outage is not fatal
        self.following: BaseException | None = None  # why the view stopped following, if it did

    @property
    def applied_revision(self) -> int:
        return self._applied

    @property
    def settled(self) -> bool:
        """No change this replica decided is still to reach its view (one in flight may change an agent
        that the view shows unchanged)."""
        return not self._queue and self._worker is None

    async def start(self, snapshot: Snapshot) -> None:
        self._applied = snapshot.store_revision
        loop = asyncio.get_running_loop()
        self._follower = loop.create_task(self._follow())
        self._prober = loop.create_task(self._probe())

    def _note_availability(self, available: bool) -> None:
        if available != self.available:
            self.available = available
            (log.info if available else log.error)("store available" if available else "store unavailable")
            if self._on_availability is not None:
                self._on_availability(available)

    async def _probe(self) -> None:
        """Notices an unreachable store (and its return) without waiting for a write."""
        while True:
            try:
                await self._store.read_revision()
            except StoreUnavailable:
                self._note_availability(False)
            else:
                self._note_availability(True)
            await asyncio.sleep(self._probe_interval)

    def submit(self, decide: Decision, fence: Fence | None = None) -> None:
        """Decide and commit a change in the background, if `fence` holds (refusals are logged)."""
        self._queue.append(_Queued(decide, fence, None))
        self._start()

    def note_stream(self, runtime_id: str, held: bool) -> None:
        """Which runtimes hold a stream is this replica's own fact in cluster mode (leases carry it)."""

    async def commit(self, decide: Decision) -> list[Event]:
        """Decide and commit a change; its events once this replica's view has applied it."""
        done: asyncio.Future[list[Event]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Queued(decide, None, done))
        self._start()
        return await done

    async def barrier(self) -> None:
        """Wait until every change queued so far is applied."""
        if self._queue or self._worker is not None:
            await self.commit(list)

    async def sync(self) -> None:
        """Wait until the view reflects every change committed anywhere before this call (consistent read),
        for at most the store's request timeout."""
        try:
            revision = await self._store.read_revision()
        except StoreUnavailable as error:
            raise Unavailable(f"a consistent read needs the store's revision: {error}") from None
        try:
            async with asyncio.timeout(self._store.timeout):
                await self._applied_up_to(revision)
        except (TimeoutError, CommitFailed):
            raise Unavailable(
                f"this replica has applied store revision {self._applied} and not yet {revision}, which a "
                f"consistent read waited {self._store.timeout:g} s for: retry, or read from another replica"
            ) from None

    def _start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        try:
            while self._queue:
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), MAX_BATCH))]
                try:
                    await self._commit(batch)
                except CommitFailed as error:  # this replica stopped following the store
                    for item in batch:
                        item.fail(error)
        finally:
            self._worker = None

    async def _commit(self, batch: list[_Queued]) -> None:
        """Decide the batch's changes and commit them in one write (or a chain, when large)."""
        pending = batch
        while pending:
            decided = self._decide(pending)
            changes: list[Change] = []
            writers: list[_Queued] = []  # the item of each change
            for item, events in decided:
                durable = [event for event in events if event.revision]
                if durable or (item.fence is not None and item.fence.release):
                    changes.append(Change(durable, item.fence))
                    writers.append(item)
            if not changes:
                self._finish(decided)
                return
            try:
                revision = await self._store.commit(changes, self._applied)
            except (Conflict, Fenced) as refused:
                self._rewind()
                await self._applied_up_to(refused.store_revision)
                committed = set(writers[: refused.committed])
                fenced = {writers[i] for i in refused.fenced} if isinstance(refused, Fenced) else set()
                for item in fenced:  # the runtime is held elsewhere now, or this replica no longer leads
                    item.resolve([])
                self._finish([(item, events) for item, events in decided if item in committed])
                pending = [item for item, _ in decided if item not in committed and item not in fenced]
                continue
            except StoreUnavailable as error:
                self._rewind()
                self._note_availability(False)
                failed = CommitFailed(str(error))
                for item in writers:
                    item.fail(failed)
                # the others (barriers, changes of nothing) decide again without the failed changes
                pending = [item for item, _ in decided if item not in writers]
                continue
            self._note_availability(True)
            await self._applied_up_to(revision)
            self._finish(decided)
            return

    def _decide(self, pending: list[_Queued]) -> list[tuple[_Queued, list[Event]]]:
        """Each change against the view as the ones before it leave it; a refused one fails alone."""
        decided: list[tuple[_Queued, list[Event]]] = []
        try:
            for item in pending:
                try:
                    events = item.decide()
                except Exception as error:
                    item.fail(error)
                    continue
                self._decided.note(events)
                decided.append((item, events))
        finally:
            self._decided.clear()
        return decided

    def _finish(self, decided: list[tuple[_Queued, list[Event]]]) -> None:
        """Committed and applied: the heartbeat events follow the changes, then the writers are answered."""
        for item, events in decided:
            ephemeral = [event for event in events if not event.revision]
            if ephemeral:
                self._publish(ephemeral)
            item.resolve(events)

    async def _applied_up_to(self, revision: int) -> None:
        while self._applied < revision:
            if self.following is not None:
                raise CommitFailed(f"this replica stopped following the store: {self.following}")
            await self._progress.wait()

    async def _follow(self) -> None:
        try:
            async for revision, events in self._store.follow(self._applied):
                self._apply(events)
                self._publish(events)
                self._applied = revision
                self._progress.set()
                self._progress = asyncio.Event()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.error("stopped following the store", error=str(error))
            self.following = error
            self._progress.set()

    async def drain(self) -> None:
        """Wait for the changes queued (on shutdown) and stop following."""
        with contextlib.suppress(CommitFailed):
            await self.barrier()
        tasks = [task for task in (self._follower, self._prober) if task is not None]
        for task in tasks:
            task.cancel()
        if tasks:  # bounded: a follow cancelled inside the store's watch may end only once the store closes
            await asyncio.wait(tasks, timeout=1.0)
