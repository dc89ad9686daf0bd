"""The infinite-unit limit of closed-form training: a Gaussian process over ODEs.

Arora & Pillow 2025 (NeurIPS), "Efficient training of minimal and maximal low-rank recurrent
neural networks". The embedded field of "A new look" (eq 7, 9) is ``g(z) = -z + f(z)`` with

    f(z) = sum_i n_i phi(m_i . z + b_i),      b_i = I_i v   (v = 1: a bias input)

If the basis parameters are drawn i.i.d., ``(b_i, m_i) ~ N(0, S)`` with
``S = diag(i_std^2, m_std^2 1_r)``, and the output weights ``n_i ~ N(0, amplitude^2 / K)``, then
as ``K -> inf`` each output dimension of f is a Gaussian process with covariance
``amplitude^2 k(z, z')``,

    k(z, z') = E_{b, m}[phi(m . z + b) phi(m . z' + b)].

With ``x = (1, z)``, ``(a, a') = (w . x, w . x')`` is bivariate normal with ``Sigma_11 = x.S x``,
``Sigma_22 = x'.S x'`` and ``Sigma_12 = x.S x'``, so k depends on ``z, z'`` only through them:

- ``'erf'`` (Williams 1998, "Computation with infinite neural networks", Neural Comput 10:1203):
  ``k = (2/pi) arcsin(2 Sigma_12 / sqrt((1 + 2 Sigma_11)(1 + 2 Sigma_22)))``.
- ``'relu'`` (arc-cosine kernel of degree 1, Cho & Saul 2009, NIPS 22), with the bias in S:
  ``k = (sqrt(Sigma_11 Sigma_22 - Sigma_12^2) + (pi - theta) Sigma_12) / (2 pi)``,
  ``cos theta = Sigma_12 / sqrt(Sigma_11 Sigma_22)``.
- ``'tanh'``: no closed form. Approximation used here: ``tanh(a) ~ sum_j c_j erf(lambda_j a)``
  with three terms (:data:`TANH_ERF_MIXTURE`, least-squares fit on [-12, 12] with
  ``sum c_j = 1`` so the asymptotes match; max abs error 9.7e-5 over the real line); then
  ``k = sum_jl c_j c_l (2/pi) arcsin(2 l_j l_l Sigma_12 / sqrt((1 + 2 l_j^2 Sigma_11)
  (1 + 2 l_l^2 Sigma_22)))`` in closed form, within ``2e-4`` of the tanh kernel (``|tanh| <= 1``;
  tests compare it with Gauss-Hermite quadrature).

The finite network with K units and ridge ``lambda = noise^2 K / amplitude^2`` is the Bayesian
posterior mean of that finite-basis model, which converges to the GP posterior mean as K grows
(:meth:`GPODE.sample_network`). The hyper-parameters (m_std, i_std, amplitude, noise) are tuned
by maximising the log marginal likelihood (type-II maximum likelihood), summed over output
dimensions (shared kernel):

    log p(Y) = sum_d [-1/2 y_d^T C^-1 y_d] - r/2 log det C - n r/2 log 2 pi,
    C = amplitude^2 K(Z, Z) + noise^2 1,

with its analytic gradient ``d log p / d theta = 1/2 tr((alpha alpha^T - r C^-1) dC/dtheta)``,
``alpha = C^-1 Y`` (Rasmussen & Williams 2006, eq 5.9), in log-parameters.
Solver: dense Cholesky of the n x n covariance and its inverse for the gradient (O(n^3), one
BLAS thread; 2,000 points: 0.5-0.9 s per likelihood-and-gradient evaluation, about 4 times a
single Cholesky factorisation, on 2 shared cores).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg as sla
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from lowrank_rnn._validate import RngLike, as_rng, check_choice, check_int, check_real
from lowrank_rnn.fit.regression import ODEEmbedding, _as_points, grid_points
from lowrank_rnn.io import Storable, register_estimator
from lowrank_rnn.network import LowRankRNN

__all__ = [
    "KERNELS",
    "TANH_ERF_MIXTURE",
    "GPODE",
    "kernel_matrix",
]

KERNELS = ("erf", "relu", "tanh")
_PARAMS = ("m_std", "i_std", "amplitude", "noise")

#: ``(c, lambda)`` of ``tanh(a) ~ sum_j c_j erf(lambda_j a)``: three terms, least squares on a
#: grid of [-12, 12] with ``sum c_j = 1``; max ``|error|`` 9.65e-5 (checked in the tests).
TANH_ERF_MIXTURE = (
    np.array([0.16107837101344147, 0.5831369252455311, 0.25578470374102746]),
    np.array([0.5142349182306449, 0.8151108220401703, 1.2804624535257243]),
)


def _geometry(Z1: np.ndarray, Z2: np.ndarray | None, diag: bool) -> tuple[np.ndarray, ...]:
    """``z.z'`` and the squared norms: what every kernel here depends on, besides S."""
    n1 = np.einsum("ij,ij->i", Z1, Z1)
    if diag:
        return n1, n1, n1, True
    if Z2 is None:
        return Z1 @ Z1.T, n1, n1, True
    return Z1 @ Z2.T, n1, np.einsum("ij,ij->i", Z2, Z2), False


