"""Scenario 11: peers in one run: registryd (one daemon, sqlite store), registryd's cluster mode (2 replicas
over one etcd) and etcd used directly as an agent registry (bench.etcd_registry); registrations/s, discovery
at 10k (and 100k, full mode) agents, and crash -> watcher latency.

All peers run at once, each over loopback, and take turns at every measurement, so a noisy machine weighs on
all of them. Load comes from the client processes: registryd through gRPC (bench.unary), etcd through aetcd,
both at the same number of calls in flight, with the same card. Each etcd has its own process: the cluster's
and the direct peer's. Rows compare each registryd peer with etcd; the ratio says how many times better
registryd does (rate / etcd's rate, or etcd's time / registryd's time)."""

from __future__ import annotations

import contextlib
import functools
import time
from dataclasses import dataclass, replace
from typing import Any

from bench import etcd_registry, events, procs, unary, workload
from bench.context import Context
from bench.plan import Row
from bench.s1_unary import CALM_LIVENESS
from bench.stats import latency_ms, ratio
from bench.unary import Load
from scripts.etcd_server import EtcdServer, start_etcd

REGISTER_IN_FLIGHT = 64
DISCOVERY_IN_FLIGHT = (1, 8)  # a range of 100k cards is ~40 MB: more in flight only piles them up
# seconds: etcd's full ranges take up to a second at 8 in flight, and the first ones more (its heap grows)
MIN_DISCOVERY_WINDOW = 2.0
WORKERS = 2  # client processes per load, one per core
CRASH_TIMEOUT = 10.0
SINGLE, CLUSTER, ETCD, ETCD_PAGED = "registryd", "registryd cluster", "etcd", "etcd paged"


@dataclass
class RegistrydPeer:
    name: str
    addresses: list[str]  # the replicas, or the one daemon; loads are spread over them
    pids: list[int]  # every process serving this peer (etcd included), for CPU time

    def run(self, ctx: Context, load: Load) -> dict[str, Any]:
        method = {"register": "RegisterAgent", "find": "FindAgents"}[load.kind]
        load = replace(load, method=workload.SERVICE + method)
        loads = [
            replace(part, address=self.addresses[k % len(self.addresses)])
            for k, part in enumerate(unary.split(load, WORKERS))
        ]
        return _measured(self.pids, lambda: unary.run_load(ctx.pool, loads))

    def crashes(self, ctx: Context, first: int, samples: int) -> dict[str, list[float]]:
        """A runtime's heartbeat stream dropped (on the first replica) -> AGENT_STATUS_CHANGED at a
        subscriber (on the last replica)."""
        unary.register_agents(ctx.pool, self.addresses[0], first, first + samples, per_runtime=1)
        probes = [workload.bind_message(first + k, 1) for k in range(samples)]
        feed = events.Feed(self.addresses[-1], noop=False)
        method = workload.SERVICE + "HeartbeatStream"
        done = ctx.pool.submit(events.drop_worker, feed, method, probes, CRASH_TIMEOUT, self.addresses[0])
        return {"stream dropped": done.result(timeout=CRASH_TIMEOUT * samples + 60)["latencies"]}


@dataclass
class EtcdPeer:
    name: str
    endpoint: str
    pids: list[int]
    prefix: str = "/bench"

    def run(self, ctx: Context, load: Load) -> dict[str, Any]:
        loads = [replace(part, address=self.endpoint) for part in unary.split(load, WORKERS)]
        worker = functools.partial(etcd_registry.worker, prefix=self.prefix)
        return _measured(self.pids, lambda: unary.run_load(ctx.pool, loads, worker))

    def crashes(self, ctx: Context, first: int, samples: int) -> dict[str, list[float]]:
        found = {}
        for label, expire in (("lease expired", True), ("lease revoked", False)):
            done = ctx.pool.submit(
                etcd_registry.crash_worker, self.endpoint, self.prefix, samples, expire, CRASH_TIMEOUT
            )
            answer = done.result(timeout=CRASH_TIMEOUT * samples + 60)
            if expire:
                label += f" (TTL {etcd_registry.SHORTEST_TTL} s asked, {answer['granted_ttl']} s granted)"
            found[label] = answer["latencies"]
        return found


