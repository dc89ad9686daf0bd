"""Task generation speed: trials per second for 10,000 trials of each task.

Measured side by side: a per-trial Python loop that builds the same trial structure (on fewer
trials, scaled to a rate), and the rate at which BPTT consumes trials (N = 256, rank 2, T = 100,
batch 64, as in bench_bptt.py). Target: generation is not the bottleneck of training (>= 10x the
BPTT rate) and beats the loop. Rates are medians of repeated calls after a warm-up, as the BPTT
rate is; the first (cold) call of the process and the rate at the training batch size (64) are
reported too. Prints one JSON object.

    python benchmarks/bench_tasks.py [--trials 10000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def _loop_flipflop(batch: int, n_steps: int = 200, pulse_steps: int = 5, p: float = 0.075):
    rng = np.random.default_rng(0)
    inputs = np.zeros((batch, n_steps, 3))
    targets = np.zeros((batch, n_steps, 3))
    for i in range(batch):
        for c in range(3):
            last = 0.0
            for s in range(0, n_steps, pulse_steps):
                if rng.random() < p:
                    last = 1.0 if rng.random() < 0.5 else -1.0
                    inputs[i, s : s + pulse_steps, c] = last
                targets[i, s : s + pulse_steps, c] = last
    return inputs, targets


def _loop_decision(batch: int, dt: float = 0.1):
    rng = np.random.default_rng(0)
    inputs = np.zeros((batch, 50, 1))
    targets = np.zeros((batch, 50, 1))
    for i in range(batch):
        c = rng.choice([0.05, 0.1, 0.2, 0.4]) * (1 if rng.random() < 0.5 else -1)
        e = 0.0
        for s in range(5, 25):
            inputs[i, s, 0] = c + 0.3 / np.sqrt(dt) * rng.standard_normal()
            e += inputs[i, s, 0] * dt
        targets[i, 30:, 0] = 1.0 if e >= 0 else -1.0
    return inputs, targets


def _rate(fn, n: int, repeats: int = 3) -> float:
    """Trials per second: the median of ``repeats`` timed calls after one warm-up call.

    The warm-up keeps the first touch of freshly mapped memory out of the figure (one cold
    10,000-trial call of the flip-flop spends most of its time in page faults), as the BPTT
    rate it is compared with also leaves out its first step.
    """
    fn(n)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(n)
        times.append(time.perf_counter() - t0)
    return n / float(np.median(times))


def _cold_rate(fn, n: int) -> float:
    t0 = time.perf_counter()
    fn(n)
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trials", type=int, default=10_000)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from lowrank_rnn.tasks import decision_trials, flipflop_trials

    n = args.trials
    out = {"benchmark": "task_generation", "trials": n}
    for name, fast, slow in (
        ("flipflop", lambda k: flipflop_trials(k, rng=0), _loop_flipflop),
        ("decision", lambda k: decision_trials(k, rng=0), _loop_decision),
    ):
        cold = _cold_rate(fast, n)  # first call of the process, before any warm-up
        ours = _rate(fast, n)
        base = _rate(slow, max(n // 20, 50))
        out[f"{name}_cold_first_call_trials_per_s"] = cold
        out[f"{name}_batch64_trials_per_s"] = _rate(fast, 64, repeats=20)
        out[f"{name}_trials_per_s"] = ours
        out[f"{name}_loop_baseline_trials_per_s"] = base
        out[f"{name}_speedup"] = ours / base
    from bench_bptt import _throughput

    from lowrank_rnn.fit.bptt import BPTTTrainer

    train = flipflop_trials(64, n_steps=100, rng=1)
    bptt = _throughput(BPTTTrainer(256, 2, random_state=0), train, 2)
    out["bptt_training_trials_per_s"] = bptt
    out["target"] = "generation >= 10x the BPTT training rate and faster than the loop"
    out["target_met"] = bool(all(
        out[f"{k}_trials_per_s"] >= 10 * bptt and out[f"{k}_speedup"] > 1
        for k in ("flipflop", "decision")
    ))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
