"""Scale: N = 100,000 neurons, C = 100 per column, 100 trials x 200 steps, peak memory < 4 GB.

Rescaled sparse rank-one network (Herbert & Ostojic eq 12, sigma^2 = 0.1, sigma_mn = 0.06), all
trials batched in float32 with only the readout/latent projections kept (``keep_x=False``).
Peak memory is the process's maximum resident set size (``ru_maxrss``), which includes the
Python interpreter and libraries. A dense float64 J would need 8 N^2 bytes (80 GB), reported
for comparison. Prints one JSON object.

The default run does 20 steps (peak memory does not grow with the number of steps, since only
projections are kept) and extrapolates the time to 200; ``--steps 200`` runs the full workload
(measured on 2 cores: 36 s with the torch backend, peak 0.79 GB; the numpy backend about 0.9 s
per step, peak 0.54 GB: every non-zero reads a random row of the (N, chunk) activity, so the
product is memory-latency bound).

``--backend`` picks the simulation backend (default ``auto``: torch's CPU gather kernel when
PyTorch is installed, scipy otherwise); torch's import adds to the peak memory.

Usage: python benchmarks/bench_simulate_scale.py [--quick] [--steps S] [--trials B]
       [--backend auto|numpy|torch]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np

from lowrank_rnn.connectivity import rank_one_network
from lowrank_rnn.simulate import _resolve_backend, simulate

LIMIT_GB = 4.0


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="5 steps")
    p.add_argument("--n-neurons", type=int, default=100_000)
    p.add_argument("--c", type=int, default=100)
    p.add_argument("--trials", type=int, default=100)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", default="auto", choices=["auto", "numpy", "torch"])
    a = p.parse_args(argv)
    steps = a.steps or (5 if a.quick else 20)
    t0 = time.perf_counter()
    net = rank_one_network(a.n_neurons, 0.1, 0.06, c=a.c, rescaled=True, rng=a.seed)
    net.sparse_connectivity()
    t_build = time.perf_counter() - t0
    m = net.M[:, 0]
    rng = np.random.default_rng(a.seed + 1)
    x0 = m[None, :] * rng.choice([-1.0, 1.0], size=(a.trials, 1))
    t0 = time.perf_counter()
    tr = simulate(net, None, x0, dt=0.2, n_steps=steps, dtype=np.float32, keep_x=False,
                  save_every=1, backend=a.backend)
    t_sim = time.perf_counter() - t0
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1024**3
    if sys.platform == "darwin":  # pragma: no cover - ru_maxrss is in bytes there
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**3
    out = {
        "benchmark": "simulate_scale",
        "n_neurons": a.n_neurons,
        "c": a.c,
        "backend": _resolve_backend(a.backend, net, None),
        "nnz": int(net.mask.nnz),
        "trials": a.trials,
        "steps": steps,
        "build_seconds": t_build,
        "simulate_seconds": t_sim,
        "seconds_per_step": t_sim / steps,
        "simulate_seconds_extrapolated_200_steps": t_sim / steps * 200,
        "peak_rss_gb": peak_gb,
        "limit_gb": LIMIT_GB,
        "target_met": bool(peak_gb < LIMIT_GB),
        "dense_float64_would_need_gb": 8 * a.n_neurons**2 / 1024**3,
        "final_kappa_abs_mean": float(np.abs(tr.kappa[:, -1, 0]).mean()),
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
