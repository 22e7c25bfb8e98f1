"""Writes a run's results: latest.json, latest.md (the table) and PNG plots in bench/results/."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bench.plan import Row
from bench.stats import percentile

RESULTS = Path(__file__).resolve().parent / "results"


def write(
    rows: list[Row],
    meta: dict[str, Any],
    notes: list[str],
    latencies: dict[str, tuple[list[float], list[float]]],
    discovery: dict[str, list[tuple[int, float]]],
    out: Path = RESULTS,
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    mode = meta["mode"]
    document = {"meta": meta, "notes": notes, "rows": [r.as_dict() for r in rows], "discovery": discovery}
    text = json.dumps(document, indent=2, default=str) + "\n"
    table = markdown(rows, meta, notes)
    written = []
    for stem in ("latest", mode):
        (out / f"{stem}.json").write_text(text)
        (out / f"{stem}.md").write_text(table)
        written += [out / f"{stem}.json", out / f"{stem}.md"]
    written += plots(latencies, discovery, out, mode)
    return written


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _latency(detail: dict[str, Any], side: str) -> str:
    d = detail.get(side)
    if isinstance(d, dict) and "p50_ms" in d:
        return f"{_fmt(d['p50_ms'])} / {_fmt(d['p99_ms'])}"
    return "-"


def markdown(rows: list[Row], meta: dict[str, Any], notes: list[str]) -> str:
    m = meta["machine"]
    lines = [
        f"# registryd benchmark ({meta['mode']})",
        "",
        f"`{meta['command']}` on {meta['started']} ({meta['duration_s']:.0f} s). Machine: {m['cpus']} cores "
        f"({m['cpu_model']}), {m['memory']}, load average at start {m['loadavg_at_start']}. "
        "The machine is shared; only ratios measured in the same run are meaningful.",
        "",
        "Ratio = registryd / no-op server (same gRPC options, same process layout) unless the row says "
        "otherwise. Latencies are p50 / p99 in ms.",
        "",
        "| # | measurement | metric | registryd | no-op / baseline | ratio | goal | met | registryd p50 / p99 | no-op p50 / p99 |",
        "|---|---|---|---:|---:|---:|---|---|---:|---:|",
    ]
    for r in rows:
        met = "-" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(
            f"| {r.scenario} | {r.name} | {r.metric} | {_fmt(r.registryd)} | {_fmt(r.noop)} | {_fmt(r.ratio)} "
            f"| {r.goal or '-'} | {met} | {_latency(r.detail, 'registryd')} | {_latency(r.detail, 'noop')} |"
        )
    if notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def plots(
    latencies: dict[str, tuple[list[float], list[float]]],
    discovery: dict[str, list[tuple[int, float]]],
    out: Path,
    mode: str,
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    if discovery:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for label, points in discovery.items():
            xs, ys = zip(*sorted(points), strict=True)
            ax.plot(xs, [y * 1000 for y in ys], marker="o", label=label)
        ax.set(xscale="log", yscale="log", xlabel="agents", ylabel="ms per FindAgents query (core only)")
        ax.set_title("Discovery time vs agents")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        path = out / f"discovery-{mode}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    if latencies:
        names = list(latencies)
        fig, axes = plt.subplots(len(names), 1, figsize=(8, 1.6 * len(names) + 0.6), squeeze=False)
        for ax, name in zip(axes[:, 0], names, strict=True):
            ours, noop = latencies[name]
            for values, label in ((ours, "registryd"), (noop, "no-op")):
                if values:
                    qs = [percentile(values, q) * 1000 for q in range(1, 100)]
                    ax.plot(qs, range(1, 100), label=label)
            ax.set_xscale("log")
            ax.set_ylabel("percentile")
            ax.set_title(name, fontsize=9, loc="left")
            ax.grid(True, alpha=0.3)
        axes[0, 0].legend(loc="lower right")
        axes[-1, 0].set_xlabel("latency, ms (log)")
        fig.tight_layout()
        path = out / f"latency-{mode}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written
