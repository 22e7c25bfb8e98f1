"""Bidi-stream load clients: ping-pong for message rate (scenario 2), and many held streams that beat
every few seconds, with a reconnect storm on command (scenarios 3, 4, 8).

A stream's first message is `first` (a registryd bind, or an echo) and every later one is `beat`; each
message waits for its answer. Held streams report to, and take commands from, the parent through a
manager queue and events, so the parent can measure the server between phases."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any

import grpc
import uvloop

from bench import workload

OPEN_CONCURRENCY = 500  # streams a worker opens at once in the initial ramp (the storm opens all at once)
LATENCY_SAMPLES = 20_000


@dataclass(frozen=True)
class StreamLoad:
    address: str
    method: str
    first: tuple[bytes, ...]  # the first message of each stream (one per stream)
    beat: bytes
    streams_per_channel: int = 10
    start_at: float = 0.0
    duration: float = 1.0
    interval: float = 0.0  # seconds between beats on a stream; 0 = ping-pong as fast as answered


def stream_pairs(
    address: str, method: str, first: list[bytes], beat: bytes, workers: int, **kw: Any
) -> list[StreamLoad]:
    """Spread the streams (one per first message) over `workers` loads."""
    return [StreamLoad(address, method, tuple(first[w::workers]), beat, **kw) for w in range(workers)]


def pingpong_worker(load: StreamLoad) -> dict[str, Any]:
    return uvloop.run(_pingpong(load))


async def _pingpong(load: StreamLoad) -> dict[str, Any]:
    channels = _channels(load)
    latencies: list[float] = []
    count = 0
    try:
        calls = await asyncio.gather(*(_open(channels, k, load) for k in range(len(load.first))))
        await asyncio.sleep(max(0.0, load.start_at - time.monotonic()))
        started = time.monotonic()
        end = started + load.duration

        async def pump(call: Any) -> None:
            nonlocal count
            while time.monotonic() < end:
                sent = time.monotonic()
                await call.write(load.beat)
                await call.read()
                count += 1
                if len(latencies) < LATENCY_SAMPLES:
                    latencies.append(time.monotonic() - sent)

        await asyncio.gather(*(pump(call) for call in calls))
        elapsed = time.monotonic() - started
        for call in calls:
            call.cancel()
    finally:
        await asyncio.gather(*(channel.close() for channel in channels))
    return {"count": count, "elapsed": elapsed, "latencies": latencies}


def _channels(load: StreamLoad) -> list[grpc.aio.Channel]:
    n = max(1, -(-len(load.first) // load.streams_per_channel))
    # A local subchannel pool gives each channel a connection of its own.
    return [
        grpc.aio.insecure_channel(load.address, options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(n)
    ]


async def _open(channels: list[grpc.aio.Channel], k: int, load: StreamLoad) -> Any:
    call = channels[k // load.streams_per_channel].stream_stream(load.method)()
    await call.write(load.first[k])
    await call.read()
    return call


# ------------------------------------------------------------------------------------ held streams


def hold_worker(load: StreamLoad, reports: Any, storm: Any, stop: Any, time_limit: float) -> dict[str, Any]:
    """Open the streams, report ("opened", failures, seconds), beat every `interval` until `storm` is set,
    drop and reopen every stream at once, report ("stormed", failures, seconds), beat until `stop`."""
    return uvloop.run(_hold(load, reports, storm, stop, time_limit))


async def _hold(load: StreamLoad, reports: Any, storm: Any, stop: Any, time_limit: float) -> dict[str, Any]:
    deadline = time.monotonic() + time_limit
    channels = _channels(load)
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)
    beats = {"ok": 0, "failed": 0}

    async def open_gated(k: int) -> Any:
        async with gate:
            return await _open(channels, k, load)

    try:
        started = time.monotonic()
        calls, failures = await _open_all([open_gated(k) for k in range(len(load.first))])
        reports.put(("opened", failures, time.monotonic() - started))
        beaters = [asyncio.create_task(_beat(call, load, beats)) for call in calls if call is not None]
        storm_failures = 0
        if await _wait(storm, stop, deadline):
            for task in beaters:
                task.cancel()
            for call in calls:
                if call is not None:
                    call.cancel()
            started = time.monotonic()
            calls, storm_failures = await _open_all(
                [_open(channels, k, load) for k in range(len(load.first))]
            )
            reports.put(("stormed", storm_failures, time.monotonic() - started))
            beaters = [asyncio.create_task(_beat(call, load, beats)) for call in calls if call is not None]
            await _wait(stop, stop, deadline)
        for task in beaters:
            task.cancel()
        for call in calls:
            if call is not None:
                call.cancel()
    finally:
        await asyncio.gather(*(channel.close() for channel in channels))
    return {"failures": failures, "storm_failures": storm_failures, **beats}


async def _open_all(openings: list[Any]) -> tuple[list[Any], int]:
    results = await asyncio.gather(*openings, return_exceptions=True)
    calls = [None if isinstance(r, BaseException) else r for r in results]
    return calls, sum(1 for r in results if isinstance(r, BaseException))


async def _beat(call: Any, load: StreamLoad, beats: dict[str, int]) -> None:
    await asyncio.sleep(random.uniform(0, load.interval))
    while True:
        try:
            await call.write(load.beat)
            await call.read()
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
            beats["failed"] += 1
            return
        beats["ok"] += 1
        await asyncio.sleep(load.interval)


async def _wait(event: Any, stop: Any, deadline: float) -> bool:
    """Wait (polling the manager's event) until `event` or `stop` is set; False if stopped or timed out."""
    while time.monotonic() < deadline:
        if event.is_set():
            return not (stop.is_set() and event is not stop)
        if stop.is_set():
            return False
        await asyncio.sleep(0.05)
    return False


def bind_messages(runtimes: int, per_runtime: int) -> list[bytes]:
    return [workload.bind_message(k, per_runtime) for k in range(runtimes)]
