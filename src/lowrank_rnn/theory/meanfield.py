"""Mean-field latent dynamics of Gaussian-mixture low-rank networks (Beiran et al. 2021).

Model. Neuron i belongs to population p with probability (fraction) alpha_p. Its loadings
``(m_1..m_R, n_1..n_R, I_1..I_K)`` (D = 2R + K numbers) are drawn from ``N(a^p, Sigma^p)``.
The network is ``tau dx/dt = -x + M N^T phi(x) / N + I u``. Starting in span(M, I), the activity
stays there, ``x = sum_s m_s kappa_s + sum_k I_k v_k`` with ``tau dv/dt = -v + u``, and

    tau dkappa_r/dt = -kappa_r + (1/N) sum_j n_rj phi(x_j).

For N -> infinity the empirical average becomes an expectation over the mixture. Stein's lemma
(Gaussian integration by parts) gives the mean-field equation implemented here (Beiran et al.
2021, Neural Computation 33(6); same form as Mastrogiuseppe & Ostojic 2018)::

    tau dkappa_r/dt = -kappa_r + sum_p alpha_p ( a^p_{n_r} <phi>_p + Cov_p(n_r, x) <phi'>_p )

    mu_p      = sum_s a^p_{m_s} kappa_s + sum_k a^p_{I_k} v_k
    Delta_p   = Var_p(sum_s m_s kappa_s + sum_k I_k v_k)          (a quadratic form in (kappa, v))
    Cov_p(n_r, x) = sum_s sigma^p_{n_r m_s} kappa_s + sum_k sigma^p_{n_r I_k} v_k
    <f>_p     = E[f(mu_p + sqrt(Delta_p) xi)],  xi ~ N(0, 1).

The Gaussian averages are computed by Gauss–Hermite quadrature for ``tanh`` and in closed form
for ``relu`` (``<relu> = mu Phi(mu/s) + s phi_N(mu/s)``, ``<relu'> = Phi(mu/s)``) and
``linear``. Everything is vectorised over many kappa points (any leading shape).

The latent Jacobian is analytic: differentiating under the expectation and using
``d<f>/dmu = <f'>`` and ``d<f>/dDelta = <f''>/2`` gives

    dG_r/dkappa_s = sum_p alpha_p [ a_{n_r}(<phi'> a_{m_s} + <phi''> (Sigma_xx z)_s)
                                   + sigma_{n_r m_s} <phi'> + Cov(n_r,x)(<phi''> a_{m_s}
                                   + <phi'''> (Sigma_xx z)_s) ]

with ``z = (kappa, v)``. It is the N -> infinity limit of the R x R reduced matrix
``N^T D M / N`` whose eigenvalues are the non-trivial eigenvalues of the network's Jacobian.

The *effective circuit* (Beiran et al. 2021) rewrites the same equation as
``tau dkappa_r/dt = -kappa_r + sum_s sigma~_{rs} kappa_s + sum_k sigma~_{r,I_k} v_k + b~_r`` where
the effective couplings ``sigma~_{rs} = sum_p alpha_p sigma^p_{n_r m_s} <phi'>_p`` are the
population overlaps gated by each population's gain ``<phi'>_p``, and
``b~_r = sum_p alpha_p a^p_{n_r} <phi>_p`` is the drive from non-zero means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.special import erf, ndtr

from lowrank_rnn._validate import (
    RngLike,
    as_rng,
    check_array,
    check_choice,
    check_int,
    check_psd,
    check_real,
)
from lowrank_rnn.connectivity import mixture_loadings
from lowrank_rnn.io import Storable, register_dataclass
from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.transfer import PHI_NAMES

__all__ = [
    "DEFAULT_N_QUAD",
    "GaussianMixture",
    "EffectiveCircuit",
    "LatentTrajectory",
    "gaussian_averages",
    "latent_drive",
    "latent_vector_field",
    "latent_jacobian",
    "latent_trajectory",
    "flow_field",
    "nullclines",
    "effective_circuit",
]

#: Gauss–Hermite nodes for ``tanh`` averages with sqrt(Delta) <= 1/2 (error below ~1e-10).
DEFAULT_N_QUAD = 32
_CHUNK_ELEMENTS = 1 << 21  # points * populations * nodes evaluated at once (memory bound)


# =========================================================================== the mixture
@dataclass(frozen=True, eq=False)
class GaussianMixture(Storable):
    """A Gaussian-mixture distribution of loadings (Beiran et al. 2021).

    The D = 2R + K loadings of a neuron are ordered ``m_1..m_R, n_1..n_R, I_1..I_K``.

    Parameters
    ----------
    fractions : array_like, shape (P,)
        Population fractions alpha_p >= 0 summing to 1.
    means : array_like, shape (P, D)
        Population means a^p.
    covs : array_like, shape (P, D, D)
        Population covariances Sigma^p (symmetric positive semi-definite).
    rank : int
        R >= 1; the number of inputs is ``K = D - 2R``.
    phi : {'tanh', 'relu', 'linear'}
    tau : float
        Time constant (> 0).
    """

    fractions: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    rank: int
    phi: str = "tanh"
    tau: float = 1.0
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        alpha = check_array("fractions", np.asarray(self.fractions, dtype=float), ndim=1)
        p = alpha.size
        if p < 1:
            raise ValueError("fractions: need at least one population")
        if np.any(alpha < 0) or not np.isclose(alpha.sum(), 1.0, atol=1e-9):
            raise ValueError(
                f"fractions={alpha.tolist()}: population fractions must be >= 0 and sum to 1 "
                f"(sum is {alpha.sum():.6g})"
            )
        rank = check_int("rank", self.rank, minimum=1)
        means = check_array("means", np.asarray(self.means, dtype=float), ndim=2)
        if means.shape[0] != p:
            raise ValueError(
                f"means: expected shape ({p}, D) (one row per population), got {means.shape}"
            )
        d = means.shape[1]
        if d < 2 * rank:
            raise ValueError(
                f"means: D = {d} loadings per neuron but rank={rank} needs D = 2R + K >= {2 * rank}"
            )
        covs = check_array("covs", np.asarray(self.covs, dtype=float), shape=(p, d, d))
        for k in range(p):
            check_psd(f"covs[{k}]", covs[k])
        check_choice("phi", self.phi, PHI_NAMES)
        tau = check_real("tau", self.tau, minimum=0.0, min_inclusive=False)
        for name, val in (("fractions", alpha), ("means", means), ("covs", covs)):
            val = val.copy()
            val.setflags(write=False)
            object.__setattr__(self, name, val)
        object.__setattr__(self, "rank", rank)
        object.__setattr__(self, "tau", tau)

    # ------------------------------------------------------------------ description
    @property
    def n_populations(self) -> int:
        """Number of populations P."""
        return int(self.fractions.size)

    @property
    def d_in(self) -> int:
        """Number of inputs K = D - 2R."""
        return int(self.means.shape[1] - 2 * self.rank)

    @property
    def m_index(self) -> np.ndarray:
        """Indices of m_1..m_R among the D loadings."""
        return np.arange(self.rank)

    @property
    def n_index(self) -> np.ndarray:
        """Indices of n_1..n_R among the D loadings."""
        return np.arange(self.rank, 2 * self.rank)

    @property
    def i_index(self) -> np.ndarray:
        """Indices of I_1..I_K among the D loadings."""
        return np.arange(2 * self.rank, 2 * self.rank + self.d_in)

    def overlaps(self) -> np.ndarray:
        """Population-averaged second moments ``E[n_r m_s]`` (shape (R, R)).

        For one zero-mean population this is the overlap matrix whose eigenvalues are the
        outliers of J (Beiran et al. 2021).
        """
        mi, ni = self.m_index, self.n_index
        second = self.covs + self.means[:, :, None] * self.means[:, None, :]
        return np.einsum("p,pij->ij", self.fractions, second[:, ni][:, :, mi])

    def replace(self, **changes: Any) -> GaussianMixture:
        """A copy with some fields changed (validated again)."""
        kw = dict(fractions=self.fractions, means=self.means, covs=self.covs, rank=self.rank,
                  phi=self.phi, tau=self.tau)
        kw.update(changes)
        return GaussianMixture(**kw)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def single(
        cls,
        cov: np.ndarray,
        *,
        rank: int,
        mean: np.ndarray | None = None,
        phi: str = "tanh",
        tau: float = 1.0,
    ) -> GaussianMixture:
        """One population with covariance ``cov`` (D, D) and mean ``mean`` (D,) (zero default)."""
        cov = np.atleast_2d(np.asarray(cov, dtype=float))
        d = cov.shape[0]
        mean = np.zeros(d) if mean is None else np.asarray(mean, dtype=float)
        return cls(np.ones(1), mean[None, :], cov[None], rank=rank, phi=phi, tau=tau)

    # ------------------------------------------------------------------ finite networks
    def sample(
        self, n_neurons: int, *, exact: bool = False, rng: RngLike = None
    ) -> tuple[LowRankRNN, np.ndarray]:
        """A finite network ``J = M N^T / N`` with loadings drawn from the mixture.

        Uses :func:`lowrank_rnn.connectivity.mixture_loadings` (population sizes by
        largest-remainder rounding of ``alpha_p N``).

        Returns
        -------
        net : LowRankRNN
            With ``M`` (N, R), ``N`` (N, R), ``I`` (N, K) or None, ``scale = 1/N``.
        labels : ndarray of int, shape (N,)
            Population of each neuron.
        """
        n = check_int("n_neurons", n_neurons, minimum=1)
        X, labels = mixture_loadings(
            n, self.fractions, self.means, self.covs, exact=exact, rng=as_rng(rng)
        )
        M, Nn = X[:, self.m_index], X[:, self.n_index]
        I = X[:, self.i_index] if self.d_in else None
        net = LowRankRNN(M=M, N=Nn, I=I, scale=1.0 / n, tau=self.tau, phi=self.phi)
        return net, labels

    def network(self, n_neurons: int, *, exact: bool = False, rng: RngLike = None) -> LowRankRNN:
        """Like :meth:`sample` but returns only the network."""
        return self.sample(n_neurons, exact=exact, rng=rng)[0]


# =========================================================================== Gaussian averages
_S_SWITCH = 0.5  # sqrt(Delta) above which tanh averages use the trapezoid rule in y
_ERF_C = np.sqrt(np.pi) / 2.0  # erf(c y) has the slope of tanh at 0
_Y_HALF = 12.0
_Y_CACHE: dict = {}


def _y_table(step: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes y and trapezoid weights times (tanh - erf(c y), tanh', tanh'', tanh''') at y.

    The four functions are analytic in the strip |Im y| < pi/2 and decay like exp(-2|y|), so the
    trapezoid rule with step h on [-12, 12] has error of order exp(-pi^2 / h) times the size of
    the poles' residues; with h = 1/4 and sqrt(Delta) > 1/2 the error is below ~1e-10;
    ``E[erf(c Y)] = erf(c mu / sqrt(1 + 2 c^2 s^2))`` is added in closed form.
    """
    if step not in _Y_CACHE:
        y = np.arange(-_Y_HALF, _Y_HALF + step / 2, step)
        d = _tanh_derivs(y, (0, 1, 2, 3))
        tab = np.stack([d[0] - erf(_ERF_C * y), d[1], d[2], d[3]], axis=1)
        _Y_CACHE[step] = (y, tab * step / np.sqrt(2.0 * np.pi))
    return _Y_CACHE[step]


