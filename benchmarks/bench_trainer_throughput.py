"""BPTT trainer throughput (trials per second), low rank against full rank, side by side.

T = 100 steps, batch 64, one CPU thread (the trainer's default): N = 256 with rank 2 and
N = 4096 with rank 1 (the size of the field's published context-task networks). Each
configuration times complete optimisation steps of ``BPTTTrainer`` (forward, backward, gradient
clipping, Adam step) and splits one step into forward / backward / optimiser time. A subprocess
measures the time from ``import lowrank_rnn`` to the end of the first optimisation step.
Prints one JSON object.

Targets (issue): low rank >= full rank at N = 256 (and >= the 393 trials/s measured for the
previous trainer), >= 10x full rank at N = 4096, first step < 3 s after import.

    python benchmarks/bench_trainer_throughput.py [--steps 3] [--device cpu|cuda] [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np

FIRST_STEP = r"""
import time
t0 = time.perf_counter()
import numpy as np
import lowrank_rnn
from lowrank_rnn.fit.bptt import BPTTTrainer
from lowrank_rnn.tasks import random_dots_trials
batch = random_dots_trials(64, rng=0)
tr = BPTTTrainer(256, 2, n_epochs=1, batch_size=64, random_state=0).fit(batch)
print(time.perf_counter() - t0)
"""


def _time_steps(trainer, batch, steps: int) -> dict[str, float]:
    import torch

    from lowrank_rnn.fit.bptt import _torch_threads

    trainer.initialize(batch.inputs.shape[2], batch.targets.shape[2], batch.dt)
    u, y, m, lab = trainer._batch_tensors(batch)
    params = list(trainer.model_.parameters())
    sync = torch.cuda.synchronize if trainer.device_ == "cuda" else (lambda: None)
    fw, bw, op, tot = [], [], [], []
    with _torch_threads(trainer.n_threads if trainer.device_ == "cpu" else None):
        for i in range(steps + 1):
            sync()
            t0 = time.perf_counter()
            trainer.optimizer_.zero_grad(set_to_none=True)
            loss, _ = trainer._objective(u, y, m, lab, 0.0)
            sync()
            t1 = time.perf_counter()
            loss.backward()
            sync()
            t2 = time.perf_counter()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            trainer.optimizer_.step()
            sync()
            t3 = time.perf_counter()
            if i:  # the first step warms up
                fw.append(t1 - t0)
                bw.append(t2 - t1)
                op.append(t3 - t2)
                tot.append(t3 - t0)
    med = float(np.median(tot))
    return {
        "trials_per_s": batch.batch / med,
        "seconds_per_step": med,
        "forward_s": float(np.median(fw)),
        "backward_s": float(np.median(bw)),
        "optimizer_s": float(np.median(op)),
    }


def _profile(trainer, batch, top: int = 6) -> list[dict[str, float]]:
    """The operators taking most self CPU time in one step (torch.profiler)."""
    from torch.profiler import ProfilerActivity, profile

    from lowrank_rnn.fit.bptt import _torch_threads

    trainer.initialize(batch.inputs.shape[2], batch.targets.shape[2], batch.dt)
    u, y, m, lab = trainer._batch_tensors(batch)
    with _torch_threads(trainer.n_threads):
        trainer._objective(u, y, m, lab, 0.0)[0].backward()  # warm-up
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            loss, _ = trainer._objective(u, y, m, lab, 0.0)
            loss.backward()
    rows = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    return [{"op": r.key, "self_ms": round(r.self_cpu_time_total / 1e3, 2), "calls": r.count}
            for r in rows[:top]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="skip N = 4096 full rank")
    args = ap.parse_args()
    from lowrank_rnn.fit.bptt import BPTTTrainer
    from lowrank_rnn.tasks import TrialBatch

    t, b = 100, 64
    rng = np.random.default_rng(0)
    batch = TrialBatch(rng.standard_normal((b, t, 3)), rng.standard_normal((b, t, 3)),
                       np.ones((b, t, 3), bool), 0.1)
    out: dict[str, object] = {"benchmark": "bptt_trainer_throughput", "n_steps": t,
                              "batch": b, "device": args.device, "threads": 1}
    for n, rank in ((256, 2), (4096, 1)):
        low = _time_steps(BPTTTrainer(n, rank, device=args.device, random_state=0), batch,
                          args.steps)
        row: dict[str, object] = {"low_rank": low}
        if not (args.quick and n > 1000):
            full = _time_steps(BPTTTrainer(n, None, device=args.device, random_state=0), batch,
                               max(1, args.steps if n < 1000 else 1))
            row["full_rank"] = full
            row["speedup_low_vs_full"] = low["trials_per_s"] / full["trials_per_s"]
        if args.device == "cpu":
            row["profile_low_rank"] = _profile(BPTTTrainer(n, rank, random_state=0), batch)
        out[f"N{n}_rank{rank}"] = row
    r256 = out["N256_rank2"]
    out["previous_trainer_N256_rank2_trials_per_s"] = 393.0
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", FIRST_STEP], capture_output=True, text=True,
                         check=True)
    out["seconds_import_to_first_step"] = float(res.stdout.strip().splitlines()[-1])
    out["subprocess_wall_s"] = time.perf_counter() - t0
    targets = {
        "N256_low_rank_ge_full_rank": bool(r256.get("speedup_low_vs_full", 0) >= 1.0),
        "N256_low_rank_ge_previous_393": bool(r256["low_rank"]["trials_per_s"] >= 393.0),
        "first_step_under_3_s": bool(out["seconds_import_to_first_step"] < 3.0),
    }
    r4096 = out["N4096_rank1"]
    if "speedup_low_vs_full" in r4096:
        targets["N4096_low_rank_ge_10x_full_rank"] = bool(r4096["speedup_low_vs_full"] >= 10.0)
    out["targets_met"] = targets
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
