"""Beiran et al. 2021: example figures of ours that add checks the paper's figures do not.

Figures (numbering ours; each tests a claim of the paper with check rows):

- ``MF vs N``: finite networks approach the mean field, deviation ~ 1/sqrt(N).
- ``One population``: rank 2, one zero-mean Gaussian population. A symmetric overlap gives one
  pair of stable fixed points on the leading eigenvector (plus saddles); a rotational overlap
  gives a limit cycle whose radius and period follow from the mean field in closed form.
- ``Two populations``: each population gates one latent variable (effective circuit), giving
  four stable fixed points, which a single population cannot produce; the effective couplings
  measured in a finite network match the mixture's within sampling error; each latent fixed
  point matches the finite network's (Newton) within its own finite-N tolerance, and their
  stability (R x R reduced matrix, and a perturbation simulation).

The paper's own figures are in :mod:`lowrank_rnn.reproduce.beiran2021.figures`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from scipy.integrate import quad
from scipy.optimize import brentq

from lowrank_rnn._validate import RngLike
from lowrank_rnn.fit.populations import (
    rotational_cycle_theory,
    rotational_mixture,
    simulate_cycle,
)
from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.reproduce._core import (
    Checks,
    FigureData,
    FigureSpec,
    Settings,
    finish_figure,
    sweep_options,
)
from lowrank_rnn.simulate import latent_projection, simulate
from lowrank_rnn.sweep import run_sweep
from lowrank_rnn.theory.fixedpoints import find_latent_fixed_points, network_fixed_point
from lowrank_rnn.theory.meanfield import (
    GaussianMixture,
    effective_circuit,
    flow_field,
    latent_trajectory,
    nullclines,
)
from lowrank_rnn.transfer import get_phi

KEY = "beiran2021"


# --------------------------------------------------------------------------- shared models
def two_population_mixture(overlap: float = 2.4) -> GaussianMixture:
    """Rank 2, two zero-mean populations; population p has ``m_p`` and an overlap on (n_p, m_p).

    Loadings ordered (m1, m2, n1, n2). In population p only ``m_p`` varies (variance 1), so its
    gain depends on kappa_p alone and the effective circuit is two decoupled units with
    couplings ``overlap / 2 * <phi'>_p``.
    """
    covs = np.zeros((2, 4, 4))
    for p in range(2):
        m, n, other = p, 2 + p, 3 - p
        covs[p, m, m] = 1.0
        covs[p, n, n] = overlap**2 + 0.5
        covs[p, m, n] = covs[p, n, m] = overlap
        covs[p, other, other] = 1.0
    return GaussianMixture(np.array([0.5, 0.5]), np.zeros((2, 4)), covs, rank=2)


def symmetric_mixture(l1: float = 1.6, l2: float = 1.2) -> GaussianMixture:
    """One zero-mean population, rank 2, ``Cov(m) = I``, overlap ``diag(l1, l2)``."""
    cov = np.zeros((4, 4))
    cov[:2, :2] = np.eye(2)
    S = np.diag([l1, l2])
    cov[2:, :2] = S
    cov[:2, 2:] = S
    cov[2:, 2:] = (max(l1, l2) ** 2 + 0.5) * np.eye(2)
    return GaussianMixture.single(cov, rank=2)


def _quad_gain(variance: float) -> float:
    """``<tanh'>(0, variance)`` by adaptive quadrature (independent of the library's rule)."""
    if variance <= 0:
        return 1.0
    s = np.sqrt(variance)
    val = quad(lambda xi: (1 - np.tanh(s * xi) ** 2) * np.exp(-xi * xi / 2), -12.0, 12.0,
               epsabs=1e-14, epsrel=1e-12, points=[0.0], limit=500)[0]
    return val / np.sqrt(2 * np.pi)


def _radius_theory(gain: float) -> float:
    """The c > 0 with ``gain * <tanh'>(0, c^2) = 1`` (fixed point on an eigen-direction)."""
    return brentq(lambda c: gain * _quad_gain(c * c) - 1.0, 1e-6, 20.0, xtol=1e-12)


