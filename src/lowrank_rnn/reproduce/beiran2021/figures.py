"""Beiran et al. 2021, the paper's own figures (parameters from the authors' public scripts).

- ``Fig 4``: rank one, two zero-mean populations with covariances ``sigma_mn = (-10, 4.5)`` and
  variances ``sigma_m^2 = (1.98, 0.02)`` (half of the neurons each, ``n = (sigma_mn /
  sigma_m^2) m + 0.3 xi``): three stable fixed points (0 and ±kappa*) that no single population
  gives, since each population's gain ``<phi'>(0, sigma_m^2 kappa^2)`` falls at its own rate.
  The fixed points are checked against adaptive quadrature (and the drive against Monte Carlo),
  not against the authors' 200-node Gauss–Hermite rule, which is inaccurate at the large
  variances reached here; the finite network (N = 2000) is simulated from 20 initial values.
- ``Fig 6``: P = 2^R populations with means on the corners of a square (R = 2, spread 0.5,
  overlap 2) or a cube (R = 3, spread 0.1, overlap 2.1 or 10): 4 stable fixed points on the
  axes; an octahedron of 6; 6 on the axes plus 8 on the cube's diagonals. Positions by adaptive
  quadrature; finite networks (N = 1000, 1200) simulated from a grid of initial values end on
  them.
- ``Fig 7``: approximating the Van der Pol oscillator (mu = 1) on the box [-3, 3]^2 with P
  populations: random ``(m_1, I)`` means and ``(m_1, m_2, I)`` variances per population, and
  the overlaps ``sigma_{n_r m_s}`` and n means by ridge regression (beta = 1e-8 and 0.5) of the
  mean-field equation; error against P over random draws, the limit cycle of the mean field and
  of a finite network with 2000 neurons per population.
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.polynomial.hermite import hermgauss
from scipy.integrate import quad
from scipy.optimize import brentq

from lowrank_rnn.fit.populations import cycle_statistics, simulate_cycle
from lowrank_rnn.reproduce._core import Checks, FigureData, FigureSpec, Settings, finish_figure
from lowrank_rnn.reproduce.beiran2021.examples import KEY, fixed_point_tolerance
from lowrank_rnn.simulate import simulate
from lowrank_rnn.theory.fixedpoints import (
    find_latent_fixed_points,
    network_flow_field,
    network_latent_field,
)
from lowrank_rnn.theory.meanfield import (
    GaussianMixture,
    flow_field,
    gaussian_averages,
    latent_trajectory,
    latent_vector_field,
)

__all__ = [
    "FIGURES",
    "FIG4_VAR_M",
    "FIG4_COV_MN",
    "fig4_mixture",
    "corner_mixture",
    "van_der_pol",
    "vdp_features",
    "fit_van_der_pol",
    "quad_average",
    "gauss_hermite_gain",
]

#: Fig 4: variances of m and covariances of (m, n) in the two populations.
FIG4_VAR_M = (1.98, 0.02)
FIG4_COV_MN = (-10.0, 4.5)
FIG4_NOISE_N = 0.3


# --------------------------------------------------------------------------- quadrature
def quad_average(f: Any, mu: float, var: float) -> float:
    """``E[f(mu + sqrt(var) xi)]`` by adaptive quadrature (scipy ``quad``), xi ~ N(0, 1).

    Integrated in ``y = mu + sqrt(var) xi`` over ``mu ± 14 sd`` with break points at 0 (where
    tanh bends) and at ``mu``; independent of the library's Gauss–Hermite/trapezoid rules.
    """
    if var <= 0:
        return float(f(mu))
    s = np.sqrt(var)
    lo, hi = mu - 14 * s, mu + 14 * s
    pts = sorted({p for p in (0.0, mu) if lo < p < hi})
    val = quad(lambda y: f(y) * np.exp(-0.5 * ((y - mu) / s) ** 2), lo, hi, points=pts or None,
               epsabs=1e-13, epsrel=1e-12, limit=800)[0]
    return float(val / (s * np.sqrt(2 * np.pi)))


def _dtanh(y: float) -> float:
    return 1.0 - np.tanh(y) ** 2


@lru_cache(maxsize=4)
def _hermgauss(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    return hermgauss(n_nodes)


def gauss_hermite_gain(var: float, n_nodes: int = 200) -> float:
    """``<tanh'>(0, var)`` by the n-node Gauss–Hermite rule of the authors' scripts."""
    x, w = _hermgauss(n_nodes)
    return float(np.dot(_dtanh(np.sqrt(2 * var) * x), w) / np.sqrt(np.pi))


# --------------------------------------------------------------------------- Fig 4
def fig4_mixture() -> GaussianMixture:
    """Rank one, loadings (m, n), two populations of Fig 4 (zero means)."""
    covs = []
    for v, c in zip(FIG4_VAR_M, FIG4_COV_MN, strict=True):
        covs.append([[v, c], [c, (c / v) ** 2 * v + FIG4_NOISE_N**2]])
    return GaussianMixture([0.5, 0.5], np.zeros((2, 2)), np.array(covs), rank=1)


def _fig4_field(k: float, gain: Any) -> float:
    return -k + sum(0.5 * c * k * gain(v * k * k)
                    for v, c in zip(FIG4_VAR_M, FIG4_COV_MN, strict=True))


def _roots(fun: Any, lo: float, hi: float, n: int = 400) -> list[float]:
    xs = np.linspace(lo, hi, n)
    vals = np.array([fun(x) for x in xs])
    idx = np.flatnonzero(np.sign(vals[:-1]) * np.sign(vals[1:]) < 0)
    return [brentq(fun, xs[i], xs[i + 1], xtol=1e-13) for i in idx]


def compute_fig4(settings: Settings) -> FigureData:
    """Rank one, two populations: three stable states from two gains (Fig 4)."""
    ch = Checks(KEY, "Fig 4")
    mix = fig4_mixture()
    fps = find_latent_fixed_points(mix, (-10, 10), n_starts=60, rng=settings.seed)
    stable = sorted(f.kappa[0] for f in fps if f.stable)
    unstable = sorted(f.kappa[0] for f in fps if not f.stable)
    ch.holds("mean field: 3 stable fixed points (0, ±kappa*) and 2 unstable between them",
             len(stable) == 3 and len(unstable) == 2 and abs(stable[1]) < 1e-9,
             f"stable {np.round(stable, 4).tolist()}, unstable {np.round(unstable, 4).tolist()}",
             "3 stable incl. 0, 2 unstable")

    def gain_quad(var: float) -> float:
        return quad_average(_dtanh, 0.0, var)

    roots_q = _roots(lambda k: _fig4_field(k, gain_quad), 0.05, 10.0, n=200)
    roots_gh = _roots(lambda k: _fig4_field(k, gauss_hermite_gain), 0.05, 10.0, n=200)
    pos = [k for k in stable + unstable if k > 0]
    ok = len(roots_q) == 2 and len(pos) == 2
    err = max(abs(a - b) for a, b in zip(sorted(pos), roots_q, strict=True)) if ok else np.nan
    ch.close(f"positive fixed points {np.round(sorted(pos), 5).tolist()} vs adaptive quadrature "
             f"{np.round(roots_q, 5).tolist()} (max |diff|)", err, 0.0, 1e-6)
    outer_q = roots_q[-1] if roots_q else np.nan
    outer_gh = roots_gh[-1] if roots_gh else np.nan
    ch.holds("the authors' 200-node Gauss-Hermite rule misplaces the outer stable point at this "
             "variance (sigma_m^2 kappa^2 ~ 80): |GH - quadrature| > 1e-3",
             bool(abs(outer_gh - outer_q) > 1e-3), round(float(outer_gh), 4),
             f"quadrature {outer_q:.4f}")
    # the drive at the outer stable point by Monte Carlo (independent of both rules)
    rng = np.random.default_rng(settings.seed + 41)
    n_mc = 400_000 if settings.quick else 4_000_000
    vals, var = 0.0, 0.0
    for v, c in zip(FIG4_VAR_M, FIG4_COV_MN, strict=True):
        m = rng.normal(size=n_mc) * np.sqrt(v)
        nn = (c / v) * m + FIG4_NOISE_N * rng.normal(size=n_mc)
        x = nn * np.tanh(m * outer_q)
        vals += 0.5 * x.mean()
        var += 0.25 * x.var() / n_mc
    ch.close(f"Monte Carlo drive E[n tanh(m kappa*)] - kappa* at the quadrature fixed point "
             f"({2 * n_mc} samples; tol 5 sd)", vals - outer_q, 0.0, 5 * np.sqrt(var))
    # finite network (N = 2000) from 20 initial values
    n = 2000
    net, labels = mix.sample(n, rng=settings.seed + 7)
    k0 = np.linspace(-10, 10, 20)
    x0 = k0[:, None] * net.M[:, 0] + 0.5 * rng.normal(size=(k0.size, n))
    dt, n_steps = 0.05, 800
    tr = simulate(net, x0=x0, dt=dt, n_steps=n_steps)
    net_fps = find_latent_fixed_points(net, (-10, 10), n_starts=60, rng=settings.seed)
    net_stable = sorted(f.kappa[0] for f in net_fps if f.stable)
    ch.holds(f"finite network (N = {n}): 3 stable latent fixed points",
             len(net_stable) == 3, np.round(net_stable, 4).tolist(), "3")
    ratios = []
    for f in fps:
        near = min(net_fps, key=lambda g: abs(g.kappa[0] - f.kappa[0]), default=None)
        if near is None:
            ratios.append(np.inf)
            continue
        tol = fixed_point_tolerance(mix, f.kappa, f.jacobian, n, rng=settings.seed + 9)
        ratios.append(abs(near.kappa[0] - f.kappa[0]) / tol)
    ch.less("network fixed points vs mean field, max |dkappa| / own 5-sd finite-N tolerance",
            max(ratios), 1.0)
    final = tr.kappa[:, -1, 0]
    dist = np.array([min(abs(k - s) for s in net_stable) if net_stable else np.inf
                     for k in final])
    ch.less(f"all 20 trajectories end on a stable fixed point of the network (t = "
            f"{dt * n_steps:g}; max distance)", float(dist.max()), 1e-3)
    reached = {int(np.argmin([abs(k - s) for s in net_stable])) for k in final} \
        if net_stable else set()
    ch.holds("all three stable states are reached", len(reached) == 3, len(reached), "3")
    kk = np.linspace(-10, 10, 401)
    F = latent_vector_field(mix, kk[:, None])[:, 0]
    F_gh = np.array([_fig4_field(k, gauss_hermite_gain) for k in kk])
    gains = np.stack([gaussian_averages("tanh", 0.0, v * kk**2, orders=(1,))[1]
                      for v in FIG4_VAR_M])
    sub = np.arange(0, n, 5)
    return FigureData(
        data={"m": net.M[sub, 0], "n": net.N[sub, 0], "labels": labels[sub], "k": kk, "F": F,
              "F_gh": F_gh, "gains": gains, "fps": [(f.kappa[0], f.stable) for f in fps],
              "t": tr.t, "traj": tr.kappa[:, :, 0], "quad": roots_q, "gh": roots_gh},
        checks=ch, params={"var_m": FIG4_VAR_M, "cov_mn": FIG4_COV_MN, "n_neurons": n,
                           "quadrature_roots": roots_q, "gauss_hermite_roots": roots_gh},
    )


def plot_fig4(fd: FigureData, path: Path) -> None:
    """Loadings, latent field with fixed points, gains, network trajectories (Fig 4 A-D)."""
    import matplotlib.pyplot as plt

    from lowrank_rnn.plotting.flow import plot_latent_field_1d
    from lowrank_rnn.plotting.populations import plot_loadings

    d = fd.data
    fig, ax = plt.subplots(1, 4, figsize=(15, 3.4))
    plot_loadings(ax[0], d["m"], d["n"], d["labels"], xlabel="m_i", ylabel="n_i")
    ax[0].set_ylim(-70, 70)
    ax[0].legend(fontsize=7)
    plot_latent_field_1d(ax[1], d["k"], d["F"], d["fps"], label="mean field (library)")
    ax[1].plot(d["k"], d["F_gh"], "k:", lw=1, label="200-node Gauss-Hermite")
    ax[1].set_ylim(-1.5, 1.5)
    ax[1].legend(fontsize=7)
    for p in range(2):
        ax[2].plot(d["k"], d["gains"][p], color=f"C{p}", label=f"population {p + 1}")
    ax[2].set_xlabel("kappa")
    ax[2].set_ylabel("gain <phi'>")
    ax[2].legend(fontsize=7)
    ax[3].plot(d["t"], d["traj"].T, color="0.4", lw=0.8)
    for k, stable in d["fps"]:
        ax[3].axhline(k, color="C3", lw=3, alpha=0.25, ls="-" if stable else "--")
    ax[3].set_xlabel("t / tau")
    ax[3].set_ylabel("kappa (N = 2000)")
    finish_figure(fig, path)


# --------------------------------------------------------------------------- Fig 6
def corner_mixture(rank: int, spread: float, overlap: float) -> GaussianMixture:
    """P = 2^R populations of Fig 6: means ``sqrt(1 - spread^2) s`` for m and
    ``overlap / sqrt(1 - spread^2) s`` for n, ``s`` the corners of {-1, 1}^R; isotropic spread."""
    signs = np.array(list(itertools.product([1.0, -1.0], repeat=rank)))
    c = np.sqrt(1.0 - spread**2)
    means = np.hstack([c * signs, overlap / c * signs])
    P = len(signs)
    cov = np.eye(2 * rank) * spread**2
    return GaussianMixture(np.full(P, 1.0 / P), means, np.repeat(cov[None], P, axis=0), rank=rank)


def _axis_radius(spread: float, overlap: float) -> float:
    """Fixed point ``(c, 0, ...)``: ``c = overlap/a <tanh>(a c, spread^2 c^2)``, ``a^2 =
    1 - spread^2`` (all populations push along axis 1 with the same sign), by quadrature."""
    a = np.sqrt(1 - spread**2)
    return brentq(lambda r: -r + overlap / a * quad_average(np.tanh, a * r, spread**2 * r * r),
                  0.05, 4 * overlap + 2, xtol=1e-13)


def _diagonal_radius(rank: int, spread: float, overlap: float) -> float:
    """Fixed point ``d (1, ..., 1)``: the populations' ``s . 1`` take values ``R - 2j``."""
    a = np.sqrt(1 - spread**2)
    signs = np.array(list(itertools.product([1.0, -1.0], repeat=rank)))

    def f(d: float) -> float:
        tot = -d
        for s in signs:
            tot += overlap / a * s[0] * quad_average(np.tanh, a * d * s.sum(),
                                                     rank * spread**2 * d * d) / len(signs)
        return tot

    return brentq(f, 0.05, 4 * overlap + 2, xtol=1e-13)


