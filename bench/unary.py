"""Scenario 1: unary calls at 1, 16 and 64 in flight, registryd against the no-op Echo.

The clients send prepared wire bytes and do not decode answers, so both servers see the same client.
The no-op Echo gets requests as large as registryd's and answers as large, so the ratio measures what
registryd adds, not gRPC's per-byte cost."""

from __future__ import annotations

import asyncio
import shutil
import struct
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import grpc
import uvloop

from bench import workload
from bench.stats import latency_ms, ratio

LATENCY_SAMPLES = 20_000  # per worker; enough for a p99


@dataclass(frozen=True)
class Load:
    """What one load worker sends: `kind` names the request, indices [start, stop) pick agents."""

    address: str
    method: str
    kind: str
    start: int = 0
    stop: int = 1
    in_flight: int = 1
    start_at: float = 0.0  # time.monotonic() (system-wide) when measuring starts
    duration: float = 1.0
    unique: bool = False  # send each request once (registrations), ending early when all are sent
    request_size: int = 0  # echo only
    reply_size: int = 0  # echo only
    per_runtime: int = workload.AGENTS_PER_RUNTIME  # agents per runtime (registrations)


def requests_for(load: Load) -> list[bytes]:
    if load.kind == "register":
        return [workload.register_request(i, load.per_runtime) for i in range(load.start, load.stop)]
    if load.kind == "get":
        return [workload.get_request(i) for i in range(load.start, load.stop)]
    if load.kind == "heartbeat":
        return [workload.heartbeat_request(i) for i in range(load.start, load.stop)]
    if load.kind == "find":
        return [workload.find_request()]
    if load.kind == "echo":
        return [workload.echo_request(load.request_size, load.reply_size)]
    raise ValueError(f"unknown request kind {load.kind!r}")


def unary_worker(load: Load) -> dict[str, object]:
    """Closed loop: `in_flight` callers each send the next request as soon as the last is answered."""
    return uvloop.run(_unary_loop(load))


async def _unary_loop(load: Load) -> dict[str, object]:
    requests = requests_for(load)
    async with grpc.aio.insecure_channel(load.address) as channel:
        call = channel.unary_unary(load.method)
        await asyncio.wait_for(channel.channel_ready(), 10)
        return await closed_loop(call, requests, load)


async def closed_loop(
    send: Callable[[Any], Awaitable[object]], requests: Sequence[Any], load: Load, warm_up: int = 20
) -> dict[str, object]:
    """`load.in_flight` callers each send the next request as soon as the last is answered, from
    `load.start_at` for `load.duration` (unique requests: each once, ending early when all are sent).
    Counts gRPC errors by code; `cpu_s` is this process's CPU time over the window."""
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    error_codes: set[str] = set()
    if not load.unique:  # warm up the connection (and the server's caches) before the clock starts
        for request in requests[:warm_up]:
            await send(request)
    await asyncio.sleep(max(0.0, load.start_at - time.monotonic()))
    cpu, started = time.process_time(), time.monotonic()
    end = started + load.duration
    next_index = 0

    async def caller() -> None:
        nonlocal next_index
        while time.monotonic() < end:
            if load.unique and next_index >= len(requests):
                return
            request = requests[next_index % len(requests)]
            next_index += 1
            sent = time.monotonic()
            try:
                await send(request)
            except grpc.aio.AioRpcError as error:
                counts["errors"] += 1
                error_codes.add(error.code().name)
                continue
            counts["ok"] += 1
            if len(latencies) < LATENCY_SAMPLES:
                latencies.append(time.monotonic() - sent)

    await asyncio.gather(*(caller() for _ in range(load.in_flight)))
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    return {
        **counts,
        "elapsed": elapsed,
        "cpu_s": cpu,
        "latencies": latencies,
        "error_codes": sorted(error_codes),
    }