def fixed_point_tolerance(mix: GaussianMixture, kappa: np.ndarray, jacobian: np.ndarray,
                          n_neurons: int, *, n_sd: float = 5.0, n_ref: int = 100_000,
                          rng: RngLike = None) -> float:
    """``n_sd`` standard deviations of the finite-N shift of one latent fixed point.

    A finite pure low-rank network (``J = M N^T / N``) has its fixed points at ``x = M kappa``
    with ``kappa = N^T phi(M kappa) / N``: the mixture average of the mean-field fixed-point
    equation (Beiran et al. 2021, Eq. 15) replaced by a sample mean. At the latent fixed point
    the sample mean fluctuates by ``dF`` with covariance ``C / N``,
    ``C = sum_p alpha_p Cov_p(n phi(m . kappa))`` (within populations: their sizes are fixed),
    and moves the fixed point by ``-J^{-1} dF`` to first order, ``J`` the latent Jacobian of
    THIS fixed point. ``C`` is estimated from an independent reference sample of ``n_ref``
    neurons.

    Parameters
    ----------
    mix : GaussianMixture
    kappa : ndarray, shape (R,)
        The latent fixed point.
    jacobian : ndarray, shape (R, R)
        The latent Jacobian at ``kappa``.
    n_neurons : int
        Size of the finite network.

    Returns
    -------
    float
        ``n_sd * sqrt(largest eigenvalue of J^{-1} C J^{-T} / N)`` plus ``1e-8`` (Newton's
        accuracy; the fluctuation vanishes at ``kappa = 0``).
    """
    cov = _within_population_cov(*_fixed_point_terms(mix, kappa, n_ref, rng), mix.fractions)
    jinv = np.linalg.inv(np.asarray(jacobian, dtype=float))
    shift_cov = jinv @ cov @ jinv.T / n_neurons
    return float(n_sd * np.sqrt(max(np.linalg.eigvalsh(shift_cov).max(), 0.0)) + 1e-8)


def _fixed_point_terms(mix: GaussianMixture, kappa: np.ndarray, n_ref: int,
                       rng: RngLike) -> tuple[np.ndarray, np.ndarray]:
    net, labels = mix.sample(n_ref, rng=rng)
    phi = get_phi(mix.phi)[0]
    return net.N * phi(net.M @ np.asarray(kappa, dtype=float))[:, None], labels


def _within_population_cov(values: np.ndarray, labels: np.ndarray,
                           fractions: np.ndarray) -> np.ndarray:
    """``sum_p alpha_p Cov_p(values)``; ``values`` (N, R), ``labels`` (N,)."""
    R = values.shape[1]
    cov = np.zeros((R, R))
    for p, a in enumerate(fractions):
        v = values[labels == p]
        if len(v) > 1:
            cov += a * np.cov(v, rowvar=False).reshape(R, R)
    return cov


