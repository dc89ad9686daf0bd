"""Analyses of simulated activity; they return data, plotting lives in :mod:`lowrank_rnn.plotting`.

- latent projections ``kappa_r``, ``kappa_I`` and the recurrent input ``kappa_rec``
  (Herbert & Ostojic 2022, eq 33–37);
- PCA of trajectories: variance explained and alignment of the leading PCs with m and I (Fig 4);
- participation ratio ``(sum lambda)^2 / sum lambda^2`` of the activity covariance (Fig 4);
- dynamical regime (decaying / structured / chaotic) from a simulation and from the spectrum,
  and a phase diagram over (sigma^2, sigma_mn) (Fig 5);
- psychometric curves of the Go/Nogo task (Fig 6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lowrank_rnn._validate import RngLike, as_rng, check_array, check_int, check_real
from lowrank_rnn.theory.spectrum import spectral_regime, theory_bulk_radius, theory_outlier
from lowrank_rnn.transfer import get_phi

__all__ = [
    "kappa_r",
    "kappa_I",
    "kappa_rec",
    "PCAResult",
    "pca",
    "participation_ratio",
    "RegimeMeasure",
    "simulated_regime",
    "predicted_regime",
    "phase_diagram",
    "psychometric_curve",
    "REGIMES",
]

#: Dynamical regimes of Herbert & Ostojic Fig 5.
REGIMES = ("decaying", "structured", "chaotic")


def _vec(name: str, v: np.ndarray, n: int | None = None) -> np.ndarray:
    v = check_array(name, np.asarray(v, dtype=float)).ravel()
    if n is not None and v.size != n:
        raise ValueError(f"{name}: expected {n} entries (one per neuron), got {v.size}")
    if not np.any(v):
        raise ValueError(f"{name}: must not be the zero vector")
    return v


def kappa_r(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``kappa_r = m^T x / |m|^2`` (eq 34).

    Parameters
    ----------
    x : ndarray, shape (..., N)
    m : ndarray, shape (N,)

    Returns
    -------
    ndarray, shape (...)
    """
    x = np.asarray(x)
    m = _vec("m", m, x.shape[-1])
    return x @ m / (m @ m)


def kappa_I(x: np.ndarray, I: np.ndarray) -> np.ndarray:
    """``kappa_I = I^T x / |I|^2`` (eq 35). Shapes as :func:`kappa_r`."""
    x = np.asarray(x)
    I = _vec("I", I, x.shape[-1])
    return x @ I / (I @ I)


def kappa_rec(x: np.ndarray, n: np.ndarray, *, phi: str = "tanh",
              scale: float | None = None) -> np.ndarray:
    """Recurrent input along m, ``kappa_rec = scale * sum_j n_j phi(x_j)`` (eq 37).

    ``scale`` defaults to 1/N (eq 3); use ``C / N`` for the mean of the rescaled sparse network
    (eq 12), whose recurrent input is ``m_i sum_{j in C_i} n_j phi(x_j)``.

    Parameters
    ----------
    x : ndarray, shape (..., N)
    n : ndarray, shape (N,)

    Returns
    -------
    ndarray, shape (...)
    """
    x = np.asarray(x)
    n = _vec("n", n, x.shape[-1])
    s = 1.0 / n.size if scale is None else check_real("scale", scale)
    return s * (get_phi(phi)[0](x) @ n)


@dataclass(frozen=True)
class PCAResult:
    """Principal components of activity.

    Attributes
    ----------
    explained : ndarray, shape (K,)
        Fraction of variance explained by each component (descending, sums to 1 over all).
    components : ndarray, shape (K, N)
        Unit principal axes.
    eigenvalues : ndarray, shape (K,)
        Covariance eigenvalues.
    alignment : dict of str -> ndarray, shape (K,)
        ``|cos|`` between each PC and each given vector (e.g. ``{'m': ..., 'I': ...}``).
    participation_ratio : float
    """

    explained: np.ndarray
    components: np.ndarray
    eigenvalues: np.ndarray
    alignment: dict
    participation_ratio: float