_FIG6 = (  # (panels, rank, spread, overlap, box, N, starts per axis, t_end, dt)
    ("A-C", 2, 0.5, 2.0, 3.0, 1000, (5, 6), 60.0, 0.1),
    ("D-F", 3, 0.1, 2.1, 3.0, 1200, (4, 2, 4), 150.0, 0.15),
    ("G-I", 3, 0.1, 10.0, 12.0, 1200, (4, 4, 4), 150.0, 0.15),
)


def compute_fig6(settings: Settings) -> FigureData:
    """Populations on the corners of a square / cube: 4, 6 and 14 stable fixed points (Fig 6)."""
    ch = Checks(KEY, "Fig 6")
    panels: dict[str, Any] = {}
    expect = {"A-C": (4, 4, 0), "D-F": (6, 6, 0), "G-I": (14, 6, 8)}
    for name, R, spread, overlap, box, n, grid, t_end, dt in _FIG6:
        mix = corner_mixture(R, spread, overlap)
        fps = find_latent_fixed_points(mix, (-box, box), n_starts=120 if R == 3 else 60,
                                       rng=settings.seed)
        st = [f for f in fps if f.stable]
        nz = [int(np.sum(np.abs(f.kappa) > 1e-6)) for f in st]
        on_axis = sum(k == 1 for k in nz)
        diag = sum(k == R and np.ptp(np.abs(f.kappa)) < 1e-6 for k, f in zip(nz, st,
                                                                           strict=True))
        n_st, n_ax, n_dg = expect[name]
        ch.holds(f"{name} (R = {R}, P = {2**R}, overlap {overlap}): {n_st} stable fixed points, "
                 f"{n_ax} on the axes, {n_dg} on the diagonals",
                 (len(st), on_axis, diag) == (n_st, n_ax, n_dg),
                 f"{len(st)} stable ({on_axis} on axes, {diag} diagonal), {len(fps)} in all",
                 f"{n_st} / {n_ax} / {n_dg}")
        r_ax = _axis_radius(spread, overlap)
        err = max((abs(np.max(np.abs(f.kappa)) - r_ax) for f, k in zip(st, nz, strict=True)
                   if k == 1), default=np.nan)
        ch.close(f"{name}: axis fixed points at radius {r_ax:.5f} (adaptive quadrature)",
                 err, 0.0, 1e-6)
        if n_dg:
            r_dg = _diagonal_radius(R, spread, overlap)
            err = max((abs(np.abs(f.kappa).mean() - r_dg) for f, k in zip(st, nz, strict=True)
                       if k == R), default=np.nan)
            ch.close(f"{name}: diagonal fixed points at |kappa_i| = {r_dg:.5f} (quadrature)",
                     err, 0.0, 1e-6)
        panel = {"fps": [(f.kappa, f.kind) for f in fps], "rank": R}
        run_net = name != "G-I" or not settings.quick
        if run_net:
            net = mix.network(n, rng=settings.seed + 61 + R)
            axes = [np.linspace(-box * 0.73, box * 0.73, g) for g in grid]
            starts = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, R)
            tr = simulate(net, x0=starts @ net.M.T, dt=dt, n_steps=int(round(t_end / dt)),
                          keep_x=False)
            final = tr.kappa[:, -1]
            net_fps = [f for f in find_latent_fixed_points(
                net, (-box, box), n_starts=60, rng=settings.seed) if f.stable]
            d = np.array([min((np.linalg.norm(k - g.kappa) for g in net_fps), default=np.inf)
                          for k in final])
            ch.less(f"{name}: network (N = {n}) trajectories from {len(starts)} starts end on "
                    f"its stable fixed points (max distance at t = {t_end:g})",
                    float(d.max()), 1e-2)
            ratio = []
            for f in st:
                g = min(net_fps, key=lambda g: np.linalg.norm(g.kappa - f.kappa), default=None)
                tol = fixed_point_tolerance(mix, f.kappa, f.jacobian, n, n_ref=20_000,
                                            rng=settings.seed + 3)
                ratio.append(np.inf if g is None else np.linalg.norm(g.kappa - f.kappa) / tol)
            ch.less(f"{name}: each mean-field stable point has a network one within its 5-sd "
                    "finite-N tolerance (max ratio)", max(ratio), 1.0)
            panel.update(traj=tr.kappa, n_neurons=n)
        if R == 2:
            panel["flow"] = flow_field(mix, (-2.5, 2.5), (-2.5, 2.5), n=80, fast=True)
        panels[name] = panel
    return FigureData(data={"panels": panels}, checks=ch,
                      params={"configurations": [c[:4] for c in _FIG6]})


