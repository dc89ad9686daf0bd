"""Herbert & Ostojic 2022, Figs 4–6: input-driven dynamics, dynamical regimes, Go/Nogo task.

- Fig 4: step input along I (``Cov(n, I) = 0.2``, ``sigma_mn = 0``). Sparsifying the rank-one
  part (C decreasing) shrinks ``kappa_r`` and makes the participation ratio non-monotone, while
  adding a Gaussian part of strength g keeps ``kappa_r`` and raises the participation ratio.
- Fig 5: regimes of autonomous activity of the rescaled sparse network (eq 12) on a
  (sigma^2, sigma_mn) grid, simulated against the spectral prediction (outlier ``C sigma_mn``,
  bulk ``sqrt(C) sigma^2 sqrt(1 - C/N)``); structure along m lost as C decreases at fixed N and
  kept as N grows at fixed C.
- Fig 6: psychometric curves of the evidence-accumulation task.

Quick mode uses smaller N and fewer trials; full mode uses the paper's sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import erfcinv
from scipy.stats import binom
from scipy.stats import t as student_t

from lowrank_rnn._validate import check_choice
from lowrank_rnn.analysis import (
    kappa_r,
    pca,
    psychometric_curve,
    simulated_regime,
)
from lowrank_rnn.connectivity import (
    add_random,
    fixed_degree_mask,
    loadings,
    rank_one_loadings,
    rank_one_network,
)
from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.reproduce._core import (
    Checks,
    FigureData,
    FigureSpec,
    Settings,
    finish_figure,
    sweep_arrays,
)
from lowrank_rnn.simulate import simulate
from lowrank_rnn.tasks.evidence import evidence_network, evidence_trials
from lowrank_rnn.theory.latent import rank_one_kappa_rec
from lowrank_rnn.theory.spectrum import (
    edge_bias,
    edge_sd,
    spectral_regime,
    theory_bulk_radius,
    theory_outlier,
    theory_outlier_sd,
)

PAPER_KEY = "herbert2022"

#: One-sided false-failure probability of every statistical check row of Figs 4-6.
ALPHA = 1e-3


def _t_tol(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Half-width ``t_{K-1}(1 - ALPHA/2) s / sqrt(K)`` of the mean of K independent values
    (Student t; holds whatever the seed with probability ``1 - ALPHA``)."""
    v = np.asarray(values, float)
    k = v.shape[axis]
    return student_t.ppf(1 - ALPHA / 2, k - 1) * v.std(axis=axis, ddof=1) / np.sqrt(k)


def _sweep(func: Callable[..., Mapping[str, Any]], grid: Mapping[str, Sequence[Any]],
           seeds: Sequence[int], fixed: Mapping[str, Any], settings: Settings, name: str
           ) -> dict[str, np.ndarray]:
    """Run ``func`` on every grid point × seed through the sweep machinery.

    Quick mode runs serially in-process (no Dask start-up); full mode on ``settings.scheduler``
    or a local Dask cluster, resumable when a sweep directory is configured
    (:func:`lowrank_rnn.reproduce._core.sweep_options`). Every point derives its randomness
    from its own ``seed`` only, so it gives the same result wherever it runs.

    Returns
    -------
    dict of output name -> ndarray, shape ``(*grid sizes, len(seeds), *output shape)``
    """
    return sweep_arrays(func, grid, seeds, fixed=fixed, settings=settings,
                        name=f"{PAPER_KEY}_{name}")


# =========================================================================== Fig 4
def _fig4_vectors(n: int, sigma2: float, sigma_ni: float, seed: int) -> np.ndarray:
    cov = np.array([[sigma2, 0.0, 0.0], [0.0, sigma2, sigma_ni], [0.0, sigma_ni, 1.0]])
    return loadings(n, cov, exact=True, rng=seed)  # columns m, n, I


def _authors_fig4_vectors(n: int, sigma2: float, seed: int) -> np.ndarray:
    """m, n, I as the authors' Fig 4 code builds them: m, n by Gram–Schmidt without
    normalisation (``sigma_mn = 0``), a fresh draw r made orthogonal to m (unnormalised),
    ``I = I_perp + 2 n`` (input overlapping n, orthogonal to m).

    Returns
    -------
    ndarray, shape (N, 3): columns m, n, I
    """
    rng = np.random.default_rng(seed)
    m, nn = rank_one_loadings(n, sigma2, 0.0, gram_schmidt=True, rng=rng)
    r = rng.standard_normal(n)
    return np.stack([m, nn, r - (r @ m) / (m @ m) * m + 2 * nn], axis=1)


#: Principal components kept by the authors' participation ratio (Fig 4).
AUTHORS_N_PCS = 5


#: Principal components whose alignment with m and I is reported (Fig 4B/E, right).
N_ALIGN_PCS = 3


def _alignment_by_correlation(components: np.ndarray, vectors: Sequence[np.ndarray]
                              ) -> np.ndarray:
    """The authors' PC alignment: ``|corrcoef(PC_k, v)|`` (Pearson over neurons, i.e. the
    cosine after removing each vector's mean over neurons).

    Returns
    -------
    ndarray, shape (len(vectors), K)
    """
    pcs = components - components.mean(axis=1, keepdims=True)
    out = np.empty((len(vectors), components.shape[0]))
    for i, v in enumerate(vectors):
        vc = v - v.mean()
        num = pcs @ vc
        den = np.linalg.norm(pcs, axis=1) * np.linalg.norm(vc)
        out[i] = np.abs(np.divide(num, den, out=np.zeros_like(num), where=den > 0))
    return out