def _kernel(
    geom: tuple[np.ndarray, ...], kernel: str, m_var: float, b_var: float, grad: bool
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """k and (optionally) dk/d log m_std, dk/d log i_std from precomputed geometry."""
    dot, n1, n2, same = geom
    diag = dot.ndim == 1
    s11 = b_var + m_var * n1
    s22 = b_var + m_var * n2
    s12 = m_var * dot + b_var
    col = (lambda v: v) if diag else (lambda v: v[:, None])
    row = (lambda v: v) if diag else (lambda v: v[None, :])
    if kernel == "relu":
        root = np.sqrt(np.outer(s11, s22)) if not diag else s11.copy()
        cos = np.divide(s12, root, out=np.ones_like(s12), where=root > 0)
        np.clip(cos, -1.0, 1.0, out=cos)
        theta = np.arccos(cos)
        # D = sqrt(S11 S22 - S12^2) = sqrt(S11 S22) sin(theta)
        D = root * np.sin(theta)
        k = (np.pi - theta) * s12
        k += D
        k /= 2 * np.pi
        if not grad:
            return k, None, None
        d12 = (np.pi - theta) / (2 * np.pi)
        inv11 = np.divide(1.0, 4 * np.pi * s11, out=np.zeros_like(s11), where=s11 > 0)
        inv22 = np.divide(1.0, 4 * np.pi * s22, out=np.zeros_like(s22), where=s22 > 0)
        # dk/dS12 = (pi - theta)/(2 pi); dk/dS11 = D / (4 pi S11); dk/dS22 = D / (4 pi S22)
        dm = d12 * dot
        dm += D * (col(inv11 * n1) + row(inv22 * n2))
        dm *= 2 * m_var
        db = D * (col(inv11) + row(inv22))
        db += d12
        db *= 2 * b_var
        return k, dm, db
    c, lam = (np.ones(1), np.ones(1)) if kernel == "erf" else TANH_ERF_MIXTURE
    k = np.zeros_like(s12)
    dm = np.zeros_like(s12) if grad else None
    db = np.zeros_like(s12) if grad else None
    J = len(c)
    for j in range(J):
        p = 1.0 + 2 * lam[j] ** 2 * s11
        for l in range(j if same else 0, J):
            q = 1.0 + 2 * lam[l] ** 2 * s22
            # r = 2 l_j l_l S12 / sqrt(p q): the denominator is an outer product of vectors
            a = 2 * lam[j] * lam[l] / np.sqrt(p)
            b = 1.0 / np.sqrt(q)
            a12 = a * b if diag else np.outer(a, b)
            r = s12 * a12
            np.clip(r, -1.0, 1.0, out=r)
            w = c[j] * c[l] * 2 / np.pi
            twice = same and l != j and not diag
            term = np.arcsin(r)
            term *= w
            k += term
            if twice:
                k += term.T
            if grad:
                fac = r * r
                np.subtract(1.0, fac, out=fac)
                np.maximum(fac, 1e-300, out=fac)
                np.sqrt(fac, out=fac)
                np.divide(w, fac, out=fac)
                # dr = a12 dS12 - r (l_j^2 dS11 / p + l_l^2 dS22 / q)
                u = r * (col(lam[j] ** 2 * n1 / p) + row(lam[l] ** 2 * n2 / q))
                t = a12 * dot
                t -= u
                t *= fac
                dm += t
                if twice:
                    dm += t.T
                t = r * (col(lam[j] ** 2 / p) + row(lam[l] ** 2 / q))
                np.subtract(a12, t, out=t)
                t *= fac
                db += t
                if twice:
                    db += t.T
    if not grad:
        return k, None, None
    dm *= 2 * m_var
    db *= 2 * b_var
    return k, dm, db


def kernel_matrix(
    Z1: np.ndarray,
    Z2: np.ndarray | None = None,
    *,
    kernel: str = "erf",
    m_std: float = 1.0,
    i_std: float = 1.0,
    diag: bool = False,
    return_grad: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The unit kernel ``k(z, z') = E[phi(m.z + b) phi(m.z' + b)]`` in closed form.

    ``m ~ N(0, m_std^2 1_r)``, ``b ~ N(0, i_std^2)`` (Williams 1998 for erf; Cho & Saul 2009
    with a bias for ReLU; the erf-mixture approximation for tanh; see the module docstring).

    Parameters
    ----------
    Z1 : ndarray, shape (n1, rank)
    Z2 : ndarray, shape (n2, rank), optional
        Default: ``Z1``.
    kernel : {'erf', 'relu', 'tanh'}
    m_std, i_std : float
        Standard deviations of the slopes m and of the offsets b (``i_std = 0``: no bias).
    diag : bool
        Return only ``k(z, z)`` for the rows of ``Z1``, shape (n1,).
    return_grad : bool
        Also return ``dk / d log m_std`` and ``dk / d log i_std`` (same shape as k).

    Returns
    -------
    k : ndarray, shape (n1, n2), or (n1,) with ``diag=True``
    dk_dlog_m, dk_dlog_i : ndarray, same shape (only with ``return_grad``)
    """
    check_choice("kernel", kernel, KERNELS)
    m_std = check_real("m_std", m_std, minimum=0.0)
    i_std = check_real("i_std", i_std, minimum=0.0)
    Z1 = np.atleast_2d(np.asarray(Z1, dtype=float))
    if Z2 is not None:
        Z2 = np.atleast_2d(np.asarray(Z2, dtype=float))
        if Z2.shape[1] != Z1.shape[1]:
            raise ValueError(f"Z2: expected {Z1.shape[1]} columns like Z1, got shape {Z2.shape}")
    k, dm, db = _kernel(_geometry(Z1, Z2, diag), kernel, m_std**2, i_std**2, return_grad)
    return (k, dm, db) if return_grad else k


# ---------------------------------------------------------------------------------------------
class GPODE(Storable):
    """Gaussian-process regression of an ODE's vector field with the infinite-basis kernel.

    scikit-learn style: hyper-parameters here, :meth:`fit` returns ``self``. The GP models
    ``f(z) = g(z) + z`` (the field plus the leak, eq 9) with covariance
    ``amplitude^2 k(z, z') + noise^2 delta`` (Arora & Pillow 2025; kernels in the module
    docstring); :meth:`predict` returns ``g = f - z`` and its posterior standard deviation.

    Parameters
    ----------
    rank : int
        Dimension of z.
    kernel : {'tanh', 'erf', 'relu'}
        The basis nonlinearity of the infinite network (tanh: closed-form approximation).
    inputs : {'bias', 'none'}
        ``'bias'``: offsets ``b = I v`` with a constant input ``v = 1`` (``i_std`` is their
        spread); ``'none'``: no offsets (``i_std`` unused, the basis is odd for erf/tanh).
    m_std : float or 'auto'
        Spread of the slopes m (``'auto'``: ``2 / max|z|``, the default of
        :class:`~lowrank_rnn.fit.regression.ODEEmbedding`).
    i_std : float
        Spread of the offsets (default 1, ODEEmbedding's default with a bias input).
    amplitude : float or 'auto'
        Prior scale of the output weights, ``n_i ~ N(0, amplitude^2 / K)`` (``'auto'``: the RMS
        of the targets over the RMS of the unit kernel's diagonal).
    noise : float or 'auto'
        Noise standard deviation of the targets (``'auto'``: ``1e-3`` times their RMS). It sets
        the ridge of finite networks, ``noise^2 K / amplitude^2``.
    tune : bool
        Run :meth:`optimize` (ML-II) inside :meth:`fit`.
    tune_params : tuple of str
        Which of ``('m_std', 'i_std', 'amplitude', 'noise')`` ML-II adjusts. With
        ``kernel='relu'`` and the amplitude free, i_std is kept fixed: the ReLU kernel is
        homogeneous (``k(c m, c b) = c^2 k``), so only ``m_std / i_std`` is identifiable.
    n_restarts : int
        Extra ML-II starts drawn log-uniformly within the bounds (``random_state``).
    max_iter : int
        L-BFGS-B iterations per start.
    random_state : Generator, int or None

    Attributes
    ----------
    params_ : dict
        The hyper-parameters in use (after ``'auto'`` and tuning).
    Z_, G_ : ndarray, shape (n_points, rank)
        Training points and target values of g.
    alpha_ : ndarray, shape (n_points, rank)
        ``C^-1 (G + Z)``.
    log_marginal_likelihood_ : float
    info_ : dict
        ``n_points``, ``seconds``, ``solver`` ('cholesky'), and after tuning ``lml_default``,
        ``lml_tuned``, ``params_default``, ``n_evaluations``, ``optimizer_message``.
    """

    def __init__(
        self,
        rank: int = 1,
        *,
        kernel: str = "tanh",
        inputs: str = "bias",
        m_std: float | str = "auto",
        i_std: float = 1.0,
        amplitude: float | str = "auto",
        noise: float | str = "auto",
        tune: bool = False,
        tune_params: tuple[str, ...] = _PARAMS,
        n_restarts: int = 0,
        max_iter: int = 100,
        random_state: RngLike = None,
    ) -> None:
        self.rank = rank
        self.kernel = kernel
        self.inputs = inputs
        self.m_std = m_std
        self.i_std = i_std
        self.amplitude = amplitude
        self.noise = noise
        self.tune = tune
        self.tune_params = tune_params
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.random_state = random_state

    # ------------------------------------------------------------------------ validation
    def _validate_params(self) -> None:
        check_int("rank", self.rank, minimum=1)
        check_choice("kernel", self.kernel, KERNELS)
        check_choice("inputs", self.inputs, ("bias", "none"))
        for name in ("m_std", "amplitude", "noise"):
            val = getattr(self, name)
            if isinstance(val, str):
                check_choice(name, val, ("auto",))
            else:
                check_real(name, val, minimum=0.0, min_inclusive=False)
        check_real("i_std", self.i_std, minimum=0.0, min_inclusive=False)
        if not isinstance(self.tune_params, (tuple, list)) or not self.tune_params:
            raise ValueError(f"tune_params={self.tune_params!r}: expected a non-empty tuple "
                             f"of names from {_PARAMS}")
        for p in self.tune_params:
            check_choice("tune_params", p, _PARAMS)
        if self.inputs == "none" and "i_std" in self.tune_params and self.tune_params != _PARAMS:
            raise ValueError("tune_params: 'i_std' is unused with inputs='none'")
        check_int("n_restarts", self.n_restarts, minimum=0)
        check_int("max_iter", self.max_iter, minimum=1)
        as_rng(self.random_state, "random_state")

    def _free(self) -> tuple[str, ...]:
        free = tuple(dict.fromkeys(self.tune_params))
        # the ReLU kernel is homogeneous, k(c m, c b) = c^2 k: with the amplitude free, the
        # offsets' spread is redundant and stays fixed (only m_std / i_std matters)
        if self.inputs == "none" or (self.kernel == "relu" and "amplitude" in free):
            free = tuple(p for p in free if p != "i_std")
        return free

    # ------------------------------------------------------------------------ fitting
    def fit(
        self,
        g: Callable[[np.ndarray], np.ndarray] | None = None,
        points: np.ndarray | None = None,
        *,
        targets: np.ndarray | None = None,
        box: Any = None,
        n_points: int | None = None,
    ) -> GPODE:
        """Condition the GP on ``g`` at the points (and tune it by ML-II with ``tune=True``).

        Parameters
        ----------
        g : callable, optional
            ``g(Z) -> (n_points, rank)``; give ``g`` or ``targets``.
        points : ndarray, shape (n_points, rank) or (batch, time, rank), optional
            Default: a regular grid over ``box`` with about ``n_points`` points (default 400).
        targets : ndarray, shape like ``points``, optional
            Values of dz/dt at the points.
        box : (lo, hi) or per-dimension pairs, optional
        n_points : int, optional

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        self._validate_params()
        r = int(self.rank)
        if (g is None) == (targets is None):
            raise ValueError("g/targets: give exactly one of the vector field g or its targets")
        if g is not None and not callable(g):
            raise ValueError(f"g={g!r}: expected a callable g(Z) returning (n_points, rank)")
        if points is None:
            if box is None:
                raise ValueError("points: give fitting points, or a box for the default grid")
            Z = grid_points(box, 400 if n_points is None else n_points, r)
        else:
            if box is not None or n_points is not None:
                raise ValueError("box/n_points: only used for the default grid (points=None)")
            Z, _ = _as_points("points", points, r)
        if g is not None:
            G = np.asarray(g(Z), dtype=float)
            if G.ndim == 1 and r == 1 and G.shape[0] == Z.shape[0]:
                G = G[:, None]
            if G.shape != Z.shape:
                raise ValueError(f"g: returned shape {G.shape}, expected {Z.shape}")
            if not np.all(np.isfinite(G)):
                raise ValueError("g: returned non-finite values at some fitting points")
        else:
            G, _ = _as_points("targets", targets, r)
            if G.shape != Z.shape:
                raise ValueError(f"targets: shape {np.shape(targets)} does not match points")
        self.Z_, self.G_ = Z, G
        self._geom = _geometry(Z, None, False)
        self.Y_ = G + Z
        zmax = max(float(np.max(np.abs(Z))), 1e-12)
        y_rms = max(float(np.sqrt(np.mean(self.Y_**2))), 1e-12)
        self._y_rms = y_rms
        p = {
            "m_std": 2.0 / zmax if self.m_std == "auto" else float(self.m_std),
            "i_std": float(self.i_std) if self.inputs == "bias" else 0.0,
            "noise": 1e-3 * y_rms if self.noise == "auto" else float(self.noise),
        }
        if self.amplitude == "auto":
            kd = kernel_matrix(Z, kernel=self.kernel, m_std=p["m_std"], i_std=p["i_std"],
                               diag=True)
            p["amplitude"] = y_rms / max(float(np.sqrt(np.mean(kd))), 1e-12)
        else:
            p["amplitude"] = float(self.amplitude)
        self.params_ = p
        self.info_: dict[str, Any] = {"n_points": int(Z.shape[0]), "solver": "cholesky"}
        self._condition()
        if self.tune:
            self.optimize()
        self.info_["seconds"] = time.perf_counter() - t0
        return self

    def _bounds(self) -> dict[str, tuple[float, float]]:
        zmax = max(float(np.max(np.abs(self.Z_))), 1e-12)
        y = self._y_rms
        return {
            "m_std": (1e-2 / zmax, 1e2 / zmax),
            "i_std": (1e-2, 1e2),
            "amplitude": (1e-4 * y, 1e4 * y),
            "noise": (1e-4 * y, 1.0 * y),
        }

    def _lml(self, p: dict[str, float], grad: bool, free: tuple[str, ...] = ()) -> tuple:
        """Log marginal likelihood (and its gradient in log-parameters ``free``).

        On one BLAS thread: on 2 shared cores under load, two-threaded OpenBLAS took 1.7-5 s
        for the Cholesky factorisation of a 2,000 x 2,000 covariance and 0.9-12 s for its
        inverse, against 0.4-0.65 s and 0.45-0.5 s on one thread (same run); on smaller
        matrices multithreading gains nothing either.
        """
        with threadpool_limits(1, user_api="blas"):
            return self._lml_impl(p, grad, free)

    def _lml_impl(self, p: dict[str, float], grad: bool, free: tuple[str, ...]) -> tuple:
        m_var, b_var = p["m_std"] ** 2, p["i_std"] ** 2
        k, _, _ = _kernel(self._geom, self.kernel, m_var, b_var, False)
        a2 = p["amplitude"] ** 2
        C = a2 * k
        C[np.diag_indices_from(C)] += p["noise"] ** 2
        n, r = self.Y_.shape
        try:
            L = sla.cholesky(C, lower=True, overwrite_a=True, check_finite=False)
        except np.linalg.LinAlgError:
            return -np.inf, np.zeros(len(free)), None
        alpha = sla.cho_solve((L, True), self.Y_, check_finite=False)
        lml = (-0.5 * float(np.sum(self.Y_ * alpha)) - r * float(np.sum(np.log(np.diag(L))))
               - 0.5 * n * r * np.log(2 * np.pi))
        if not grad:
            return lml, None, (L, alpha)
        # dpotri overwrites L's lower triangle with C^-1's; the strict upper one stays zero
        Cinv, info = sla.lapack.dpotri(L, lower=1, overwrite_c=1)
        if info != 0:
            return -np.inf, np.zeros(len(free)), None
        g = self._lml_gradient(p, free, Cinv, alpha)
        return lml, g, None

    def _lml_gradient(self, p: dict[str, float], free: tuple[str, ...], Cinv: np.ndarray,
                      alpha: np.ndarray, block: int = 128) -> np.ndarray:
        """``d lml / d log theta = 1/2 <W, dC/d log theta>``, ``W = alpha alpha^T - r C^-1``.

        Rasmussen & Williams eq 5.9. W and dC are symmetric, so only the upper triangle is
        visited: ``<W, dK> = 2 <triu W, dK> - <diag W, diag dK>``, by blocks of ``block`` rows
        of the upper triangle whose kernel derivatives are formed in cache and contracted at
        once (neither the n x n derivative matrices nor the full inverse are stored; about
        half the elementwise work of the full matrices).
        """
        n, r = alpha.shape
        m_var, b_var = p["m_std"] ** 2, p["i_std"] ** 2
        a2 = p["amplitude"] ** 2
        dot, n1 = self._geom[0], self._geom[1]
        U = Cinv.T  # upper triangle (and diagonal) of C^-1; zero below the diagonal
        acc = {"m_std": 0.0, "i_std": 0.0, "amplitude": 0.0}
        want = [name for name in acc if name in free]
        for a in range(0, n, block):
            b = min(a + block, n)
            geom = (dot[a:b, a:], n1[a:b], n1[a:], False)
            kb, dmb, dbb = _kernel(geom, self.kernel, m_var, b_var,
                                   "m_std" in free or "i_std" in free)
            Wu = alpha[a:b] @ alpha[a:].T
            Wu -= r * U[a:b, a:]
            # the block's first b - a columns hold the diagonal block: keep its upper triangle
            Wu[:, : b - a][np.tril_indices(b - a, -1)] = 0.0
            idx = np.arange(b - a)
            wd = Wu[idx, idx].copy()
            for name, dK in (("m_std", dmb), ("i_std", dbb), ("amplitude", kb)):
                if name in want:
                    acc[name] += 2.0 * float(np.vdot(Wu, dK)) - float(np.dot(wd, dK[idx, idx]))
        fac = {"m_std": a2, "i_std": a2, "amplitude": 2 * a2}
        g = []
        for name in free:
            if name == "noise":
                tr = float(np.sum(alpha * alpha)) - r * float(np.sum(np.diag(Cinv)))
                g.append(tr * p["noise"] ** 2)
            else:
                g.append(0.5 * fac[name] * acc[name])
        return np.array(g)

    def _condition(self) -> None:
        lml, _, fac = self._lml(self.params_, False)
        if fac is None:
            raise ValueError(
                f"noise={self.params_['noise']:.3g}: the covariance is numerically singular; "
                "give a larger noise"
            )
        self._L, self.alpha_ = fac
        self.log_marginal_likelihood_ = lml

    def log_marginal_likelihood(
        self, params: dict[str, float] | None = None, eval_gradient: bool = False
    ) -> float | tuple[float, dict[str, float]]:
        """Log marginal likelihood of the training targets (Rasmussen & Williams eq 5.8).

        Parameters
        ----------
        params : dict, optional
            Hyper-parameters (any of m_std, i_std, amplitude, noise; the rest from ``params_``).
        eval_gradient : bool
            Also return the gradient with respect to the log of each parameter in
            ``tune_params`` (eq 5.9, analytic).

        Returns
        -------
        lml : float
        grad : dict name -> d lml / d log(param) (only with ``eval_gradient``)
        """
        self._check_fitted()
        p = dict(self.params_)
        for key, val in (params or {}).items():
            check_choice("params", key, _PARAMS)
            p[key] = check_real(key, val, minimum=0.0, min_inclusive=key == "i_std")
        free = self._free()
        lml, grad, _ = self._lml(p, eval_gradient, free)
        if not eval_gradient:
            return float(lml)
        return float(lml), dict(zip(free, map(float, grad), strict=True))

    def optimize(self) -> GPODE:
        """Type-II maximum likelihood: maximise the log marginal likelihood over ``tune_params``.

        L-BFGS-B (scipy) in log-parameters with the analytic gradient, from the current
        parameters and ``n_restarts`` log-uniform starts within the bounds (m_std in
        ``[0.01, 100] / max|z|``, i_std in ``[0.01, 100]``, amplitude ``1e-4..1e4`` and noise
        ``1e-4..1`` times the RMS of the targets: a floor that keeps the covariance well
        conditioned for noise-free targets). The best start is kept and the GP is conditioned
        again.

        Returns
        -------
        self
        """
        self._check_fitted()
        free = self._free()
        base = dict(self.params_)
        bounds = self._bounds()
        lo = np.log([bounds[n][0] for n in free])
        hi = np.log([bounds[n][1] for n in free])
        count = [0]
        scale = [1.0]

        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            count[0] += 1
            p = dict(base)
            p.update(zip(free, np.exp(theta), strict=True))
            lml, grad, _ = self._lml(p, True, free)
            if not np.isfinite(lml):  # covariance not numerically PD there: steer away
                return 1e30, np.zeros_like(theta)
            return -lml / scale[0], -grad / scale[0]

        lml0 = self.log_marginal_likelihood_
        x0 = np.clip(np.log([base[n] for n in free]), lo, hi)
        rng = as_rng(self.random_state, "random_state")
        starts = [x0] + [rng.uniform(lo, hi) for _ in range(int(self.n_restarts))]
        best, best_f = None, np.inf
        for s in starts:
            # L-BFGS-B takes the whole gradient as its first step when every variable is
            # bounded: scale the objective so that step has unit length in log-parameters
            scale[0] = 1.0
            f0, g0 = fun(s)
            if f0 >= 1e30:
                continue
            scale[0] = max(float(np.linalg.norm(g0)), 1e-12)
            res = minimize(fun, s, jac=True, method="L-BFGS-B",
                           bounds=list(zip(lo, hi, strict=True)),
                           options={"maxiter": int(self.max_iter), "ftol": 1e-11, "gtol": 1e-7})
            if res.fun * scale[0] < best_f:
                best, best_f = res, res.fun * scale[0]
        if best is None:
            raise ValueError("optimize: the covariance is numerically singular at every start; "
                             "give a larger noise")
        tuned = dict(base)
        if best_f < -lml0:
            tuned.update(zip(free, map(float, np.exp(best.x)), strict=True))
        self.params_ = tuned
        self._condition()
        self.info_.update({
            "params_default": base,
            "lml_default": float(lml0),
            "lml_tuned": float(self.log_marginal_likelihood_),
            "n_evaluations": count[0],
            "optimizer_message": str(best.message),
        })
        return self

    # ------------------------------------------------------------------------ using the fit
    def _check_fitted(self) -> None:
        if not hasattr(self, "alpha_"):
            raise ValueError("this GPODE is not fitted yet; call fit() first")
        if not hasattr(self, "_L"):  # loaded from a file: rebuild the factorisation
            self._geom = _geometry(self.Z_, None, False)
            self._y_rms = max(float(np.sqrt(np.mean(self.Y_**2))), 1e-12)
            self._condition()

    def predict(
        self, Z: np.ndarray, return_std: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Posterior mean of ``g(z) = f(z) - z`` (and the posterior std of f, noise-free).

        Parameters
        ----------
        Z : ndarray, shape (n, rank)
        return_std : bool

        Returns
        -------
        mean : ndarray, shape (n, rank)
        std : ndarray, shape (n,) (the same for every output dimension; with ``return_std``)
        """
        self._check_fitted()
        Z, _ = _as_points("Z", Z, self.Z_.shape[1])
        p = self.params_
        Ks = p["amplitude"] ** 2 * kernel_matrix(Z, self.Z_, kernel=self.kernel,
                                                 m_std=p["m_std"], i_std=p["i_std"])
        mean = Ks @ self.alpha_ - Z
        if not return_std:
            return mean
        v = sla.solve_triangular(self._L, Ks.T, lower=True, check_finite=False)
        kd = p["amplitude"] ** 2 * kernel_matrix(Z, kernel=self.kernel, m_std=p["m_std"],
                                                 i_std=p["i_std"], diag=True)
        var = np.maximum(kd - np.einsum("ij,ij->j", v, v), 0.0)
        return mean, np.sqrt(var)

    def basis_distribution(self) -> dict[str, float]:
        """The (tuned) basis distribution: ``{'m_std', 'i_std'}`` for ODEEmbedding/SmallestRNN."""
        self._check_fitted()
        return {"m_std": self.params_["m_std"], "i_std": max(self.params_["i_std"], 1e-300)}

    def ridge_for(self, n_neurons: int) -> float:
        """The ridge matching the GP in a K-neuron network: ``noise^2 K / amplitude^2``."""
        self._check_fitted()
        n_neurons = check_int("n_neurons", n_neurons, minimum=1)
        return self.params_["noise"] ** 2 * n_neurons / self.params_["amplitude"] ** 2

    def sample_embedding(self, n_neurons: int, rng: RngLike = None) -> ODEEmbedding:
        """A finite network drawn from the basis distribution, N fitted by ridge regression.

        ``m_i ~ N(0, m_std^2)``, ``I_i ~ N(0, i_std^2)`` (offset ``I_i v`` with ``v = 1``), and
        N by ridge on the training points with ``ridge = noise^2 K / amplitude^2`` (the finite
        basis' Bayesian posterior mean; eq 9 with a ridge). Needs ``kernel`` 'tanh' or 'relu'
        (the library's networks have no erf units).

        The ridge is solved exactly, from the SVD of the design (``solver='lstsq'``): a tuned
        distribution often has small slopes (units in their linear range), whose designs have
        condition numbers near 1e17 and ridges near 1e-13, far below the rounding level of
        the normal equations; their jitter (``1e-12`` times the largest Gram diagonal) would
        regularise 1,000 times more than the GP's noise, and the network would not be the
        finite-basis posterior mean that converges to the GP's.

        Parameters
        ----------
        n_neurons : int
        rng : Generator, int or None

        Returns
        -------
        ODEEmbedding
            Fitted, with ``network_`` (a :class:`~lowrank_rnn.network.LowRankRNN`),
            ``simulate_latent`` and ``predict``.
        """
        self._check_fitted()
        n = check_int("n_neurons", n_neurons, minimum=1)
        if self.kernel == "erf":
            raise ValueError("kernel='erf': networks have phi tanh or relu; sample from a GPODE "
                             "with kernel='tanh' (closed-form tanh kernel) or 'relu'")
        rng = as_rng(rng)
        r = self.Z_.shape[1]
        p = self.params_
        M = rng.standard_normal((n, r)) * p["m_std"]
        inputs = self.inputs
        I = rng.standard_normal((n, 1)) * p["i_std"] if inputs == "bias" else None
        est = ODEEmbedding(
            r, n, inputs=inputs, phi=self.kernel, ridge=self.ridge_for(n), basis=(M, I),
            m_std=p["m_std"], i_std=max(p["i_std"], 1.0) if inputs == "none" else p["i_std"],
            solver="lstsq",
        )
        return est.fit(targets=self.G_, points=self.Z_)

    def sample_network(self, n_neurons: int, rng: RngLike = None) -> LowRankRNN:
        """The :class:`~lowrank_rnn.network.LowRankRNN` of :meth:`sample_embedding`.

        Returns
        -------
        LowRankRNN
            ``tau dx/dt = -x + M N^T phi(x) + I u`` with a bias input ``u = 1`` (``inputs``
            'bias'), M of shape (n_neurons, rank).
        """
        return self.sample_embedding(n_neurons, rng).network_


register_estimator(GPODE)