def _measured(pids: list[int], measure: Any) -> dict[str, Any]:
    """A load's result with the CPU milliseconds per call of the serving processes and of the clients.
    Failed calls are counted, not fatal: a busy machine can push a cluster write past --etcd-timeout."""
    before = sum(procs.cpu_seconds(pid) for pid in pids)
    result = measure()
    server_cpu = sum(procs.cpu_seconds(pid) for pid in pids) - before
    ok = max(1, int(result["ok"]))
    result.pop("latencies")
    return {
        **result,
        "server_cpu_ms": round(server_cpu / ok * 1000, 3),
        "client_cpu_ms": round(float(result["client_cpu_s"]) / ok * 1000, 3),
    }


def run(ctx: Context) -> list[Row]:
    if not ctx.has_store("etcd"):
        ctx.note("scenario 11 skipped: this registryd has no --store etcd")
        return []
    with contextlib.ExitStack() as running:
        for_cluster, direct = _etcd(ctx, running, "etcd-cluster"), _etcd(ctx, running, "etcd-direct")
        cluster_args = [
            "--store", "etcd", "--etcd-endpoints", for_cluster.endpoint, "--etcd-prefix", "/bench",
        ]  # fmt: skip
        single = ctx.start_registryd(CALM_LIVENESS + ctx.store_args("sqlite"))
        running.callback(single.stop)
        replicas = [ctx.start_registryd(CALM_LIVENESS + cluster_args) for _ in range(2)]
        for replica in replicas:
            running.callback(replica.stop)
        peers: list[RegistrydPeer | EtcdPeer] = [
            RegistrydPeer(SINGLE, [single.address], [single.pid]),
            RegistrydPeer(
                CLUSTER, [r.address for r in replicas], [r.pid for r in replicas] + [for_cluster.proc.pid]
            ),
            EtcdPeer(ETCD, direct.endpoint, [direct.proc.pid]),
        ]
        results = _measure(ctx, peers)
    ctx.note(
        f"scenario 11: etcd's agents hang on one lease per {workload.AGENTS_PER_RUNTIME} agents, TTL "
        f"{etcd_registry.CALM_TTL} s while loading and reading (nothing expires, like "
        "registryd's calm liveness settings); leases are granted before the clock starts"
    )
    print(table(results), flush=True)
    return _rows(results)


def _etcd(ctx: Context, running: contextlib.ExitStack, name: str) -> EtcdServer:
    workdir = ctx.workdir / f"{name}-{time.monotonic_ns()}"
    workdir.mkdir(parents=True)
    server = start_etcd(workdir)
    running.callback(server.stop)
    return server


