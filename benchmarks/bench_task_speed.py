"""Task speed: the Go/Nogo psychometric workload of Herbert & Ostojic Fig 6, batched vs baseline.

Workload (the authors' parameters): N = 2000, C = 100, sigma^2 = 0.1, sigma_mn = 0.06,
T = 40 tau, dt = 0.2, 12 strengths x 50 repeats = 600 trials. The fast path is
``simulate(..., dtype=float32, keep_x=False, backend='auto')`` (all trials at once, chunks of
trials on both cores; torch's gather kernel for the CSR product when PyTorch is installed); the
NumPy backend (scipy CSR) is timed beside it. The baseline is the authors' one-trial-at-a-time
dense matrix-vector Euler loop (``baseline_dense_euler``), run on the first
``--baseline-repeats`` repeats of every strength (the very same trials, same stimulus noise) and
compared per trial. Every path is timed ``--rounds`` times, interleaved, and the fastest round
of each is compared (this machine is shared: the minimum is the least disturbed measurement).
PyTorch is imported and warmed up before timing. Prints one JSON object.

Usage: python benchmarks/bench_task_speed.py [--quick] [--device cpu|cuda] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from baseline_dense_euler import simulate_trials  # noqa: E402

from lowrank_rnn.analysis import psychometric_curve  # noqa: E402
from lowrank_rnn.simulate import _resolve_backend, simulate  # noqa: E402
from lowrank_rnn.tasks.evidence import evidence_network, evidence_trials  # noqa: E402

TARGET, GOAL = 30.0, 60.0


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="10 repeats, 1 baseline repeat")
    p.add_argument("--device", default=None, help="also time the torch backend on this device")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--baseline-repeats", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rounds", type=int, default=None, help="timing rounds (default 2, quick 1)")
    a = p.parse_args(argv)
    repeats = a.repeats or (10 if a.quick else 50)
    base_rep = a.baseline_repeats or (1 if a.quick else 2)
    rounds = a.rounds or (1 if a.quick else 2)
    if not 1 <= base_rep <= repeats:
        raise SystemExit(f"--baseline-repeats={base_rep}: must be in [1, repeats={repeats}]")
    if rounds < 1:
        raise SystemExit(f"--rounds={rounds}: must be >= 1")
    n, c, dt = 2000, 100, 0.2
    strengths = np.linspace(0.0, 1.0, 12)
    en = evidence_network(n, 0.1, 0.06, c=c, rng=a.seed)
    tb = evidence_trials(strengths, repeats, dt=dt, rng=a.seed + 1)
    win = tb.info["window_steps"]
    idx = np.concatenate([np.arange(k * repeats, k * repeats + base_rep)
                          for k in range(strengths.size)])
    J = en.net.to_dense()
    fast_backend = _resolve_backend("auto", en.net, None)
    # warm-up (imports, kernel selection) outside the timed region
    simulate(en.net, tb.inputs[:4], en.x0, dt=dt, dtype=np.float32, keep_x=False,
             backend=fast_backend)

    def run_fast(backend):
        return simulate(en.net, tb.inputs, en.x0, dt=dt, dtype=np.float32, keep_x=False,
                        backend=backend).z

    runs = {
        "fast": lambda: run_fast(fast_backend),
        "numpy": lambda: run_fast("numpy"),
        "baseline": lambda: simulate_trials(J, en.net.I, tb.inputs[idx], en.x0, dt, en.w),
    }
    times: dict[str, list[float]] = {k: [] for k in runs}
    results = {}
    for _ in range(rounds):
        for name, f in runs.items():
            t0 = time.perf_counter()
            results[name] = f()
            times[name].append(time.perf_counter() - t0)
    zf, zn, zb = results["fast"], results["numpy"], results["baseline"]
    fast = psychometric_curve(zf, tb.info["strength"], window_steps=win)
    base = psychometric_curve(zb, tb.info["strength"][idx], window_steps=win)
    per_fast = min(times["fast"]) / tb.batch
    per_numpy = min(times["numpy"]) / tb.batch
    per_base = min(times["baseline"]) / idx.size
    ratio = per_base / per_fast
    # same trials, same noise: decisions should agree except at the margin
    dec_base = zb[:, -win:].mean(axis=1) > 0
    same = float(np.mean((zf[idx, -win:, 0].mean(axis=1) > 0) == dec_base))
    same_numpy = float(np.mean((zn[idx, -win:, 0].mean(axis=1) > 0) == dec_base))
    pooled = (fast["p_positive"] * repeats + base["p_positive"] * base_rep) / (repeats + base_rep)
    se = np.sqrt(pooled * (1 - pooled) * (1 / repeats + 1 / base_rep))
    within = bool(np.all(np.abs(fast["p_positive"] - base["p_positive"]) <= 2 * se + 1e-12))
    out = {
        "benchmark": "task_speed",
        "workload": {"n_neurons": n, "c": c, "sigma2": 0.1, "sigma_mn": 0.06, "t_total": 40.0,
                     "dt": dt, "strengths": strengths.size, "repeats": repeats,
                     "trials": int(tb.batch), "baseline_trials": int(idx.size)},
        "fast_backend": fast_backend,
        "rounds": rounds,
        "fast_seconds": times["fast"],
        "numpy_seconds": times["numpy"],
        "baseline_seconds": times["baseline"],
        "fast_seconds_per_trial": per_fast,
        "numpy_seconds_per_trial": per_numpy,
        "baseline_seconds_per_trial": per_base,
        "baseline_seconds_extrapolated_all_trials": per_base * tb.batch,
        "speedup": ratio,
        "speedup_numpy_backend": per_base / per_numpy,
        "target": TARGET,
        "goal": GOAL,
        "target_met": bool(ratio >= TARGET),
        "goal_met": bool(ratio >= GOAL),
        "p_positive_fast": fast["p_positive"].round(4).tolist(),
        "p_positive_baseline": base["p_positive"].round(4).tolist(),
        "same_decision_fraction": same,
        "same_decision_fraction_numpy_backend": same_numpy,
        "curves_agree_within_binomial_error": within,
        "cpu_count": os.cpu_count(),
    }
    if a.device:
        def run_device():
            return simulate(en.net, tb.inputs, en.x0, dt=dt, dtype=np.float32, keep_x=False,
                            backend="torch", device=a.device).z

        simulate(en.net, tb.inputs[:4], en.x0, dt=dt, dtype=np.float32, keep_x=False,
                 backend="torch", device=a.device)  # device start-up outside the timing
        dev_times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            zt = run_device()
            dev_times.append(time.perf_counter() - t0)
        out["torch_device"] = a.device
        out["torch_seconds"] = dev_times
        out["torch_speedup"] = per_base / (min(dev_times) / tb.batch)
        tcurve = psychometric_curve(zt, tb.info["strength"], window_steps=win)
        out["p_positive_torch"] = tcurve["p_positive"].round(4).tolist()
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
