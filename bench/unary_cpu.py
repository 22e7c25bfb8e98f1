"""Daemon CPU per call of one hot unary method, beside the no-op server's CPU per echo of the same sizes:
RegisterAgent on the sqlite store (synchronous=FULL; goal: ratio at least 0.6), or GetAgent, Heartbeat or
FindAgents over 10,000 agents on the memory store, as scenario 1 runs them (goal 0.8).

CPU time (user + system, from /proc) is less affected by a busy machine than throughput: each trial sends
calls for `--seconds` with `--in-flight` in flight from two client processes (new registrations each
time), then echoes to the no-op server for as long, and divides each server's CPU time by the calls it
answered. The ratio is no-op CPU / registryd CPU of the medians. Context switches per call (all the
daemon's threads) count the hand-offs between the event loop and the store's writer thread.

    .venv/bin/python -m bench.unary_cpu [--method register] [--trials 3] [--seconds 4] [--in-flight 64 16]
    .venv/bin/python -m bench.unary_cpu --baseline DIR   # also DIR/registryd, trial by trial
    .venv/bin/python -m bench.unary_cpu --method get --hold   # keeps the daemon answering, for py-spy
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from bench import procs, unary, workload
from bench.procs import ServerProcess
from bench.s1_unary import CALM_LIVENESS, READS, REGISTER_GOAL
from bench.unary import Load

METHODS = {"register": ("RegisterAgent", REGISTER_GOAL)} | {kind: (name, goal) for name, kind, goal in READS}
IDS_PER_TRIAL = 1_000_000  # each trial registers agents no trial registered before
REGISTRATIONS = 100_000  # more than the clients send in a trial
READ_AGENTS = 10_000  # registered before reads, as scenario 1 does


def context_switches(pid: int) -> int:
    """Context switches of all the process's threads so far: how often a thread waited for another."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except FileNotFoundError:  # the thread ended
            continue
        total += sum(int(line.split()[1]) for line in status.splitlines() if "ctxt_switches" in line)
    return total


def per_call(pool: Executor, server: ServerProcess, load: Load) -> tuple[float, float]:
    """Server CPU time (microseconds) and context switches per answered call of `load`."""
    cpu, switches = server.cpu_seconds(), context_switches(server.pid)
    result = unary.run_load(pool, unary.split(replace(load, start_at=time.monotonic() + 1.0), 2))
    cpu, switches = server.cpu_seconds() - cpu, context_switches(server.pid) - switches
    if result["errors"]:
        raise RuntimeError(f"{server.kind}: {result['errors']} errors {result['error_codes']}")
    calls = int(result["ok"])  # type: ignore[call-overload]
    return cpu / calls * 1e6, switches / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", choices=sorted(METHODS), default="register")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--in-flight", type=int, nargs="+", default=[64, 16])
    parser.add_argument(
        "--baseline", type=Path, help="a source tree (`git archive REV registryd`) measured alternately too"
    )
    parser.add_argument("--hold", action="store_true", help="keep calling until interrupted")
    args = parser.parse_args()
    method, goal = METHODS[args.method]
    registering = args.method == "register"  # new agents each trial, on sqlite; reads reuse 10,000
    store = "sqlite" if registering else "memory"
    procs.raise_fd_limit()
    with (
        tempfile.TemporaryDirectory(prefix="registryd-unary-cpu-") as tmp,
        ProcessPoolExecutor(2, mp_context=procs.spawn_context(), initializer=procs.raise_fd_limit) as pool,
    ):
        workdir = Path(tmp)
        daemons = {"registryd": start_daemon(workdir / "this", store)}
        if args.baseline:
            daemons["baseline"] = start_daemon(
                workdir / "baseline", store, {"PYTHONPATH": str(args.baseline), "PYTHONSAFEPATH": "1"}
            )
        noop = procs.start_server("noop", workdir)
        try:
            if not registering:
                for daemon in daemons.values():
                    unary.register_agents(pool, daemon.address, 0, READ_AGENTS)
            request = unary.requests_for(Load("", "", args.method, 0, 1))[0]
            request_size, reply_size = unary.message_sizes(daemons["registryd"].address, method, request)
            echo = Load(
                noop.address,
                workload.ECHO + "Echo",
                "echo",
                duration=args.seconds,
                request_size=request_size,
                reply_size=reply_size,
            )
            trial = 0
            for in_flight in args.in_flight:
                cpu: dict[str, list[float]] = {name: [] for name in [*daemons, "no-op"]}
                switches: dict[str, list[float]] = {name: [] for name in daemons}
                for _ in range(1_000_000 if args.hold else args.trials):
                    trial += 1
                    for name, daemon in daemons.items():
                        first = trial * IDS_PER_TRIAL if registering else 0
                        calls = Load(
                            daemon.address,
                            workload.SERVICE + method,
                            args.method,
                            first,
                            first + (REGISTRATIONS if registering else READ_AGENTS),
                            in_flight=in_flight,
                            duration=args.seconds,
                            unique=registering,
                        )
                        used, switched = per_call(pool, daemon, calls)
                        cpu[name].append(used)
                        switches[name].append(switched)
                    if args.hold:
                        print(f"{used:.0f} us per {method}", flush=True)
                        continue
                    cpu["no-op"].append(per_call(pool, noop, replace(echo, in_flight=in_flight))[0])
                noop_us = statistics.median(cpu["no-op"])
                print(f"{in_flight:>3} in flight: no-op {noop_us:.0f} us CPU per echo {cpu['no-op']}")
                for name in daemons:
                    mine = statistics.median(cpu[name])
                    print(
                        f"    {name}: {mine:.0f} us CPU per {method}, ratio {noop_us / mine:.2f} (goal "
                        f"{goal}), {statistics.median(switches[name]):.2f} context switches per call "
                        f"(trials {[round(x) for x in cpu[name]]})",
                        flush=True,
                    )
        finally:
            for daemon in [*daemons.values(), noop]:
                daemon.stop()


def start_daemon(workdir: Path, store: str, env: dict[str, str] | None = None) -> ServerProcess:
    data = ["--data-dir", str(workdir / "data")] if store == "sqlite" else []
    return procs.start_server("registryd", workdir, [*CALM_LIVENESS, "--store", store, *data], env=env)


if __name__ == "__main__":
    main()