def plot_fig6(fd: FigureData, path: Path) -> None:
    """Speed map and network trajectories (rank 2), fixed points in 3-d (rank 3)."""
    import matplotlib.pyplot as plt

    from lowrank_rnn.plotting.flow import FIXED_POINT_MARKERS, plot_fixed_points, plot_speed

    panels = fd.data["panels"]
    fig = plt.figure(figsize=(16, 4))
    a = panels["A-C"]
    ax = fig.add_subplot(1, 4, 1)
    plot_speed(ax, *a["flow"], "A-C: speed, 4 populations")
    plot_fixed_points(ax, a["fps"])
    ax = fig.add_subplot(1, 4, 2)
    for tr in a.get("traj", []):
        ax.plot(tr[:, 0], tr[:, 1], color="0.6", lw=0.7)
        ax.plot(tr[-1, 0], tr[-1, 1], "o", mfc="0.6", mec="k", ms=4)
    plot_fixed_points(ax, a["fps"])
    ax.set_title(f"A-C: network, N = {a.get('n_neurons', '-')}", fontsize=9)
    ax.set_aspect("equal")
    for j, name in enumerate(("D-F", "G-I")):
        p = panels[name]
        ax = fig.add_subplot(1, 4, 3 + j, projection="3d")
        for tr in p.get("traj", []):
            ax.plot(tr[:, 0], tr[:, 1], tr[:, 2], color="0.7", lw=0.5)
        for k, kind in p["fps"]:
            mk, c = FIXED_POINT_MARKERS.get(kind, ("s", "C1"))
            if kind in ("stable node", "unstable node"):
                ax.scatter(*k, marker=mk, color=c, edgecolor="k", s=30)
        ax.set_title(f"{name}: stable (filled) fixed points", fontsize=9)
    finish_figure(fig, path)


