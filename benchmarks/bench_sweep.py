"""Benchmark: the Fig 1C sweep (Herbert & Ostojic 2022) serially vs on a 2-worker LocalCluster.

Spectral radius of a full-rank Gaussian matrix (N = 1000, g = 1) by dense ``eigvals`` at 20
sparsity levels × I instances. The paper uses I = 50 (``--instances 50``: about 1000 dense
eigendecompositions, many minutes on 2 cores); the default runs fewer instances so the benchmark
stays within a few minutes. Both runs go through :func:`lowrank_rnn.sweep.run_sweep` with a
results store (per-point writes included).

Fairness: BLAS/OpenMP are limited to one thread in this process (the serial baseline) and in every
worker, so the serial run uses one core and the cluster two. The cluster start-up is timed
separately; the speedup is reported both with and without it. On a machine shared with other
work the load changes over time, so the serial and Dask runs alternate, one instance (20 points)
at a time, and each total is summed over its rounds; the serial process and each worker run in
a session of their own (see ``_own_session``; ``--same-session`` to disable). Prints one JSON
object.
"""

from __future__ import annotations

import os

# one BLAS thread for the serial baseline too: set before numpy is imported
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

TARGET_SPEEDUP = 1.7


def _own_session() -> bool:
    """Move this process into a new session (so a new CPU autogroup); False if not possible.

    Linux with ``sched_autogroup_enabled`` shares the CPUs fairly between sessions, not between
    processes: on a machine shared with other users, two workers in one session get no more CPU
    than one serial process, and no parallel speedup can be measured. Giving the serial
    baseline and each worker a session of its own restores per-process sharing, as on a machine
    without autogroups.
    """
    try:
        os.setsid()
    except OSError:
        return False
    return True


def _autogroups_enabled() -> bool:
    try:
        return Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1"
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-neurons", type=int, default=1000)
    parser.add_argument("--levels", type=int, default=20, help="number of sparsity levels")
    parser.add_argument("--instances", type=int, default=2,
                        help="instances per level (the paper: 50)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--same-session", action="store_true",
                        help="keep the workers in this process's session (see _own_session)")
    args = parser.parse_args()
    own_sessions = not args.same_session
    if own_sessions:
        _own_session()

    from distributed import LocalCluster

    from lowrank_rnn.reproduce.herbert2022.points import gaussian_radius_point
    from lowrank_rnn.sweep import WORKER_ENV, run_sweep

    grid = {"sparsity": [float(s) for s in np.round(np.linspace(0.0, 0.95, args.levels), 4)]}
    fixed = {"n_neurons": args.n_neurons, "g": 1.0}
    n_points = args.levels * args.instances
    load_start = os.getloadavg()[0]
    t_serial = t_dask = 0.0
    serial_parts, dask_parts = [], []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR,
                               env=dict(WORKER_ENV))
        t_startup = time.perf_counter() - t0
        try:
            if own_sessions:
                from distributed import Client

                with Client(cluster, set_as_default=False) as client:
                    client.run(_own_session)
            # warm the workers (imports) so that the timed rounds measure the sweep only
            run_sweep(gaussian_radius_point, {"sparsity": [0.0]}, 2 * args.workers,
                      fixed={"n_neurons": 50, "g": 1.0}, scheduler=cluster.scheduler_address,
                      progress=False)
            # alternate serial and Dask rounds (one seed each) so both see the same machine load
            for seed in range(args.instances):
                t0 = time.perf_counter()
                serial_parts.append(run_sweep(
                    gaussian_radius_point, grid, [seed], fixed=fixed,
                    store=Path(tmp) / "serial", workers=0, progress=False))
                t_serial += time.perf_counter() - t0
                t0 = time.perf_counter()
                dask_parts.append(run_sweep(
                    gaussian_radius_point, grid, [seed], fixed=fixed,
                    store=Path(tmp) / "dask", scheduler=cluster.scheduler_address,
                    progress=False))
                t_dask += time.perf_counter() - t0
        finally:
            cluster.close()
    import xarray as xr

    serial = xr.concat(serial_parts, dim="seed")
    par = xr.concat(dask_parts, dim="seed")
    same = bool(np.array_equal(serial["radius"].values, par["radius"].values))
    # Fig 1C itself: the mean radius against g sqrt(1 - s) (eq 6)
    rel_err = float(np.max(np.abs(serial["radius"].mean("seed") / serial["theory_radius"]
                                  .isel(seed=0) - 1)))
    speedup = t_serial / t_dask
    speedup_total = t_serial / (t_dask + t_startup)
    print(json.dumps({
        "benchmark": "sweep_fig1c",
        "n_neurons": args.n_neurons,
        "sparsity_levels": args.levels,
        "instances_per_level": args.instances,
        "points": n_points,
        "workers": args.workers,
        "cpu_count": os.cpu_count(),
        "blas_threads": "1 in the serial baseline and in every worker (OMP/OPENBLAS/MKL=1)",
        "serial_s": round(t_serial, 3),
        "dask_s": round(t_dask, 3),
        "cluster_startup_s": round(t_startup, 3),
        "serial_s_per_point": round(t_serial / n_points, 4),
        "speedup": round(speedup, 3),
        "speedup_including_startup": round(speedup_total, 3),
        "target_speedup": TARGET_SPEEDUP,
        "target_met": bool(speedup >= TARGET_SPEEDUP),
        "same_dataset": same,
        "max_rel_err_mean_radius_vs_eq6": round(rel_err, 4),
        "design": "serial and Dask rounds alternate (one instance per round); workers warmed up",
        "own_sessions": own_sessions,
        "cpu_autogroups": _autogroups_enabled(),
        "load_average_start_end": [round(load_start, 2), round(os.getloadavg()[0], 2)],
    }))


if __name__ == "__main__":
    main()