def sampled_effective_coupling(net: LowRankRNN, labels: np.ndarray, fractions: np.ndarray,
                               kappa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Effective couplings measured in a finite network, with their sampling error.

    The effective circuit (Beiran et al. 2021, Eq. 22) has couplings
    ``sum_p alpha_p sigma^p_{n_r m_s} <phi'>_p``. Here each population's overlap and gain are
    replaced by their sample means over the network's neurons of that population.

    Parameters
    ----------
    net : LowRankRNN
        Pure low-rank network drawn from a mixture.
    labels : ndarray of int, shape (N,)
        Population of each neuron.
    fractions : ndarray, shape (P,)
    kappa : ndarray, shape (R,)

    Returns
    -------
    coupling : ndarray, shape (R, R)
    sd : ndarray, shape (R, R)
        Standard error of each entry (delta method on the product of the two sample means).
    """
    dphi = get_phi(net.phi)[1]
    R = net.rank
    coupling, var = np.zeros((R, R)), np.zeros((R, R))
    for p, a in enumerate(fractions):
        idx = labels == p
        prod = net.N[idx][:, :, None] * net.M[idx][:, None, :]  # (N_p, R, R)
        g = dphi(net.M[idx] @ np.asarray(kappa, dtype=float))  # (N_p,)
        A, B = prod.mean(axis=0), g.mean()
        coupling += a * A * B
        var += a * a * np.var(B * prod + A[None] * g[:, None, None], axis=0, ddof=1) / idx.sum()
    return coupling, np.sqrt(var)


def slope_with_error(sizes: Any, rms: np.ndarray) -> tuple[float, float, float]:
    """Slope of log deviation against log N, and its seed-to-seed standard error.

    Parameters
    ----------
    sizes : sequence of int, length S
    rms : ndarray, shape (S, seeds)
        RMS deviation from the mean field of each network (size, instance).

    Returns
    -------
    pooled : float
        Slope of ``log sqrt(mean_seeds rms^2)`` against ``log N``.
    mean_slope : float
        Mean of the per-instance slopes (instance ``s`` at each size).
    se : float
        Standard error of ``mean_slope``: ``std(per-instance slopes) / sqrt(seeds)``.
    """
    x = np.log(np.asarray(sizes, dtype=float))
    rms = np.asarray(rms, dtype=float)
    pooled = float(np.polyfit(x, np.log(np.sqrt(np.mean(rms**2, axis=1))), 1)[0])
    per = np.polyfit(x, np.log(rms), 1)[0]  # (seeds,)
    return pooled, float(np.mean(per)), float(np.std(per, ddof=1) / np.sqrt(per.size))


# --------------------------------------------------------------------------- MF vs N
def convergence_point(n: int, overlap: float, k0_1: float, k0_2: float, dt: float,
                      n_steps: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Latent trajectory of one finite two-population network (a point of the MF vs N sweep).

    The network (``overlap`` of :func:`two_population_mixture`, ``n`` neurons, loadings drawn
    from the stream ``(seed, n)``) starts at ``x0 = M kappa0`` and is simulated without noise.

    Returns
    -------
    dict with ``kappa``: ndarray, shape (n_steps + 1, 2), the projection on the loadings M.
    """
    mix = two_population_mixture(overlap)
    net = mix.network(int(n), rng=np.random.default_rng([int(seed), int(n)]))
    tr = simulate(net, x0=net.M @ np.array([k0_1, k0_2]), dt=dt, n_steps=int(n_steps))
    return {"kappa": tr.kappa[0]}


def compute_convergence(settings: Settings) -> FigureData:
    """Deviation of finite-N latent trajectories from the mean field, against N.

    The networks (sizes × instances) are the independent points of a sweep (serial and
    in-process in quick mode, on Dask in full mode).
    """
    ch = Checks(KEY, "MF vs N")
    overlap = 2.4
    mix = two_population_mixture(overlap)
    sizes = [250, 1000, 4000] if settings.quick else [1000, 2000, 4000, 8000, 16000]
    seeds = 10 if settings.quick else 20
    k0, dt, n_steps = np.array([1.0, -0.8]), 0.1, 80
    mf = latent_trajectory(mix, k0, dt=dt, n_steps=n_steps, method="euler").kappa[0]
    ds = run_sweep(convergence_point, {"n": sizes},
                   [settings.seed * 1000 + s for s in range(seeds)],
                   fixed={"overlap": overlap, "k0_1": float(k0[0]), "k0_2": float(k0[1]),
                          "dt": dt, "n_steps": n_steps},
                   **sweep_options(settings, "beiran2021_mf_vs_n"))
    kappa = np.asarray(ds["kappa"].transpose("n", "seed", ...).values)  # (size, seed, time, 2)
    rms = np.sqrt(np.mean(np.sum((kappa - mf) ** 2, axis=-1), axis=-1))  # (size, seed)
    example = {n: kappa[i, 0] for i, n in enumerate(sizes)}
    dev = np.sqrt(np.mean(rms**2, axis=1))
    slope, mean_slope, se = slope_with_error(sizes, rms)
    # tolerance: 4 seed-to-seed standard errors of the mean per-instance slope
    ch.close(f"slope of log deviation vs log N, mean of {seeds} instances (theory -1/2; "
             "tol 4 standard errors)", mean_slope, -0.5, 4 * se)
    ch.holds("deviation decreases with N", bool(np.all(np.diff(dev) < 0)),
             [round(float(d), 4) for d in dev], "decreasing")
    return FigureData(
        data={"t": np.arange(n_steps + 1) * dt, "mf": mf, "example": example, "sizes": sizes,
              "dev": dev, "rms": rms, "slope": slope, "mean_slope": mean_slope,
              "slope_se": se},
        checks=ch, params={"sizes": sizes, "seeds": seeds, "dt": dt, "n_steps": n_steps},
    )


def plot_convergence(fd: FigureData, path: Path) -> None:
    """Trajectories for each N against the mean field; deviation against N."""
    import matplotlib.pyplot as plt

    d = fd.data
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.6))
    for j, (n, k) in enumerate(d["example"].items()):
        ax[0].plot(d["t"], k[:, 0], color=f"C{j}", lw=0.8, label=f"N = {n}")
        ax[0].plot(d["t"], k[:, 1], color=f"C{j}", lw=0.8, ls=":")
    ax[0].plot(d["t"], d["mf"][:, 0], "k", lw=1.5, label="mean field")
    ax[0].plot(d["t"], d["mf"][:, 1], "k:", lw=1.5)
    ax[0].set_xlabel("t / tau")
    ax[0].set_ylabel("kappa_1 (solid), kappa_2 (dotted)")
    ax[0].legend(fontsize=7)
    sizes = np.array(d["sizes"], dtype=float)
    ax[1].loglog(sizes, d["dev"], "o-", label=f"measured (slope {d['slope']:.2f})")
    ax[1].loglog(sizes, d["dev"][0] * np.sqrt(sizes[0] / sizes), "--", label="1/sqrt(N)")
    ax[1].set_xlabel("N")
    ax[1].set_ylabel("RMS deviation from mean field")
    ax[1].legend(fontsize=7)
    finish_figure(fig, path)


