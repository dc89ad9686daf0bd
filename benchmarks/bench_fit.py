"""Benchmark: closed-form embedding of a rank-2 ODE with 1000 neurons on 10,000 points.

"A new look at low-rank RNNs", eq 11. Times :meth:`ODEEmbedding.fit` (design matrix, Gram
matrix, Cholesky, residual) on the unit-circle limit cycle and, side by side in the same run,
``numpy.linalg.lstsq`` (SVD) on the same design matrix (built here with ``numpy.tanh``) and the
same ridge penalty (as the augmented system ``[Phi; sqrt(ridge) 1]``). With a ridge the solution
is unique, so the weights must agree to 1e-8 (relative, Frobenius norm). Without a ridge the
random basis is numerically rank-deficient: the weights are not unique, so the fitted vector
fields are compared instead.

Prints one JSON object. Goal: fit under 1 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from lowrank_rnn.fit.regression import ODEEmbedding
from lowrank_rnn.fit.targets import limit_cycle


def _best_of(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons", type=int, default=1000)
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--ridge", type=float, default=0.1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    box = (-1.6, 1.6)

    def fit(ridge: float) -> ODEEmbedding:
        est = ODEEmbedding(2, args.neurons, inputs="bias", ridge=ridge, random_state=args.seed)
        return est.fit(limit_cycle, box=box, n_points=args.points)

    fit(args.ridge)  # warm-up (imports, allocator)
    t_fit, est = _best_of(lambda: fit(args.ridge), args.repeats)
    t_fit0, est0 = _best_of(lambda: fit(0.0), args.repeats)

    # baseline: numpy lstsq on the same design matrix, built independently with numpy.tanh
    from lowrank_rnn.fit.regression import grid_points

    Z = grid_points(box, args.points, 2)
    Phi = np.tanh(Z @ est.M_.T + est.I_.T)
    Y = limit_cycle(Z) + Z
    n = args.neurons

    def baseline(ridge: float) -> np.ndarray:
        A, B = Phi, Y
        if ridge:
            A = np.vstack([Phi, np.sqrt(ridge) * np.eye(n)])
            B = np.vstack([Y, np.zeros((n, 2))])
        return np.linalg.lstsq(A, B, rcond=None)[0]

    t_ls, N_ls = _best_of(lambda: baseline(args.ridge), 1)
    t_ls0, N_ls0 = _best_of(lambda: baseline(0.0), 1)
    rel_w = float(np.linalg.norm(est.N_ - N_ls) / np.linalg.norm(N_ls))
    field_diff0 = float(np.max(np.abs(Phi @ est0.N_ - Phi @ N_ls0)))
    mse_ls0 = float(np.mean((Phi @ N_ls0 - Y) ** 2))
    out = {
        "benchmark": "fit",
        "neurons": n,
        "points": int(Z.shape[0]),
        "rank": 2,
        "ridge": args.ridge,
        "fit_seconds": t_fit,
        "lstsq_seconds": t_ls,
        "speedup_vs_lstsq": t_ls / t_fit,
        "weights_rel_diff_vs_lstsq": rel_w,
        "solver": est.info_["solver"],
        "train_mse": est.info_["train_mse"],
        "no_ridge": {
            "fit_seconds": t_fit0,
            "lstsq_seconds": t_ls0,
            "speedup_vs_lstsq": t_ls0 / t_fit0,
            "solver": est0.info_["solver"],
            "train_mse": est0.info_["train_mse"],
            "lstsq_train_mse": mse_ls0,
            "max_field_diff_vs_lstsq": field_diff0,
        },
        "threads_env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
        "targets": {
            "fit_under_1s": t_fit < 1.0,
            "weights_match_lstsq_1e-8": rel_w < 1e-8,
        },
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
