"""One-dimensional latent dynamics of a rank-one Gaussian network (Herbert & Ostojic eq 36–37).

For ``J = m n^T / N`` with (m, n, I) jointly Gaussian with zero mean, ``Var m = Var n = sigma^2``,
``Cov(m, n) = sigma_mn``, ``Cov(n, I) = sigma_nI``, ``Cov(m, I) = sigma_mI``, ``Var I =
sigma_I^2``, the activity stays on ``x = kappa m + v I`` (eq 33) with the filtered input
``tau dv/dt = -v + u(t)`` and (eq 36)::

    tau dkappa/dt = -kappa + kappa_rec,      kappa_rec = (1/N) sum_j n_j phi(x_j)   (eq 37)

In the limit N -> infinity the sum is an expectation over the Gaussian loadings; by Stein's lemma
(the Gaussian mean-field closure)::

    kappa_rec = Cov(n, x) <phi'>,   Cov(n, x) = sigma_mn kappa + sigma_nI v,
    <phi'> = E[phi'(sqrt(Delta) xi)],  Delta = sigma^2 kappa^2 + 2 sigma_mI kappa v + sigma_I^2 v^2,

with xi standard normal; the Gaussian average is the mixture mean field's
(:func:`lowrank_rnn.theory.meanfield.gaussian_averages`, one closure for the library). Without
input this is ``kappa_rec = sigma_mn kappa <phi'(sqrt(sigma^2 kappa^2) xi)>``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from lowrank_rnn._validate import check_array, check_choice, check_int, check_real
from lowrank_rnn.theory.meanfield import DEFAULT_N_QUAD, gaussian_averages
from lowrank_rnn.transfer import PHI_NAMES

__all__ = [
    "mean_phi_prime",
    "rank_one_kappa_rec",
    "rank_one_latent_rhs",
    "integrate_rank_one_latent",
    "rank_one_fixed_points",
    "LatentSolution",
]


def mean_phi_prime(
    delta: np.ndarray | float, phi: str = "tanh", *, n_points: int = DEFAULT_N_QUAD
) -> np.ndarray:
    """``<phi'> = E[phi'(sqrt(Delta) xi)]``, xi ~ N(0, 1): the gain of the mean-field closure.

    The Gaussian average is the one of the mixture mean field,
    :func:`lowrank_rnn.theory.meanfield.gaussian_averages` (Gauss–Hermite for narrow ``tanh``
    arguments, a trapezoid rule for wide ones, closed forms for ReLU and linear).

    Parameters
    ----------
    delta : float or ndarray, any shape
        Variances (finite, >= 0).
    phi : {'tanh', 'relu', 'linear'}
    n_points : int
        Gauss–Hermite nodes for narrow ``tanh`` arguments.

    Returns
    -------
    ndarray, shape of ``delta``
    """
    check_choice("phi", phi, PHI_NAMES)
    n_points = check_int("n_points", n_points, minimum=2)
    d = np.asarray(delta, dtype=float)
    if np.any(d < 0) or not np.all(np.isfinite(d)):
        raise ValueError("delta: variances must be finite and >= 0")
    return gaussian_averages(phi, 0.0, d, orders=(1,), n_quad=n_points)[1]


def _check_params(sigma2: float, sigma_mn: float, sigma_nI: float, sigma_mI: float,
                  sigma_I2: float) -> tuple[float, float, float, float, float]:
    sigma2 = check_real("sigma2", sigma2, minimum=0.0)
    sigma_mn = check_real("sigma_mn", sigma_mn)
    sigma_nI = check_real("sigma_nI", sigma_nI)
    sigma_mI = check_real("sigma_mI", sigma_mI)
    sigma_I2 = check_real("sigma_I2", sigma_I2, minimum=0.0)
    if abs(sigma_mn) > sigma2 + 1e-12:
        raise ValueError(f"sigma_mn={sigma_mn}: |sigma_mn| must be <= sigma2 = {sigma2}")
    if sigma_mI**2 > sigma2 * sigma_I2 + 1e-12:
        raise ValueError(
            f"sigma_mI={sigma_mI}: needs sigma_mI^2 <= sigma2 * sigma_I2 = {sigma2 * sigma_I2}"
        )
    return sigma2, sigma_mn, sigma_nI, sigma_mI, sigma_I2


def rank_one_kappa_rec(
    kappa: np.ndarray | float,
    sigma2: float,
    sigma_mn: float,
    *,
    v: np.ndarray | float = 0.0,
    sigma_nI: float = 0.0,
    sigma_mI: float = 0.0,
    sigma_I2: float = 0.0,
    phi: str = "tanh",
    n_points: int = DEFAULT_N_QUAD,
) -> np.ndarray:
    """Mean-field recurrent input ``kappa_rec`` of eq 37 (Gaussian closure, Stein's lemma).

    ``kappa_rec = (sigma_mn kappa + sigma_nI v) <phi'(sqrt(Delta) xi)>`` with
    ``Delta = sigma2 kappa^2 + 2 sigma_mI kappa v + sigma_I2 v^2``.

    Parameters
    ----------
    kappa : float or ndarray
        Latent coordinate along m.
    sigma2, sigma_mn : float
        Variance of m and n, covariance of m and n.
    v : float or ndarray (broadcast with kappa)
        Filtered input along I.
    sigma_nI, sigma_mI, sigma_I2 : float
        Covariances of I with n and m, variance of I.
    phi : {'tanh', 'relu', 'linear'}
    n_points : int
        Gauss–Hermite nodes.
    """
    sigma2, sigma_mn, sigma_nI, sigma_mI, sigma_I2 = _check_params(
        sigma2, sigma_mn, sigma_nI, sigma_mI, sigma_I2
    )
    k = np.asarray(kappa, dtype=float)
    vv = np.asarray(v, dtype=float)
    delta = sigma2 * k**2 + 2 * sigma_mI * k * vv + sigma_I2 * vv**2
    delta = np.maximum(delta, 0.0)
    return (sigma_mn * k + sigma_nI * vv) * mean_phi_prime(delta, phi, n_points=n_points)


def rank_one_latent_rhs(
    kappa: np.ndarray | float,
    sigma2: float,
    sigma_mn: float,
    *,
    v: np.ndarray | float = 0.0,
    sigma_nI: float = 0.0,
    sigma_mI: float = 0.0,
    sigma_I2: float = 0.0,
    tau: float = 1.0,
    phi: str = "tanh",
    n_points: int = DEFAULT_N_QUAD,
) -> np.ndarray:
    """``dkappa/dt = (-kappa + kappa_rec) / tau`` (eq 36 with the closure of eq 37).

    Parameters as :func:`rank_one_kappa_rec`; ``tau > 0`` is the time constant.
    """
    tau = check_real("tau", tau, minimum=0.0, min_inclusive=False)
    rec = rank_one_kappa_rec(kappa, sigma2, sigma_mn, v=v, sigma_nI=sigma_nI, sigma_mI=sigma_mI,
                             sigma_I2=sigma_I2, phi=phi, n_points=n_points)
    return (rec - np.asarray(kappa, dtype=float)) / tau


@dataclass(frozen=True)
class LatentSolution:
    """Solution of the latent ODE.

    Attributes
    ----------
    t : ndarray, shape (time,)
    kappa : ndarray, shape (batch, time)
    v : ndarray, shape (batch, time)
        Filtered input (zeros without input).
    """

    t: np.ndarray
    kappa: np.ndarray
    v: np.ndarray


def integrate_rank_one_latent(
    kappa0: np.ndarray | float,
    sigma2: float,
    sigma_mn: float,
    *,
    dt: float,
    n_steps: int,
    inputs: np.ndarray | None = None,
    v0: np.ndarray | float = 0.0,
    sigma_nI: float = 0.0,
    sigma_mI: float = 0.0,
    sigma_I2: float = 0.0,
    tau: float = 1.0,
    phi: str = "tanh",
    substeps: int = 1,
) -> LatentSolution:
    """Integrate eq 36–37 (and ``tau dv/dt = -v + u``) by explicit Euler.

    With ``substeps=1`` the discretisation is the same as :func:`lowrank_rnn.simulate.simulate`
    with the same ``dt`` (so finite-N deviations are not mixed with time-step error); larger
    ``substeps`` approach the continuous-time solution.

    Parameters
    ----------
    kappa0 : float or ndarray, shape (batch,)
        Initial latent coordinate(s).
    sigma2, sigma_mn, sigma_nI, sigma_mI, sigma_I2, phi : see :func:`rank_one_kappa_rec`
    dt : float
        Output step (> 0).
    n_steps : int
    inputs : ndarray, shape (time,) or (batch, time), optional
        ``u_k`` held during step k (time >= n_steps).
    v0 : float or ndarray, shape (batch,)
    tau : float
    substeps : int
        Euler sub-steps per output step.

    Returns
    -------
    LatentSolution
        ``kappa`` and ``v`` of shape ``(batch, n_steps + 1)``.
    """
    dt = check_real("dt", dt, minimum=0.0, min_inclusive=False)
    n_steps = check_int("n_steps", n_steps, minimum=1)
    substeps = check_int("substeps", substeps, minimum=1)
    tau = check_real("tau", tau, minimum=0.0, min_inclusive=False)
    _check_params(sigma2, sigma_mn, sigma_nI, sigma_mI, sigma_I2)
    k = np.atleast_1d(np.asarray(kappa0, dtype=float)).copy()
    if k.ndim != 1 or not np.all(np.isfinite(k)):
        raise ValueError(
            f"kappa0: expected a finite scalar or shape (batch,), got {np.shape(kappa0)}"
        )
    b = k.size
    v = np.broadcast_to(np.asarray(v0, dtype=float), (b,)).copy()
    if inputs is not None:
        u = check_array("inputs", np.asarray(inputs, dtype=float))
        if u.ndim == 1:
            u = np.broadcast_to(u, (b, u.size))
        if u.ndim != 2 or u.shape[0] != b or u.shape[1] < n_steps:
            raise ValueError(
                f"inputs: expected shape (time,) or ({b}, time) with time >= {n_steps}, got "
                f"{np.shape(inputs)}"
            )
    else:
        u = np.zeros((b, n_steps))
    h = dt / substeps
    ks = np.empty((b, n_steps + 1))
    vs = np.empty((b, n_steps + 1))
    ks[:, 0], vs[:, 0] = k, v
    for step in range(n_steps):
        for _ in range(substeps):
            rhs = rank_one_latent_rhs(k, sigma2, sigma_mn, v=v, sigma_nI=sigma_nI,
                                      sigma_mI=sigma_mI, sigma_I2=sigma_I2, tau=tau, phi=phi)
            v = v + h / tau * (-v + u[:, step])
            k = k + h * rhs
        ks[:, step + 1], vs[:, step + 1] = k, v
    return LatentSolution(t=np.arange(n_steps + 1) * dt, kappa=ks, v=vs)


def rank_one_fixed_points(
    sigma2: float,
    sigma_mn: float,
    *,
    v: float = 0.0,
    sigma_nI: float = 0.0,
    sigma_mI: float = 0.0,
    sigma_I2: float = 0.0,
    phi: str = "tanh",
    kappa_max: float | None = None,
    n_grid: int = 801,
) -> np.ndarray:
    """All fixed points ``kappa = kappa_rec(kappa)`` of the latent ODE at constant input v.

    Brackets sign changes of ``kappa_rec - kappa`` on a grid in ``[-kappa_max, kappa_max]``
    and refines them with Brent's method. For tanh and no input: only 0 when
    ``sigma_mn < 1``; 0 (unstable) and ``±kappa*`` when ``sigma_mn > 1``.

    Returns
    -------
    ndarray, shape (n_fixed_points,), sorted
    """
    _check_params(sigma2, sigma_mn, sigma_nI, sigma_mI, sigma_I2)
    if kappa_max is None:
        # for |phi| <= 1, |kappa_rec| = |E[n phi(x)]| <= E|n| <= sqrt(sigma2)
        kappa_max = 1.5 * np.sqrt(sigma2) + 1e-6 if phi == "tanh" else 10.0
    kappa_max = check_real("kappa_max", kappa_max, minimum=0.0, min_inclusive=False)
    n_grid = check_int("n_grid", n_grid, minimum=3)

    def f(k):
        return rank_one_kappa_rec(k, sigma2, sigma_mn, v=v, sigma_nI=sigma_nI, sigma_mI=sigma_mI,
                                  sigma_I2=sigma_I2, phi=phi) - k

    grid = np.linspace(-kappa_max, kappa_max, n_grid)
    vals = f(grid)
    roots = list(grid[vals == 0])
    idx = np.flatnonzero(np.sign(vals[:-1]) * np.sign(vals[1:]) < 0)
    for i in idx:
        roots.append(brentq(lambda k: float(f(k)), grid[i], grid[i + 1], xtol=1e-12))
    return np.unique(np.round(np.array(roots, dtype=float), 10))
