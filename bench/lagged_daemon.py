"""registryd exactly as `python -m registryd` runs it (same config, uvloop, one process), plus a task
that measures event-loop lag: it asks to wake every 100 ms and appends how late it woke (seconds) to
the file named by $BENCH_LAG_FILE. For the soak, where the loop's responsiveness is the question."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import uvloop

from registryd import logs
from registryd.config import load_config
from registryd.server import Daemon

TICK = 0.1


async def sample_lag(path: str) -> None:
    with open(path, "a", buffering=1) as out:  # noqa: ASYNC230 - a line per second, written by this task only
        lags: list[float] = []
        while True:
            asked = time.monotonic()
            await asyncio.sleep(TICK)
            lags.append(time.monotonic() - asked - TICK)
            if len(lags) >= 10:
                out.write(" ".join(f"{lag:.5f}" for lag in lags) + "\n")
                lags.clear()


async def serve() -> None:
    config = load_config(sys.argv[1:])
    logs.configure(config.log_format, config.log_level)
    sampler = asyncio.create_task(sample_lag(os.environ["BENCH_LAG_FILE"]))
    try:
        await Daemon(config).run()
    finally:
        sampler.cancel()


if __name__ == "__main__":
    uvloop.run(serve())