# --------------------------------------------------------------------------- Fig 7
def van_der_pol(k: np.ndarray, mu: float = 1.0) -> np.ndarray:
    """``(k_2, -k_1 + mu (1 - k_1^2) k_2)`` for points of shape (..., 2)."""
    k = np.asarray(k, dtype=float)
    return np.stack([k[..., 1], -k[..., 0] + mu * (1 - k[..., 0] ** 2) * k[..., 1]], axis=-1)


def _vdp_period(mu: float = 1.0) -> tuple[float, float]:
    """Period and peak-to-peak amplitude of k_1 on the Van der Pol cycle (RK45, tight tol)."""
    from scipy.integrate import solve_ivp

    sol = solve_ivp(lambda t, y: van_der_pol(y, mu), (0, 100), [1.0, 1.0], rtol=1e-10,
                    atol=1e-12, dense_output=True)
    t = np.linspace(50, 100, 50_001)
    y = sol.sol(t)
    st = cycle_statistics(t, y.T, window=25.0)
    return st.period, st.amplitude


def _draw_populations(P: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random means and variances of (m_1, m_2, I) per population (authors' procedure)."""
    var = {k: rng.exponential(1.0, P) for k in ("I", "m1", "m2")}
    for k in ("m1", "m2"):
        var[k] = var[k] / np.std(var[k]) if P > 1 else np.ones(P)
    a_m1 = 4 * rng.random(P)
    a_I = 4 * rng.random(P)
    return {"var_I": var["I"], "var_m1": var["m1"], "var_m2": var["m2"],
            "a_m1": a_m1 - a_m1.mean(), "a_m2": np.zeros(P), "a_I": a_I - a_I.mean()}


def vdp_features(pop: dict[str, np.ndarray], grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``<phi>_p`` and ``<phi'>_p`` at each grid point (input held at v = 1), shapes (G, P)."""
    mu = pop["a_I"] + grid[:, :1] * pop["a_m1"] + grid[:, 1:] * pop["a_m2"]
    delta = pop["var_I"] + pop["var_m1"] * grid[:, :1] ** 2 + pop["var_m2"] * grid[:, 1:] ** 2
    av = gaussian_averages("tanh", mu, delta, orders=(0, 1))
    return av[0], av[1]


def fit_van_der_pol(P: int, beta: float, rng: np.random.Generator,
                    grid: np.ndarray) -> tuple[float, GaussianMixture, np.ndarray]:
    """One draw of P populations and the ridge fit of their overlaps and n means (Fig 7).

    The mean field (input v = 1) is ``G(k) = (1/P) sum_p [a_n^p <phi>_p + S^p k <phi'>_p]``
    with ``S^p_{rs} = sigma^p_{n_r m_s}``; ``P (g(k) + k)`` is regressed on the features with
    ridge ``beta^2`` (the authors' objective).

    Returns
    -------
    error : float
        Mean absolute error of the fitted field on the grid.
    mixture : GaussianMixture
        Loadings (m_1, m_2, n_1, n_2, I); ``Var(n)`` is set to ``S Var(m)^{-1} S^T + 1`` (the
        smallest PSD completion plus 1; it does not enter the mean field).
    fitted : ndarray, shape (G, 2)
        The fitted vector field on the grid.
    """
    pop = _draw_populations(P, rng)
    f0, f1 = vdp_features(pop, grid)
    Phi = np.hstack([f0, grid[:, :1] * f1, grid[:, 1:] * f1])  # (G, 3P)
    Y = van_der_pol(grid) + grid
    theta = np.linalg.solve(Phi.T @ Phi + beta**2 * np.eye(3 * P), Phi.T @ (P * Y))
    fitted = Phi @ theta / P - grid
    a_n, S1, S2 = theta[:P], theta[P:2 * P], theta[2 * P:]  # S1[p, r] = S^p_{r, 1}
    means = np.column_stack([pop["a_m1"], pop["a_m2"], a_n, pop["a_I"]])
    covs = np.zeros((P, 5, 5))
    for p in range(P):
        vm = np.array([pop["var_m1"][p], pop["var_m2"][p]])
        S = np.column_stack([S1[p], S2[p]])  # (r, s)
        covs[p, :2, :2] = np.diag(vm)
        covs[p, 2:4, :2] = S
        covs[p, :2, 2:4] = S.T
        covs[p, 2:4, 2:4] = S @ np.diag(1 / vm) @ S.T + np.eye(2)
        covs[p, 4, 4] = pop["var_I"][p]
    mix = GaussianMixture(np.full(P, 1.0 / P), means, covs, rank=2)
    return float(np.mean(np.abs(fitted - van_der_pol(grid)))), mix, fitted


def compute_fig7(settings: Settings) -> FigureData:
    """Van der Pol with P populations: error against P, mean-field and finite-N cycles (Fig 7)."""
    ch = Checks(KEY, "Fig 7")
    ax1 = np.linspace(-3, 3, 30)
    grid = np.stack(np.meshgrid(ax1, ax1), -1).reshape(-1, 2)
    if settings.quick:
        pops, trials, per_pop = [1, 5, 15, 35], 4, 2000
    else:
        pops, trials, per_pop = [1, 2, 3, 4, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50], 50, 2000
    betas = (1e-8, 0.5)
    rng = np.random.default_rng(settings.seed + 70)
    errors = np.empty((len(betas), len(pops), trials))
    keep: dict[int, list[tuple[float, GaussianMixture, np.ndarray]]] = {0: [], len(pops) - 1: []}
    for b, beta in enumerate(betas):
        for i, P in enumerate(pops):
            for t in range(trials):
                e, mix, fitted = fit_van_der_pol(P, beta, rng, grid)
                errors[b, i, t] = e
                if b == 1 and i in keep:
                    keep[i].append((e, mix, fitted))
    mean_err = errors.mean(axis=2)
    se = errors.std(axis=2, ddof=1) / np.sqrt(trials)
    for b, beta in enumerate(betas):
        ch.holds(f"beta = {beta:g}: mean error over {trials} draws decreases with P",
                 bool(np.all(np.diff(mean_err[b]) < 0)), np.round(mean_err[b], 3).tolist(),
                 "decreasing")
        gap = mean_err[b, 0] - mean_err[b, -1]
        ch.greater(f"beta = {beta:g}: error P = 1 minus P = {pops[-1]}, in standard errors",
                   gap / np.hypot(se[b, 0], se[b, -1]), 4.0)
    # the library's mean field of a fitted mixture is the regression model
    best = min(keep[len(pops) - 1], key=lambda r: r[0])
    e0, mix_b, fitted_b = best
    F_lib = latent_vector_field(mix_b, grid, np.array([1.0]))
    ch.close("mean field of the fitted mixture (library) vs the regression model (max |diff|)",
             float(np.max(np.abs(F_lib - fitted_b))), 0.0, 1e-7)
    period, amp = _vdp_period()
    k0, u = np.array([1.0, 1.0]), np.array([1.0])

    def cycle(mix: GaussianMixture) -> Any:
        return simulate_cycle(mix, k0, u, t_total=60.0, window=20.0, dt=0.1)

    c1 = [cycle(r[1]) for r in keep[0]]
    ch.holds(f"P = 1, beta = 0.5: no draw's mean field has a limit cycle ({trials} draws)",
             not any(c.oscillates for c in c1), sum(c.oscillates for c in c1), "0")
    P = pops[-1]
    cP = [cycle(r[1]) for r in keep[len(pops) - 1]]
    osc = [c for c in cP if c.oscillates]
    ch.holds(f"P = {P}, beta = 0.5: every draw's mean field oscillates ({trials} draws)",
             len(osc) == trials, len(osc), str(trials))
    per = np.array([c.period for c in osc]) if osc else np.array([np.nan])
    amps = np.array([c.amplitude for c in osc]) if osc else np.array([np.nan])
    # a residual field error of ~10% of the field moves the period by about as much
    ch.rel_close(f"P = {P}: mean period over draws vs Van der Pol {period:.4f} (draws "
                 f"{np.round(per, 3).tolist()}; tol 10%)", float(per.mean()), period, 0.10)
    ch.rel_close(f"P = {P}: mean kappa_1 peak-to-peak vs Van der Pol {amp:.4f} (tol 10%)",
                 float(amps.mean()), amp, 0.10)
    # finite network: per_pop neurons per population, exact sample statistics in each
    # population (the authors keep, of 500 draws, the one closest to the target statistics)
    n = P * per_pop
    net, labels = mix_b.sample(n, exact=True, rng=settings.seed + 71)
    F_net = network_latent_field(net, grid, u)
    dev = float(np.sqrt(np.mean(np.sum((F_net - F_lib) ** 2, axis=1))))
    cyc_b = cycle(mix_b)
    dt = 0.02
    tr = simulate(net, np.broadcast_to(u, (1, int(80 / dt), 1)), x0=net.M @ k0 + net.I @ u,
                  dt=dt, keep_x=False, project_on=np.hstack([net.M, net.I]))
    kap = tr.latent[0, :, :2]
    net_cyc = cycle_statistics(tr.t, kap, window=25.0)
    scale = "quick: " if settings.quick else ""
    ch.holds(f"network (N = {n}, {scale}{per_pop} per population) oscillates",
             net_cyc.oscillates, round(net_cyc.amplitude, 3), "sustained oscillation")
    ch.rel_close(f"network period vs Van der Pol (its mean field: {cyc_b.period:.4f}; tol 10%)",
                 net_cyc.period, period, 0.10)
    ch.rel_close(f"network kappa_1 peak-to-peak vs Van der Pol (its mean field: "
                 f"{cyc_b.amplitude:.4f}; tol 10%)", net_cyc.amplitude, amp, 0.10)
    mf = latent_trajectory(mix_b, k0, u, dt=dt, n_steps=int(40 / dt)).kappa[0]
    box = (-5.0, 5.0)
    flow_mf = flow_field(mix_b, box, box, n=40, v=u, fast=True)
    flow_net = network_flow_field(net, box, box, n=40, u=u)
    kk = np.linspace(*box, 40)
    KK = np.stack(np.meshgrid(kk, kk), -1)
    return FigureData(
        data={"pops": pops, "mean_err": mean_err, "se": se, "betas": betas,
              "target_flow": (kk, kk, van_der_pol(KK)), "flow_mf": flow_mf,
              "flow_net": flow_net, "mf_traj": mf, "net_traj": kap[: int(40 / dt)],
              "P": P, "n_neurons": n},
        checks=ch, params={"populations": pops, "trials": trials, "betas": list(betas),
                           "neurons_per_population": per_pop, "target": "Van der Pol, mu = 1",
                           "vdp_period": period, "target_error_best": e0,
                           "network_field_rms_deviation": dev},
    )


def plot_fig7(fd: FigureData, path: Path) -> None:
    """Target, mean-field and network flows with trajectories; error against P."""
    import matplotlib.pyplot as plt

    from lowrank_rnn.plotting.flow import plot_speed

    d = fd.data
    fig, ax = plt.subplots(1, 4, figsize=(16, 3.8))
    plot_speed(ax[0], *d["target_flow"], "Van der Pol (target)", vmax=2.0)
    plot_speed(ax[1], *d["flow_mf"], f"mean field, P = {d['P']}", vmax=2.0)
    ax[1].plot(d["mf_traj"][:, 0], d["mf_traj"][:, 1], "C1", lw=1.5)
    plot_speed(ax[2], *d["flow_net"], f"network, N = {d['n_neurons']}", vmax=2.0)
    ax[2].plot(d["net_traj"][:, 0], d["net_traj"][:, 1], "C1", lw=1.5)
    for b, beta in enumerate(d["betas"]):
        m, s = d["mean_err"][b], d["se"][b]
        ax[3].fill_between(d["pops"], m - s, m + s, alpha=0.3, color=f"C{b}")
        ax[3].plot(d["pops"], m, "o-", color=f"C{b}", label=f"beta = {beta:g}")
    ax[3].set_yscale("log")
    ax[3].set_xlabel("populations P")
    ax[3].set_ylabel("error (mean field)")
    ax[3].legend(fontsize=7)
    finish_figure(fig, path)


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("Fig 4", "Rank one, two populations: three stable states (paper Fig 4)",
               compute_fig4, plot_fig4,
               quick_note="4e5 Monte Carlo draws for the drive check instead of 4e6."),
    FigureSpec("Fig 6", "Populations on a square / cube: 4, 6 and 14 stable states (paper Fig 6)",
               compute_fig6, plot_fig6,
               quick_note="The G-I panel's finite network is not simulated."),
    FigureSpec("Fig 7", "Approximating the Van der Pol oscillator with P populations "
               "(paper Fig 7)", compute_fig7, plot_fig7,
               quick_note=("P in {1, 5, 15, 35} with 4 fits each instead of 14 values of P "
                           "with 50 fits each.")),
)