def _input_driven(net: LowRankRNN, m: np.ndarray, inp: np.ndarray, dt: float, steps: int,
                  on: int, off: int) -> dict:
    """Pulse of input along I from step ``on`` to ``off`` (as in the authors' Fig 4 code).

    Library measures: ``kappa_r = m.x/|m|^2`` (eq 34) averaged over the last quarter of the
    pulse, participation ratio of all principal components of the whole trajectory, and the
    alignment of the top :data:`N_ALIGN_PCS` PCs with I and m as ``|cos|`` between the unit PC
    axis and the vector (:func:`~lowrank_rnn.analysis.pca`). The authors' measures on the same
    trajectory: ``kappa = |tanh(x).m / N|`` averaged from the stimulus onset to the end,
    participation ratio over the top :data:`AUTHORS_N_PCS` PCs, alignment by correlation
    (:func:`_alignment_by_correlation`). One eigendecomposition of the trajectory's covariance
    gives all of them.
    """
    u = np.zeros((1, steps, 1))
    u[0, on:off, 0] = 1.0
    tr = simulate(net.replace(I=inp[:, None]), u, None, dt=dt)
    x = tr.x[0]
    late = x[off - (off - on) // 4: off]
    res = pca(x, n_components=max(AUTHORS_N_PCS, N_ALIGN_PCS), vectors={"I": inp, "m": m})
    top = res.eigenvalues[:AUTHORS_N_PCS]
    pr_top = float(top.sum() ** 2 / np.sum(top**2)) if top.sum() > 0 else 0.0
    k = N_ALIGN_PCS
    return {
        "kappa_r": float(np.mean(kappa_r(late, m))),
        "pr": res.participation_ratio,
        "kappa_t": kappa_r(x, m),
        "kappa_authors": float(np.mean(np.abs(np.tanh(x[on:]) @ m)) / m.size),
        "pr_authors": pr_top,
        "align_cos": np.stack([res.alignment["I"][:k], res.alignment["m"][:k]]),
        "align_corr": _alignment_by_correlation(res.components[:k], [inp, m]),
    }


def input_driven_point(n: int, sigma2: float, sigma_ni: float, vectors_seed: int, dt: float,
                       steps: int, on: int, off: int, c: int = 0, g: float = 0.0,
                       vectors: str = "paper", seed: int = 0) -> dict[str, Any]:
    """One network of Fig 4 driven by a pulse along I (a sweep point).

    The loadings (m, n, I) come from ``vectors_seed`` (shared by every point of the figure);
    ``c`` in ``(0, n)`` keeps ``c`` entries per row of ``m n^T`` (fixed-degree mask from
    ``seed``), ``g > 0`` adds a dense Gaussian part ``g chi`` (from ``seed``).
    ``vectors='authors'`` builds (m, n, I) as the authors' code does
    (:func:`_authors_fig4_vectors`; ``sigma_ni`` is then unused: ``I = I_perp + 2 n``).

    Returns
    -------
    dict with ``kappa_r`` (end of the pulse), ``pr`` (participation ratio of the trajectory),
    ``kappa_t`` (steps,), the authors' ``kappa_authors`` and ``pr_authors``, and the alignment
    of the top 3 PCs with (I, m), ``align_cos`` and the authors' ``align_corr``, shape (2, 3)
    (:func:`_input_driven`)
    """
    check_choice("vectors", vectors, ("paper", "authors"))
    if vectors == "authors":
        V = _authors_fig4_vectors(int(n), sigma2, int(vectors_seed))
    else:
        V = _fig4_vectors(int(n), sigma2, sigma_ni, int(vectors_seed))
    m, nn, inp = V[:, 0], V[:, 1], V[:, 2]
    if 0 < c < n:
        net = LowRankRNN(M=m, N=nn, mask=fixed_degree_mask(int(n), int(c), rng=seed), scale=1.0)
    else:
        net = LowRankRNN(M=m, N=nn, scale=1.0)
    if g > 0:
        net = add_random(net, float(g), rng=seed)
    return _input_driven(net, m, inp, dt, int(steps), int(on), int(off))


def _fig4_rows(ch: Checks, k_s: np.ndarray, dk_g: np.ndarray, pr_s: np.ndarray,
               pr_g: np.ndarray, g_max: float, n_dense: int, *, kappa: str = "kappa_r",
               pr: str = "participation ratio") -> None:
    """The qualitative rows of Fig 4 for one pair of definitions (named ``kappa`` and ``pr``):
    sparsity removes structure along m, a random part keeps it (paired Student t), the
    participation ratio peaks at intermediate C and grows with g."""
    ch.less(f"{kappa} at the smallest C / {kappa} dense (sparsity removes structure along m)",
            k_s[-1] / k_s[0], 0.5)
    ch.holds(f"{kappa} decreases as C decreases", bool(np.all(np.diff(k_s) <= 0.02 * k_s[0])),
             np.round(k_s, 3).tolist(), "non-increasing along decreasing C")
    ch.close(f"mean change of {kappa} from g = 0 to g = {g_max:g} over {n_dense} dense "
             "networks (preserved by a random part); tol: t half-width of the paired mean",
             dk_g.mean(), 0.0, float(_t_tol(dk_g)))
    inner = pr_s[1:-1].max()
    ch.holds(f"{pr} non-monotone in C (peak at intermediate C)",
             bool(inner > pr_s[0] and inner > pr_s[-1]), np.round(pr_s, 3).tolist(),
             "max over inner C > both ends")
    ch.holds(f"{pr} increases with g", bool(np.all(np.diff(pr_g) > 0)),
             np.round(pr_g, 3).tolist(), "strictly increasing")


def _plane_fraction(align: np.ndarray) -> np.ndarray:
    """``sqrt(sum_{k<2} a_k^2)`` over the top two PCs: the part of each unit vector (I, m) in
    the plane of the top two PCs (1 when that plane contains it). ``align``: (..., 2, K)."""
    return np.sqrt(np.sum(np.asarray(align)[..., :2] ** 2, axis=-1))


def _alignment_rows(ch: Checks, align_s: np.ndarray, label: str) -> None:
    """PC alignment rows of Fig 4 (``align_s``: (len(cs), 2, 3), first C = N): the dense
    network's activity lies in the m–I plane (x = kappa m + v I from x0 = 0, eq 33), so its top
    two PCs span I and m; sparsity moves them away from m."""
    frac = _plane_fraction(align_s)  # (len(cs), 2): I, m
    for j, name in enumerate(("I", "m")):
        ch.close(f"C = N: part of {name} in the plane of the top 2 PCs ({label}); activity "
                 "confined to the m-I plane (eq 33), tol: round-off and O(1/N) centring",
                 frac[0, j], 1.0, 0.01)
    ch.less(f"part of m in the top-2 PC plane at the smallest C < at C = N ({label}; sparsity "
            "moves the leading PCs away from m)", frac[-1, 1], frac[0, 1])


def compute_fig4(settings: Settings) -> FigureData:
    """Input-driven dynamics as sparsity (C) or random strength (g) grows (Fig 4).

    ``settings.procedure == 'authors'``: the authors' notebook instead of the caption — their
    vectors (sigma^2 = 0.0144 at N = 2000, ``sigma_mn = 0``, Gram–Schmidt without
    normalisation, ``I = I_perp + 2 n``) and time step 0.01; the rows are given twice on the same
    trajectories, with the library's measures (``kappa_r`` at the end of the pulse, participation
    ratio of all PCs) and with the authors' (``|tanh(x).m/N|`` averaged from the onset, ratio
    over the top 5 PCs).
    """
    authors = settings.procedure == "authors"
    n = 600 if settings.quick else 2000
    if authors:  # the notebook's sigma = 0.12 at N = 2000; sigma^2 ~ 1/sqrt(N) keeps the radii
        sigma2, dt = 0.0144 * np.sqrt(2000 / n), 0.01
    else:
        sigma2, dt = 1.92 / np.sqrt(n), 0.1  # the paper's 0.043 at N = 2000: radius in [0, ~1)
    sigma_ni = 0.2
    t_total = 25.0
    steps = int(round(t_total / dt))
    on, off = steps // 5, 3 * steps // 5
    cs = np.array([n, 450, 300, 120, 30, 8]) if settings.quick else np.array(
        [2000, 1600, 1000, 600, 300, 100, 30, 10])
    gs = np.array([0.0, 0.4, 0.8, 1.0]) if settings.quick else np.linspace(0.0, 1.0, 6)
    fixed = {"n": n, "sigma2": sigma2, "sigma_ni": sigma_ni, "vectors_seed": settings.seed,
             "dt": dt, "steps": steps, "on": on, "off": off}
    if authors:
        fixed["vectors"] = "authors"
    # one instance per point; every C (resp. g) uses the same seed (common random numbers)
    sparse = _sweep(input_driven_point, {"c": cs}, [settings.seed + 1], fixed, settings,
                    "fig4_sparse")
    gauss = _sweep(input_driven_point, {"g": gs}, [settings.seed + 2], fixed, settings,
                   "fig4_gauss")
    # K dense networks (independent loadings) with and without the random part g = max(gs):
    # the tolerances of the kappa_r rows are the Student-t half-widths of their mean
    # (network-to-network spread ~5% of kappa_r at N = 600), not fixed percentages
    vseeds = [settings.seed + 10 + i for i in range(8)]
    dense = _sweep(input_driven_point, {"vectors_seed": vseeds, "g": [0.0, float(gs[-1])]},
                   [settings.seed + 3], {k: v for k, v in fixed.items() if k != "vectors_seed"},
                   settings, "fig4_dense")
    many = dense["kappa_r"][..., 0]  # (K, 2)
    radius_c = np.array([theory_bulk_radius(sigma2, n_neurons=n, c=int(c), rescaled=True)
                         for c in cs])
    k_s, k_g = sparse["kappa_r"][:, 0], gauss["kappa_r"][:, 0]
    pr_s, pr_g = sparse["pr"][:, 0], gauss["pr"][:, 0]
    # mean-field prediction for the dense network (C = N): x = kappa m + v I with the filtered
    # input v near its plateau, kappa = N sigma_nI v <phi'(sqrt(sigma2 kappa^2 + v^2) xi)>
    # (eq 36-37 with sigma_mn = 0 and scale 1, i.e. sigma_nI -> N sigma_nI). The authors'
    # I = I_perp + 2n has n.I/N = 2 sigma^2 and |I|^2/N = 1 + 4 sigma^2 on average.
    s_ni, s_i2 = (2 * sigma2, 1 + 4 * sigma2) if authors else (sigma_ni, 1.0)
    v_end = 1.0 - np.exp(-(off - on) * dt)
    k_theory = float(brentq(
        lambda k: float(rank_one_kappa_rec(k, sigma2, 0.0, v=v_end, sigma_nI=n * s_ni,
                                           sigma_I2=s_i2)) - k, 0.0, n * s_ni))
    ch = Checks(PAPER_KEY, "Fig 4")
    k_dense, dk_g = many[:, 0], many[:, 1] - many[:, 0]
    ch.close(f"mean kappa_r of {len(vseeds)} dense networks (C = N) vs the latent mean field "
             "(eq 36-37); tol: t half-width of the mean", k_dense.mean(), k_theory,
             float(_t_tol(k_dense)))
    _fig4_rows(ch, k_s, dk_g, pr_s, pr_g, float(gs[-1]), len(vseeds))
    al_cos, al_corr = sparse["align_cos"][:, 0], sparse["align_corr"][:, 0]
    _alignment_rows(ch, al_cos, "|cos| of PC and vector")
    data = {"c": cs, "g": gs, "kappa_sparse": k_s, "kappa_gauss": k_g, "pr_sparse": pr_s,
            "pr_gauss": pr_g, "radius_c": radius_c, "kappa_theory": k_theory,
            "kappa_t_sparse": sparse["kappa_t"][:, 0], "kappa_t_gauss": gauss["kappa_t"][:, 0],
            "dt": dt, "kappa_dense_networks": many, "align_cos_sparse": al_cos,
            "align_corr_sparse": al_corr, "align_cos_gauss": gauss["align_cos"][:, 0],
            "align_corr_gauss": gauss["align_corr"][:, 0]}
    if authors:
        ka_s, ka_g = sparse["kappa_authors"][:, 0], gauss["kappa_authors"][:, 0]
        pa_s, pa_g = sparse["pr_authors"][:, 0], gauss["pr_authors"][:, 0]
        ka = dense["kappa_authors"][..., 0]
        _fig4_rows(ch, ka_s, ka[:, 1] - ka[:, 0], pa_s, pa_g, float(gs[-1]), len(vseeds),
                   kappa="authors' kappa |tanh(x).m/N| (mean from onset)",
                   pr="authors' participation ratio (top 5 PCs)")
        data.update(kappa_authors_sparse=ka_s, kappa_authors_gauss=ka_g,
                    pr_authors_sparse=pa_s, pr_authors_gauss=pa_g)
        _alignment_rows(ch, al_corr, "authors' |corrcoef| of PC and vector")
        both = np.concatenate([
            np.abs(al_corr - al_cos).ravel(),
            np.abs(gauss["align_corr"] - gauss["align_cos"]).ravel()])
        worst = int(np.argmax(both))
        # centring a unit PC axis a and a vector b changes their cosine by
        # (Z Z' - cos (Z^2 + Z'^2)/2) / N to first order, Z = sqrt(N) mean(a) / rms(a) and Z'
        # likewise for b, each ~ N(0, 1) for loadings of zero population mean: |difference|
        # <= (Z^2 + Z'^2) / N, and Z^2 + Z'^2 <= 2 q^2 at all K entries with probability
        # >= 1 - ALPHA for q the normal quantile of ALPHA / (4 K) (union bound)
        q = float(np.sqrt(2) * erfcinv(2 * ALPHA / (4 * both.size)))
        ch.less(f"largest |authors' |corr| - library's |cos|| over the top 3 PCs, (I, m) and "
                f"every C and g (the rules differ only by centring over neurons: O(1/N), bound "
                f"2 q^2 / N, q = {q:.2f}); at that entry corr "
                f"{np.concatenate([al_corr.ravel(), gauss['align_corr'].ravel()])[worst]:.4f}, "
                f"cos {np.concatenate([al_cos.ravel(), gauss['align_cos'].ravel()])[worst]:.4f}",
                float(both.max()), 2 * q**2 / n)
    params = {"n_neurons": n, "sigma2": round(sigma2, 4),
              "sigma_nI": "2 sigma2 (I = I_perp + 2 n)" if authors else sigma_ni,
              "sigma_mn": 0.0, "t_total": t_total, "dt": dt, "procedure": settings.procedure}
    return FigureData(data, ch, params)


def plot_fig4(fd: FigureData, path: Path) -> None:
    """Draw Fig 4: kappa_r(t), kappa_r and participation ratio against C and g."""
    import matplotlib.pyplot as plt

    d = fd.data
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.8))
    t = np.arange(d["kappa_t_sparse"].shape[1]) * d["dt"]
    for c, k in zip(d["c"], d["kappa_t_sparse"], strict=True):
        ax[0].plot(t, k, label=f"C={c}")
    ax[0].set_xlabel("t / tau")
    ax[0].set_ylabel("kappa_r")
    ax[0].legend(fontsize=7)
    ax[1].plot(d["c"], d["kappa_sparse"], "o-", label="sparse (vs C)")
    ax[1].axhline(d["kappa_theory"], ls="--", color="0.5", label="mean field, dense")
    ax[1].set_xscale("log")
    ax[1].set_xlabel("C")
    ax[1].set_ylabel("kappa_r")
    ax[1].legend(fontsize=7)
    if "kappa_authors_sparse" in d:  # the authors' measures, on their own axes
        tw = ax[1].twinx()
        tw.plot(d["c"], d["kappa_authors_sparse"], "^:", color="C3", label="|tanh(x).m/N|")
        tw.set_ylabel("authors' kappa", color="C3")
        tw2 = ax[2].twinx()
        tw2.plot(d["radius_c"], d["pr_authors_sparse"], "^:", color="C3", label="top-5 PR")
        tw2.set_ylabel("authors' PR (top 5 PCs)", color="C3")
    ax[2].plot(d["radius_c"], d["pr_sparse"], "o-", label="sparse (x = bulk radius)")
    ax[2].plot(d["g"], d["pr_gauss"], "s-", label="dense + Gaussian (x = g)")
    ax[2].set_xlabel("bulk radius")
    ax[2].set_ylabel("participation ratio")
    ax[2].legend(fontsize=7)
    finish_figure(fig, path)


