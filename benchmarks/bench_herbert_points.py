"""Benchmark: Herbert & Ostojic Figs 1-3 sweep points by ARPACK (``method='auto'``) vs dense.

For points of every full-mode sweep of ``reproduce herbert2022 --full`` that ``'auto'`` sends to
ARPACK (density of non-zeros at most
:data:`lowrank_rnn.reproduce.herbert2022.points.ARPACK_DENSITY`), the same network (same seed) is
measured twice, side by side in this process: by the dense single-precision eigenvalue problem
(``method='dense'``, what the figures used before) and by ``method='auto'``. Reported per point
and seed: CPU seconds of each and the relative difference of every measured quantity (spectral
radius; outlier, bulk radius by both rules, largest modulus). BLAS runs single-threaded, as in
the Dask workers of ``--full``.

Targets: every relative difference below 1e-4 (the checks' tolerances are percent-level) and
the ARPACK points at least twice as fast in total. Prints one JSON object.

Usage::

    python benchmarks/bench_herbert_points.py --seeds 3
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

TARGET_REL_DIFF = 1e-4
TARGET_RATIO = 2.0

#: (figure sweep, point function name, parameters): the sparsest, the densest and a middle
#: ARPACK point of each full-mode sweep.
POINTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("fig1c", "gaussian", {"n_neurons": 1000, "sparsity": 0.6}),
    ("fig1c", "gaussian", {"n_neurons": 1000, "sparsity": 0.95}),
    ("fig1d", "gaussian", {"n_neurons": 600, "c": 200}),
    ("fig1d", "gaussian", {"n_neurons": 2000, "c": 200}),
    ("fig2b", "rank_one", {"n_neurons": 1000, "sigma2": 16.0, "sigma_mn": 4.0, "sparsity": 0.6}),
    ("fig2b", "rank_one", {"n_neurons": 1000, "sigma2": 16.0, "sigma_mn": 4.0,
                           "sparsity": 0.95}),
    ("fig2d", "rank_one", {"n_neurons": 2000, "sigma2": 16.0, "sigma_mn": 4.0, "c": 200}),
    ("fig3b", "rank_one", {"n_neurons": 2000, "sigma2": 0.09, "sigma_mn": 0.008, "c": 200,
                           "rescaled": True}),
    ("fig3c", "rank_one", {"n_neurons": 1200, "sigma2": 0.12, "sigma_mn": 0.01, "c": 200,
                           "rescaled": True}),
    ("fig3d", "rank_one", {"n_neurons": 1200, "sigma2": 0.05, "sigma_mn": 0.0, "c": 200,
                           "rescaled": True}),
)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per point")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds {args.seeds}: expected an integer >= 1")

    from lowrank_rnn.reproduce.herbert2022.points import (
        ARPACK_DENSITY,
        gaussian_radius_point,
        rank_one_spectrum_point,
    )

    funcs = {"gaussian": gaussian_radius_point, "rank_one": rank_one_spectrum_point}
    rows = []
    total = {"dense": 0.0, "auto": 0.0}
    worst = 0.0
    for sweep, fname, params in POINTS:
        for seed in range(args.seeds):
            out: dict[str, Any] = {}
            for method in ("dense", "auto"):
                t0 = time.process_time()
                out[method] = funcs[fname](**params, method=method, dtype="float32", seed=seed)
                out[method + "_s"] = time.process_time() - t0
                total[method] += out[method + "_s"]
            rel = {k: abs(out["auto"][k] / v - 1.0) if v else abs(out["auto"][k])
                   for k, v in out["dense"].items() if not k.startswith("theory")}
            worst = max(worst, *rel.values())
            rows.append({"sweep": sweep, "params": params, "seed": seed,
                         "dense_cpu_s": round(out["dense_s"], 4),
                         "auto_cpu_s": round(out["auto_s"], 4),
                         "max_rel_diff": max(rel.values())})
    ratio = total["dense"] / total["auto"] if total["auto"] else float("inf")
    result = {
        "benchmark": "herbert2022 Figs 1-3 points: ARPACK (auto) vs dense float32",
        "arpack_density": ARPACK_DENSITY,
        "seeds": args.seeds,
        "dense_cpu_s": round(total["dense"], 3),
        "auto_cpu_s": round(total["auto"], 3),
        "ratio": round(ratio, 2),
        "max_rel_diff": worst,
        "target_ratio": TARGET_RATIO,
        "target_rel_diff": TARGET_REL_DIFF,
        "passed": bool(ratio >= TARGET_RATIO and worst <= TARGET_REL_DIFF),
        "points": rows,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
