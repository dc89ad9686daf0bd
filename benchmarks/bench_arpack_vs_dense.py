"""Speed ratio: the outlier by ARPACK vs dense ``numpy.linalg.eigvals`` on the same matrix.

N = 4000, rescaled sparse rank one ``P = X ⊙ m n^T`` (Herbert & Ostojic eq 12) with exactly
C = 200 non-zeros per column, sigma^2 = 0.09 and sigma_mn = 0.008: the parameters of Fig 3A
(outlier C sigma_mn = 1.6, eq 13, next to the bulk of radius about sqrt(C) sigma^2 = 1.27,
eq 14 — a harder case for ARPACK than a far outlier).

* ARPACK: ``lowrank_rnn.theory.spectrum.outliers(net, k=1)`` on the :class:`LowRankRNN` (builds the
  CSR of values from the mask, then ``scipy.sparse.linalg.eigs``, default tolerance 1e-10);
  timed from a fresh copy of the network so that the CSR build is included; median of 3.
* dense: ``numpy.linalg.eigvals`` on ``net.to_dense()`` (densifying is timed separately and not
  counted), the eigenvalue of largest real part.

Targets: ARPACK at least 100 times faster; the same outlier to 1e-6 relative.
BLAS runs single-threaded by default (``--blas-threads``), like the CSR products of ARPACK, so
the ratio compares the two methods per core; on a busy machine a multi-threaded dense
``eigvals`` is also much slower than a single-threaded one (spinning BLAS threads).
Prints one JSON object. ``--n-neurons`` and ``--c`` change the size (for a quick look).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

SIGMA2 = 0.09
SIGMA_MN = 0.008
SEED = 0
REPEATS = 3
TARGET_RATIO = 100.0
TARGET_REL_DIFF = 1e-6


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-neurons", type=int, default=4000)
    parser.add_argument("--c", type=int, default=200)
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads (set before numpy is imported)")
    args = parser.parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.blas_threads)
    import numpy as np  # after the thread settings

    from lowrank_rnn.connectivity import rank_one_network
    from lowrank_rnn.theory.spectrum import outliers, theory_bulk_radius, theory_outlier

    n, c = args.n_neurons, args.c
    load_before = os.getloadavg()
    net = rank_one_network(n, SIGMA2, SIGMA_MN, c=c, rescaled=True, rng=SEED)

    arpack_s, arpack_vals = [], []
    for rep in range(REPEATS):
        fresh = net.replace()  # no cached CSR: the build from the mask is timed too
        t0 = time.perf_counter()
        val = outliers(fresh, k=1, which="LR", rng=rep)[0]
        arpack_s.append(time.perf_counter() - t0)
        arpack_vals.append(val)

    t0 = time.perf_counter()
    dense = net.to_dense()
    densify_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ev = np.linalg.eigvals(dense)
    dense_s = time.perf_counter() - t0
    dense_val = ev[np.argmax(ev.real)]

    arpack_med = statistics.median(arpack_s)
    rel_diff = max(abs(v - dense_val) for v in arpack_vals) / abs(dense_val)
    ratio = dense_s / arpack_med
    report = {
        "benchmark": "arpack_vs_dense",
        "matrix": "rescaled sparse rank one P = X ⊙ m n^T (Herbert & Ostojic eq 12), C per column",
        "params": {"n_neurons": n, "C": c, "sigma2": SIGMA2, "sigma_mn": SIGMA_MN, "seed": SEED,
                   "rescaled": True},
        "theory_outlier_eq13": theory_outlier(SIGMA_MN, n_neurons=n, c=c, rescaled=True),
        "theory_bulk_radius_eq14": theory_bulk_radius(SIGMA2, n_neurons=n, c=c, rescaled=True),
        "arpack_s": [round(t, 4) for t in arpack_s],
        "arpack_median_s": round(arpack_med, 4),
        "dense_eigvals_s": round(dense_s, 3),
        "densify_s_not_counted": round(densify_s, 3),
        "speedup": round(ratio, 1),
        "arpack_outlier": [float(np.real(v)) for v in arpack_vals],
        "dense_outlier": float(np.real(dense_val)),
        "dense_outlier_imag": float(np.imag(dense_val)),
        "max_rel_diff": float(rel_diff),
        "cpu_count": os.cpu_count(),
        "blas_threads": args.blas_threads,
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "targets": {"speedup_at_least": TARGET_RATIO, "rel_diff_at_most": TARGET_REL_DIFF},
        "targets_met": bool(ratio >= TARGET_RATIO and rel_diff <= TARGET_REL_DIFF),
    }
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
