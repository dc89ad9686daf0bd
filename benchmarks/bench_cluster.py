"""Benchmark: ``reproduce --full`` figures on a 2-worker Dask LocalCluster against serial.

Each selected figure is computed at ``--full`` sizes twice, on the same points: once serially in
this process (``workers=0``, the reference) and once on a local Dask cluster of ``--workers``
single-threaded processes (what ``reproduce --full --workers 2`` or a ``--scheduler`` cluster
does). To keep the run short, every sweep the figure runs keeps only the first
``ceil(fraction x seeds)`` (at least one) of its seeds at every grid point; the grid, N and
everything outside the sweeps are the paper's. The check rows are therefore not the ``--full``
ones and are not reported. Nothing is stored (no sweep store), so every point is computed.

The Dask run shares one local cluster between all sweeps of the paper, as ``reproduce
--full`` does (:func:`lowrank_rnn.sweep.shared_local_cluster`). Extrapolation to the full
figure (stated in the JSON): the wall seconds spent inside sweeps are scaled by
points_total / points_run, except the cluster start (measured here once, with the cluster
closed again), which the first sweep of the run pays once and is added unscaled; the work
outside the sweeps is added unscaled.

Wall-clock seconds (``time.perf_counter``) are what a cluster shortens; BLAS/OpenMP are limited
to one thread in both runs. On a shared machine, other work changes both runs: the JSON gives
the machine's load average before and after.

Usage::

    nice -n 10 python benchmarks/bench_cluster.py --paper herbert2022 --figures "Fig 1" \\
        --fraction 0.1 --workers 2
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

RULE = ("sweeps keep ceil(fraction x seeds) (>= 1) seeds at every grid point; full = "
        "outside-sweep wall + sum over sweeps of sweep wall x points_total / points_run, where "
        "the Dask run's first sweep (which starts the run's one shared cluster) counts its "
        "cluster start once, unscaled")


def _patch_run_sweep(fraction: float, log: list[dict[str, Any]]) -> None:
    """Make every sweep keep a fraction of its seeds, and time it."""
    import importlib

    import lowrank_rnn.sweep as sweep_mod

    original = sweep_mod.run_sweep

    def sampled(func, grid, seeds, **kw):  # noqa: ANN001, ANN202
        seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
        keep = seeds[:max(1, math.ceil(fraction * len(seeds)))]
        n_grid = math.prod(len(v) for v in grid.values())
        kw.pop("store", None)
        kw.pop("fresh", None)
        kw["progress"] = False
        t0 = time.perf_counter()
        ds = original(func, grid, keep, **kw)
        log.append({"function": getattr(func, "__name__", str(func)),
                    "points_run": n_grid * len(keep), "points_total": n_grid * len(seeds),
                    "wall_s": time.perf_counter() - t0})
        return ds

    sweep_mod.run_sweep = sampled
    # modules that imported the name at import time
    for name in ("lowrank_rnn.reproduce.linearization", "lowrank_rnn.reproduce.newlook.bptt",
                 "lowrank_rnn.reproduce.beiran2021.examples"):
        mod = importlib.import_module(name)
        if hasattr(mod, "run_sweep"):
            mod.run_sweep = sampled


def _cluster_start_s(workers: int) -> float:
    """Seconds to start and close a LocalCluster of ``workers`` processes and its client."""
    from lowrank_rnn.sweep import _close_quietly, _open_client

    t0 = time.perf_counter()
    client, cluster = _open_client(None, workers)
    client.wait_for_workers(workers, timeout=60)
    _close_quietly(client, cluster)
    return time.perf_counter() - t0


def _run(specs, settings, log) -> list[dict[str, Any]]:  # noqa: ANN001
    out = []
    for spec in specs:
        log.clear()
        t0 = time.perf_counter()
        spec.compute(settings)
        wall = time.perf_counter() - t0
        in_sweeps = sum(s["wall_s"] for s in log)
        out.append({"figure": spec.name, "wall_s": wall, "outside_sweeps_s": wall - in_sweeps,
                    "sweeps": [dict(s) for s in log]})
        print(json.dumps({"runner": "serial" if settings.workers == 0 else
                          f"LocalCluster x{settings.workers}", "figure": spec.name,
                          "wall_s": round(wall, 2)}), file=sys.stderr, flush=True)
    return out


def _extrapolate(fig: dict[str, Any], start_s: float) -> float:
    """Full wall seconds of one figure; ``start_s`` is taken off its first sweep only (the
    one that started the run's shared cluster) and added back once, unscaled."""
    total = fig["outside_sweeps_s"]
    for i, s in enumerate(fig["sweeps"]):
        first = start_s if i == 0 else 0.0
        work = max(s["wall_s"] - first, 0.0)
        total += first + work * s["points_total"] / s["points_run"]
    return total


def main() -> None:
    """Time the selected ``--full`` figures serially and on a LocalCluster."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paper", default="herbert2022")
    ap.add_argument("--figures", nargs="*", default=None, help='e.g. "Fig 1" (default: all)')
    ap.add_argument("--fraction", type=float, default=0.1,
                    help="fraction of each sweep's seeds computed (0, 1]")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not 0 < args.fraction <= 1:
        raise SystemExit(f"--fraction {args.fraction}: must be in (0, 1]")
    if args.workers < 1:
        raise SystemExit(f"--workers {args.workers}: must be >= 1")
    import matplotlib

    matplotlib.use("Agg")
    from lowrank_rnn.reproduce import load_paper
    from lowrank_rnn.reproduce._core import Settings
    from lowrank_rnn.sweep import SWEEP_DIR_ENV, shared_local_cluster

    os.environ.pop(SWEEP_DIR_ENV, None)
    paper = load_paper(args.paper)
    specs = [s for s in paper.figures if not args.figures or s.name in args.figures]
    if not specs:
        raise SystemExit(f"--figures {args.figures}: none of {[s.name for s in paper.figures]}")
    log: list[dict[str, Any]] = []
    _patch_run_sweep(args.fraction, log)
    load0 = os.getloadavg()
    base = Settings(quick=False, seed=args.seed, progress="off")
    serial = _run(specs, dataclasses.replace(base, workers=0), log)
    start_s = _cluster_start_s(args.workers)
    # as `reproduce --full` does: one local cluster shared by every sweep of the run
    with shared_local_cluster():
        dask = _run(specs, dataclasses.replace(base, workers=args.workers), log)
    load1 = os.getloadavg()
    figures = []
    for j, (s, d) in enumerate(zip(serial, dask, strict=True)):
        fs, fd = _extrapolate(s, 0.0), _extrapolate(d, start_s if j == 0 else 0.0)
        figures.append({
            "figure": s["figure"],
            "points_run": sum(x["points_run"] for x in s["sweeps"]),
            "points_total": sum(x["points_total"] for x in s["sweeps"]),
            "serial_sample_wall_s": round(s["wall_s"], 2),
            "cluster_sample_wall_s": round(d["wall_s"], 2),
            "sample_ratio_serial_over_cluster": round(s["wall_s"] / d["wall_s"], 3),
            "serial_full_wall_s_extrapolated": round(fs, 1),
            "cluster_full_wall_s_extrapolated": round(fd, 1),
            "full_ratio_serial_over_cluster": round(fs / fd, 3),
            "sweeps": len(s["sweeps"]),
        })
    tot_s = sum(f["serial_full_wall_s_extrapolated"] for f in figures)
    tot_d = sum(f["cluster_full_wall_s_extrapolated"] for f in figures)
    print(json.dumps({
        "benchmark": f"reproduce --full {args.paper}: LocalCluster x{args.workers} vs serial",
        "paper": args.paper, "fraction": args.fraction, "workers": args.workers,
        "threads_per_worker": 1, "cluster_start_s": round(start_s, 2), "rule": RULE,
        "cpu_count": os.cpu_count(), "loadavg_before": [round(x, 2) for x in load0],
        "loadavg_after": [round(x, 2) for x in load1], "figures": figures,
        "serial_full_wall_s_extrapolated": round(tot_s, 1),
        "cluster_full_wall_s_extrapolated": round(tot_d, 1),
        "ratio_serial_over_cluster": round(tot_s / tot_d, 3) if tot_d else None,
    }, indent=1))


if __name__ == "__main__":
    main()
