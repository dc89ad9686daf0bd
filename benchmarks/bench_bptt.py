"""BPTT training throughput (trials per second): N = 256, rank 2, T = 100, batch 64.

Measured side by side in one run: the library's low-rank trainer (J applied through its factors,
O(N R) per trial and step) against a baseline that forms the dense J = M N^T / N at every step
(O(N^2)), and the full-rank trainer of the same size. Prints one JSON object.

    python benchmarks/bench_bptt.py [--device cpu|cuda] [--steps 3]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def _throughput(trainer, batch, steps: int, dense_baseline: bool = False) -> float:
    import torch

    from lowrank_rnn.fit.bptt import _torch_threads

    trainer.initialize(batch.inputs.shape[2], batch.targets.shape[2], batch.dt)
    model = trainer.model_
    u = trainer._tensor(batch.inputs)
    y = trainer._tensor(batch.targets)
    if dense_baseline:
        def forward(u):
            b, n_t, _ = u.shape
            x = u.new_zeros((b, model.n_neurons))
            drive = u @ model.I.T
            a = model.dt / model.tau
            xs = []
            for k in range(n_t):
                J = model.M @ model.N.T / model.n_neurons  # formed every step
                x = x + a * (torch.tanh(x) @ J.T - x + drive[:, k])
                xs.append(x)
            return torch.tanh(torch.stack(xs, 1)) @ model.W
    else:
        forward = model
    with _torch_threads(trainer.n_threads if trainer.device_ == "cpu" else None):
        times = []
        for i in range(steps + 1):
            if trainer.device_ == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            loss = ((forward(u) - y) ** 2).mean()
            trainer.optimizer_.zero_grad()
            loss.backward()
            trainer.optimizer_.step()
            if trainer.device_ == "cuda":
                torch.cuda.synchronize()
            if i:  # the first step warms up
                times.append(time.perf_counter() - t0)
    return batch.batch / float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--steps", type=int, default=3)
    args = ap.parse_args()
    from lowrank_rnn.fit.bptt import BPTTTrainer
    from lowrank_rnn.tasks import TrialBatch

    n, rank, t, b = 256, 2, 100, 64
    rng = np.random.default_rng(0)
    batch = TrialBatch(rng.standard_normal((b, t, 3)), rng.standard_normal((b, t, 3)),
                       np.ones((b, t, 3), bool), 0.1, "benchmark")
    low = BPTTTrainer(n, rank, device=args.device, random_state=0)
    full = BPTTTrainer(n, None, device=args.device, random_state=0)
    ours = _throughput(low, batch, args.steps)
    dense = _throughput(BPTTTrainer(n, rank, device=args.device, random_state=0), batch,
                        args.steps, dense_baseline=True)
    full_tp = _throughput(full, batch, args.steps)
    print(json.dumps({
        "benchmark": "bptt_training_throughput",
        "device": low.device_,
        "n_neurons": n, "rank": rank, "n_steps": t, "batch": b,
        "low_rank_trials_per_s": ours,
        "dense_J_baseline_trials_per_s": dense,
        "full_rank_trials_per_s": full_tp,
        "speedup_vs_dense_J": ours / dense,
        "target": "low-rank trainer at least as fast as forming dense J each step",
        "target_met": bool(ours >= dense),
    }))


if __name__ == "__main__":
    main()