# =========================================================================== Fig 5
#: Smallest distance (in units of the eigenvalue modulus) of a checked Fig 5 grid point from a
#: regime boundary; the finite simulation time blurs the regimes next to them.
BOUNDARY_MARGIN = 0.3


#: ... or more than this many finite-N standard deviations of the distance (outlier sd from the
#: first-order perturbation formula, which at N = 400 is >= 0.8 wherever R > 1, so that no
#: chaotic point of the quick grid is clear of the outlier = R boundary).
BOUNDARY_Z = 2.0


#: Regime codes of :func:`regime_point` (``-1``: not realisable, ``sigma_mn > sigma^2``).
REGIMES: tuple[str, ...] = ("decaying", "structured", "chaotic")


def regime_point(n: int, c: int, sigma2: float, sigma_mn: float, t_total: float, dt: float,
                 window: float, x0: str = "m", seed: int = 0) -> dict[str, float | int]:
    """Predicted and simulated regime of one rescaled sparse rank-one network (Fig 5A/B point).

    Theory: outlier ``C sigma_mn`` (eq 13), bulk radius eq 14, regime by
    :func:`~lowrank_rnn.theory.spectrum.spectral_regime`. Simulation: the network of eq 12 (random
    stream from ``seed`` and the point's ``(sigma2, sigma_mn)``, so every grid point draws its
    own network, as in the paper's diagram) started at ``m + 0.1 xi``, run for ``t_total``
    (float32) and classified by
    :func:`~lowrank_rnn.analysis.simulated_regime` on the last ``window``. A point with
    ``sigma_mn > sigma^2`` is not realisable with eq 17-18: codes ``-1``, NaN theory values.
    ``x0='uniform'``: the authors' start instead, ``x0_i ~ U(0, 1)`` i.i.d. over neurons.

    Returns
    -------
    dict with ``predicted`` and ``simulated`` (index into :data:`REGIMES`), ``outlier`` and
    ``radius`` (theory)
    """
    if abs(sigma_mn) > sigma2:
        return {"predicted": -1, "simulated": -1, "outlier": np.nan, "radius": np.nan}
    outl = theory_outlier(sigma_mn, n_neurons=n, c=c, rescaled=True)
    rad = theory_bulk_radius(sigma2, n_neurons=n, c=c, rescaled=True)
    bits = np.array([sigma2, sigma_mn], dtype=np.float64).view(np.uint64)
    rng = np.random.default_rng([int(seed), *(int(b) for b in bits)])
    net = rank_one_network(int(n), sigma2, sigma_mn, c=int(c), rescaled=True, rng=rng)
    m = net.M[:, 0]
    check_choice("x0", x0, ("m", "uniform"))
    start = rng.uniform(0.0, 1.0, int(n)) if x0 == "uniform" else (
        m + 0.1 * rng.standard_normal(int(n)))
    n_steps = int(round(t_total / dt))
    keep = max(1, int(round(window / dt)))
    tr = simulate(net, None, start, dt=dt, n_steps=n_steps, dtype=np.float32)
    sim = simulated_regime(tr.x[0, -keep:].astype(float), m).regime
    return {"predicted": REGIMES.index(spectral_regime(outl, rad)),
            "simulated": REGIMES.index(sim), "outlier": outl, "radius": rad}


