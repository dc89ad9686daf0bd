"""Benchmark: training throughput (steps/s) of online RLS embedding vs FORCE at equal N.

Arora & Pillow 2025 (online closed-form training) against Sussillo & Abbott 2009 (FORCE), side
by side in the same run on the same target (the unit-circle limit cycle) and the same number
of neurons. Online: ``OnlineEmbedding(drive='network')``, an RLS update on N (K x 2) at every
Euler step of the rank-2 latent (dt = 0.01). FORCE: a sparse chaotic network (g = 1.5,
p = 0.1) with output feedback, an Euler step (dt = 0.1) of the N-dimensional state every step
and an RLS update of the readout every 2 steps. Both updates cost O(N^2); FORCE also steps N
units through a sparse J. Steps/s counts Euler steps of each method's own network.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np

from lowrank_rnn.fit.online import FORCETrainer, OnlineEmbedding
from lowrank_rnn.fit.targets import limit_cycle


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons", type=int, nargs="+", default=[50, 200, 1000])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rows = []
    for n in args.neurons:
        on = OnlineEmbedding(2, n, drive="network", dt=0.01, m_std=1.25, random_state=args.seed)
        on.fit(limit_cycle, np.array([1.0, 0.0]), t_span=args.steps * 0.01)
        t = np.arange(args.steps) * 0.1
        fo = FORCETrainer(n, random_state=args.seed).fit(np.column_stack([np.cos(t),
                                                                          np.sin(t)]))
        rows.append({
            "neurons": n,
            "online_steps_per_second": on.info_["steps_per_second"],
            "force_steps_per_second": fo.info_["steps_per_second"],
            "online_over_force": on.info_["steps_per_second"] / fo.info_["steps_per_second"],
        })
    print(json.dumps({"benchmark": "online_vs_force_throughput", "steps": args.steps,
                      "rows": rows, "cpus": os.cpu_count()}))


if __name__ == "__main__":
    main()
