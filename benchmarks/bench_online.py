"""Benchmark: online RLS embedding vs FORCE: throughput at equal N, neurons and time at equal error.

Arora & Pillow 2025 (online closed-form training) against Sussillo & Abbott 2009 (FORCE), side
by side in the same run on the same target (the unit-circle limit cycle).

1. Throughput at equal N. Online: ``OnlineEmbedding(drive='network')``, an RLS update on N
   (K x 2) at every Euler step of the rank-2 latent (dt = 0.01). FORCE: a sparse chaotic
   network (g = 1.5, p = 0.1) with output feedback, an Euler step (dt = 0.1) of the
   N-dimensional state every step and an RLS update of the readout every 2 steps. Steps/s
   counts Euler steps of each method's own network; since the steps differ tenfold, the
   seconds per unit of training time (tau) are reported too.
2. Equal test error (the comparison the paper makes): both trained on the same number of
   periods, tested on a free run of 2 periods (relative RMSE, mean over seeds); FORCE's best
   error over its sizes and the N giving it, the smallest online N that reaches it, the
   ratio of those N (FORCE / online) and of their training wall times (FORCE / online; < 1:
   FORCE trains faster). The same measurement
   as ``reproduce arora2025`` Fig 3 (its helpers), at a size given here.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np

from lowrank_rnn.fit.online import FORCETrainer, OnlineEmbedding
from lowrank_rnn.fit.targets import limit_cycle
from lowrank_rnn.reproduce.arora2025 import _force_limit_cycle_error, _online_limit_cycle_error


def _throughput(neurons: list[int], steps: int, seed: int) -> list[dict]:
    rows = []
    for n in neurons:
        on = OnlineEmbedding(2, n, drive="network", dt=0.01, m_std=1.25, random_state=seed)
        on.fit(limit_cycle, np.array([1.0, 0.0]), t_span=steps * 0.01)
        t = np.arange(steps) * 0.1
        fo = FORCETrainer(n, random_state=seed).fit(np.column_stack([np.cos(t), np.sin(t)]))
        on_sps, fo_sps = on.info_["steps_per_second"], fo.info_["steps_per_second"]
        rows.append({
            "neurons": n,
            "online_steps_per_second": on_sps,
            "force_steps_per_second": fo_sps,
            "online_over_force_steps_per_second": on_sps / fo_sps,
            "online_seconds_per_tau": 1.0 / (on_sps * 0.01),
            "force_seconds_per_tau": 1.0 / (fo_sps * 0.1),
        })
    return rows


def _equal_error(force_sizes: list[int], online_sizes: list[int], periods: int,
                 seeds: int) -> dict:
    t_train, t_test = periods * 2 * np.pi, 2 * 2 * np.pi

    def mean(fn, n: int) -> tuple[float, float]:  # noqa: ANN001
        out = np.array([fn(n, s) for s in range(seeds)])
        return float(out[:, 0].mean()), float(out[:, 1].mean())

    force = {n: mean(lambda n, s: _force_limit_cycle_error(n, t_train, t_test, s), n)
             for n in force_sizes}
    online = {n: mean(lambda n, s: _online_limit_cycle_error(n, t_train, t_test, s, 0.01), n)
              for n in online_sizes}
    # FORCE's best mean error over its sizes (its error need not fall monotonically with N)
    nf = min(force_sizes, key=lambda n: force[n][0])
    eps = force[nf][0]
    no = next((n for n in online_sizes if online[n][0] <= eps), None)
    return {
        "train_periods": periods,
        "seeds": seeds,
        "force": {str(n): {"test_rel_rmse": e, "train_seconds": s} for n, (e, s) in force.items()},
        "online": {str(n): {"test_rel_rmse": e, "train_seconds": s}
                   for n, (e, s) in online.items()},
        "error_level": eps,
        "force_neurons_at_error": nf,
        "online_neurons_at_error": no,
        "neurons_force_over_online": None if no is None else nf / no,
        "train_seconds_force_over_online": None if no is None
        else force[nf][1] / online[no][1],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons", type=int, nargs="+", default=[16, 50, 200, 1000])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--force-sizes", type=int, nargs="+", default=[100, 200, 400])
    ap.add_argument("--online-sizes", type=int, nargs="+", default=[4, 8, 16, 32])
    ap.add_argument("--periods", type=int, default=10)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(json.dumps({
        "benchmark": "online_vs_force",
        "steps": args.steps,
        "throughput": _throughput(args.neurons, args.steps, args.seed),
        "equal_error": _equal_error(args.force_sizes, args.online_sizes, args.periods,
                                    args.seeds),
        "cpus": os.cpu_count(),
    }))


if __name__ == "__main__":
    main()