# --------------------------------------------------------------------------- one population
def compute_one_population(settings: Settings) -> FigureData:
    """Symmetric overlap: bistability on the leading eigenvector; rotational: a limit cycle."""
    ch = Checks(KEY, "One population")
    sym = symmetric_mixture(1.6, 1.2)
    fps = find_latent_fixed_points(sym, (-3, 3), n_starts=60, rng=settings.seed)
    kinds = sorted(f.kind for f in fps)
    ch.holds("symmetric overlap: 5 fixed points (2 stable, 2 saddles, unstable origin)",
             kinds == sorted(["stable node"] * 2 + ["saddle"] * 2 + ["unstable node"]),
             ", ".join(kinds), "2 stable nodes, 2 saddles, 1 unstable node")
    stable = [f for f in fps if f.stable]
    r_theory = _radius_theory(1.6)
    r_meas = float(np.mean([np.linalg.norm(f.kappa) for f in stable])) if stable else np.nan
    on_axis = bool(stable) and all(abs(f.kappa[1]) < 1e-8 for f in stable)
    ch.close("stable fixed points at radius with 1.6 <phi'>(0, r^2) = 1", r_meas, r_theory, 1e-6)
    ch.holds("stable fixed points lie on the leading eigenvector", on_axis,
             [np.round(f.kappa, 4).tolist() for f in stable], "kappa_2 = 0")
    # rotational overlap: limit cycle
    a, b = 2.0, 1.5
    rot = rotational_mixture(a, b)
    th = rotational_cycle_theory(a, b)
    cyc = simulate_cycle(rot, np.array([0.3, 0.1]), t_total=50.0, window=20.0)
    ch.close("rotational overlap: mean-field cycle radius vs closed form", cyc.radius_mean,
             th["radius"], 1e-4)
    ch.close("rotational overlap: mean-field period vs 2 pi a / b", cyc.period, th["period"],
             1e-2)
    n = 3000 if settings.quick else 10000
    net = rot.network(n, rng=settings.seed + 5)
    dt, n_steps = 0.05, 1000
    tr = simulate(net, x0=net.M @ np.array([0.3, 0.1]), dt=dt, n_steps=n_steps)
    from lowrank_rnn.fit.populations import cycle_statistics

    net_cyc = cycle_statistics(tr.t, tr.kappa[0], window=20.0)
    # finite-N overlaps fluctuate with sd delta = sqrt(Var(n_r m_s) / N); radius and period
    # move by (dr/da) delta and T (1/a + 1/b) delta; tolerance: 4 sd
    delta = np.sqrt(((a * a + b * b + 0.5) + a * a) / n)
    eps = 1e-4
    drda = (rotational_cycle_theory(a + eps, b)["radius"]
            - rotational_cycle_theory(a - eps, b)["radius"]) / (2 * eps)
    tol_r = 4 * abs(drda) * delta / th["radius"]
    tol_T = 4 * (1 / a + 1 / abs(b)) * delta
    ch.holds("network (finite N) oscillates", net_cyc.oscillates, round(net_cyc.amplitude, 3),
             "sustained oscillation")
    ch.rel_close("network cycle radius vs mean field", net_cyc.radius_mean, th["radius"], tol_r)
    ch.rel_close("network period vs mean field", net_cyc.period, th["period"], tol_T)
    k1, k2, F = flow_field(rot, (-2, 2), (-2, 2), n=25)
    s1, s2, Fs = flow_field(sym, (-2, 2), (-2, 2), n=25)
    return FigureData(
        data={"sym_fps": [(f.kappa, f.kind) for f in fps], "sym_flow": (s1, s2, Fs),
              "rot_flow": (k1, k2, F), "net_traj": tr.kappa[0], "theory": th},
        checks=ch, params={"overlap_sym": [1.6, 1.2], "overlap_rot": [a, b], "n_neurons": n},
    )