def run_load(
    pool: Executor, loads: list[Load], worker: Callable[[Load], dict[str, object]] = unary_worker
) -> dict[str, object]:
    """Run the loads in parallel worker processes (`worker`: a picklable function of one Load, gRPC calls by
    default); throughput over the common window, merged latencies, the workers' CPU seconds."""
    results = list(pool.map(worker, loads))
    latencies = [x for r in results for x in r["latencies"]]  # type: ignore[attr-defined]
    ok = sum(r["ok"] for r in results)  # type: ignore[misc]
    errors = sum(r["errors"] for r in results)  # type: ignore[misc]
    elapsed = max(r["elapsed"] for r in results)  # type: ignore[type-var]
    codes = sorted({c for r in results for c in r["error_codes"]})  # type: ignore[attr-defined]
    return {
        "rps": round(ok / elapsed, 1) if elapsed else 0.0,
        "ok": ok,
        "errors": errors,
        "error_codes": codes,
        "client_cpu_s": round(sum(r["cpu_s"] for r in results), 3),  # type: ignore[misc]
        **latency_ms(latencies),
        "latencies": latencies,
    }


def split(load: Load, workers: int) -> list[Load]:
    """Spread `in_flight` (and, for unique requests, the index range) over `workers` processes."""
    workers = min(workers, load.in_flight)
    span = (load.stop - load.start) // workers
    loads = []
    for w in range(workers):
        start = load.start + w * span
        stop = load.stop if w == workers - 1 else start + span
        if not load.unique:
            start, stop = load.start, load.stop
        in_flight = load.in_flight // workers + (1 if w < load.in_flight % workers else 0)
        loads.append(
            Load(**{**load.__dict__, "start": start, "stop": stop, "in_flight": in_flight})  # type: ignore[arg-type]
        )
    return loads


def register_agents(
    pool: Executor, address: str, start: int, stop: int, per_runtime: int = workload.AGENTS_PER_RUNTIME
) -> dict[str, object]:
    """Load agents [start, stop) into registryd as fast as two clients with 64 calls in flight can."""
    load = Load(
        address,
        workload.SERVICE + "RegisterAgent",
        "register",
        start,
        stop,
        in_flight=64,
        start_at=time.monotonic() + 1.0,
        duration=600.0,
        unique=True,
        per_runtime=per_runtime,
    )
    result = run_load(pool, split(load, 2))
    if result["errors"]:
        raise RuntimeError(f"loading agents failed: {result['errors']} errors {result['error_codes']}")
    return result


def message_sizes(address: str, method: str, request: bytes) -> tuple[int, int]:
    """(request bytes, response bytes) of one real call, for sizing the no-op stand-in."""
    with grpc.insecure_channel(address) as channel:
        response = channel.unary_unary(workload.SERVICE + method)(request, timeout=10)
    return len(request), len(response)


# ---------------------------------------------------------------------------------------- h2load


def h2load_available() -> bool:
    """Install h2load (Debian nghttp2-client) if it is missing and we may; False means skip it."""
    if shutil.which("h2load"):
        return True
    if shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "nghttp2-client"],
            capture_output=True,
            timeout=180,
            check=False,
        )
    return shutil.which("h2load") is not None


def h2load_rps(address: str, method: str, request: bytes, in_flight: int, duration: float) -> float:
    """Requests/s from h2load on one connection with `in_flight` streams (gRPC framing by hand)."""
    with tempfile.NamedTemporaryFile(suffix=".grpc") as body:
        body.write(struct.pack(">?I", False, len(request)) + request)
        body.flush()
        out = subprocess.run(
            [
                "h2load",
                "-c",
                "1",
                "-m",
                str(in_flight),
                "-D",
                str(max(1, round(duration))),
                "--warm-up-time",
                "1",
                "-H",
                "content-type: application/grpc",
                "-H",
                "te: trailers",
                "-d",
                body.name,
                f"http://{address}{method}",
            ],
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=True,
        ).stdout
    for line in out.splitlines():
        if line.startswith("finished in"):
            return float(line.split(",")[1].split()[0])
    raise RuntimeError(f"h2load printed no summary:\n{out}")


def compare(ours: dict[str, object], noop: dict[str, object]) -> float:
    return ratio(float(ours["rps"]), float(noop["rps"]))  # type: ignore[arg-type]