def _phase_diagram(s2: np.ndarray, smn: np.ndarray, n: int, c: int, t_total: float,
                   settings: Settings, *, x0: str = "m", name: str = "fig5_phase") -> dict:
    """The (sigma^2, sigma_mn) grid of :func:`regime_point` (one network per point), in the
    layout of :func:`lowrank_rnn.analysis.phase_diagram`; ``x0`` as in :func:`regime_point`."""
    fixed: dict[str, Any] = {"n": n, "c": c, "t_total": t_total, "dt": 0.2, "window": 20.0}
    if x0 != "m":
        fixed["x0"] = x0
    res = _sweep(regime_point, {"sigma2": s2, "sigma_mn": smn}, [settings.seed], fixed,
                 settings, name)
    names = np.array(["", *REGIMES], dtype=object)
    pred = names[res["predicted"][..., 0] + 1]
    sim = names[res["simulated"][..., 0] + 1]
    ok = pred != ""
    agree = (pred == sim) & ok
    frac = float(agree.sum() / ok.sum()) if ok.any() else float("nan")
    # points clear of the boundaries outlier = 1, R = 1 and outlier = R by more than
    # max(BOUNDARY_MARGIN, BOUNDARY_Z sd), sd from the finite-N outlier (theory_outlier_sd) and bulk
    # edge (edge_bias, edge_sd) fluctuations of the point's own network
    outl, rad = res["outlier"][..., 0], res["radius"][..., 0]
    sd_o = np.full(outl.shape, np.inf)
    for i, j in zip(*np.nonzero(ok), strict=True):
        sd_o[i, j] = theory_outlier_sd(s2[i], smn[j], n_neurons=n, c=c, rescaled=True)
    sd_r, r_hat = rad * edge_sd(n), rad * (1 + edge_bias(n))
    z = BOUNDARY_Z

    def clear(dist, sd):
        return np.abs(dist) > np.maximum(BOUNDARY_MARGIN, z * sd)

    clear_pts = ok & clear(outl - 1, sd_o) & clear(r_hat - 1, sd_r) & clear(
        outl - r_hat, np.hypot(sd_o, sd_r))
    return {"sigma2": np.asarray(s2, float), "sigma_mn": np.asarray(smn, float),
            "predicted": pred, "simulated": sim, "outlier": res["outlier"][..., 0],
            "radius": res["radius"][..., 0], "agree": agree, "fraction_agree": frac,
            "clear": clear_pts, "outlier_sd": sd_o}


