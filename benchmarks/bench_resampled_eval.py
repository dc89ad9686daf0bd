"""Benchmark: scoring resampled networks in ``reproduce dubreuil2022`` (and the bootstrap controls
of ``beiran2021`` Figs 8-9), before and after, side by side on the same networks.

A rank-one network is trained on context-dependent decisions at the paper's scale (N = 256, 60
epochs; :func:`lowrank_rnn.reproduce.dubreuil2022.train_task_network`), a two-population mixture
is fitted, and ``--draws`` networks of N = 1024 are scored on 512 held-out trials:

- reference: float64 simulation of every network (the figure before);
- new: :func:`lowrank_rnn.reproduce.dubreuil2022._accuracy` (float32, decisions within
  ``DECISION_MARGIN`` of the boundary recomputed in float64);
- bootstrap controls: every copy simulated (reference) against the copies merged
  (``bootstrap_network(..., merge_copies=True)``).

CPU seconds (:func:`time.process_time`, one thread) of each, their ratio, and whether every
accuracy is equal. Prints one JSON object.

Usage::

    python benchmarks/bench_resampled_eval.py --draws 6
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def main() -> None:
    """Time the float64 reference against the float32 scoring, and full against merged
    bootstrap networks."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    import lowrank_rnn.reproduce.dubreuil2022 as dub
    from lowrank_rnn.fit.populations import bootstrap_network, fit_populations
    from lowrank_rnn.simulate import simulate
    from lowrank_rnn.tasks import TASKS, decision_accuracy, task_streams

    net = dub.train_task_network("context", 1, 256, 60, args.seed).to_network()
    test = TASKS["context"].trials(512, rng=task_streams(args.seed)["test"])
    mix = fit_populations(net, 2, rng=args.seed).mixture_
    nets = [mix.sample_network(1024, rng=g) for g in range(args.draws)]

    def ref(nw):  # noqa: ANN001, ANN202
        z = simulate(nw, test.inputs, dt=test.dt, keep_x=False).z[:, 1:]
        return float(decision_accuracy(z, test))

    def timed(f, items):  # noqa: ANN001, ANN202
        t0 = time.process_time()
        out = [f(x) for x in items]
        return out, time.process_time() - t0

    a_ref, t_ref = timed(ref, nets)
    a_new, t_new = timed(lambda nw: dub._accuracy(nw, test), nets)
    gens = range(args.draws)
    b_ref, tb_ref = timed(lambda g: ref(bootstrap_network(net, 1024, rng=g)), gens)
    b_new, tb_new = timed(lambda g: dub._accuracy(bootstrap_network(net, 1024, rng=g,
                                                                    merge_copies=True), test),
                          gens)
    print(json.dumps({
        "benchmark": "scoring resampled networks (CDM, N = 1024, 512 trials)",
        "draws": args.draws, "threads": 1,
        "resampled": {"reference_float64_cpu_s": round(t_ref, 2),
                      "float32_guarded_cpu_s": round(t_new, 2),
                      "speedup": round(t_ref / max(t_new, 1e-9), 2),
                      "accuracies_equal": a_ref == a_new,
                      "accuracy_mean": float(np.mean(a_new))},
        "bootstrap": {"reference_every_copy_cpu_s": round(tb_ref, 2),
                      "merged_copies_cpu_s": round(tb_new, 2),
                      "speedup": round(tb_ref / max(tb_new, 1e-9), 2),
                      "accuracies_equal": b_ref == b_new,
                      "accuracy_mean": float(np.mean(b_new))},
    }, indent=1))


if __name__ == "__main__":
    main()
