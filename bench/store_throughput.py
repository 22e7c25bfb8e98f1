"""RegisterAgent throughput on the sqlite store against --store memory (goal: ratio at least 0.6).

Two daemons (memory, sqlite with synchronous=FULL) on loopback; two client processes keep `--in-flight`
new registrations in flight. Trials alternate between the stores so both see the same machine load; the
ratio is of the medians.

    .venv/bin/python -m bench.store_throughput [--trials 3] [--seconds 3] [--in-flight 64 16]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench import procs, unary, workload
from bench.s1_unary import CALM_LIVENESS
from bench.unary import Load

GOAL = 0.6
IDS_PER_TRIAL = 1_000_000  # each trial registers agents no trial registered before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--in-flight", type=int, nargs="+", default=[64, 16])
    args = parser.parse_args()
    procs.raise_fd_limit()
    with (
        tempfile.TemporaryDirectory(prefix="registryd-throughput-") as tmp,
        ProcessPoolExecutor(2, mp_context=procs.spawn_context(), initializer=procs.raise_fd_limit) as pool,
    ):
        workdir = Path(tmp)
        daemons = {
            "memory": procs.start_server("registryd", workdir, [*CALM_LIVENESS, "--store", "memory"]),
            "sqlite": procs.start_server(
                "registryd",
                workdir,
                [*CALM_LIVENESS, "--store", "sqlite", "--data-dir", str(workdir / "data")],
            ),
        }
        try:
            trial = 0
            for in_flight in args.in_flight:
                rates: dict[str, list[float]] = {"memory": [], "sqlite": []}
                for _ in range(args.trials):
                    for store, daemon in daemons.items():
                        trial += 1
                        load = Load(
                            daemon.address,
                            workload.SERVICE + "RegisterAgent",
                            "register",
                            trial * IDS_PER_TRIAL,
                            trial * IDS_PER_TRIAL + 200_000,
                            in_flight=in_flight,
                            start_at=time.monotonic() + 1.0,
                            duration=args.seconds,
                            unique=True,
                        )
                        result = unary.run_load(pool, unary.split(load, 2))
                        if result["errors"]:
                            raise RuntimeError(f"{store}: {result['errors']} errors {result['error_codes']}")
                        rates[store].append(float(result["rps"]))  # type: ignore[arg-type]
                memory, sqlite = (statistics.median(rates[s]) for s in ("memory", "sqlite"))
                print(
                    f"{in_flight:>3} in flight: memory {memory:,.0f}/s, sqlite {sqlite:,.0f}/s, "
                    f"ratio {sqlite / memory:.2f} (goal {GOAL}; trials memory {rates['memory']}, "
                    f"sqlite {rates['sqlite']})",
                    flush=True,
                )
        finally:
            for daemon in daemons.values():
                daemon.stop()


if __name__ == "__main__":
    main()
