"""Benchmark: "A new look" Fig 5 BPTT networks, per-point training against grouped training.

Before: each (method, size, seed) is one point (:func:`fig5_point`): its own learning-rate
search (every candidate for ``tune_epochs`` epochs), then ``n_epochs`` epochs alone. After:
each (method, size) is one point (:func:`fig5_group_point`): one search shared by its seeds,
the seeds trained stacked. Both run side by side in this process at the full-mode trial counts,
sizes, batch size and candidates, with the epochs (``n_epochs`` and ``tune_epochs``) scaled by
``--fraction``.

Extrapolation rule: the cost of an epoch is constant over training (measured per epoch at full
size: flat after the first), so a group's full-mode CPU time is its sample's CPU time divided by
the fraction. The fixed costs of a point (trial generation, scoring the train and test trials,
about 1.5 epochs' worth) are scaled too, so the estimate is high by about 1.5 / (fraction x
280) epochs of each network's 280 (5 % at fraction 0.1). Imports and first calls are paid in a
warm-up before the timings.
The figure's wall time on ``--workers`` single-threaded workers is the makespan of the points
handed out in sweep order to the first free worker (Dask's behaviour with equal priorities).
CPU time is :func:`time.process_time` with one thread, so it does not depend on other work on a
shared machine. Prints one JSON object.

Usage::

    python benchmarks/bench_newlook_fig5.py --fraction 0.1
    python benchmarks/bench_newlook_fig5.py --fraction 0.05 --tasks decision
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import heapq  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402


def _makespan(costs: list[float], workers: int) -> float:
    free = [0.0] * workers
    for c in costs:
        heapq.heappush(free, heapq.heappop(free) + c)
    return max(free)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--tasks", nargs="+", default=["flipflop", "decision"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--before-seeds", type=int, default=None,
                        help="per-point (before) runs of the first k seeds of each group only, "
                             "their mean CPU times the number of seeds (default: all seeds; 0: "
                             "time the grouped points only)")
    args = parser.parse_args()
    if args.before_seeds is not None and args.before_seeds < 0:
        raise SystemExit(f"--before-seeds {args.before_seeds}: must be >= 0")
    if not 0 < args.fraction <= 1:
        raise SystemExit(f"--fraction {args.fraction}: must be in (0, 1]")

    import torch

    torch.set_num_threads(1)
    from lowrank_rnn.reproduce.newlook.bptt import _params, fig5_group_point, fig5_point

    p = _params(False)
    n_epochs = max(1, round(p["n_epochs"] * args.fraction))
    tune_epochs = max(1, round(p["tune_epochs"] * args.fraction))
    scale = 1.0 / args.fraction
    lrs = ",".join(repr(float(v)) for v in p["lrs"])
    result: dict = {"fraction": args.fraction, "n_epochs_sampled": n_epochs,
                    "tune_epochs_sampled": tune_epochs, "workers": args.workers,
                    "before_seeds": args.before_seeds,
                    "rule": "full CPU = sample CPU / fraction (epoch cost constant); before: "
                            "seeds not run cost the mean of those run; figure wall = makespan "
                            "of the points in sweep order on the workers",
                    "tasks": {}}
    for task in args.tasks:  # warm-up: imports and first-call costs outside the timings
        fig5_point(task, "bptt_low_rank", 3, 8, 4, 4, 1, "0.01,0.1", 1, 4,
                   n_steps=10 if task == "flipflop" else 0)
        fig5_group_point(task, "bptt_full_rank", 3, 2, 8, 4, 4, 1, "0.01,0.1", 1, 4,
                         n_steps=10 if task == "flipflop" else 0)
    for task in args.tasks:
        common = {"task": task, "n_train": p["n_train"], "n_validation": p["n_validation"],
                  "n_test": p["n_test"], "n_epochs": n_epochs, "lrs": lrs,
                  "tune_epochs": tune_epochs, "batch_size": p["batch_size"],
                  "n_steps": int(p["task_kw"][task].get("n_steps", 0))}
        rows, before_pts, after_pts = [], [], []
        for method in ("bptt_low_rank", "bptt_full_rank"):
            for n in p["sizes"][task]:
                before = []
                k = p["seeds"] if args.before_seeds is None else min(args.before_seeds,
                                                                     p["seeds"])
                if k:
                    for i in range(k):
                        t0 = time.process_time()
                        fig5_point(method=method, n_neurons=n, seed=i, **common)
                        before.append((time.process_time() - t0) * scale)
                t0 = time.process_time()
                out = fig5_group_point(method=method, n_neurons=n, n_seeds=p["seeds"],
                                       seed=0, **common)
                after = (time.process_time() - t0) * scale
                # seeds not run cost the mean of those run (the points of a group are alike)
                before_full = before + [sum(before) / len(before)] * (p["seeds"] - len(before)) \
                    if before else []
                before_pts += before_full
                after_pts.append(after)
                row = {"method": method, "n_neurons": n, "after_group_cpu_s": round(after, 1),
                       "after_per_network_cpu_s": round(after / p["seeds"], 1),
                       "lr_sampled": out["lr"].tolist()}
                if before:
                    row["before_per_network_cpu_s"] = [round(b, 1) for b in before]
                    row["speedup"] = round(sum(before_full) / after, 2)
                rows.append(row)
                print(json.dumps({task: row}), flush=True)
        entry = {"groups": rows, "after_cpu_s": round(sum(after_pts), 1),
                 "after_wall_s": round(_makespan(after_pts, args.workers), 1)}
        if before_pts:
            entry.update(before_cpu_s=round(sum(before_pts), 1),
                         before_wall_s=round(_makespan(before_pts, args.workers), 1),
                         ratio=round(sum(before_pts) / sum(after_pts), 2))
        result["tasks"][task] = entry
    for key in ("before_wall_s", "after_wall_s", "before_cpu_s", "after_cpu_s"):
        vals = [t.get(key) for t in result["tasks"].values()]
        if all(v is not None for v in vals):
            result[key] = round(sum(vals), 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
