"""Benchmark: where ``reproduce --full`` spends its CPU time, figure by figure, from a sample.

Each figure of the chosen papers is computed and drawn at ``--full`` sizes, but every sweep it
runs (:func:`lowrank_rnn.sweep.run_sweep`, serial and in this process) computes only a fixed
fraction of its points; the others are filled with copies of computed ones so that the figure
code runs to the end (its check rows are therefore meaningless here and not reported). The
figure's full time is extrapolated:

- a sweep with several seeds per grid point runs ``ceil(fraction x seeds)`` (at least one) seeds
  at *every* grid point, and its full time is the sum over grid points of the mean CPU seconds
  per computed seed times the number of seeds (point cost depends on the grid value, e.g. N);
- a sweep with one seed per grid point runs ``ceil(fraction x points)`` (at least one) grid points
  evenly spaced along the grid, and its full time is their mean CPU seconds times the number of
  points;
- everything outside the sweeps (single spectra, fits, drawing) runs in full and is measured.

CPU time is :func:`time.process_time` of this process, with BLAS/OpenMP limited to one thread
(as in the single-threaded Dask workers of ``--full``), so the numbers do not depend on other
work on a shared machine; the wall clock is printed beside it. Prints one JSON object: per
figure the points computed and total, CPU and wall seconds of the sample, the extrapolated full
CPU seconds, and the rule.

Usage::

    python benchmarks/bench_full_figures.py --papers herbert2022 --fraction 0.04
    python benchmarks/bench_full_figures.py --papers herbert2022 --figures "Fig 1" "Fig 2"
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

RULE = ("sweeps with several seeds: ceil(fraction x seeds) (>= 1) seeds at every grid point, "
        "full = sum over grid points of mean CPU per seed x seeds; sweeps with one seed: "
        "ceil(fraction x points) (>= 1) evenly spaced grid points, full = mean x points; "
        "work outside sweeps measured in full")


class _Sampler:
    """Replacement of the serial sweep runner that computes a sample and extrapolates."""

    def __init__(self, fraction: float) -> None:
        self.fraction = fraction
        self.reset()

    def reset(self) -> None:
        self.sweeps: list[dict[str, Any]] = []

    def __call__(self, func, fixed, todo, record, advance) -> None:  # noqa: ANN001
        from lowrank_rnn.sweep import _call_point

        groups: dict[tuple, list] = defaultdict(list)
        for p in todo:
            groups[tuple(p.index[:-1])].append(p)
        keys = list(groups)
        n_seeds = max(len(v) for v in groups.values())
        if n_seeds > 1:
            k = max(1, math.ceil(self.fraction * n_seeds))
            chosen = {g: groups[g][:k] for g in keys}
        else:
            k = max(1, math.ceil(self.fraction * len(keys)))
            idx = sorted({round(i * (len(keys) - 1) / max(k - 1, 1)) for i in range(k)})
            chosen = {keys[i]: groups[keys[i]] for i in idx}
        cpu: dict[tuple, list[float]] = defaultdict(list)
        done: dict[tuple, dict] = {}
        wall0 = time.perf_counter()
        for g, pts in chosen.items():
            for p in pts:
                t0 = time.process_time()
                out = _call_point(func, {**fixed, **p.params, "seed": p.seed})
                cpu[g].append(time.process_time() - t0)
                record(p, out)
                done[g] = out
        wall = time.perf_counter() - wall0
        computed = {p.key for pts in chosen.values() for p in pts}
        fill = next(iter(done.values()))
        for g, pts in groups.items():
            for p in pts:
                if p.key not in computed:
                    record(p, done.get(g, fill), written=True)
        advance(len(todo))
        if n_seeds > 1:
            full = sum(sum(c) / len(c) * len(groups[g]) for g, c in cpu.items())
        else:
            every = [t for c in cpu.values() for t in c]
            full = sum(every) / len(every) * len(todo)
        self.sweeps.append({
            "function": getattr(func, "__name__", str(func)),
            "points_done": len(computed), "points_total": len(todo),
            "cpu_s": round(sum(t for c in cpu.values() for t in c), 3), "wall_s": round(wall, 3),
            "extrapolated_cpu_s": round(full, 2),
        })


def main() -> None:
    """Time every selected figure of ``--full`` on a sample of its sweep points."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--papers", nargs="+", default=["herbert2022"])
    ap.add_argument("--figures", nargs="*", default=None, help='e.g. "Fig 1" (default: all)')
    ap.add_argument("--fraction", type=float, default=0.04,
                    help="fraction of each sweep's seeds (or points) computed")
    ap.add_argument("--procedure", default=None, help="reproduce procedure (paper|authors)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not 0 < args.fraction <= 1:
        raise SystemExit(f"--fraction {args.fraction}: must be in (0, 1]")
    import matplotlib

    matplotlib.use("Agg")
    import dataclasses

    import lowrank_rnn.sweep as sweep_mod
    from lowrank_rnn.reproduce import load_paper
    from lowrank_rnn.reproduce._core import Settings

    os.environ.pop(sweep_mod.SWEEP_DIR_ENV, None)  # no stores: every sampled point computed
    sampler = _Sampler(args.fraction)
    sweep_mod._run_serial = sampler
    settings = Settings(quick=False, seed=args.seed, workers=0)
    if args.procedure is not None:
        settings = dataclasses.replace(settings, procedure=args.procedure)
    figures = []
    total = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for key in args.papers:
            paper = load_paper(key)
            for spec in paper.figures:
                if args.figures and spec.name not in args.figures:
                    continue
                sampler.reset()
                c0, w0 = time.process_time(), time.perf_counter()
                fd = spec.compute(settings)
                c1 = time.process_time()
                spec.plot(fd, Path(tmp) / "fig.png")
                c2, w2 = time.process_time(), time.perf_counter()
                in_sweeps = sum(s["cpu_s"] for s in sampler.sweeps)
                outside = (c1 - c0) - in_sweeps
                full = outside + (c2 - c1) + sum(s["extrapolated_cpu_s"] for s in sampler.sweeps)
                total += full
                figures.append(rec := {
                    "paper": key, "figure": spec.name,
                    "points_done": sum(s["points_done"] for s in sampler.sweeps),
                    "points_total": sum(s["points_total"] for s in sampler.sweeps),
                    "sample_cpu_s": round(c2 - c0, 2), "sample_wall_s": round(w2 - w0, 2),
                    "outside_sweeps_cpu_s": round(outside, 2), "plot_cpu_s": round(c2 - c1, 2),
                    "extrapolated_full_cpu_s": round(full, 1), "sweeps": sampler.sweeps,
                })
                # one line per finished figure on stderr, so that a cut-off run still reports
                print(json.dumps({k: v for k, v in rec.items() if k != "sweeps"}),
                      file=sys.stderr, flush=True)
    print(json.dumps({
        "benchmark": "reproduce --full per figure (sampled sweeps, extrapolated)",
        "fraction": args.fraction, "threads": 1, "procedure": args.procedure or "paper",
        "rule": RULE, "figures": figures,
        "extrapolated_total_cpu_s": round(total, 1),
        "extrapolated_total_min_on_2_workers": round(total / 60 / 2, 1),
    }, indent=1))


if __name__ == "__main__":
    main()