def structure_point(n: int, c: int, sigma2: float, sigma_mn: float, steps: int, dt: float,
                    x0: str = "m", seed: int = 0) -> dict[str, float]:
    """Mean ``|kappa_r|`` over the last third of an autonomous run from ``m`` (Fig 5C/D point).

    One rescaled sparse rank-one network (eq 12, from ``seed``), float32 simulation.
    ``x0='uniform'``: the authors' start, ``x0_i ~ U(0, 1)`` i.i.d. (drawn after the network
    from the same stream), so that the run may settle on either sign of the structured state.

    Returns
    -------
    dict with ``kappa`` (mean ``|kappa_r|``) and ``kappa_signed_authors``: the authors'
    ``tanh(x).m / N`` averaged over the same window, with its sign
    """
    check_choice("x0", x0, ("m", "uniform"))
    rng = np.random.default_rng(seed)
    net = rank_one_network(int(n), sigma2, sigma_mn, c=int(c), rescaled=True,
                           rng=rng if x0 == "uniform" else seed)
    m = net.M[:, 0]
    steps = int(steps)
    start = rng.uniform(0.0, 1.0, int(n)) if x0 == "uniform" else m
    tr = simulate(net, None, start, dt=dt, n_steps=steps, dtype=np.float32)
    late = tr.x[0, -steps // 3:].astype(float)
    k = kappa_r(late, m)
    return {"kappa": float(np.mean(np.abs(k))),
            "kappa_signed_authors": float(np.mean(np.tanh(late) @ m) / m.size)}


def _fig5_structure_rows(ch: Checks, k_vs_c: np.ndarray, k_n: np.ndarray, n_list: list[int],
                         c_fix: int, *, kappa: str = "|kappa_r|") -> None:
    """Rows of Fig 5C/D for one measure ``kappa`` (>= 0): lost as C decreases at fixed N, kept
    as N grows at fixed C. ``k_vs_c``: (C,) means; ``k_n``: (N, networks)."""
    tag = "" if kappa == "|kappa_r|" else f": {kappa}"
    ch.holds(f"structure along m lost as C decreases at fixed N (outlier C sigma_mn < 1){tag}",
             bool(k_vs_c[-1] < 0.2 * k_vs_c[0]), np.round(k_vs_c, 3).tolist(),
             f"{kappa} at smallest C < 0.2 x largest C")
    # far into the sparse range (C/N <= 0.1) the bulk radius sqrt(C) sigma^2 sqrt(1 - C/N)
    # changes by < 3%, so the measure should not change with N: every pair of N means within the
    # Student-t half-width of their difference (pooled across-network variance, Bonferroni)
    k_mean = k_n.mean(axis=1)
    n_inst, n_pts = k_n.shape[1], k_n.shape[0]
    pooled = float(np.sqrt(np.mean(k_n.var(axis=1, ddof=1))))
    tq = student_t.ppf(1 - ALPHA / (n_pts * (n_pts - 1)), n_pts * (n_inst - 1))
    tol_n = float(tq * pooled * np.sqrt(2 / n_inst))
    ch.less(f"largest difference of mean {kappa} between N in {n_list} at fixed C = {c_fix} "
            f"(structure kept; {n_inst} networks each); bound: t half-width {tol_n:.3g}",
            float(np.ptp(k_mean)), tol_n)
    ch.greater(f"mean {kappa} at the largest N (structure present)", float(k_mean[-1]), tol_n)


def _by_sign(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means of the positive and of the negative values along the last axis (NaN where none),
    and the number of positive ones: the two branches of the authors' Figs 5C/D."""
    pos, neg = np.where(v > 0, v, np.nan), np.where(v < 0, v, np.nan)
    with np.errstate(invalid="ignore"):
        mp = np.array([np.nanmean(r) if np.any(np.isfinite(r)) else np.nan for r in pos])
        mn = np.array([np.nanmean(r) if np.any(np.isfinite(r)) else np.nan for r in neg])
    return mp, mn, (v > 0).sum(axis=-1)


#: The authors' Fig 5 sample points: (bulk radius R, outlier) pairs, two of each (2 x 2 grid):
#: decaying, structured, chaotic, and structured with R > 1 (outlier > R).
AUTHORS_FIG5_SAMPLES = ((0.4, 2.2), (0.4, 3.4))


def compute_fig5(settings: Settings) -> FigureData:
    """Regimes of autonomous activity and structure along m vs C and N (Fig 5).

    ``settings.procedure == 'authors'``: the phase diagram is the theory lines with four
    simulated sample points (a 2 x 2 grid in (R, outlier), one network each) started, as in the
    authors' code, at ``x0_i ~ U(0, 1)``; Figs 5C/D start there too and add the authors'
    measure ``tanh(x).m/N``, split by sign (the two branches of the structured state), beside
    the library's ``|kappa_r|`` on the same runs.
    """
    quick = settings.quick
    authors = settings.procedure == "authors"
    n, c = (400, 80) if quick else (1000, 200)
    scale_r = np.sqrt(c * (1 - c / n))
    if authors:
        radii, outl = (np.array(v) for v in AUTHORS_FIG5_SAMPLES)
    else:
        # quick grid: (R, outlier) = (0.1, 0.5), (0.6, 1.8), (0.6, 2.6) are clear of
        # the boundaries (BOUNDARY_MARGIN, BOUNDARY_Z) at N = 400 (one decaying, two structured)
        radii = np.array([0.1, 0.6, 1.4, 2.2]) if quick else np.linspace(0.2, 2.6, 9)
        outl = np.array([0.5, 0.8, 1.8, 2.6]) if quick else np.linspace(0.2, 3.0, 9)
    s2 = radii / scale_r
    smn = outl / c
    pd = _phase_diagram(s2, smn, n, c, 60.0 if quick else 100.0, settings,
                        x0="uniform" if authors else "m",
                        name="fig5_samples" if authors else "fig5_phase")
    dt, steps = 0.2, 300
    # C and N dependence at a fixed (sigma2, sigma_mn): outlier 2.5 and bulk 0.6 at the largest C
    # mean over a few networks per point (a single network's |kappa_r| fluctuates by ~10% at
    # the quick sizes); instance i uses the same seed at every C (resp. N)
    inst = [settings.seed + 1000 * i for i in range(3 if quick else 10)]
    if authors:  # enough runs for both signs to appear at each point
        inst = [settings.seed + 1000 * i for i in range(6 if quick else 10)]
    start = {"x0": "uniform"} if authors else {}
    n_c = n
    c_list = [c, int(0.6 * c), int(0.35 * c), int(0.2 * c)]
    sig2_c, smn_c = 0.6 / scale_r, 2.5 / c
    res_c = _sweep(structure_point, {"c": c_list}, inst,
                   {"n": n_c, "sigma2": sig2_c, "sigma_mn": smn_c, "steps": steps, "dt": dt,
                    **start}, settings, "fig5_vs_c")
    k_vs_c = res_c["kappa"].mean(axis=1)
    out_c = np.array([cc * smn_c for cc in c_list])
    if not out_c[-1] < 1:  # the smallest C must put the outlier inside the unit circle
        raise ValueError(f"Fig 5C parameters: outlier at C={c_list[-1]} is {out_c[-1]}, not < 1")
    c_fix = 100 if quick else 600
    n_list = [1000, 2000, 4000] if quick else [6000, 12000, 24000]
    sig2_n = 0.6 / np.sqrt(c_fix)
    smn_n = 2.5 / c_fix
    res_n = _sweep(structure_point, {"n": n_list}, [s + 50 for s in inst],
                   {"c": c_fix, "sigma2": sig2_n, "sigma_mn": smn_n, "steps": steps, "dt": dt,
                    **start}, settings, "fig5_vs_n")
    k_n = res_n["kappa"]
    k_vs_n = k_n.mean(axis=1)
    ch = Checks(PAPER_KEY, "Fig 5")
    n_clear = int(pd["clear"].sum())
    n_bad = int((pd["clear"] & ~pd["agree"]).sum())
    if authors:  # the authors' four sample points, each in its own region, no margin rule
        ok = pd["predicted"] != ""
        n_ok, n_agree = int(ok.sum()), int(pd["agree"].sum())
        ch.holds("simulated regime (started at x0 ~ U(0, 1)) equals the spectral prediction at "
                 "each of the authors' sample points (R, outlier) in "
                 f"{[[float(r), float(o)] for r in radii for o in outl]}",
                 n_ok == radii.size * outl.size and n_agree == n_ok,
                 f"{n_agree}/{n_ok} agree ({n_clear} clear of the library's finite-N margins)",
                 "all agree")
    else:
        ch.holds("simulated regime equals the spectral prediction at every grid point clear of "
                 "the boundaries (margin max(0.3, 2 sd) from finite-N outlier/edge fluctuations)",
                 n_clear >= 3 and n_bad == 0, f"{n_clear - n_bad}/{n_clear} agree",
                 "all agree (at least 3 points clear)")
    _fig5_structure_rows(ch, k_vs_c, k_n, n_list, c_fix)
    data = {**pd, "c_list": np.array(c_list), "kappa_vs_c": k_vs_c, "outlier_vs_c": out_c,
            "kappa_vs_n_networks": k_n,
            "n_list": np.array(n_list), "kappa_vs_n": k_vs_n, "authors": authors}
    if authors:
        ka_c, ka_n = res_c["kappa_signed_authors"], res_n["kappa_signed_authors"]
        pos_c, neg_c, npos_c = _by_sign(ka_c)
        pos_n, neg_n, npos_n = _by_sign(ka_n)
        _fig5_structure_rows(ch, np.abs(ka_c).mean(axis=1), np.abs(ka_n), n_list, c_fix,
                             kappa="authors' |tanh(x).m/N|")
        both = np.fmax(np.abs(pos_c), np.abs(neg_c))
        ch.holds("authors' tanh(x).m/N split by sign: each branch's mean at the smallest C "
                 "< 0.2 x the larger branch at the largest C",
                 bool(np.nan_to_num(both[-1]) < 0.2 * np.nan_to_num(both[0])),
                 f"+: {np.round(pos_c, 4).tolist()}, -: {np.round(neg_c, 4).tolist()} "
                 f"({npos_c.tolist()} of {ka_c.shape[1]} positive)",
                 "both branches lost at the smallest C")
        data.update(kappa_authors_pos_c=pos_c, kappa_authors_neg_c=neg_c,
                    kappa_authors_pos_n=pos_n, kappa_authors_neg_n=neg_n,
                    n_positive_c=npos_c, n_positive_n=npos_n)
    params = {"n_neurons": n, "c": c, "fig5c": {"n": n_c, "sigma2": round(sig2_c, 5),
                                                "sigma_mn": round(smn_c, 5)},
              "fig5d": {"c": c_fix, "sigma2": round(sig2_n, 5), "sigma_mn": round(smn_n, 5)}}
    if authors:
        params.update(procedure="authors", x0="U(0, 1) i.i.d.",
                      samples=[[float(r), float(o)] for r in radii for o in outl])
    return FigureData(data, ch, params)


def plot_fig5(fd: FigureData, path: Path) -> None:
    """Draw Fig 5: phase diagram (colour: simulated, marker: agreement) and |kappa_r| vs C, N."""
    import matplotlib.pyplot as plt

    d = fd.data
    colors = {"decaying": 0, "structured": 1, "chaotic": 2, "": np.nan}
    sim = np.vectorize(lambda s: colors[s], otypes=[float])(d["simulated"])
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.8))
    if d.get("authors"):
        _plot_fig5_authors(fig, ax, d, sim)
        finish_figure(fig, path)
        return
    im = ax[0].imshow(sim.T, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=2,
                      extent=[np.nanmin(d["radius"]) * 0.8, np.nanmax(d["radius"]) * 1.1,
                              np.nanmin(d["outlier"]) * 0.8, np.nanmax(d["outlier"]) * 1.1])
    for i in range(sim.shape[0]):
        for j in range(sim.shape[1]):
            if d["predicted"][i, j]:
                ax[0].plot(d["radius"][i, j], d["outlier"][i, j],
                           "o" if d["agree"][i, j] else "x", color="w")
    lim = max(np.nanmax(d["radius"]), np.nanmax(d["outlier"]))
    ax[0].plot([0, lim], [0, lim], "w--", lw=0.8)
    ax[0].set_xlabel("bulk radius (theory)")
    ax[0].set_ylabel("outlier (theory)")
    ax[0].set_title(f"simulated regime (0 dec, 1 str, 2 chaos); agree {d['fraction_agree']:.2f}",
                    fontsize=8)
    fig.colorbar(im, ax=ax[0])
    ax[1].plot(d["c_list"], d["kappa_vs_c"], "o-")
    ax[1].set_xlabel("C (N fixed)")
    ax[1].set_ylabel("|kappa_r|")
    ax[2].plot(d["n_list"], d["kappa_vs_n"], "o-")
    ax[2].set_xscale("log")
    ax[2].set_xlabel("N (C fixed)")
    ax[2].set_ylabel("|kappa_r|")
    finish_figure(fig, path)