def plot_one_population(fd: FigureData, path: Path) -> None:
    """Flow fields with fixed points (symmetric) and the cycle (rotational)."""
    import matplotlib.pyplot as plt

    from lowrank_rnn.plotting.flow import plot_fixed_points, plot_flow_field

    d = fd.data
    fig, ax = plt.subplots(1, 2, figsize=(9, 4.2))
    plot_flow_field(ax[0], *d["sym_flow"], "one population, symmetric overlap")
    plot_fixed_points(ax[0], d["sym_fps"])
    plot_flow_field(ax[1], *d["rot_flow"], "one population, rotational overlap")
    th = np.linspace(0, 2 * np.pi, 200)
    r = d["theory"]["radius"]
    ax[1].plot(r * np.cos(th), r * np.sin(th), "k--", label="mean-field cycle")
    ax[1].plot(d["net_traj"][:, 0], d["net_traj"][:, 1], "C0", lw=0.7, label="network")
    ax[1].legend(fontsize=7, loc="lower right")
    finish_figure(fig, path)


# --------------------------------------------------------------------------- two populations
def compute_two_populations(settings: Settings) -> FigureData:
    """Four stable fixed points from two populations; latent vs network fixed points."""
    ch = Checks(KEY, "Two populations")
    overlap = 2.4
    mix = two_population_mixture(overlap)
    fps = find_latent_fixed_points(mix, (-2, 2), n_starts=80, rng=settings.seed)
    kinds = [f.kind for f in fps]
    ch.holds("9 fixed points: 4 stable nodes, 4 saddles, 1 unstable node",
             sorted(kinds) == sorted(["stable node"] * 4 + ["saddle"] * 4 + ["unstable node"]),
             f"{kinds.count('stable node')} stable, {kinds.count('saddle')} saddles, "
             f"{len(kinds)} total", "4 / 4 / 9")
    c = _radius_theory(overlap / 2)
    stable = [f for f in fps if f.stable]
    err = max((np.max(np.abs(np.abs(f.kappa) - c)) for f in stable), default=np.nan)
    ch.close("stable fixed points at (±c, ±c), (overlap/2) <phi'>(0, c^2) = 1", err, 0.0, 1e-6)
    # network fixed points and stability from the latent ones
    # at N = 4000 the 5-sd shift of a corner (0.25) exceeds half the gap between fixed points
    # (0.243); N = 10000 brings it to 0.16
    n = 10000 if settings.quick else 40000
    net, labels = mix.sample(n, rng=settings.seed + 11)
    basis = net.M
    # effective couplings measured in the finite network (per-population sample overlaps and
    # gains) against the mixture's, at every latent fixed point, in units of sampling error
    circ = effective_circuit(mix, stable[0].kappa) if stable else None
    z_coupling = 0.0
    for f in fps:
        meas, sd = sampled_effective_coupling(net, labels, mix.fractions, f.kappa)
        diff = np.abs(meas - effective_circuit(mix, f.kappa).coupling)
        z = np.divide(diff, sd, out=np.where(diff > 0, np.inf, 0.0), where=sd > 0)
        z_coupling = max(z_coupling, float(np.max(z)))
    ch.less(f"effective couplings of a sampled network (N = {n}) vs mixture, all fixed points: "
            "max |diff| / sampling sd", z_coupling, 5.0)
    agree, dists, tols, nearest_ok = [], [], [], []
    rng = np.random.default_rng(settings.seed + 3)
    perturb = []
    for i, f in enumerate(fps):
        nfp = network_fixed_point(net, net.M @ f.kappa)
        dists.append(float(np.linalg.norm(nfp.kappa - f.kappa)))
        # this point's own 5-sd finite-N shift, from its own Jacobian
        tols.append(fixed_point_tolerance(mix, f.kappa, f.jacobian, n,
                                          rng=settings.seed + 13))
        nearest_ok.append(int(np.argmin([np.linalg.norm(nfp.kappa - g.kappa) for g in fps]))
                          == i)
        agree.append(nfp.converged and nfp.stable == f.stable)
        # perturbation test in the latent plane
        if f.kind in ("stable node", "saddle"):
            w, vecs = np.linalg.eig(f.jacobian)
            dk = np.real(vecs[:, np.argmax(w.real)]) + 0.3 * rng.normal(size=2)
            dk *= 0.02 / np.linalg.norm(dk)
            tr = simulate(net, x0=nfp.x + basis @ dk, dt=0.1, n_steps=200)
            k_end = latent_projection(tr.x[0, -1] - nfp.x, basis)
            perturb.append((f.kind, float(np.linalg.norm(k_end) / 0.02)))
    half_gap = [0.5 * min(np.linalg.norm(f.kappa - g.kappa) for g in fps if g is not f)
                for f in fps]
    ch.less("each fixed point's finite-N tolerance / half the distance to its nearest "
            "neighbour (max)", max(t / h for t, h in zip(tols, half_gap, strict=True)), 1.0)
    ch.less("network fixed points (Newton) vs latent, max over points of |dkappa| / own "
            "tolerance (5 sd of J^-1 dF)",
            max(d / t for d, t in zip(dists, tols, strict=True)), 1.0)
    ch.holds("each network fixed point is nearest to the latent one Newton started from",
             all(nearest_ok), f"{sum(nearest_ok)}/{len(nearest_ok)}", "all")
    ch.holds("stability from the R x R reduced matrix agrees with the mean field", all(agree),
             f"{sum(agree)}/{len(agree)}", "all agree")
    grow_ok = all((g < 0.5) if kind == "stable node" else (g > 2.0) for kind, g in perturb)
    ch.holds("perturbation of 0.02: stable points return, saddles depart (t = 20 tau)",
             grow_ok, [(k, round(g, 3)) for k, g in perturb],
             "stable: ratio < 0.5; saddle: ratio > 2")
    k1, k2, F = flow_field(mix, (-2, 2), (-2, 2), n=25)
    nc = nullclines(mix, (-2, 2), (-2, 2), n=100)
    return FigureData(
        data={"flow": (k1, k2, F), "nullclines": nc, "fps": [(f.kappa, f.kind) for f in fps],
              "gains": None if circ is None else circ.gains},
        checks=ch, params={"overlap": overlap, "n_neurons": n, "distances": dists,
                           "tolerances": tols},
    )