@lru_cache(maxsize=16)
def _gh(n_quad: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = hermegauss(n_quad)
    w = w / np.sqrt(2.0 * np.pi)
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def _tanh_derivs(u: np.ndarray, orders: tuple[int, ...]) -> dict[int, np.ndarray]:
    t = np.tanh(u)
    out: dict[int, np.ndarray] = {}
    if 0 in orders:
        out[0] = t
    if any(o > 0 for o in orders):
        d1 = 1.0 - t * t
        if 1 in orders:
            out[1] = d1
        if 2 in orders:
            out[2] = -2.0 * t * d1
        if 3 in orders:
            out[3] = d1 * (4.0 * t * t - 2.0 * d1)
    return out


def gaussian_averages(
    phi: str,
    mu: np.ndarray,
    delta: np.ndarray,
    *,
    orders: tuple[int, ...] = (0, 1),
    n_quad: int = DEFAULT_N_QUAD,
) -> dict[int, np.ndarray]:
    """Gaussian averages ``<phi^(k)> = E[phi^(k)(mu + sqrt(delta) xi)]``, xi ~ N(0, 1).

    Parameters
    ----------
    phi : {'tanh', 'relu', 'linear'}
    mu, delta : array_like, broadcastable shapes
        Mean and variance (>= 0) of the Gaussian argument.
    orders : tuple of int in {0, 1, 2, 3}
        Which derivatives to average (0 = phi itself).
    n_quad : int
        Gauss–Hermite nodes for ``tanh`` where sqrt(delta) <= 1/2; wider Gaussians use a
        trapezoid rule in y (module docstring). ``relu`` and ``linear`` are closed forms.

    Returns
    -------
    dict
        ``{k: array}`` with the broadcast shape of ``mu`` and ``delta``.
    """
    check_choice("phi", phi, PHI_NAMES)
    for o in orders:
        check_choice("orders", o, (0, 1, 2, 3))
    n_quad = check_int("n_quad", n_quad, minimum=1)
    mu, delta = np.broadcast_arrays(np.asarray(mu, dtype=float), np.asarray(delta, dtype=float))
    if np.any(delta < -1e-12):
        raise ValueError(f"delta: variances must be >= 0, got min {delta.min():.3g}")
    return _averages(phi, mu, delta, orders, n_quad)


def _averages(
    phi: str, mu: np.ndarray, delta: np.ndarray, orders: tuple[int, ...], n_quad: int,
    y_step: float = 0.25,
) -> dict[int, np.ndarray]:
    """:func:`gaussian_averages` without argument checks (``mu``, ``delta`` same shape)."""
    s = np.sqrt(np.clip(delta, 0.0, None))
    out: dict[int, np.ndarray] = {}
    if not np.any(s > 0):  # point masses: the derivatives themselves
        if phi == "tanh":
            return _tanh_derivs(mu, orders)
        if phi == "relu":
            pos = (mu > 0).astype(float)
            table = {0: np.maximum(mu, 0.0), 1: pos, 2: 0.0 * mu, 3: 0.0 * mu}
            return {o: table[o] for o in orders}
    if phi == "linear":
        for o in orders:
            out[o] = mu.copy() if o == 0 else (np.ones_like(mu) if o == 1 else np.zeros_like(mu))
        return out
    if phi == "relu":
        pos = s > 0
        ss = np.where(pos, s, 1.0)
        u = mu / ss
        pdf = np.exp(-0.5 * u * u) / np.sqrt(2 * np.pi)
        cdf = np.where(pos, ndtr(u), (mu > 0).astype(float))
        for o in orders:
            if o == 0:
                out[0] = np.where(pos, mu * cdf + ss * pdf, np.maximum(mu, 0.0))
            elif o == 1:
                out[1] = cdf
            elif o == 2:  # density of the argument at 0 (0 for a point mass away from 0)
                out[2] = np.where(pos, pdf / ss, 0.0)
            else:
                out[3] = np.where(pos, -u * pdf / (ss * ss), 0.0)
        return out
    flat_mu, flat_s = mu.ravel(), s.ravel()
    res = {o: np.empty(flat_mu.size) for o in orders}
    narrow = flat_s <= _S_SWITCH
    if np.any(narrow):  # Gauss–Hermite in xi: tanh(mu + s xi) has poles >= pi away
        nodes, weights = _gh(n_quad)
        idx = np.flatnonzero(narrow)
        step = max(1, _CHUNK_ELEMENTS // n_quad)
        for a in range(0, idx.size, step):
            sel = idx[a : a + step]
            arg = flat_mu[sel, None] + flat_s[sel, None] * nodes
            d = _tanh_derivs(arg, orders)
            for o in orders:
                res[o][sel] = d[o] @ weights
    if not np.all(narrow):  # trapezoid in y against precomputed, localised tanh terms
        y, table = _y_table(y_step)
        idx = np.flatnonzero(~narrow)
        cols = np.array(orders)
        step = max(1, _CHUNK_ELEMENTS // y.size)
        for a in range(0, idx.size, step):
            sel = idx[a : a + step]
            m_, s_ = flat_mu[sel, None], flat_s[sel, None]
            w = np.exp(-0.5 * ((y - m_) / s_) ** 2) / s_
            vals = w @ table[:, cols]
            for j, o in enumerate(orders):
                res[o][sel] = vals[:, j]
            if 0 in orders:
                sd = flat_s[sel]
                res[0][sel] += erf(_ERF_C * flat_mu[sel] / np.sqrt(1.0 + 2.0 * _ERF_C**2 * sd * sd))
    return {o: res[o].reshape(mu.shape) for o in orders}


# =========================================================================== latent dynamics
def _prepare_points(
    mix: GaussianMixture, kappa: Any, v: Any
) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    if not isinstance(mix, GaussianMixture):
        raise ValueError(f"mix: expected a GaussianMixture, got {type(mix).__name__}")
    R, K = mix.rank, mix.d_in
    kappa = check_array("kappa", np.asarray(kappa, dtype=float))
    if kappa.ndim == 0 or kappa.shape[-1] != R:
        raise ValueError(f"kappa: expected shape (..., {R}) (rank R = {R}), got {kappa.shape}")
    lead = kappa.shape[:-1]
    if v is None:
        v = np.zeros(K)
    v = check_array("v", np.asarray(v, dtype=float))
    if (v.ndim == 0 and K != 1) or (v.ndim > 0 and v.shape[-1] != K):
        raise ValueError(f"v: expected shape ({K},) or (..., {K}) (K = d_in inputs), got {v.shape}")
    v = np.broadcast_to(np.atleast_1d(v), lead + (K,))
    z = np.concatenate([kappa, v], axis=-1).reshape(-1, R + K)
    return z, kappa.reshape(-1, R), lead


def _blocks(mix: GaussianMixture) -> dict[str, np.ndarray]:
    if "blocks" not in mix._cache:
        xi = np.concatenate([mix.m_index, mix.i_index])
        ni = mix.n_index
        mix._cache["blocks"] = {
            "a_x": mix.means[:, xi],  # (P, R+K)
            "a_n": mix.means[:, ni],  # (P, R)
            "S_xx": mix.covs[:, xi][:, :, xi],  # (P, R+K, R+K)
            "S_nx": mix.covs[:, ni][:, :, xi],  # (P, R, R+K)
        }
    return mix._cache["blocks"]


def _statistics(mix: GaussianMixture, z: np.ndarray) -> dict[str, np.ndarray]:
    b = _blocks(mix)
    mu = z @ b["a_x"].T  # (B, P)
    Sz = np.einsum("pij,bj->bpi", b["S_xx"], z)  # (B, P, R+K)
    delta = np.clip(np.einsum("bpi,bi->bp", Sz, z), 0.0, None)
    C = np.einsum("pri,bi->bpr", b["S_nx"], z)  # (B, P, R)
    return {"mu": mu, "delta": delta, "Sz": Sz, "C": C}


def latent_drive(
    mix: GaussianMixture, kappa: Any, v: Any = None, *, n_quad: int = DEFAULT_N_QUAD
) -> np.ndarray:
    """Mean-field recurrent drive ``G_r = E[n_r phi(x)]`` (Beiran et al. 2021, mean-field equation).

    Parameters
    ----------
    mix : GaussianMixture
    kappa : array_like, shape (..., R)
    v : array_like, shape (K,) or (..., K), optional
        Input latent variables (zero by default).

    Returns
    -------
    ndarray, shape (..., R)
    """
    z, _, lead = _prepare_points(mix, kappa, v)
    n_quad = check_int("n_quad", n_quad, minimum=1)
    return _drive(mix, z, n_quad).reshape(lead + (mix.rank,))


def _drive(mix: GaussianMixture, z: np.ndarray, n_quad: int, y_step: float = 0.25) -> np.ndarray:
    """``G`` for stacked points ``z = (kappa, v)`` of shape (B, R + K), no checks."""
    st = _statistics(mix, z)
    av = _averages(mix.phi, st["mu"], st["delta"], (0, 1), n_quad, y_step)
    b = _blocks(mix)
    alpha = mix.fractions
    return (av[0] * alpha) @ b["a_n"] + np.einsum("bp,bpr->br", av[1] * alpha, st["C"])


def latent_vector_field(
    mix: GaussianMixture, kappa: Any, v: Any = None, *, n_quad: int = DEFAULT_N_QUAD
) -> np.ndarray:
    """``dkappa/dt = F(kappa, v) = (-kappa + G(kappa, v)) / tau`` (Beiran et al. 2021, mean field).

    Parameters
    ----------
    kappa : array_like, shape (..., R)
    v : array_like, shape (K,) or (..., K), optional

    Returns
    -------
    ndarray, shape (..., R)
    """
    kappa_arr = np.asarray(kappa, dtype=float)
    G = latent_drive(mix, kappa_arr, v, n_quad=n_quad)
    return (G - kappa_arr) / mix.tau


def latent_jacobian(
    mix: GaussianMixture, kappa: Any, v: Any = None, *, n_quad: int = DEFAULT_N_QUAD
) -> np.ndarray:
    """Analytic Jacobian ``dF_r/dkappa_s`` of :func:`latent_vector_field` (see module docstring).

    Parameters
    ----------
    kappa : array_like, shape (..., R)
    v : array_like, shape (K,) or (..., K), optional

    Returns
    -------
    ndarray, shape (..., R, R)
    """
    z, _, lead = _prepare_points(mix, kappa, v)
    R = mix.rank
    st = _statistics(mix, z)
    av = gaussian_averages(mix.phi, st["mu"], st["delta"], orders=(1, 2, 3), n_quad=n_quad)
    b = _blocks(mix)
    alpha = mix.fractions
    a_m = b["a_x"][:, :R]  # (P, R)
    Sz = st["Sz"][:, :, :R]  # (B, P, R)
    S_nm = b["S_nx"][:, :, :R]  # (P, R, R)
    # d<phi>/dk_s and d<phi'>/dk_s, shape (B, P, R)
    dphi = av[1][:, :, None] * a_m[None] + av[2][:, :, None] * Sz
    dphi1 = av[2][:, :, None] * a_m[None] + av[3][:, :, None] * Sz
    dG = (
        np.einsum("p,pr,bps->brs", alpha, b["a_n"], dphi)
        + np.einsum("p,bp,prs->brs", alpha, av[1], S_nm)
        + np.einsum("p,bpr,bps->brs", alpha, st["C"], dphi1)
    )
    jac = (dG - np.eye(R)) / mix.tau
    return jac.reshape(lead + (R, R))


# =========================================================================== effective circuit
@dataclass(frozen=True)
class EffectiveCircuit:
    """The effective circuit of interacting latent variables (Beiran et al. 2021).

    ``tau dkappa/dt = -kappa + coupling @ kappa + input_coupling @ v + mean_drive``

    Attributes
    ----------
    gains : ndarray, shape (..., P)
        Population gains ``<phi'>_p``.
    coupling : ndarray, shape (..., R, R)
        ``sigma~_{rs} = sum_p alpha_p sigma^p_{n_r m_s} <phi'>_p``.
    input_coupling : ndarray, shape (..., R, K)
        ``sigma~_{r I_k} = sum_p alpha_p sigma^p_{n_r I_k} <phi'>_p``.
    mean_drive : ndarray, shape (..., R)
        ``sum_p alpha_p a^p_{n_r} <phi>_p`` (zero for zero-mean n).
    population_coupling : ndarray, shape (..., P, R, R)
        Each population's contribution ``alpha_p sigma^p_{n_r m_s} <phi'>_p``.
    """

    gains: np.ndarray
    coupling: np.ndarray
    input_coupling: np.ndarray
    mean_drive: np.ndarray
    population_coupling: np.ndarray


def effective_circuit(
    mix: GaussianMixture, kappa: Any, v: Any = None, *, n_quad: int = DEFAULT_N_QUAD
) -> EffectiveCircuit:
    """Effective couplings between latent variables at state ``(kappa, v)``.

    Parameters
    ----------
    kappa : array_like, shape (..., R)
    v : array_like, shape (K,) or (..., K), optional

    Returns
    -------
    EffectiveCircuit
    """
    z, _, lead = _prepare_points(mix, kappa, v)
    R, K, P = mix.rank, mix.d_in, mix.n_populations
    st = _statistics(mix, z)
    av = gaussian_averages(mix.phi, st["mu"], st["delta"], orders=(0, 1), n_quad=n_quad)
    b = _blocks(mix)
    alpha = mix.fractions
    gated = alpha * av[1]  # (B, P)
    pop = np.einsum("bp,prs->bprs", gated, b["S_nx"][:, :, :R])
    inp = np.einsum("bp,prk->brk", gated, b["S_nx"][:, :, R:])
    drive = (alpha * av[0]) @ b["a_n"]
    return EffectiveCircuit(
        gains=av[1].reshape(lead + (P,)),
        coupling=pop.sum(axis=1).reshape(lead + (R, R)),
        input_coupling=inp.reshape(lead + (R, K)),
        mean_drive=drive.reshape(lead + (R,)),
        population_coupling=pop.reshape(lead + (P, R, R)),
    )


# =========================================================================== trajectories
@dataclass(frozen=True)
class LatentTrajectory:
    """Mean-field latent trajectories.

    Attributes
    ----------
    t : ndarray, shape (time,)
    kappa : ndarray, shape (batch, time, R)
    """

    t: np.ndarray
    kappa: np.ndarray


def latent_trajectory(
    mix: GaussianMixture,
    kappa0: Any,
    v: Any = None,
    *,
    dt: float,
    n_steps: int,
    method: str = "rk4",
    save_every: int = 1,
    n_quad: int = DEFAULT_N_QUAD,
) -> LatentTrajectory:
    """Integrate the mean-field equation for constant (tonic) inputs ``v``.

    ``method='euler'`` is the exact N -> infinity limit of the Euler scheme of
    :func:`lowrank_rnn.simulate.simulate` with the same ``dt`` (so finite-N deviations can be
    measured without time-discretisation error); ``'rk4'`` is the classical 4th-order scheme.

    Parameters
    ----------
    kappa0 : array_like, shape (R,) or (batch, R)
    v : array_like, shape (K,) or (batch, K), optional
    dt : float
    n_steps : int
    method : {'rk4', 'euler'}
    save_every : int

    Returns
    -------
    LatentTrajectory
        ``kappa`` of shape ``(batch, n_steps // save_every + 1, R)``.
    """
    check_choice("method", method, ("rk4", "euler"))
    dt = check_real("dt", dt, minimum=0.0, min_inclusive=False)
    n_steps = check_int("n_steps", n_steps, minimum=1)
    save_every = check_int("save_every", save_every, minimum=1)
    k = check_array("kappa0", np.asarray(kappa0, dtype=float))
    if k.ndim == 1:
        k = k[None]
    if k.ndim != 2 or k.shape[1] != mix.rank:
        raise ValueError(f"kappa0: expected shape (R,) or (batch, R) with R = {mix.rank}, "
                         f"got {np.shape(kappa0)}")
    n_quad = check_int("n_quad", n_quad, minimum=1)
    z0, _, _ = _prepare_points(mix, k, v)  # validates v
    vv = z0[:, mix.rank :]
    k = k.copy()

    def f(y: np.ndarray) -> np.ndarray:
        return (_drive(mix, np.concatenate([y, vv], axis=1), n_quad) - y) / mix.tau

    n_saved = n_steps // save_every + 1
    out = np.empty((k.shape[0], n_saved, mix.rank))
    out[:, 0] = k
    j = 1
    for i in range(n_steps):
        if method == "euler":
            k = k + dt * f(k)
        else:
            k1 = f(k)
            k2 = f(k + 0.5 * dt * k1)
            k3 = f(k + 0.5 * dt * k2)
            k4 = f(k + dt * k3)
            k = k + (dt / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)
        if (i + 1) % save_every == 0:
            out[:, j] = k
            j += 1
    return LatentTrajectory(t=np.arange(n_saved) * dt * save_every, kappa=out)


# =========================================================================== flow fields
def _grid(lim: Any, name: str, n: int) -> np.ndarray:
    lim = check_array(name, np.asarray(lim, dtype=float), shape=(2,))
    if not lim[1] > lim[0]:
        raise ValueError(f"{name}={lim.tolist()}: expected (low, high) with low < high")
    return np.linspace(lim[0], lim[1], n)


def flow_field(
    mix: GaussianMixture,
    xlim: tuple[float, float] = (-2.0, 2.0),
    ylim: tuple[float, float] = (-2.0, 2.0),
    *,
    n: int = 200,
    v: Any = None,
    n_quad: int = DEFAULT_N_QUAD,
    fast: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The latent vector field on an ``n x n`` grid (rank 2).

    ``fast=True`` halves the quadrature work (trapezoid step 1/2, 24 Gauss–Hermite nodes) at an
    accuracy of about 1e-7 instead of 1e-10, enough for drawing.

    Returns
    -------
    k1 : ndarray, shape (n,)
    k2 : ndarray, shape (n,)
    F : ndarray, shape (n, n, 2)
        ``F[i, j] = F(k1[j], k2[i])`` (rows follow kappa_2, as for ``imshow``/``streamplot``).
    """
    if mix.rank != 2:
        raise ValueError(f"mix: flow_field needs rank 2, got rank {mix.rank}")
    n = check_int("n", n, minimum=2)
    k1, k2 = _grid(xlim, "xlim", n), _grid(ylim, "ylim", n)
    K1, K2 = np.meshgrid(k1, k2)
    pts = np.stack([K1, K2], axis=-1)
    if not fast:
        return k1, k2, latent_vector_field(mix, pts, v, n_quad=n_quad)
    z, flat, lead = _prepare_points(mix, pts, v)
    F = (_drive(mix, z, 24, 0.5) - flat) / mix.tau
    return k1, k2, F.reshape(lead + (2,))


def nullclines(
    mix: GaussianMixture,
    xlim: tuple[float, float] = (-2.0, 2.0),
    ylim: tuple[float, float] = (-2.0, 2.0),
    *,
    n: int = 200,
    v: Any = None,
    n_quad: int = DEFAULT_N_QUAD,
) -> dict[str, list[np.ndarray]]:
    """Nullclines ``F_1 = 0`` and ``F_2 = 0`` of a rank-2 mean field (marching squares).

    Returns
    -------
    dict
        ``{'kappa1': [lines], 'kappa2': [lines]}``, each line an array of shape (L, 2) of
        (kappa_1, kappa_2) points on which ``dkappa_1/dt = 0`` (resp. ``dkappa_2/dt = 0``).
    """
    import contourpy

    k1, k2, F = flow_field(mix, xlim, ylim, n=n, v=v, n_quad=n_quad)
    out: dict[str, list[np.ndarray]] = {}
    for r, key in enumerate(("kappa1", "kappa2")):
        gen = contourpy.contour_generator(k1, k2, F[..., r])
        out[key] = [np.asarray(line) for line in gen.lines(0.0)]
    return out


register_dataclass(GaussianMixture)
