"""Approximating a target R-dimensional dynamical system with P Gaussian populations.

Beiran et al. 2021 show that a rank-R network with enough populations approximates
any R-dimensional dynamical system ``dkappa/dt = g(kappa)``. The construction implemented here
is the standard one: a constant input ``v = 1`` (loading means ``b_p``) gives each population a
bias, ``n`` is uncorrelated with ``(m, I)`` inside each population, and all populations have the
same fraction ``1/P``. The mean field (:mod:`lowrank_rnn.theory.meanfield`) is then

    dkappa/dt = -kappa + sum_p (1/P) a^p_n <phi>(a^p_m . kappa + b_p, spread^2 |kappa|^2)

a one-hidden-layer network in kappa whose output weights ``a^p_n`` enter linearly. The fit
minimises the squared error to ``g`` on a grid in a box by variable projection: for given
``(a^p_m, b_p)`` the ``a^p_n`` are the least-squares solution, and ``(a^p_m, b_p)`` are optimised
by ``scipy.optimize.least_squares``. Fits for increasing P are nested (the fit for P starts from
the best fit for the previous P plus new random populations), so the error can only decrease.

With a single population of this family the drive is ``a_n s(kappa)``, a vector field along one
fixed direction: the component of kappa orthogonal to ``a_n`` decays as ``exp(-t)``, so the
dynamics is effectively one-dimensional and no limit cycle exists. (A single population *with*
a rotational overlap ``sigma_{n m}`` is outside this family and does oscillate; see
:func:`rotational_cycle_theory`.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq, least_squares

from lowrank_rnn._validate import (
    RngLike,
    as_rng,
    check_array,
    check_choice,
    check_int,
    check_real,
)
from lowrank_rnn.io import register_dataclass
from lowrank_rnn.theory.meanfield import GaussianMixture, gaussian_averages, latent_trajectory

__all__ = [
    "VectorFieldFit",
    "fit_vector_field",
    "fit_sequence",
    "mixture_from_parameters",
    "hopf_target",
    "CycleStats",
    "cycle_statistics",
    "rotational_mixture",
    "rotational_cycle_theory",
    "simulate_cycle",
]


@dataclass(frozen=True)
class VectorFieldFit:
    """A mixture fitted to a target vector field.

    Attributes
    ----------
    mixture : GaussianMixture
        Rank R, one input (to be held at ``v = 1``), P populations.
    relative_error : float
        ``|F_fit - g|_2 / |g|_2`` over the grid.
    rms_error : float
        Root-mean-square of ``F_fit - g`` over grid points and components.
    grid : ndarray, shape (G, R)
    params : dict
        ``a_m`` (P, R), ``b`` (P,), ``a_n`` (P, R), ``spread``.
    info : dict
        Optimiser status, function evaluations.
    """

    mixture: GaussianMixture
    relative_error: float
    rms_error: float
    grid: np.ndarray
    params: dict
    info: dict = field(default_factory=dict)


def mixture_from_parameters(
    a_m: np.ndarray, b: np.ndarray, a_n: np.ndarray, *, spread: float = 0.0, phi: str = "tanh"
) -> GaussianMixture:
    """The mixture of the fitting family (module docstring), loadings ``(m, n, I)``.

    Parameters
    ----------
    a_m, a_n : ndarray, shape (P, R)
    b : ndarray, shape (P,)
    spread : float
        Within-population standard deviation of every m and n loading (I has none).
    """
    a_m, a_n = np.atleast_2d(a_m), np.atleast_2d(a_n)
    P, R = a_m.shape
    means = np.hstack([a_m, a_n, np.reshape(b, (P, 1))])
    cov = np.diag(np.r_[np.full(2 * R, spread**2), 0.0])
    return GaussianMixture(np.full(P, 1.0 / P), means, np.repeat(cov[None], P, axis=0),
                           rank=R, phi=phi)


def _features(theta: np.ndarray, grid: np.ndarray, spread: float, phi: str) -> np.ndarray:
    R = grid.shape[1]
    th = theta.reshape(-1, R + 1)
    mu = grid @ th[:, :R].T + th[:, R]
    delta = np.broadcast_to((spread**2) * np.sum(grid**2, axis=1)[:, None], mu.shape)
    return gaussian_averages(phi, mu, delta, orders=(0,))[0]  # (G, P)


def _solve_out(Phi: np.ndarray, Y: np.ndarray, ridge: float) -> np.ndarray:
    P = Phi.shape[1]
    A = np.vstack([Phi, np.sqrt(ridge) * np.eye(P)])
    B = np.vstack([Y, np.zeros((P, Y.shape[1]))])
    return np.linalg.lstsq(A, B, rcond=None)[0]


def _grid(box: np.ndarray, n_grid: int) -> np.ndarray:
    axes = [np.linspace(lo, hi, n_grid) for lo, hi in box]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(axes))


def fit_vector_field(
    target: Callable[[np.ndarray], np.ndarray],
    *,
    rank: int,
    n_populations: int,
    box: Sequence[float] | np.ndarray = (-1.5, 1.5),
    n_grid: int = 15,
    spread: float = 0.0,
    ridge: float = 1e-8,
    max_nfev: int = 200,
    init: np.ndarray | None = None,
    phi: str = "tanh",
    rng: RngLike = None,
) -> VectorFieldFit:
    """Fit P populations so that the mean-field flow approximates ``target`` (module docstring).

    Parameters
    ----------
    target : callable
        ``g(kappa)`` mapping shape (G, R) to (G, R).
    rank : int
    n_populations : int
    box : (low, high) or array_like, shape (R, 2)
    n_grid : int
        Grid points per dimension.
    spread : float
        Within-population standard deviation (>= 0).
    ridge : float
        Ridge on the output weights (>= 0).
    max_nfev : int
        Budget of the nonlinear optimiser (0: random features only).
    init : ndarray, shape (P0, R + 1), optional
        Initial ``(a_m, b)`` rows for the first P0 <= P populations (the rest random).
    phi : {'tanh', 'relu', 'linear'}
    rng : Generator, int or None

    Returns
    -------
    VectorFieldFit
    """
    if not callable(target):
        raise ValueError(f"target: expected a callable g(kappa), got {type(target).__name__}")
    R = check_int("rank", rank, minimum=1)
    P = check_int("n_populations", n_populations, minimum=1)
    n_grid = check_int("n_grid", n_grid, minimum=2)
    spread = check_real("spread", spread, minimum=0.0)
    ridge = check_real("ridge", ridge, minimum=0.0)
    max_nfev = check_int("max_nfev", max_nfev, minimum=0)
    check_choice("phi", phi, ("tanh", "relu", "linear"))
    b = check_array("box", np.asarray(box, dtype=float))
    if b.shape == (2,):
        b = np.tile(b, (R, 1))
    if b.shape != (R, 2) or np.any(b[:, 1] <= b[:, 0]):
        raise ValueError(f"box: expected (low, high) or shape ({R}, 2) with low < high, got "
                         f"{np.asarray(box).tolist()}")
    rng = as_rng(rng)
    grid = _grid(b, n_grid)
    g = check_array("target(grid)", np.asarray(target(grid), dtype=float), shape=grid.shape)
    Y = g + grid  # the drive G must equal g + kappa
    half = np.max(np.abs(b), axis=1)
    theta0 = np.empty((P, R + 1))
    theta0[:, :R] = rng.normal(size=(P, R)) * (1.5 / half)
    theta0[:, R] = rng.uniform(-1.0, 1.0, size=P) * np.sqrt(R) * 1.5
    if init is not None:
        init = check_array("init", np.asarray(init, dtype=float), ndim=2)
        if init.shape[1] != R + 1 or init.shape[0] > P:
            raise ValueError(f"init: expected shape (P0 <= {P}, {R + 1}), got {init.shape}")
        theta0[: init.shape[0]] = init

    def resid(theta: np.ndarray) -> np.ndarray:
        Phi = _features(theta, grid, spread, phi) / P
        C = _solve_out(Phi, Y, ridge)
        return (Phi @ C - Y).ravel()

    info: dict = {"nfev": 0, "status": "random features"}
    theta = theta0.ravel()
    if max_nfev > 0:
        sol = least_squares(resid, theta, method="trf", max_nfev=max_nfev, x_scale="jac")
        if 0.5 * np.sum(sol.fun**2) <= 0.5 * np.sum(resid(theta) ** 2):
            theta = sol.x
        info = {"nfev": int(sol.nfev), "status": str(sol.message)}
    th = theta.reshape(P, R + 1)
    Phi = _features(theta, grid, spread, phi) / P
    C = _solve_out(Phi, Y, ridge)
    a_n = C  # alpha_p = 1/P and Phi already carries the 1/P, so a_n^p = C_p
    mix = mixture_from_parameters(th[:, :R], th[:, R], a_n, spread=spread, phi=phi)
    err = Phi @ C - Y
    return VectorFieldFit(
        mixture=mix,
        relative_error=float(np.linalg.norm(err) / np.linalg.norm(g)),
        rms_error=float(np.sqrt(np.mean(err**2))),
        grid=grid,
        params={"a_m": th[:, :R], "b": th[:, R], "a_n": a_n, "spread": spread},
        info=info,
    )


def fit_sequence(
    target: Callable[[np.ndarray], np.ndarray],
    populations: Sequence[int],
    *,
    rank: int,
    rng: RngLike = None,
    **kwargs: object,
) -> list[VectorFieldFit]:
    """Nested fits for increasing numbers of populations (error non-increasing in P).

    Each fit starts from the previous one's ``(a_m, b)`` plus new random populations; the
    optimiser only accepts improvements, so the error cannot grow with P.
    """
    pops = [check_int("populations", p, minimum=1) for p in populations]
    if any(b <= a for a, b in zip(pops, pops[1:], strict=False)):
        raise ValueError(f"populations={list(pops)}: must be strictly increasing")
    rng = as_rng(rng)
    fits: list[VectorFieldFit] = []
    init = None
    for p in pops:
        fit = fit_vector_field(target, rank=rank, n_populations=p, init=init, rng=rng, **kwargs)
        fits.append(fit)
        init = np.hstack([fit.params["a_m"], fit.params["b"][:, None]])
    return fits


def hopf_target(omega: float = 1.0, radius: float = 1.0) -> Callable[[np.ndarray], np.ndarray]:
    """The Hopf normal form ``dk/dt = (1 - |k|^2/r^2) k + omega R_90 k`` (rank 2).

    Its stable limit cycle is the circle of radius r, with period ``2 pi / omega``.
    """
    omega = check_real("omega", omega)
    radius = check_real("radius", radius, minimum=0.0, min_inclusive=False)

    def g(k: np.ndarray) -> np.ndarray:
        k = np.asarray(k, dtype=float)
        rad = 1.0 - np.sum(k**2, axis=-1, keepdims=True) / radius**2
        rot = np.stack([-k[..., 1], k[..., 0]], axis=-1)
        return rad * k + omega * rot

    return g


# =========================================================================== limit cycles
@dataclass(frozen=True)
class CycleStats:
    """Long-time behaviour of a rank-2 latent trajectory.

    Attributes
    ----------
    oscillates : bool
        The last window's peak-to-peak amplitude exceeds ``min_amplitude`` and has not
        shrunk by more than 5% from the previous window.
    amplitude : float
        Peak-to-peak amplitude of kappa_1 in the last window.
    radius_mean, radius_min, radius_max : float
        Of ``|kappa|`` over the last window.
    period : float
        Mean interval between upward crossings of the window mean by kappa_1 (NaN if < 2).
    final : ndarray, shape (R,)
    """

    oscillates: bool
    amplitude: float
    radius_mean: float
    radius_min: float
    radius_max: float
    period: float
    final: np.ndarray


def cycle_statistics(t: np.ndarray, kappa: np.ndarray, *, window: float,
                     min_amplitude: float = 0.05) -> CycleStats:
    """Detect and measure a limit cycle in the last ``window`` time units of one trajectory.

    Parameters
    ----------
    t : ndarray, shape (time,)
    kappa : ndarray, shape (time, R)
    window : float
        Length of the measurement window (the previous window of equal length is used to test
        that the amplitude is not decaying).
    """
    t = np.asarray(t, dtype=float)
    kappa = np.asarray(kappa, dtype=float)
    if kappa.ndim != 2 or kappa.shape[0] != t.size:
        raise ValueError(f"kappa: expected shape ({t.size}, R), got {kappa.shape}")
    window = check_real("window", window, minimum=0.0, min_inclusive=False)
    last = t >= t[-1] - window
    prev = (t >= t[-1] - 2 * window) & ~last
    k1 = kappa[last, 0]
    amp = float(np.ptp(k1))
    amp_prev = float(np.ptp(kappa[prev, 0])) if np.any(prev) else amp
    r = np.linalg.norm(kappa[last], axis=1)
    c = k1 - k1.mean()
    up = np.flatnonzero((c[:-1] < 0) & (c[1:] >= 0))
    tl = t[last]
    if up.size >= 2:
        # linear interpolation of the crossing times
        tc = tl[up] + (tl[up + 1] - tl[up]) * (-c[up]) / (c[up + 1] - c[up])
        period = float(np.mean(np.diff(tc)))
    else:
        period = float("nan")
    osc = amp > min_amplitude and amp >= 0.95 * amp_prev and up.size >= 2
    return CycleStats(oscillates=bool(osc), amplitude=amp, radius_mean=float(r.mean()),
                      radius_min=float(r.min()), radius_max=float(r.max()), period=period,
                      final=kappa[-1].copy())


def rotational_mixture(a: float, b: float, *, phi: str = "tanh") -> GaussianMixture:
    """One zero-mean population, rank 2, ``Cov(m) = I`` and overlap ``sigma_nm = [[a,-b],[b,a]]``.

    The outliers of J are ``a ± i b``; for ``a > 1`` the mean field has a limit cycle
    (:func:`rotational_cycle_theory`).
    """
    a = check_real("a", a)
    b = check_real("b", b)
    S = np.array([[a, -b], [b, a]])
    cov = np.zeros((4, 4))
    cov[:2, :2] = np.eye(2)
    cov[2:, :2] = S
    cov[:2, 2:] = S.T
    cov[2:, 2:] = (a * a + b * b + 0.5) * np.eye(2)
    return GaussianMixture.single(cov, rank=2, phi=phi)


def rotational_cycle_theory(a: float, b: float) -> dict[str, float]:
    """Radius and period of the limit cycle of :func:`rotational_mixture` (tanh).

    With ``Delta = |kappa|^2``, polar coordinates give ``dr/dt = r(-1 + a <phi'>(0, r^2))`` and
    ``dtheta/dt = b <phi'>(0, r^2)``: the cycle has ``a <phi'>(0, r*^2) = 1`` and angular
    velocity ``b / a``, so period ``2 pi a / b``.
    """
    a = check_real("a", a, minimum=1.0, min_inclusive=False)
    b = check_real("b", b)
    if b == 0:
        raise ValueError("b=0: no rotation (a ring of fixed points, not a cycle)")

    def h(r: float) -> float:
        return a * float(gaussian_averages("tanh", 0.0, r * r, orders=(1,))[1]) - 1.0

    hi = 1.0
    while h(hi) > 0:
        hi *= 2.0
    r_star = brentq(h, 0.0, hi, xtol=1e-12)
    return {"radius": float(r_star), "period": float(2 * np.pi * a / abs(b)),
            "angular_velocity": float(b / a)}


def simulate_cycle(
    mix: GaussianMixture, kappa0: np.ndarray, v: np.ndarray | None = None, *,
    t_total: float = 60.0, window: float = 20.0, dt: float = 0.1,
) -> CycleStats:
    """Integrate the mean field (RK4) and measure the long-time cycle (:func:`cycle_statistics`)."""
    n_steps = int(round(t_total / dt))
    tr = latent_trajectory(mix, kappa0, v, dt=dt, n_steps=n_steps, method="rk4")
    return cycle_statistics(tr.t, tr.kappa[0], window=window)


register_dataclass(VectorFieldFit)
