"""etcd used directly as an agent registry: the peer scenario 11 measures registryd against.

The usual recipe: each runtime grants a lease and keeps it alive; its agents are JSON values under
{prefix}/agents/ attached to that lease (one put each, the same card as registryd's RegisterAgent gets);
discovery is a range over the prefix with the capability filter applied in the client (the query as a
substring of a capability phrase, skill name or tag, the first FIND_LIMIT matches in key order, as
FindAgents' limit); a runtime that crashes stops renewing its lease, etcd deletes its keys when the lease
expires, and a watcher on the prefix sees DELETEs. Workers run in the load-client processes with aetcd
(one channel each), in bench.unary's closed loop."""

from __future__ import annotations

import asyncio
import functools
import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aetcd
import uvloop
from aetcd import rpc
from google.protobuf import json_format

from bench import unary, workload
from bench.unary import Load

CALM_TTL = 3600  # seconds: nothing expires while the benchmark loads and reads (registryd gets CALM_LIVENESS)
SHORTEST_TTL = 1  # what the crash test asks for; etcd raises it to its minimum lease TTL
RENEWALS = 2  # keep-alives a crashing runtime sends before it stops
PAGE = 1000  # keys per range in the paged discovery
CALL_TIMEOUT = 120.0  # seconds; a range of 100k cards is tens of MB
OPTIONS = {"grpc.max_receive_message_length": -1, "grpc.use_local_subchannel_pool": 1}


def agents_prefix(prefix: str) -> bytes:
    return f"{prefix.rstrip('/')}/agents/".encode()


def _range_end(key: bytes) -> bytes:
    return key[:-1] + bytes([key[-1] + 1])


def agent_value(i: int, per_runtime: int = workload.AGENTS_PER_RUNTIME) -> bytes:
    record = {
        "agent_id": workload.agent_id(i),
        "runtime_id": workload.runtime_id(i, per_runtime),
        "status": "ACTIVE",
        "card": json_format.MessageToDict(workload.card(i)),
    }
    return json.dumps(record, separators=(",", ":")).encode()


def matches(value: bytes, query: str) -> bool:
    """The client-side filter: `query` in a capability phrase, skill name or skill tag (case-folded)."""
    card = json.loads(value)["card"]
    texts = list(card.get("capabilityPhrases", ()))
    for skill in card.get("skills", ()):
        texts += [skill.get("name", ""), *skill.get("tags", ())]
    return any(query in text.lower() for text in texts)


def _client(endpoint: str) -> aetcd.Client:
    host, _, port = endpoint.rpartition(":")
    return aetcd.Client(host=host, port=int(port), timeout=CALL_TIMEOUT, options=OPTIONS)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------- load workers


def worker(load: Load, prefix: str) -> dict[str, object]:
    """bench.unary.run_load's worker for etcd: `load.kind` is "register" (agents [start, stop), one put
    each with their runtime's lease), "find" (range over everything, filter) or "find-paged" (ranges of
    PAGE keys until FIND_LIMIT matches)."""
    return uvloop.run(_worker(load, prefix))


async def _worker(load: Load, prefix: str) -> dict[str, object]:
    client = _client(load.address)
    await client.connect()
    try:
        send: Callable[[Any], Awaitable[object]]
        if load.kind == "register":
            requests: list[Any] = await _puts(client, load, agents_prefix(prefix))
            send = functools.partial(client.kvstub.Put, timeout=CALL_TIMEOUT)
        elif load.kind in ("find", "find-paged"):
            requests = [workload.QUERY]
            send = functools.partial(
                _find, client, agents_prefix(prefix), page=PAGE if load.kind == "find-paged" else 0
            )
        else:
            raise ValueError(f"unknown etcd load {load.kind!r}")
        return await unary.closed_loop(send, requests, load, warm_up=1)
    finally:
        await client.close()