def _plot_fig5_authors(fig: Any, ax: Any, d: dict, sim: np.ndarray) -> None:
    """The authors' Fig 5: regime boundaries from theory, four simulated sample points, and
    tanh(x).m/N split by sign against C and N."""
    lim = 1.2 * max(np.nanmax(d["radius"]), np.nanmax(d["outlier"]))
    ax[0].plot([0, 1], [1, 1], "k-", lw=0.8)
    ax[0].plot([1, 1], [0, 1], "k-", lw=0.8)
    ax[0].plot([1, lim], [1, lim], "k-", lw=0.8)
    cmap = plt_cm("viridis")
    for i in range(sim.shape[0]):
        for j in range(sim.shape[1]):
            if d["predicted"][i, j]:
                ax[0].plot(d["radius"][i, j], d["outlier"][i, j],
                           "o" if d["agree"][i, j] else "x", color=cmap(sim[i, j] / 2), ms=9)
    ax[0].set(xlim=(0, lim), ylim=(0, lim), xlabel="bulk radius (theory)",
              ylabel="outlier (theory)", title="theory lines; samples coloured by simulation")
    for a, key, x in ((ax[1], "c", d["c_list"]), (ax[2], "n", d["n_list"])):
        a.plot(x, d[f"kappa_authors_pos_{key}"], "o-", label="tanh(x).m/N > 0")
        a.plot(x, d[f"kappa_authors_neg_{key}"], "s-", label="tanh(x).m/N < 0")
        a.axhline(0, color="0.6", lw=0.8)
        a.legend(fontsize=7)
    ax[1].set_xlabel("C (N fixed)")
    ax[2].set_xscale("log")
    ax[2].set_xlabel("N (C fixed)")


def plt_cm(name: str) -> Any:
    """A matplotlib colormap by name (imported lazily: computation does not need matplotlib)."""
    import matplotlib

    return matplotlib.colormaps[name]


# =========================================================================== Fig 6
def _threshold(curve: dict) -> float:
    """Strength where the psychometric curve first reaches 0.5 (linear interpolation)."""
    s, p = curve["strengths"], curve["p_positive"]
    idx = np.flatnonzero(p >= 0.5)
    if idx.size == 0:
        return float("inf")
    i = idx[0]
    if i == 0:
        return float(s[0])
    return float(s[i - 1] + (0.5 - p[i - 1]) * (s[i] - s[i - 1]) / (p[i] - p[i - 1]))


def _threshold_se(strengths: np.ndarray, p: np.ndarray, n_trials: int) -> float:
    """Standard error of :func:`_threshold` for ``n_trials`` trials per strength.

    Delta method on the two interpolated points, ``Var p_k = p~(1 - p~)/n`` with
    ``p~ = (k + 1/2)/(n + 1)`` (no zero variance at 0/n or n/n), plus the interpolation error of a
    curve steeper than the strength grid, uniform over one step: variance ``step^2 / 12``.
    """
    s, p = np.asarray(strengths, float), np.asarray(p, float)
    step = float(s[1] - s[0])
    disc = step**2 / 12
    idx = np.flatnonzero(p >= 0.5)
    if idx.size == 0 or idx[0] == 0:
        return float(np.sqrt(disc))
    i = idx[0]
    p0, p1 = p[i - 1], p[i]
    dp = p1 - p0
    var = [(k * n_trials + 0.5) / (n_trials + 1) for k in (p0, p1)]
    var = [v * (1 - v) / n_trials for v in var]
    d0, d1 = step * (p1 - 0.5) / dp**2, step * (0.5 - p0) / dp**2
    return float(np.sqrt(d0**2 * var[0] + d1**2 * var[1] + disc))


def _curve(en, strengths: np.ndarray, repeats: int, seed: int) -> dict:
    """Psychometric curve of ``en`` with two decision rules on the same trials: the mean
    readout over the final window (the caption's, ``p_positive``) and the sign of the last
    readout sample (the authors' code, ``p_last``)."""
    tb = evidence_trials(strengths, repeats, rng=seed)
    tr = simulate(en.net, tb.inputs, en.x0, dt=tb.dt, dtype=np.float32, keep_x=False,
                  backend="auto")
    cur = psychometric_curve(tr.z, tb.info["strength"], window_steps=tb.info["window_steps"])
    cur["threshold"] = _threshold(cur)
    last = psychometric_curve(tr.z, tb.info["strength"], window_steps=1)
    cur["p_last"] = last["p_positive"]
    cur["threshold_last"] = _threshold(last)
    cur["z_example"] = tr.z[[0, -1], :, 0]
    return cur


