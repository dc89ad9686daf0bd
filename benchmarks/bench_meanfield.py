"""Benchmark of the mean-field machinery (Beiran et al. 2021). Prints one JSON object.

1. Flow field on a 200 x 200 grid, rank 2, 10 populations (tanh, non-zero means, full
   covariances, one input): mean-field quadrature against the naive alternative measured side by
   side, evaluating ``(1/N) N^T phi(M kappa + I v)`` of a sampled network (N = 10,000) at every
   grid point. Goal: mean field under 1 s.
2. The same trajectory from the latent (mean-field) equation and from the full network
   (N = 10,000, ``lowrank_rnn.simulate.simulate``), same Euler step: time ratio and deviation.

Usage: ``python benchmarks/bench_meanfield.py [--grid 200] [--populations 10] [--neurons 10000]``
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from lowrank_rnn.simulate import latent_projection, simulate
from lowrank_rnn.theory.meanfield import GaussianMixture, flow_field, latent_trajectory


def random_mixture(P: int, rng: np.random.Generator) -> GaussianMixture:
    R, K = 2, 1
    D = 2 * R + K
    A = rng.normal(size=(P, D, D))
    covs = A @ A.transpose(0, 2, 1) / D
    return GaussianMixture(rng.dirichlet(np.ones(P)), rng.normal(size=(P, D)) * 0.5, covs,
                           rank=R)


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def sampled_flow(net, k1: np.ndarray, k2: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Naive flow: (1/N) N^T tanh(M kappa + I v) - kappa at each grid point, in chunks."""
    K = np.stack(np.meshgrid(k1, k2), axis=-1).reshape(-1, 2)
    out = np.empty_like(K)
    base = net.I @ v
    for a in range(0, K.shape[0], 500):
        x = K[a : a + 500] @ net.M.T + base
        out[a : a + 500] = np.tanh(x) @ net.N / net.n_neurons - K[a : a + 500]
    return out.reshape(k2.size, k1.size, 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--grid", type=int, default=200)
    ap.add_argument("--populations", type=int, default=10)
    ap.add_argument("--neurons", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    mix = random_mixture(args.populations, rng)
    v = np.array([0.5])

    # 1. flow field
    t_mf, (k1, k2, F) = best_of(lambda: flow_field(mix, (-2, 2), (-2, 2), n=args.grid, v=v),
                                args.repeats)
    t_fast, (_, _, F_fast) = best_of(
        lambda: flow_field(mix, (-2, 2), (-2, 2), n=args.grid, v=v, fast=True), args.repeats)
    net = mix.network(args.neurons, rng=args.seed + 1)
    t_naive, F_net = best_of(lambda: sampled_flow(net, k1, k2, v), 1)
    flow_dev = float(np.sqrt(np.mean((F - F_net) ** 2)))

    # 2. latent vs full simulation
    dt, n_steps, k0 = 0.1, 200, np.array([1.0, -0.5])
    t_lat, lat = best_of(lambda: latent_trajectory(mix, k0, v, dt=dt, n_steps=n_steps,
                                                   method="euler"), args.repeats)
    u = np.broadcast_to(v, (1, n_steps, 1))
    x0 = net.M @ k0 + net.I @ v
    t_net, tr = best_of(lambda: simulate(net, u, x0, dt=dt, n_steps=n_steps), 1)
    kap = latent_projection(tr.x[0], np.hstack([net.M, net.I]))[:, :2]
    traj_dev = float(np.max(np.abs(kap - lat.kappa[0])))
    # a batch of trajectories (final states only for the network, to bound memory)
    nb = args.batch
    K0 = rng.uniform(-1.5, 1.5, size=(nb, 2))
    t_lat_b, lat_b = best_of(lambda: latent_trajectory(mix, K0, v, dt=dt, n_steps=n_steps,
                                                       method="euler"), 1)
    ub = np.broadcast_to(v, (nb, n_steps, 1))
    X0 = K0 @ net.M.T + net.I @ v
    t_net_b, tr_b = best_of(lambda: simulate(net, ub, X0, dt=dt, n_steps=n_steps,
                                             save_every=n_steps), 1)
    kap_b = latent_projection(tr_b.x[:, -1], np.hstack([net.M, net.I]))[:, :2]
    batch_dev = float(np.max(np.abs(kap_b - lat_b.kappa[:, -1])))

    print(json.dumps({
        "benchmark": "meanfield",
        "machine": platform.machine(),
        "flow_field": {
            "grid": args.grid, "populations": args.populations, "rank": 2,
            "seconds_mean_field": round(t_mf, 4),
            "seconds_sampled_network_baseline": round(t_naive, 4),
            "baseline_neurons": args.neurons,
            "speedup_vs_sampled_network": round(t_naive / t_mf, 2),
            "rms_difference_vs_sampled_network": flow_dev,
            "goal_seconds": 1.0,
            "goal_met": bool(t_mf < 1.0),
            "seconds_mean_field_fast": round(t_fast, 4),
            "fast_goal_met": bool(t_fast < 1.0),
            "fast_max_abs_difference": float(np.max(np.abs(F_fast - F))),
        },
        "latent_vs_network_simulation": {
            "neurons": args.neurons, "steps": n_steps, "dt": dt,
            "seconds_latent": round(t_lat, 4),
            "seconds_network": round(t_net, 4),
            "ratio_network_over_latent": round(t_net / t_lat, 2),
            "max_kappa_deviation": traj_dev,
            "batch": nb,
            "seconds_latent_batch": round(t_lat_b, 4),
            "seconds_network_batch": round(t_net_b, 4),
            "ratio_network_over_latent_batch": round(t_net_b / t_lat_b, 2),
            "max_final_kappa_deviation_batch": batch_dev,
        },
    }))


if __name__ == "__main__":
    main()
