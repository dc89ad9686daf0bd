"""Approximating a target R-dimensional dynamical system with P Gaussian populations.

Beiran et al. 2021 show that a rank-R network with enough populations approximates
any R-dimensional dynamical system ``dkappa/dt = g(kappa)``. The construction implemented here
is the standard one: a constant input ``v = 1`` (loading means ``b_p``) gives each population a
bias, ``n`` is uncorrelated with ``(m, I)`` inside each population, and all populations have the
same fraction ``1/P``. The mean field (:mod:`lowrank_rnn.theory.meanfield`) is then::

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
from typing import Any

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
from lowrank_rnn.network import LowRankRNN
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
    "network_loadings",
    "PopulationMixture",
    "fit_populations",
    "resampled_scores",
    "bootstrap_network",
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


# =========================================================================== population fits
def network_loadings(net: LowRankRNN) -> tuple[np.ndarray, dict[str, int]]:
    """Each neuron's loadings ``(m_1..m_R, n_1..n_R, I_1..I_K, w_1..w_Q)`` in mean-field units.

    The units are those of :class:`~lowrank_rnn.theory.meanfield.GaussianMixture`: ``J = M N^T
    / N`` (the network's ``scale`` is moved into n: ``n = scale * N * N_neurons``) and the
    readout ``W = w / N`` (so ``w = N_neurons * W``; ``readout_scale`` stays outside). Inputs are
    unscaled.

    Parameters
    ----------
    net : LowRankRNN
        A pure low-rank network (no mask, no random part).

    Returns
    -------
    X : ndarray, shape (N, 2R + K + Q)
    dims : dict
        ``rank`` R, ``d_in`` K, ``d_out`` Q.
    """
    if not isinstance(net, LowRankRNN):
        raise ValueError(f"net: expected a LowRankRNN, got {type(net).__name__}")
    if net.structure != "lowrank":
        raise ValueError(
            f"net: population fits need a pure low-rank network (loadings only), got structure "
            f"{net.structure!r} (a mask or random part is not described by loadings)"
        )
    n = net.n_neurons
    cols = [net.M, net.N * (net.scale * n)]
    if net.I is not None:
        cols.append(net.I)
    if net.W is not None:
        cols.append(net.W * n)
    return np.hstack(cols), {"rank": net.rank, "d_in": net.d_in, "d_out": net.d_out}


def _standardise(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mu = X.mean(axis=0)
    sd = X.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return (X - mu) / sd, mu, sd


_SELECTIONS = ("bic", "dirichlet")


class PopulationMixture:
    """Fit a Gaussian mixture to the loadings of a trained network (Beiran et al. 2021;
    Dubreuil et al. 2022) with scikit-learn (scikit-learn estimator conventions).

    The loadings of :func:`network_loadings` are standardised column by column, fitted with
    :class:`sklearn.mixture.GaussianMixture` (full covariances) and transformed back, giving the
    library's mixture spec :class:`~lowrank_rnn.theory.meanfield.GaussianMixture` with readout
    loadings, from which networks of any size are drawn (``mixture_.sample_network(N, rng=...)``).

    Parameters
    ----------
    n_populations : int or {'bic', 'dirichlet'}
        A fixed number P; ``'bic'``: the P in ``1..max_populations`` of least Bayesian
        information criterion; ``'dirichlet'``: a truncated Dirichlet-process mixture
        (:class:`sklearn.mixture.BayesianGaussianMixture` with ``max_populations`` components)
        chooses P as the number of components holding at least ``min_size`` neurons, then P is
        fitted by maximum likelihood like a fixed number.
    max_populations : int
        Largest P tried (``'bic'``) or the truncation level (``'dirichlet'``).
    n_init : int
        Initialisations of EM per fit (best likelihood kept).
    n_bootstrap : int
        Bootstrap resamples of the neurons for the stability of the clustering: each resample
        is refitted with the chosen P and its labels of all neurons are compared with
        ``labels_`` by the adjusted Rand index (``stability_``).
    min_size : int
        Smallest population counted by ``'dirichlet'``.
    reg_covar : float
        Added to the diagonal of each covariance in standardised units (scikit-learn's).
    random_state : Generator, int or None

    Attributes
    ----------
    mixture_ : GaussianMixture
        The fitted mixture (``rank``, ``d_in``, ``d_out``, ``phi``, ``tau``, ``readout_scale``
        of the network).
    n_populations_ : int
    labels_ : ndarray of int, shape (N,)
        Most likely population of each neuron.
    estimator_ : sklearn.mixture.GaussianMixture
        The fitted scikit-learn model (standardised units).
    scaling_ : tuple of ndarray, shapes (D,), (D,)
        Column means and standard deviations of the standardisation.
    bic_ : dict
        P -> BIC of each P tried (``'bic'``), else of the chosen P.
    stability_ : ndarray, shape (n_bootstrap,)
        Adjusted Rand index of each bootstrap refit (empty without bootstrap).
    info_ : dict
        ``log_likelihood`` (mean per neuron), ``converged``, ``n_iter``, ``selection``,
        ``dirichlet_weights`` (for ``'dirichlet'``), ``n_neurons``.
    """

    def __init__(
        self,
        n_populations: int | str = 1,
        *,
        max_populations: int = 6,
        n_init: int = 3,
        n_bootstrap: int = 0,
        min_size: int = 10,
        reg_covar: float = 1e-6,
        random_state: RngLike = None,
    ) -> None:
        if isinstance(n_populations, str):
            check_choice("n_populations", n_populations, _SELECTIONS)
        else:
            n_populations = check_int("n_populations", n_populations, minimum=1)
        self.n_populations = n_populations
        self.max_populations = check_int("max_populations", max_populations, minimum=1)
        self.n_init = check_int("n_init", n_init, minimum=1)
        self.n_bootstrap = check_int("n_bootstrap", n_bootstrap, minimum=0)
        self.min_size = check_int("min_size", min_size, minimum=1)
        self.reg_covar = check_real("reg_covar", reg_covar, minimum=0.0)
        as_rng(random_state, "random_state")
        self.random_state = random_state

    def _gmm(self, p: int, seed: int) -> Any:
        from sklearn.mixture import GaussianMixture as SkGMM

        return SkGMM(n_components=p, covariance_type="full", n_init=self.n_init,
                     reg_covar=self.reg_covar, max_iter=500, random_state=seed)

    def fit(self, net: LowRankRNN) -> PopulationMixture:
        """Fit the mixture to the loadings of ``net`` (see the class docstring).

        Returns
        -------
        self
        """
        from sklearn.metrics import adjusted_rand_score
        from sklearn.mixture import BayesianGaussianMixture

        X, dims = network_loadings(net)
        n, d = X.shape
        Z, mu, sd = _standardise(X)
        rng = as_rng(self.random_state, "random_state")
        seed = int(rng.integers(2**31 - 1))
        info: dict[str, Any] = {"selection": self.n_populations, "n_neurons": n}
        bic: dict[int, float] = {}
        if self.n_populations == "bic":
            best = None
            for p in range(1, min(self.max_populations, n) + 1):
                g = self._gmm(p, seed).fit(Z)
                bic[p] = float(g.bic(Z))
                if best is None or bic[p] < bic[best[0]]:
                    best = (p, g)
            p, gmm = best
        else:
            if self.n_populations == "dirichlet":
                bgm = BayesianGaussianMixture(
                    n_components=min(self.max_populations, n), covariance_type="full",
                    weight_concentration_prior_type="dirichlet_process",
                    n_init=self.n_init, reg_covar=self.reg_covar, max_iter=1000,
                    random_state=seed,
                ).fit(Z)
                sizes = np.bincount(bgm.predict(Z), minlength=bgm.n_components)
                p = max(1, int(np.sum(sizes >= self.min_size)))
                info["dirichlet_weights"] = bgm.weights_.tolist()
            else:
                p = int(self.n_populations)
                if p > n:
                    raise ValueError(f"n_populations={p}: more populations than neurons ({n})")
            gmm = self._gmm(p, seed).fit(Z)
            bic[p] = float(gmm.bic(Z))
        labels = gmm.predict(Z)
        means = gmm.means_ * sd + mu
        covs = gmm.covariances_ * sd[None, :, None] * sd[None, None, :]
        covs = 0.5 * (covs + np.transpose(covs, (0, 2, 1)))
        weights = gmm.weights_ / gmm.weights_.sum()
        self.mixture_ = GaussianMixture(
            weights, means, covs, rank=dims["rank"], phi=net.phi, tau=net.tau,
            d_out=dims["d_out"], readout_scale=net.readout_scale,
        )
        self.n_populations_ = int(p)
        self.labels_ = labels
        self.estimator_ = gmm
        self.scaling_ = (mu, sd)
        self.bic_ = bic
        stab = []
        for _ in range(self.n_bootstrap):
            idx = rng.integers(0, n, size=n)
            g = self._gmm(p, int(rng.integers(2**31 - 1))).fit(Z[idx])
            stab.append(adjusted_rand_score(labels, g.predict(Z)))
        self.stability_ = np.asarray(stab, dtype=float)
        info.update(log_likelihood=float(gmm.score(Z) - np.sum(np.log(sd))),
                    converged=bool(gmm.converged_), n_iter=int(gmm.n_iter_), n_loadings=d)
        self.info_ = info
        return self

    def predict(self, net: LowRankRNN) -> np.ndarray:
        """Most likely population of each neuron of ``net`` (same loading layout)."""
        if not hasattr(self, "estimator_"):
            raise ValueError("the mixture is not fitted: call fit() first")
        X, _ = network_loadings(net)
        if X.shape[1] != self.mixture_.means.shape[1]:
            raise ValueError(f"net: {X.shape[1]} loadings per neuron, the fit has "
                             f"{self.mixture_.means.shape[1]}")
        mu, sd = self.scaling_
        return self.estimator_.predict((X - mu) / sd)


def fit_populations(
    net: LowRankRNN,
    n_populations: int | str = 1,
    *,
    max_populations: int = 6,
    n_bootstrap: int = 0,
    n_init: int = 3,
    rng: RngLike = None,
) -> PopulationMixture:
    """Fit P Gaussian populations to the loadings of a network (:class:`PopulationMixture`).

    Parameters
    ----------
    net : LowRankRNN
        Pure low rank, e.g. :meth:`lowrank_rnn.fit.bptt.BPTTTrainer.to_network`.
    n_populations : int or {'bic', 'dirichlet'}
    max_populations, n_bootstrap, n_init
        See :class:`PopulationMixture`.
    rng : Generator, int or None

    Returns
    -------
    PopulationMixture
        Fitted: ``mixture_`` (resample with ``mixture_.sample_network(N, rng=...)``),
        ``labels_``, ``bic_``, ``stability_``, ``info_``.
    """
    return PopulationMixture(
        n_populations, max_populations=max_populations, n_init=n_init,
        n_bootstrap=n_bootstrap, random_state=rng,
    ).fit(net)


def resampled_scores(
    mixture: GaussianMixture,
    n_neurons: int,
    score: Callable[[LowRankRNN], float],
    *,
    draws: int = 10,
    rng: RngLike = None,
) -> np.ndarray:
    """A task metric of ``draws`` networks resampled from ``mixture`` at ``n_neurons``.

    Parameters
    ----------
    mixture : GaussianMixture
    n_neurons : int
    score : callable
        ``score(net) -> float`` (e.g. a task accuracy or loss of a network).
    draws : int
    rng : Generator, int or None
        Each draw uses its own child stream (same seed, same networks).

    Returns
    -------
    ndarray, shape (draws,)
    """
    if not isinstance(mixture, GaussianMixture):
        raise ValueError(f"mixture: expected a GaussianMixture, got {type(mixture).__name__}")
    n = check_int("n_neurons", n_neurons, minimum=1)
    draws = check_int("draws", draws, minimum=1)
    if not callable(score):
        raise ValueError(f"score: expected a callable score(net), got {type(score).__name__}")
    gens = as_rng(rng).spawn(draws)
    return np.array([float(score(mixture.sample_network(n, rng=g))) for g in gens])


def bootstrap_network(net: LowRankRNN, n_neurons: int, *, rng: RngLike = None,
                      merge_copies: bool = False) -> LowRankRNN:
    """A network of ``n_neurons`` neurons drawn with replacement from the neurons of ``net``.

    The control for resampling from a fitted mixture: each new neuron copies the loadings
    ``(m, n, I, w)`` of a neuron of ``net`` chosen uniformly (the empirical distribution instead
    of a Gaussian mixture), with the same scaling as ``mixture_.sample_network``: in the units
    of :func:`network_loadings` the rows of the new network are rows of the old one, so
    ``J = M N^T / n_neurons`` and ``W = w / n_neurons``. As ``n_neurons`` grows the latent
    dynamics approach those of ``net`` itself (a pure low-rank network's latent dynamics are
    the mean field of its own empirical loading distribution), with sampling error of order
    ``1 / sqrt(n_neurons)`` in the overlaps; a task that fails on such networks fails from that
    error, whatever mixture is fitted.

    Parameters
    ----------
    net : LowRankRNN
        A pure low-rank network (no mask, no random part).
    n_neurons : int
        Size of the new network (>= 1).
    rng : Generator, int or None
    merge_copies : bool, default False
        Return the same draw with the copies of each chosen neuron merged into one neuron
        whose ``n`` and ``w`` are multiplied by its number of copies ``c_j``: ``J = M diag(c)
        N^T / n_neurons`` over the distinct neurons (at most ``min(n_neurons, N)``). Copies
        have identical equations, so from an initial state that is equal on copies (e.g.
        ``x0 = 0``) and without noise they stay equal, and the merged network has the same
        latent trajectory and readout (up to the order of floating-point sums) at a fraction
        of the cost. Not the same network under independent noise per neuron.

    Returns
    -------
    LowRankRNN
        Same rank, inputs, readout, ``phi``, ``tau`` and ``readout_scale`` as ``net``.
    """
    n_new = check_int("n_neurons", n_neurons, minimum=1)
    if not isinstance(merge_copies, bool | np.bool_):
        raise ValueError(f"merge_copies={merge_copies!r}: expected True or False")
    X, dims = network_loadings(net)
    idx = as_rng(rng).integers(0, X.shape[0], size=n_new)
    r, k = dims["rank"], dims["d_in"]
    copies = np.ones(n_new)
    if merge_copies:
        idx, counts = np.unique(idx, return_counts=True)
        copies = counts.astype(float)
    Xi = X[idx]
    return LowRankRNN(
        Xi[:, :r], Xi[:, r:2 * r] * (copies / n_new)[:, None],
        Xi[:, 2 * r:2 * r + k] if k else None,
        Xi[:, 2 * r + k:] * (copies / n_new)[:, None] if dims["d_out"] else None,
        readout_scale=net.readout_scale, tau=net.tau, phi=net.phi,
    )