def psychometric_point(n: int, sigma2: float, c: int, n_strengths: int, repeats: int,
                       trial_seed: int, sigma_mn: float | None = None,
                       lambda_1: float | None = None, dense: bool = False, g: float = 0.0,
                       seed: int = 0) -> dict[str, Any]:
    """Psychometric curve of one Go/Nogo network (a Fig 6C-F point).

    The network is :func:`~lowrank_rnn.tasks.evidence.evidence_network` (from ``seed``) with
    covariance ``sigma_mn`` or, when ``lambda_1`` is given, ``sigma_mn = lambda_1 / C`` (outlier
    held at ``lambda_1``, eq 13); ``repeats`` trials at each of ``n_strengths`` strengths in
    [0, 1] (from ``trial_seed``).

    Returns
    -------
    dict with ``p_positive`` (n_strengths,) (decision: mean readout over the final window),
    ``threshold`` (strength where P first reaches 0.5), the same by the sign of the last
    readout sample (the authors' rule), ``p_last`` and ``threshold_last``, and ``z_example``
    (2, time): the readouts of the first and last trial
    """
    if (sigma_mn is None) == (lambda_1 is None):
        raise ValueError(f"sigma_mn={sigma_mn!r}, lambda_1={lambda_1!r}: give exactly one")
    smn = lambda_1 / c if lambda_1 is not None else sigma_mn
    en = evidence_network(int(n), sigma2, smn, c=int(c), dense=bool(dense), g=float(g), rng=seed)
    cur = _curve(en, np.linspace(0.0, 1.0, int(n_strengths)), int(repeats), int(trial_seed))
    return {"p_positive": cur["p_positive"], "threshold": cur["threshold"],
            "p_last": cur["p_last"], "threshold_last": cur["threshold_last"],
            "z_example": cur["z_example"]}


#: The authors' readout-variance analysis (their Fig 6 notebook): N, sigma_mn, stimulus
#: strength, final samples whose variance is taken, repeats (networks) per point, C values.
VARIANCE_N, VARIANCE_SIGMA_MN, VARIANCE_STRENGTH = 2000, 0.03, 1.0
VARIANCE_CUTOFF, VARIANCE_REPEATS, VARIANCE_C = 80, 20, (50, 400)


def readout_variance_point(n: int, sigma2: float, sigma_mn: float, c: int, strength: float,
                           cutoff_steps: int, trial_seed: int, seed: int = 0
                           ) -> dict[str, float]:
    """Readout fluctuations of one Go/Nogo network at a strong stimulus (authors' analysis).

    As in the authors' notebook: a fresh network (:func:`evidence_network` from ``seed``), one
    trial at mean strength ``strength`` (noise along I, input I + h), started at
    ``x0 = -m - n``; the variance over time of the readout ``z = tanh(x).w / N`` over the last
    ``cutoff_steps`` samples.

    Returns
    -------
    dict with ``variance``, ``mean`` of the readout over the last samples and ``positive``
    (1.0 when some of them is positive: the authors keep only such trials)
    """
    en = evidence_network(int(n), sigma2, sigma_mn, c=int(c), rng=seed)
    tb = evidence_trials(np.array([float(strength)]), 1,
                         rng=np.random.default_rng([int(trial_seed), int(seed)]))
    tr = simulate(en.net, tb.inputs, -(en.m + en.n), dt=tb.dt, dtype=np.float32,
                  keep_x=False, backend="auto")
    z = np.asarray(tr.z[0, -int(cutoff_steps):, 0], dtype=float)
    return {"variance": float(z.var()), "mean": float(z.mean()),
            "positive": float(np.any(z > 0))}


def _readout_variance(settings: Settings, ch: Checks) -> dict[str, Any]:
    """The authors' readout-variance analysis: variance of the final readout against sigma^2
    (bulk radius sqrt(C) sigma^2, eq 14) at two C, averaged over the trials that end positive.

    Rows: the paper's reading of it (p. 13: "the high-dimensional fluctuations induced by
    random connectivity are averaged out by the readout"): at every (C, sigma^2) the readout's
    standard deviation over the final samples stays below the size of its mean, so its sign
    (the decision) is not flipped by the fluctuations. The variance curves themselves are in
    the data (the notebook draws them; it states no expected shape).
    """
    quick = settings.quick
    n = 1000 if quick else VARIANCE_N
    s2 = np.round(np.linspace(0.1, 1.0, 4 if quick else 8), 4)
    reps = 6 if quick else VARIANCE_REPEATS
    seeds = [settings.seed * 1009 + 500 + i for i in range(reps)]
    res = _sweep(readout_variance_point, {"c": list(VARIANCE_C), "sigma2": s2.tolist()}, seeds,
                 {"n": n, "sigma_mn": VARIANCE_SIGMA_MN, "strength": VARIANCE_STRENGTH,
                  "cutoff_steps": VARIANCE_CUTOFF, "trial_seed": settings.seed + 900},
                 settings, "fig6_readout_variance")
    var, keep = res["variance"], res["positive"] > 0  # (len(C), len(s2), reps)
    size = np.abs(res["mean"])

    def over_kept(a: np.ndarray) -> np.ndarray:
        return np.array([[a[i, j][keep[i, j]].mean() if keep[i, j].any() else np.nan
                          for j in range(s2.size)] for i in range(len(VARIANCE_C))])

    mean, level = over_kept(var), over_kept(size)
    ratio = np.sqrt(mean) / level
    for i, c in enumerate(VARIANCE_C):
        ok = bool(np.all(np.isfinite(ratio[i])) and np.all(ratio[i] < 1.0))
        ch.holds(f"authors' readout variation at C = {c} (last {VARIANCE_CUTOFF} samples of the "
                 f"trials that end positive): readout sd / |readout mean| < 1 at every sigma^2 "
                 f"in {s2.tolist()} (fluctuations averaged out by the readout)", ok,
                 np.round(ratio[i], 3).tolist(), rule="every ratio < 1")
    return {"variance_sigma2": s2, "variance_c": np.array(VARIANCE_C), "variance_mean": mean,
            "variance_readout_level": level, "variance_kept": keep.sum(axis=-1)}