async def _puts(client: aetcd.Client, load: Load, agents: bytes) -> list[Any]:
    """Put requests for the load's agents; their runtimes' leases are granted here, before the clock
    starts (one grant per AGENTS_PER_RUNTIME puts)."""
    leases: dict[str, int] = {}
    requests = []
    for i in range(load.start, load.stop):
        runtime = workload.runtime_id(i, load.per_runtime)
        if runtime not in leases:
            leases[runtime] = (await client.lease(CALM_TTL)).id
        key = agents + workload.agent_id(i).encode()
        requests.append(
            rpc.PutRequest(key=key, value=agent_value(i, load.per_runtime), lease=leases[runtime])
        )
    return requests


async def _find(client: aetcd.Client, agents: bytes, query: str, page: int) -> list[bytes]:
    """One discovery: range over the agents (in pages of `page` keys, 0 = all at once), keep the values
    whose card matches `query`, stop at FIND_LIMIT. Serializable reads: the member's own view, as a
    registryd replica answers from its own (a linearizable read adds a round through the leader)."""
    found: list[bytes] = []
    key, end = agents, _range_end(agents)
    while True:
        answer = await client.kvstub.Range(
            rpc.RangeRequest(key=key, range_end=end, limit=page, serializable=True), timeout=CALL_TIMEOUT
        )
        for kv in answer.kvs:
            if matches(kv.value, query):
                found.append(kv.value)
                if len(found) == workload.FIND_LIMIT:
                    return found
        if not answer.more:
            return found
        key = answer.kvs[-1].key + b"\0"


# ------------------------------------------------------------------------------- crash detection


def crash_worker(endpoint: str, prefix: str, samples: int, expire: bool, timeout: float) -> dict[str, Any]:
    """Time from a runtime's end until a watcher (on its own connection) sees its agent's DELETE, for
    `samples` runtimes of one agent each. `expire=False`: the runtime revokes its lease (a clean exit, or a
    supervisor that noticed the crash), one runtime after another. `expire=True`: a lease of SHORTEST_TTL
    renewed every TTL/3 (as etcd's Go client does), until the runtime stops renewing at a random moment
    of its renewal interval (a crash) and etcd expires the lease; all runtimes at once.
    Returns {"latencies": [s], "granted_ttl": the TTL etcd granted}."""
    return uvloop.run(_crashes(endpoint, agents_prefix(prefix) + b"crash-", samples, expire, timeout))


async def _crashes(endpoint: str, keys: bytes, samples: int, expire: bool, timeout: float) -> dict[str, Any]:
    runtimes, watcher = _client(endpoint), _client(endpoint)
    await runtimes.connect()
    await watcher.connect()
    seen: dict[tuple[str, bytes], asyncio.Future[float]] = {}
    rng = random.Random(11)

    def arrival(kind: str, key: bytes) -> asyncio.Future[float]:
        return seen.setdefault((kind, key), asyncio.get_running_loop().create_future())

    async def watch(events: Any) -> None:
        async for event in events:
            arrival(event.kind, event.kv.key).set_result(time.monotonic())

    async def runtime(k: int) -> tuple[float, int]:
        key = keys + str(k).encode()
        lease = await runtimes.lease(SHORTEST_TTL if expire else CALM_TTL)
        await runtimes.put(key, agent_value(k, 1), lease=lease.id)
        await asyncio.wait_for(arrival("PUT", key), timeout)
        if expire:
            interval = lease.ttl / 3
            for _ in range(RENEWALS):
                await asyncio.sleep(interval)
                await runtimes.refresh_lease(lease.id)
            await asyncio.sleep(rng.uniform(0, interval))
            ended = time.monotonic()
        else:
            ended = time.monotonic()
            await runtimes.revoke_lease(lease.id)
        return await asyncio.wait_for(arrival("DELETE", key), timeout + lease.ttl) - ended, lease.ttl

    watching = asyncio.create_task(watch(await watcher.watch(keys, range_end=_range_end(keys))))
    try:
        if expire:
            results = await asyncio.gather(*(runtime(k) for k in range(samples)))
        else:
            results = [await runtime(k) for k in range(samples)]
    finally:
        watching.cancel()
        await runtimes.close()
        await watcher.close()
    return {"latencies": [latency for latency, _ in results], "granted_ttl": min(ttl for _, ttl in results)}