def _samples(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim < 2:
        raise ValueError(f"x: expected shape (time, N) or (batch, time, N), got {x.shape}")
    flat = x.reshape(-1, x.shape[-1])
    if flat.shape[0] < 2:
        raise ValueError("x: needs at least two samples (time points)")
    if not np.all(np.isfinite(flat)):
        raise ValueError("x: contains non-finite values")
    return flat


def _covariance_spectrum(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending, of ``c^T c``) and unit principal axes (rows) of centred data
    ``c`` (samples, N), through the smaller of the two Gram matrices (cheaper than an SVD)."""
    if c.shape[0] < c.shape[1]:
        lam, u = np.linalg.eigh(c @ c.T)
        lam, u = lam[::-1].clip(0), u[:, ::-1]
        axes = u.T @ c
        norms = np.linalg.norm(axes, axis=1)
        axes = np.divide(axes, norms[:, None], out=np.zeros_like(axes), where=norms[:, None] > 0)
        return lam, axes
    lam, v = np.linalg.eigh(c.T @ c)
    return lam[::-1].clip(0), v[:, ::-1].T


def pca(x: np.ndarray, *, n_components: int = 3, vectors: dict | None = None) -> PCAResult:
    """PCA of activity pooled over trials and time (Herbert & Ostojic Fig 4B/E, right).

    Parameters
    ----------
    x : ndarray, shape (time, N) or (batch, time, N)
    n_components : int
        Components kept in the result.
    vectors : dict of name -> ndarray (N,), optional
        Directions (e.g. m and I) whose ``|cos|`` with each PC is reported.
    """
    flat = _samples(x)
    k = check_int("n_components", n_components, minimum=1, maximum=min(flat.shape))
    c = flat - flat.mean(axis=0)
    lam, vt = _covariance_spectrum(c)
    lam = lam / (flat.shape[0] - 1)
    total = lam.sum()
    explained = lam / total if total > 0 else np.zeros_like(lam)
    align = {}
    for name, v in (vectors or {}).items():
        u = _vec(name, v, flat.shape[1])
        align[name] = np.abs(vt[:k] @ u) / np.linalg.norm(u)
    pr = float(total**2 / np.sum(lam**2)) if total > 0 else 0.0
    return PCAResult(explained[:k], vt[:k], lam[:k], align, pr)


def participation_ratio(x: np.ndarray, *, n_components: int | None = None) -> float:
    """``(sum_i lambda_i)^2 / sum_i lambda_i^2`` of the covariance of activity (Fig 4C/F).

    ``x``: shape (time, N) or (batch, time, N), pooled. 1 for one-dimensional activity, N for
    isotropic activity; 0 for constant activity. ``n_components``: sum over the largest
    ``n_components`` eigenvalues only (the authors' code of Herbert & Ostojic 2022 uses the top
    5 principal components); None: all of them.
    """
    flat = _samples(x)
    if n_components is not None:
        n_components = check_int("n_components", n_components, minimum=1)
    c = flat - flat.mean(axis=0)
    small = c @ c.T if c.shape[0] < c.shape[1] else c.T @ c
    lam = np.linalg.eigvalsh(small).clip(0)
    if n_components is not None:
        lam = np.sort(lam)[::-1][:n_components]
    total = lam.sum()
    return float(total**2 / np.sum(lam**2)) if total > 0 else 0.0


@dataclass(frozen=True)
class RegimeMeasure:
    """What :func:`simulated_regime` measured on the final window of a run.

    Attributes
    ----------
    regime : str
        One of :data:`REGIMES`.
    rms : float
        Root-mean-square activation over neurons and time.
    static_fraction : float
        ``|time-mean of x|^2 / mean |x|^2``: 1 for a fixed point, ~0 for chaos.
    m_fraction : float
        Fraction of ``|time-mean of x|^2`` along m.
    """

    regime: str
    rms: float
    static_fraction: float
    m_fraction: float


def simulated_regime(x: np.ndarray, m: np.ndarray, *, decay_tol: float = 1e-2,
                     static_tol: float = 0.9) -> RegimeMeasure:
    """Classify autonomous activity as decaying, structured (stationary) or chaotic (Fig 5).

    ``x`` is the final stretch of a run, shape (time, N). Decaying: rms activation below
    ``decay_tol``. Structured: the activity is (nearly) a fixed point (``static_fraction >=
    static_tol``). Chaotic otherwise (persistent temporal fluctuations).

    Parameters
    ----------
    x : ndarray, shape (time, N)
    m : ndarray, shape (N,)
    decay_tol, static_tol : float
    """
    x = _samples(x)
    m = _vec("m", m, x.shape[1])
    decay_tol = check_real("decay_tol", decay_tol, minimum=0.0, min_inclusive=False)
    static_tol = check_real("static_tol", static_tol, minimum=0.0, maximum=1.0)
    power = float(np.mean(np.sum(x * x, axis=1)))
    rms = float(np.sqrt(power / x.shape[1]))
    mean = x.mean(axis=0)
    mp = float(mean @ mean)
    static = mp / power if power > 0 else 1.0
    m_frac = float((mean @ m) ** 2 / (m @ m) / mp) if mp > 0 else 0.0
    if rms < decay_tol:
        regime = "decaying"
    elif static >= static_tol:
        regime = "structured"
    else:
        regime = "chaotic"
    return RegimeMeasure(regime, rms, static, m_frac)


def predicted_regime(sigma2: float, sigma_mn: float, *, n_neurons: int, c: int) -> str:
    """Regime predicted from the spectrum of the rescaled sparse network (eq 12–14, Fig 5):
    outlier ``C sigma_mn`` and bulk radius ``sqrt(C) sigma^2 sqrt(N-C)/sqrt(N)``."""
    out = theory_outlier(sigma_mn, n_neurons=n_neurons, c=c, rescaled=True)
    rad = theory_bulk_radius(sigma2, n_neurons=n_neurons, c=c, rescaled=True)
    return spectral_regime(out, rad)


def phase_diagram(
    sigma2_values: np.ndarray,
    sigma_mn_values: np.ndarray,
    *,
    n_neurons: int,
    c: int,
    t_total: float = 60.0,
    dt: float = 0.2,
    window: float = 20.0,
    rng: RngLike = None,
    progress=None,
) -> dict:
    """Simulated versus predicted regime on a grid of (sigma^2, sigma_mn) (Fig 5A/B).

    Each grid point gets one rescaled sparse rank-one network (C non-zeros per column, eq 12)
    started from ``x0 = m + small noise``, run for ``t_total`` (float32), classified by
    :func:`simulated_regime` on the last ``window``. Points with ``sigma_mn > sigma^2`` are not
    realisable with eq 17–18 and are marked ``''``.

    Returns
    -------
    dict with ``sigma2`` (S,), ``sigma_mn`` (M,), ``predicted`` and ``simulated`` (S, M) str
    arrays, ``outlier`` and ``radius`` (S, M) theory values, ``agree`` (S, M) bool and
    ``fraction_agree`` (float, over realisable points).
    """
    from lowrank_rnn.connectivity import rank_one_network
    from lowrank_rnn.simulate import simulate

    s2 = check_array("sigma2_values", np.asarray(sigma2_values, dtype=float), ndim=1)
    smn = check_array("sigma_mn_values", np.asarray(sigma_mn_values, dtype=float), ndim=1)
    n = check_int("n_neurons", n_neurons, minimum=4)
    c = check_int("c", c, minimum=1, maximum=n)
    dt = check_real("dt", dt, minimum=0.0, min_inclusive=False)
    t_total = check_real("t_total", t_total, minimum=dt)
    window = check_real("window", window, minimum=dt, maximum=t_total)
    rng = as_rng(rng)
    shape = (s2.size, smn.size)
    pred = np.full(shape, "", dtype=object)
    sim = np.full(shape, "", dtype=object)
    outl = np.full(shape, np.nan)
    rad = np.full(shape, np.nan)
    n_steps = int(round(t_total / dt))
    keep = max(1, int(round(window / dt)))
    for i, a in enumerate(s2):
        for j, b in enumerate(smn):
            if abs(b) > a:
                continue
            outl[i, j] = theory_outlier(b, n_neurons=n, c=c, rescaled=True)
            rad[i, j] = theory_bulk_radius(a, n_neurons=n, c=c, rescaled=True)
            pred[i, j] = spectral_regime(outl[i, j], rad[i, j])
            net = rank_one_network(n, a, b, c=c, rescaled=True, rng=rng)
            m = net.M[:, 0]
            x0 = m + 0.1 * rng.standard_normal(n)
            tr = simulate(net, None, x0, dt=dt, n_steps=n_steps, dtype=np.float32)
            sim[i, j] = simulated_regime(tr.x[0, -keep:].astype(float), m).regime
            if progress is not None:
                progress()
    ok = pred != ""
    agree = (pred == sim) & ok
    frac = float(agree.sum() / ok.sum()) if ok.any() else float("nan")
    return {
        "sigma2": s2, "sigma_mn": smn, "predicted": pred, "simulated": sim,
        "outlier": outl, "radius": rad, "agree": agree, "fraction_agree": frac,
    }


def psychometric_curve(z: np.ndarray, strengths: np.ndarray, *, window_steps: int) -> dict:
    """Fraction of trials whose mean readout over the final window is positive (Fig 6C–F).

    Parameters
    ----------
    z : ndarray, shape (batch, time) or (batch, time, 1)
        Readout of each trial.
    strengths : ndarray, shape (batch,)
        Stimulus strength of each trial.
    window_steps : int
        Number of final saved time points averaged.

    Returns
    -------
    dict with ``strengths`` (K,) unique sorted, ``p_positive`` (K,), ``n_trials`` (K,) and
    ``stderr`` (K,) binomial standard errors ``sqrt(p (1-p) / n)``.
    """
    z = np.asarray(z, dtype=float)
    if z.ndim == 3:
        if z.shape[2] != 1:
            raise ValueError(f"z: expected one readout channel, got shape {z.shape}")
        z = z[..., 0]
    if z.ndim != 2:
        raise ValueError(f"z: expected shape (batch, time), got {z.shape}")
    s = check_array("strengths", np.asarray(strengths, dtype=float), ndim=1)
    if s.size != z.shape[0]:
        raise ValueError(f"strengths: expected {z.shape[0]} entries (one per trial), got {s.size}")
    w = check_int("window_steps", window_steps, minimum=1, maximum=z.shape[1])
    positive = z[:, -w:].mean(axis=1) > 0
    levels, inv = np.unique(s, return_inverse=True)
    counts = np.bincount(inv, minlength=levels.size)
    p = np.bincount(inv, weights=positive.astype(float), minlength=levels.size) / counts
    return {
        "strengths": levels,
        "p_positive": p,
        "n_trials": counts,
        "stderr": np.sqrt(p * (1 - p) / counts),
    }