def compute_fig6(settings: Settings) -> FigureData:
    """Psychometric curves of the Go/Nogo task in sparse and low-rank + Gaussian networks."""
    quick = settings.quick
    authors = settings.procedure == "authors"
    n = 1000 if quick else 2000
    sigma2 = 0.1
    strengths = np.linspace(0.0, 1.0, 8 if quick else 12)
    # the authors' notebook: 5 repeats per strength, decision from the last readout sample
    reps = 5 if authors else (10 if quick else 50)
    seed = settings.seed
    c_list = [60, 80, 100]
    base = {"n": n, "sigma2": sigma2, "n_strengths": strengths.size, "repeats": reps}
    # one network per curve; the curves of a panel share the network and trial seeds (common
    # random numbers), so their differences come from C or g, not from the draw
    # Fig 6C: sigma_mn fixed at 0.06
    # (seeds: those the C = 100 reference curve had when the curves were drawn one by one)
    curves_c = _sweep(psychometric_point, {"c": c_list}, [seed + 2],
                      {**base, "sigma_mn": 0.06, "trial_seed": seed + 102}, settings, "fig6c")
    # Fig 6D: outlier held fixed. The paper's lambda_1 = 8 needs sigma_mn = 8/C > sigma^2 = 0.1
    # for C <= 80, which eq 17-18 cannot realise; hold it at 3.6 (the C = 60 value of Fig 6C).
    lam = 3.6
    curves_d = _sweep(psychometric_point, {"c": c_list}, [seed + 10],
                      {**base, "lambda_1": lam, "trial_seed": seed + 200}, settings, "fig6d")
    # Fig 6E/F: dense (C/N) m n^T (same outlier, no bulk) plus g chi; g = bulk radius of 6B
    c_ref = 100
    radius = theory_bulk_radius(sigma2, n_neurons=n, c=c_ref, rescaled=True)
    gs = [0.0, radius] if quick else [0.0, 0.25, 0.5, 0.75, radius]
    # (seeds: those of the g = R curve compared in 6E under the earlier one-by-one seeding)
    curves_g = _sweep(psychometric_point, {"g": gs}, [seed + 21],
                      {**base, "sigma_mn": 0.06, "c": c_ref, "dense": True,
                       "trial_seed": seed + 301}, settings, "fig6ef")
    p_key, t_key = ("p_last", "threshold_last") if authors else ("p_positive", "threshold")
    p_c, p_d, p_g = (cv[p_key][:, 0] for cv in (curves_c, curves_d, curves_g))
    thr_c, thr_d, thr_g = (cv[t_key][:, 0] for cv in (curves_c, curves_d, curves_g))
    sparse_ref = {"p_positive": p_c[-1], "threshold": thr_c[-1],
                  "z_example": curves_c["z_example"][-1, 0]}
    se = {key: np.array([_threshold_se(strengths, p, reps) for p in ps])
          for key, ps in (("c", p_c), ("d", p_d), ("g", p_g))}
    z = float(np.sqrt(2) * erfcinv(2 * ALPHA))  # one-sided normal quantile

    def tol(a: float, b: float) -> float:
        return z * float(np.hypot(a, b))

    ch = Checks(PAPER_KEY, "Fig 6")
    # binomial bounds: with true P >= 0.99 (resp. <= 0.01) a count below k_hi (above k_lo) of
    # reps trials has probability <= ALPHA (Bonferroni over the two low strengths)
    k_hi = int(binom.ppf(ALPHA, reps, 0.99))
    k_lo = int(binom.isf(ALPHA / 2, reps, 0.01))
    k_low = np.round(sparse_ref["p_positive"][:2] * reps).astype(int)
    ch.holds(f"P(positive) at the two lowest strengths (sparse C = 100) consistent with P <= 0.01 "
             f"(binomial, {reps} trials)", bool(k_low.max() <= k_lo),
             f"{k_low.tolist()} of {reps}", f"<= {k_lo} of {reps} each")
    k_top = int(round(float(sparse_ref["p_positive"][-1]) * reps))
    ch.holds(f"P(positive) at the highest strength (sparse C = 100) consistent with P >= 0.99 "
             f"(binomial, {reps} trials)", k_top >= k_hi, f"{k_top} of {reps}",
             f">= {k_hi} of {reps}")
    tc = tol(se["c"][0], se["c"][-1])
    ch.greater(f"Fig 6C: threshold(C=100) - threshold(C=60) at fixed sigma_mn (lower C, lower "
               f"threshold); bound z x SE = {tc:.3f}", float(thr_c[-1] - thr_c[0]), tc)
    td = tol(se["d"][0], se["d"][-1])
    ch.greater(f"Fig 6D: threshold(C=60) - threshold(C=100) with the outlier held fixed (the "
               f"decrease of 6C is removed); bound -z x SE = {-td:.3f}",
               float(thr_d[0] - thr_d[-1]), -td)
    ch.close("Fig 6E: threshold of low rank + Gaussian (same lambda_1, g = R) vs sparse; "
             "tol z x SE", thr_g[-1], sparse_ref["threshold"], tol(se["g"][-1], se["c"][-1]))
    ch.close("Fig 6F: threshold at the largest g vs g = 0 (curve unchanged); tol z x SE",
             thr_g[-1], thr_g[0], tol(se["g"][-1], se["g"][0]))
    data = {"strengths": strengths, "c_list": np.array(c_list), "g_list": np.array(gs),
            "p_c": p_c, "p_d": p_d, "p_g": p_g,
            "thr_c": thr_c, "thr_d": thr_d, "thr_g": thr_g,
            "thr_se_c": se["c"], "thr_se_d": se["d"], "thr_se_g": se["g"],
            "z_example": sparse_ref["z_example"], "lambda_d": lam}
    params = {"n_neurons": n, "sigma2": sigma2, "sigma_mn_6C": 0.06, "lambda_1_6D": lam,
              "repeats": reps, "strengths": int(strengths.size), "t_total": 40.0, "dt": 0.2,
              "noise": 0.4, "procedure": settings.procedure,
              "decision": ("sign of the last readout sample" if authors else
                           "sign of the mean readout over the final 1 tau")}
    if authors:
        # both decision rules on the same trials of every curve: the numbers side by side
        for key, cv, label, s_ in (("c", curves_c, "6C, C", se["c"]),
                                   ("d", curves_d, "6D, C", se["d"])):
            t_win = cv["threshold"][:, 0]
            se_win = np.array([_threshold_se(strengths, p, reps)
                               for p in cv["p_positive"][:, 0]])
            data[f"thr_window_{key}"] = t_win
            ch.close(f"Fig {label} = {c_list[-1]}: threshold by the last readout sample "
                     f"(authors) vs by the mean over the final window (caption), same trials "
                     f"({cv['threshold_last'][-1, 0]:.3f} vs {t_win[-1]:.3f}); tol z x SE",
                     float(cv["threshold_last"][-1, 0]), float(t_win[-1]),
                     tol(s_[-1], se_win[-1]))
        data.update(_readout_variance(settings, ch))
        params.update(readout_variance={"n": 1000 if quick else VARIANCE_N,
                                        "sigma_mn": VARIANCE_SIGMA_MN, "c": list(VARIANCE_C),
                                        "strength": VARIANCE_STRENGTH, "x0": "-m - n",
                                        "last_samples": VARIANCE_CUTOFF,
                                        "repeats": 6 if quick else VARIANCE_REPEATS})
    return FigureData(data, ch, params)


def plot_fig6(fd: FigureData, path: Path) -> None:
    """Draw Fig 6: example readouts and psychometric curves (C fixed sigma_mn, fixed outlier,
    low rank + Gaussian)."""
    import matplotlib.pyplot as plt

    from lowrank_rnn.plotting.psychometric import plot_psychometric

    d = fd.data
    variance = "variance_mean" in d  # the authors' readout-variance analysis
    fig, ax = plt.subplots(1, 5 if variance else 4, figsize=(18.5 if variance else 15, 3.6))
    ax[0].plot(d["z_example"][0], label="lowest strength")
    ax[0].plot(d["z_example"][1], label="highest strength")
    ax[0].axhline(0, color="0.6", lw=0.8)
    ax[0].set_xlabel("step")
    ax[0].set_ylabel("readout z")
    ax[0].legend(fontsize=7)
    for a, key, labels, title in (
        (ax[1], "p_c", [f"C={c}" for c in d["c_list"]], "6C: sigma_mn fixed"),
        (ax[2], "p_d", [f"C={c}" for c in d["c_list"]], f"6D: lambda_1={d['lambda_d']}"),
        (ax[3], "p_g", [f"g={g:.2f}" for g in d["g_list"]], "6F: low rank + Gaussian"),
    ):
        plot_psychometric(a, d["strengths"], d[key], labels, title=title)
    if variance:
        for c, row in zip(d["variance_c"], d["variance_mean"], strict=True):
            ax[4].plot(d["variance_sigma2"], row, "o-", label=f"C={c}")
        ax[4].set_xlabel("sigma^2")
        ax[4].set_ylabel("readout variance (final samples)")
        ax[4].set_title("authors: readout variation", fontsize=9)
        ax[4].legend(fontsize=7)
    finish_figure(fig, path)


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("Fig 4", "Input-driven dynamics: sparsity vs random connectivity", compute_fig4,
               plot_fig4,
               quick_note=(
               "N = 600 instead of 2000, 6 values of C and 4 of g instead of the paper's "
               "grids.")),
    FigureSpec("Fig 5", "Dynamical regimes of autonomous activity at high sparsity", compute_fig5,
               plot_fig5,
               quick_note=(
               "a 4 x 4 phase diagram at N = 400, C = 80 instead of 9 x 9 at N = 1000, C = "
               "200; 3 instances instead of 10; the N-dependence at N = 1000-4000 instead of "
               "6000-24000.")),
    FigureSpec("Fig 6", "Go/Nogo evidence accumulation in sparse rank-one networks",
               compute_fig6, plot_fig6,
               quick_note=(
               "N = 1000 instead of 2000, 8 stimulus strengths x 10 repeats instead of 12 x "
               "50: the psychometric curves are coarse and the binomial checks weak.")),
)