def plot_two_populations(fd: FigureData, path: Path) -> None:
    """Flow field, nullclines and fixed points of the two-population network."""
    import matplotlib.pyplot as plt

    from lowrank_rnn.plotting.flow import plot_fixed_points, plot_flow_field

    d = fd.data
    fig, ax = plt.subplots(figsize=(4.8, 4.5))
    plot_flow_field(ax, *d["flow"], "two populations: four stable fixed points")
    for key, col in (("kappa1", "C0"), ("kappa2", "C2")):
        for line in d["nullclines"][key]:
            ax.plot(line[:, 0], line[:, 1], color=col, lw=1)
    plot_fixed_points(ax, d["fps"])
    finish_figure(fig, path)


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("MF vs N", "Finite networks approach the mean field as 1/sqrt(N)",
               compute_convergence, plot_convergence,
               quick_note=(
               "N = 250-4000 with 10 networks per size instead of N = 1000-16000 with 20.")),
    FigureSpec("One population", "One population: bistability or a limit cycle",
               compute_one_population, plot_one_population,
               quick_note=(
               "N = 3000 instead of 10000 for the finite-network runs.")),
    FigureSpec("Two populations", "Two populations: four stable fixed points",
               compute_two_populations, plot_two_populations,
               quick_note=(
               "N = 10000 instead of 40000 for the sampled network.")),
)
