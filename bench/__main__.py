"""`python -m bench` (make bench: quick, reduced sizes) and `python -m bench --full` (make bench-full).

Runs each scenario against registryd and the no-op server, then writes bench/results/."""

from __future__ import annotations

import argparse
import datetime
import importlib
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path

from bench import report, unary
from bench.context import Context, machine
from bench.plan import FULL, QUICK, Row
from bench.procs import raise_fd_limit, registryd_options

SCENARIOS = {
    1: "bench.s1_unary",
    2: "bench.s2_stream_rate",
    3: "bench.s3_held_streams",
    4: "bench.s4_stream_drop",
    5: "bench.s5_fanout",
    6: "bench.s6_core",
    7: "bench.s7_restart",
    8: "bench.s8_soak",
    9: "bench.s9_storm",
    10: "bench.s10_routing",
    11: "bench.s11_peers",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="full sizes, soak and reconnect storm")
    parser.add_argument("--only", type=int, nargs="+", choices=sorted(SCENARIOS), help="run these scenarios")
    parser.add_argument("--out", type=Path, default=report.RESULTS, help="results directory")
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="SIZE=N",
        help="override sizes (e.g. soak_seconds=20), for trials",
    )
    args = parser.parse_args(argv)
    sizes = FULL if args.full else QUICK
    for assignment in args.set:
        name, _, value = assignment.partition("=")
        default = getattr(sizes, name)
        if isinstance(default, tuple):  # e.g. peer_agents=10000,30000
            sizes = replace(sizes, **{name: tuple(type(default[0])(v) for v in value.split(","))})
        elif isinstance(default, bool):  # bool("0") would be True
            sizes = replace(sizes, **{name: value.lower() in ("1", "true", "yes", "on")})
        else:
            sizes = replace(sizes, **{name: type(default)(value)})
    raise_fd_limit()
    started = time.monotonic()
    meta = {
        "mode": sizes.mode,
        "command": "make bench-full" if args.full else "make bench",
        "started": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "sizes": sizes.__dict__,
    }
    rows: list[Row] = []
    failed = []
    with tempfile.TemporaryDirectory(prefix="registryd-bench-") as workdir:
        ctx = Context(sizes, Path(workdir), unary.h2load_available(), registryd_options())
        if not ctx.h2load:
            ctx.note("h2load is not available; unary load uses Python clients only")
        try:
            for number in args.only or sorted(SCENARIOS):
                module = importlib.import_module(SCENARIOS[number])
                print(
                    f"[{time.monotonic() - started:5.0f} s] scenario {number}: {module.__doc__.splitlines()[0]}",
                    flush=True,
                )
                try:
                    produced = module.run(ctx)
                except Exception as error:
                    traceback.print_exc()
                    failed.append(number)
                    ctx.note(f"scenario {number} failed: {type(error).__name__}: {error}")
                    continue
                for row in produced:
                    print(
                        f"      {row.name}: {row.registryd} vs {row.noop} -> {row.ratio} ({row.goal})",
                        flush=True,
                    )
                rows += produced
        finally:
            ctx.close()
        meta["duration_s"] = time.monotonic() - started
        for path in report.write(rows, meta, ctx.notes, ctx.latencies, ctx.discovery, args.out):
            print(f"wrote {path}")
    print(report.markdown(rows, meta, ctx.notes))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