def _measure(ctx: Context, peers: list[RegistrydPeer | EtcdPeer]) -> dict[str, dict[str, Any]]:
    """{measurement: {peer: result}}; every peer takes its turn at each measurement before the next."""
    results: dict[str, dict[str, Any]] = {}
    loaded = 0
    for n in ctx.sizes.peer_agents:
        key = f"registrations/s, {loaded:,} -> {n:,} agents, {REGISTER_IN_FLIGHT} in flight"
        for peer in peers:
            lead = 1.0 + (n - loaded) * 50e-6  # the clients build their requests (and etcd's leases) first
            load = Load(
                "", "", "register", start=loaded, stop=n, in_flight=REGISTER_IN_FLIGHT,
                start_at=time.monotonic() + lead, duration=900.0, unique=True,
            )  # fmt: skip
            results.setdefault(key, {})[peer.name] = _progress(ctx, key, peer.name, peer.run(ctx, load))
        loaded = n
        for in_flight in DISCOVERY_IN_FLIGHT:
            key = f"discovery, {n:,} agents, ~1% match, limit {workload.FIND_LIMIT}, {in_flight} in flight"
            for peer in peers:
                kinds = ("find", "find-paged") if isinstance(peer, EtcdPeer) else ("find",)
                for kind in kinds:
                    window = max(ctx.sizes.window, MIN_DISCOVERY_WINDOW)
                    load = Load(
                        "", "", kind, in_flight=in_flight, start_at=time.monotonic() + 0.5, duration=window
                    )
                    name = ETCD_PAGED if kind == "find-paged" else peer.name
                    results.setdefault(key, {})[name] = _progress(ctx, key, name, peer.run(ctx, load))
    key = f"crash -> watcher, {loaded:,} agents registered"
    for peer in peers:
        for how, latencies in peer.crashes(ctx, loaded, ctx.sizes.peer_crashes).items():
            results.setdefault(key, {})[f"{peer.name}: {how}"] = latency_ms(latencies)
    return results


def _progress(ctx: Context, key: str, peer: str, result: dict[str, Any]) -> dict[str, Any]:
    print(f"      {key}, {peer}: {result['rps']:,.0f} calls/s, p50 {result['p50_ms']} ms", flush=True)
    if result["errors"]:
        ctx.note(f"scenario 11, {key}, {peer}: {result['errors']} calls failed {result['error_codes']}")
    return result


def _rows(results: dict[str, dict[str, Any]]) -> list[Row]:
    rows = []
    for key, found in results.items():
        if key.startswith("crash"):
            for ours in (SINGLE, CLUSTER):
                mine = found[f"{ours}: stream dropped"]
                for how, theirs in found.items():
                    if how.startswith(ETCD):
                        rows.append(
                            _row(
                                f"{key}: {ours} stream dropped vs {how} (ratio: etcd p50 / ours)",
                                "ms p50",
                                mine,
                                theirs,
                                lower=True,
                            )
                        )
            continue
        rate = key.startswith("registrations") or not key.endswith(" 1 in flight")
        theirs_names = (ETCD,) if key.startswith("registrations") else (ETCD, ETCD_PAGED)
        for ours in (SINGLE, CLUSTER):
            for theirs in theirs_names:
                if theirs == ETCD_PAGED and ours == CLUSTER:
                    continue  # the cluster's figure against the paged range is in the peers table
                label = f"{key}: {ours} vs {theirs}" + (
                    " (ratio: ours / etcd)" if rate else " (ratio: etcd p50 / ours)"
                )
                metric = "calls/s" if rate else "ms p50"
                rows.append(_row(label, metric, found[ours], found[theirs], lower=not rate))
    return rows


def _row(name: str, metric: str, mine: dict[str, Any], theirs: dict[str, Any], lower: bool) -> Row:
    if lower:
        ours, etcd = mine["p50_ms"], theirs["p50_ms"]
        r = ratio(etcd, ours)
    else:
        ours, etcd = mine["rps"], theirs["rps"]
        r = ratio(ours, etcd)
    return Row(
        11, name, metric, ours, etcd, r, "", None, {"registryd": mine, "noop": theirs, "baseline": "etcd"}
    )


def table(results: dict[str, dict[str, Any]]) -> str:
    """The peers side by side, one line per measurement and peer (printed, and kept in results/peers.md)."""
    lines = [
        "| measurement | peer | calls/s | failed | p50 ms | p99 ms | server CPU ms/call | client CPU ms/call |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, found in results.items():
        for peer, r in found.items():
            cells = [
                r.get("rps", "-"),
                r.get("errors", "-"),
                r["p50_ms"],
                r["p99_ms"],
                r.get("server_cpu_ms", "-"),
                r.get("client_cpu_ms", "-"),
            ]
            lines.append(f"| {key} | {peer} | " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)
