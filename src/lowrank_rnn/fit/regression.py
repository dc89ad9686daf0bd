"""Closed-form training: embedding a low-dimensional ODE in a low-rank RNN by regression.

"A new look at low-rank RNNs", Sections 3–3.1 and 5, eqs 4–11. The network

    dx/dt = -x + M N^T phi(x) + I u(t),          J = M N^T   (no 1/N: the scale sits in N)

with ``x = M z + I v`` and ``dv/dt = -v + u`` has latent dynamics (eq 7, 10)

    dz/dt = -z + N^T phi(M z + I v).

To embed a target ``dz/dt = g(z)`` (or ``g(z, v)`` with time-varying inputs), sample the
columns of M and the input loadings I (a random basis of shifted, scaled, oriented functions
``phi(m_i . z + I_i v)``), evaluate the design matrix ``Phi = phi(Z M^T + V I^T)`` on points Z
and solve the least-squares problem (eq 9, 11)

    Phi N ≈ g(Z) + Z          (optionally weighted, optionally with a ridge penalty)

for N. Each column of N is an independent regression on the same design matrix, so one
factorisation of ``Phi^T W Phi + ridge * 1`` serves all columns.

Input modes (``inputs``):

- ``'none'``: ``v = 0``; with an odd phi only the odd part of g can be represented (Section 3).
- ``'bias'``: one input channel held at ``u = 1`` with ``v(0) = 1``, so ``v = 1`` for ever (eq 9).
- ``'decaying'``: one channel with ``u = 0`` and ``v(0) = v0``, so ``v(t) = v0 exp(-t)``
  (Section 5): time-varying basis functions, for non-autonomous targets ``g(z, v)``.
- ``'external'``: ``n_inputs`` channels whose filtered values ``v`` are given at each fitting
  point (task solutions: points along trajectories driven by given inputs); target ``g(z, v)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg as sla

from lowrank_rnn._validate import (
    RngLike,
    as_rng,
    check_array,
    check_choice,
    check_int,
    check_real,
)
from lowrank_rnn.io import Storable, register_estimator
from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.transfer import get_phi

__all__ = [
    "BASES",
    "INPUT_MODES",
    "SOLVERS",
    "ODEEmbedding",
    "apply_phi",
    "decaying_offsets",
    "design_matrix",
    "grid_points",
    "latent_coordinates",
    "sample_basis",
    "solve_least_squares",
]

BASES = ("gaussian", "uniform", "grid")
INPUT_MODES = ("none", "bias", "decaying", "external")
SOLVERS = ("auto", "cholesky", "eigh", "lstsq")
_PHIS = ("tanh", "relu")

#: Below this reciprocal condition number of ``Phi^T W Phi + ridge`` the normal equations lose
#: more than ~10 of float64's 16 digits and ``solver='auto'`` switches to ``lstsq``.
_RCOND_MIN = 1e-10
#: Relative jitter (times the largest diagonal entry of the Gram matrix) that ``solver='auto'``
#: adds when the normal equations are numerically singular.
_JITTER = 1e-12


# ---------------------------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------------------------
def apply_phi(name: str, a: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
    """Apply phi elementwise, in place into ``out`` when given (tanh via ``1 - 2/(e^{2a}+1)``).

    The exponential form of tanh agrees with ``numpy.tanh`` to a few ulp (absolute) and is about
    three times faster, which matters for large design matrices.
    """
    if out is None:
        out = np.array(a, dtype=float, copy=True)
    elif out is not a:
        np.copyto(out, a)
    if name == "tanh":
        with np.errstate(over="ignore"):
            np.multiply(out, 2.0, out=out)
            np.exp(out, out=out)
        out += 1.0
        np.divide(2.0, out, out=out)
        np.subtract(1.0, out, out=out)
    elif name == "relu":
        np.maximum(out, 0.0, out=out)
    else:
        out[...] = get_phi(name)[0](out)
    return out


def design_matrix(
    Z: np.ndarray,
    M: np.ndarray,
    I: np.ndarray | None = None,
    V: np.ndarray | None = None,
    phi: str = "tanh",
) -> np.ndarray:
    """The regression design matrix ``Phi = phi(Z M^T + V I^T)`` (eq 9, 11).

    Parameters
    ----------
    Z : ndarray, shape (n_points, rank)
        Latent points.
    M : ndarray, shape (n_neurons, rank)
    I : ndarray, shape (n_neurons, d_in), optional
    V : ndarray, shape (n_points, d_in), optional
        Filtered inputs v at each point (needed when I is given).
    phi : {'tanh', 'relu', 'linear'}

    Returns
    -------
    ndarray, shape (n_points, n_neurons)
    """
    A = np.asarray(Z, dtype=float) @ np.asarray(M, dtype=float).T
    if I is not None:
        if V is None:
            raise ValueError("V: the filtered inputs are needed when I is given")
        A += np.asarray(V, dtype=float) @ np.asarray(I, dtype=float).T
    return apply_phi(phi, A, out=A)


def grid_points(box: Any, n_points: int, rank: int) -> np.ndarray:
    """A regular grid over a box in R^rank with about ``n_points`` points.

    Parameters
    ----------
    box : (lo, hi) or sequence of rank (lo, hi) pairs
        The same interval in every dimension, or one per dimension.
    n_points : int
        Target number of points; each dimension gets ``round(n_points ** (1/rank))`` (>= 2).
    rank : int

    Returns
    -------
    ndarray, shape (k ** rank, rank)
    """
    rank = check_int("rank", rank, minimum=1)
    n_points = check_int("n_points", n_points, minimum=2)
    bounds = np.asarray(box, dtype=float)
    if bounds.shape == (2,):
        bounds = np.tile(bounds, (rank, 1))
    if bounds.shape != (rank, 2) or not np.all(np.isfinite(bounds)):
        raise ValueError(
            f"box={box!r}: expected (lo, hi) or {rank} (lo, hi) pairs of finite numbers"
        )
    if np.any(bounds[:, 1] <= bounds[:, 0]):
        raise ValueError(f"box={box!r}: each interval needs lo < hi")
    k = max(2, int(round(n_points ** (1.0 / rank))))
    axes = [np.linspace(lo, hi, k) for lo, hi in bounds]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def sample_basis(
    n_neurons: int,
    rank: int,
    d_in: int,
    *,
    basis: str = "gaussian",
    m_std: float = 1.0,
    i_std: float = 1.0,
    orthogonalize: bool = True,
    rng: RngLike = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Sample the random basis: slopes/orientations M and offsets I ("A new look", Sec 3).

    Parameters
    ----------
    n_neurons, rank, d_in : int
    basis : {'gaussian', 'uniform', 'grid'}
        ``'gaussian'``: M ~ N(0, m_std^2), I ~ N(0, i_std^2) (Fig 1E, 2A). ``'uniform'``: uniform
        on [-sqrt(3) std, sqrt(3) std] (same variance). ``'grid'``: a regular lattice over that
        box in the (rank + d_in) coordinates (Algorithm 1's global basis); when n_neurons is not
        a perfect power a random subset of the next larger lattice is used.
    m_std, i_std : float
        Spread of the entries of M and of I.
    orthogonalize : bool
        Make the columns of I orthogonal to those of M (the paper's I ⟂ M, so that
        ``z = (M^T M)^{-1} M^T x`` is the latent); needs ``n_neurons > rank``.
    rng : Generator, int or None

    Returns
    -------
    M : ndarray, shape (n_neurons, rank)
    I : ndarray, shape (n_neurons, d_in) or None when d_in = 0
    """
    n_neurons = check_int("n_neurons", n_neurons, minimum=1)
    rank = check_int("rank", rank, minimum=1)
    d_in = check_int("d_in", d_in, minimum=0)
    check_choice("basis", basis, BASES)
    m_std = check_real("m_std", m_std, minimum=0.0, min_inclusive=False)
    i_std = check_real("i_std", i_std, minimum=0.0, min_inclusive=False)
    rng = as_rng(rng)
    dims = rank + d_in
    stds = np.array([m_std] * rank + [i_std] * d_in)
    if basis == "gaussian":
        X = rng.standard_normal((n_neurons, dims)) * stds
    elif basis == "uniform":
        X = rng.uniform(-1.0, 1.0, (n_neurons, dims)) * (np.sqrt(3.0) * stds)
    else:
        k = 2
        while k**dims < n_neurons:
            k += 1
        axes = [np.linspace(-np.sqrt(3.0) * s, np.sqrt(3.0) * s, k) for s in stds]
        mesh = np.meshgrid(*axes, indexing="ij")
        lattice = np.stack([m.ravel() for m in mesh], axis=1)
        if lattice.shape[0] > n_neurons:
            keep = np.sort(rng.choice(lattice.shape[0], n_neurons, replace=False))
            lattice = lattice[keep]
        X = lattice
    M = np.ascontiguousarray(X[:, :rank])
    I = np.ascontiguousarray(X[:, rank:]) if d_in else None
    if I is not None and orthogonalize and n_neurons > rank:
        coef = np.linalg.lstsq(M, I, rcond=None)[0]
        I = I - M @ coef
    return M, I


def decaying_offsets(
    n_neurons: int, v_max: float, v_min: float, *, rng: RngLike = None
) -> np.ndarray:
    """Input loadings for a decaying input ``v(t) = v_max exp(-t)`` (Sec 5): log-uniform sizes.

    Neuron i gets ``I_i = ± c_i exp(s_i) / v_max`` with ``s_i ~ U(-1, log(v_max / v_min) + 1)``
    and ``c_i ~ U(0.5, 3)``, so its offset ``I_i v(t) = ± c_i exp(s_i - t)`` is of order one
    around ``t = s_i``: the times at which the offsets sweep through the range where phi bends
    are spread uniformly over the fitted time window. (Gaussian I of any one width would bend
    only near one time, because v spans orders of magnitude.)

    Returns
    -------
    ndarray, shape (n_neurons, 1)
    """
    n_neurons = check_int("n_neurons", n_neurons, minimum=1)
    v_max = check_real("v_max", v_max, minimum=0.0, min_inclusive=False)
    v_min = check_real("v_min", v_min, minimum=0.0, min_inclusive=False)
    rng = as_rng(rng)
    span = float(np.log(v_max / v_min)) if v_max > v_min else 0.0
    s = rng.uniform(-1.0, span + 1.0, n_neurons)
    c = rng.uniform(0.5, 3.0, n_neurons)
    sign = rng.choice([-1.0, 1.0], n_neurons)
    return (sign * c * np.exp(s) / v_max)[:, None]


def latent_coordinates(
    x: np.ndarray, M: np.ndarray, I: np.ndarray | None = None, v: np.ndarray | None = None
) -> np.ndarray:
    """Latent z of network states ``x = M z + I v`` (eq 4).

    With the filtered inputs ``v`` known: ``z = (M^T M)^{-1} M^T (x - I v)`` (exact whenever M
    has full column rank, even in networks too small for I ⟂ M). Without ``v``: least squares
    on ``[M, I]`` (needs ``n_neurons >= rank + d_in``); with I ⟂ M (or no I) both are
    ``z = (M^T M)^{-1} M^T x``, whereas projecting on M alone would add
    ``(M^T M)^{-1} M^T I v`` to z.

    Parameters
    ----------
    x : ndarray, shape (..., n_neurons)
    M : ndarray, shape (n_neurons, rank)
    I : ndarray, shape (n_neurons, d_in), optional
    v : ndarray, shape (..., d_in), optional
        Filtered inputs at the same states.

    Returns
    -------
    ndarray, shape (..., rank)
    """
    M = np.asarray(M, dtype=float)
    x = np.asarray(x, dtype=float)
    flat = x.reshape(-1, x.shape[-1])
    r = M.shape[1]
    if I is not None and v is not None:
        I = np.asarray(I, dtype=float)
        flat = flat - np.asarray(v, dtype=float).reshape(-1, I.shape[1]) @ I.T
        B = M
    else:
        B = M if I is None else np.hstack([M, np.asarray(I, dtype=float)])
    coef = np.linalg.lstsq(B, flat.T, rcond=None)[0].T
    return coef[:, :r].reshape(*x.shape[:-1], r)


def _design_and_gram(
    Z: np.ndarray,
    M: np.ndarray,
    I: np.ndarray | None,
    V: np.ndarray | None,
    phi: str,
    Y: np.ndarray,
    w: np.ndarray | None,
    chunk: int = 512,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``Phi = phi(Z M^T + V I^T)`` with ``G = Phi^T W Phi`` and ``b = Phi^T W Y``, by row blocks.

    Each block of rows is formed, activated and added to the Gram matrix while it is in cache
    (one matrix product with the stacked loadings ``[M, I]``, phi in place, a symmetric rank-k
    update), instead of streaming the whole design matrix through memory several times.
    """
    n_pts = Z.shape[0]
    n_feat = M.shape[0]
    X = Z if I is None else np.hstack([Z, V])
    L = M if I is None else np.hstack([M, I])
    LT = np.ascontiguousarray(L.T)
    Phi = np.empty((n_pts, n_feat))
    G = np.zeros((n_feat, n_feat), order="F")
    b = np.zeros((n_feat, Y.shape[1]))
    syrk = sla.blas.get_blas_funcs("syrk", (G,))
    for a in range(0, n_pts, chunk):
        blk = Phi[a : a + chunk]
        np.matmul(X[a : a + chunk], LT, out=blk)
        apply_phi(phi, blk, out=blk)
        Ab, Yb = blk, Y[a : a + chunk]
        if w is not None:
            sw = np.sqrt(w[a : a + chunk])[:, None]
            Ab, Yb = blk * sw, Yb * sw
        # G += Ab^T Ab on the upper triangle; Ab.T is Fortran-ordered: no copy
        G = syrk(1.0, Ab.T, beta=1.0, c=G, trans=0, lower=0, overwrite_c=1)
        b += Ab.T @ Yb
    iu = np.triu_indices(n_feat, 1)
    G[(iu[1], iu[0])] = G[iu]
    return Phi, G, b


def solve_least_squares(
    Phi: np.ndarray,
    Y: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    ridge: float = 0.0,
    solver: str = "auto",
) -> tuple[np.ndarray, dict[str, Any]]:
    """Solve ``min_N sum_p w_p |Phi_p N - Y_p|^2 + ridge |N|^2`` for all columns at once (eq 9).

    Parameters
    ----------
    Phi : ndarray, shape (n_points, n_neurons)
    Y : ndarray, shape (n_points, k)
    weights : ndarray, shape (n_points,), optional
        Non-negative point weights (weighted least squares).
    ridge : float
        Ridge penalty (>= 0), in the units of ``Phi^T W Phi``.
    solver : {'auto', 'cholesky', 'eigh', 'lstsq'}
        ``'cholesky'``: normal equations ``(Phi^T W Phi + ridge 1) N = Phi^T W Y`` by Cholesky
        (fast: one Gram matrix and one factorisation for all columns). ``'eigh'``: the same
        normal equations by an eigendecomposition of the Gram matrix, dropping eigenvalues
        below ``n_neurons * eps * largest`` (a pseudo-inverse: robust when the random basis is
        numerically rank-deficient, which it usually is without ridge). ``'lstsq'``: LAPACK
        gelsd (SVD) on ``sqrt(W) Phi``, the minimum-norm reference solution (slowest); with
        ``ridge > 0`` the thin SVD ``sqrt(W) Phi = U S V^T`` gives the unique ridge solution
        ``V S (S^2 + ridge)^-1 U^T sqrt(W) Y``, exact for a ridge far below the rounding
        level of the normal equations. ``'auto'``: Cholesky; when the Gram matrix is
        numerically singular (reciprocal condition < 1e-10, as it usually is for a random
        basis without ridge) a
        jitter of ``1e-12 * max(diag(Phi^T W Phi))`` is added to its diagonal — the order of
        the rounding noise of forming it — and the Cholesky factorisation is repeated
        (reported as ``solver='cholesky+jitter'`` with ``info['jitter']``); eigh if that fails.

    Returns
    -------
    N : ndarray, shape (n_neurons, k)
    info : dict
        ``solver`` (the path taken), ``condition_number`` (of the weighted, ridge-augmented design
        matrix ``[sqrt(W) Phi; sqrt(ridge) 1]``: from its singular values on the lstsq path,
        from the Gram eigenvalues on the eigh path (inf when the smallest is <= 0 in floating
        point), and on the Cholesky path ``sqrt`` of LAPACK's 1-norm estimate for the Gram
        matrix, within a factor of about ``sqrt(n_neurons)`` of the 2-norm value), ``rank``
        (numerical rank on the eigh and lstsq paths, None for Cholesky), ``jitter`` (the ridge
        added by ``'auto'``; 0 when none was needed).
    """
    check_choice("solver", solver, SOLVERS)
    ridge = check_real("ridge", ridge, minimum=0.0)
    Phi = np.asarray(Phi, dtype=float)
    Y = np.asarray(Y, dtype=float)
    n_pts, n_feat = Phi.shape
    if weights is not None:
        w = np.asarray(weights, dtype=float).reshape(-1)
        if w.shape != (n_pts,) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"weights: expected {n_pts} finite values >= 0")
        sw = np.sqrt(w)[:, None]
        A, Yw = Phi * sw, Y * sw
    else:
        A, Yw = Phi, Y
    if solver == "lstsq":
        if ridge:
            return _ridge_svd(A, Yw, ridge)
        N, _, rank, sv = sla.lstsq(A, Yw, lapack_driver="gelsd", check_finite=False)
        cond = float(sv[0] / sv[-1]) if sv.size and sv[-1] > 0 else float("inf")
        return N, {"solver": "lstsq", "condition_number": cond, "rank": int(rank), "jitter": 0.0}
    # normal equations: one Gram matrix and one right-hand side serve every column of N
    return _solve_normal(A.T @ A, A.T @ Yw, ridge, solver)


def _ridge_svd(A: np.ndarray, Y: np.ndarray, ridge: float) -> tuple[np.ndarray, dict[str, Any]]:
    """``argmin |A N - Y|^2 + ridge |N|^2`` from the thin SVD ``A = U S V^T`` (ridge > 0).

    ``N = V diag(s / (s^2 + ridge)) U^T Y``: the unique solution, equal to gelsd on
    ``[A; sqrt(ridge) 1]`` but without forming that ``(n_points + n_neurons) x n_neurons``
    matrix (``O(n_points n_neurons min(n_points, n_neurons))`` instead of ``O(n_neurons^3)``),
    and, unlike the normal equations, without squaring A's condition number: an exact ridge
    however small.
    """
    try:
        U, s, Vt = sla.svd(A, full_matrices=False, lapack_driver="gesdd", check_finite=False)
    except np.linalg.LinAlgError:
        U, s, Vt = sla.svd(A, full_matrices=False, lapack_driver="gesvd", check_finite=False)
    N = Vt.T @ ((s / (s * s + ridge))[:, None] * (U.T @ Y))
    s_min = float(s[-1]) if s.size == A.shape[1] else 0.0
    top = float(s[0]) if s.size else 0.0
    cond = float(np.sqrt((top * top + ridge) / (s_min * s_min + ridge)))
    return N, {"solver": "lstsq", "condition_number": cond, "rank": int(A.shape[1]),
               "jitter": 0.0}


def _solve_normal(
    G: np.ndarray, b: np.ndarray, ridge: float, solver: str
) -> tuple[np.ndarray, dict[str, Any]]:
    """Solve ``(G + ridge 1) N = b`` (G symmetric PSD; overwritten) by Cholesky or eigh."""
    n_feat = G.shape[0]
    if ridge:
        G[np.diag_indices_from(G)] += ridge
    if solver in ("auto", "cholesky"):
        anorm = float(np.abs(G).sum(axis=0).max()) if n_feat else 0.0
        try:
            c, low = sla.cho_factor(G, lower=False, overwrite_a=False, check_finite=False)
            rcond = float(sla.lapack.dpocon(c, anorm)[0]) if n_feat else 1.0
        except np.linalg.LinAlgError:
            c, low, rcond = None, False, 0.0
        if c is not None and (solver == "cholesky" or rcond >= _RCOND_MIN):
            N = sla.cho_solve((c, low), b, check_finite=False)
            cond = float(np.sqrt(1.0 / rcond)) if rcond > 0 else float("inf")
            return N, {"solver": "cholesky", "condition_number": cond, "rank": None,
                       "jitter": 0.0}
        if solver == "cholesky":
            raise ValueError(
                "solver='cholesky': the normal equations are numerically singular; add a ridge "
                "penalty or use solver='eigh' or 'lstsq'"
            )
        # numerically singular (a random basis without ridge usually is): add a jitter at the
        # level of the rounding noise of forming Phi^T Phi and factorise again
        jitter = _JITTER * float(np.max(np.diag(G), initial=0.0))
        Gj = G.copy()
        Gj[np.diag_indices_from(Gj)] += jitter
        try:
            c, low = sla.cho_factor(Gj, lower=False, overwrite_a=True, check_finite=False)
            N = sla.cho_solve((c, low), b, check_finite=False)
            cond = float(np.sqrt(1.0 / rcond)) if rcond > 0 else float("inf")
            return N, {"solver": "cholesky+jitter", "condition_number": cond, "rank": None,
                       "jitter": jitter}
        except np.linalg.LinAlgError:
            pass
    lam, U = sla.eigh(G, driver="evd", overwrite_a=True, check_finite=False)
    top = float(lam[-1]) if lam.size else 0.0
    keep = lam > max(n_feat, 1) * np.finfo(float).eps * top
    Ub = U[:, keep]
    N = Ub @ ((Ub.T @ b) / lam[keep][:, None])
    low = float(lam[0]) if lam.size else 0.0
    cond = float(np.sqrt(top / low)) if low > 0 else float("inf")
    return N, {"solver": "eigh", "condition_number": cond, "rank": int(keep.sum()), "jitter": 0.0}


# ---------------------------------------------------------------------------------------------
# the estimator
# ---------------------------------------------------------------------------------------------
def check_spreads(est: Any) -> None:
    """Validate an estimator's ``m_std`` and ``i_std``: ``'auto'`` or a real > 0."""
    for name in ("m_std", "i_std"):
        val = getattr(est, name)
        if isinstance(val, str):
            check_choice(name, val, ("auto",))
        else:
            check_real(name, val, minimum=0.0, min_inclusive=False)


#: Condition number of the design above which :meth:`ODEEmbedding.fit` warns.
ILL_CONDITIONED = 1e8


def _warn_ill_conditioned(sinfo: dict, ridge: float, n: int) -> None:
    """Warn, saying what was done, when the regression's design is ill-conditioned."""
    import warnings

    cond = float(sinfo["condition_number"])
    how = sinfo["solver"]
    if how == "cholesky+jitter":
        done = (f"a jitter of {sinfo['jitter']:.3g} was added to the diagonal of the normal "
                "equations (an implicit ridge penalty)")
    elif how == "eigh":
        done = (f"the minimum-norm solution in the top {sinfo['rank']} of {n} eigen-directions "
                "was taken")
    elif how == "lstsq":
        done = f"the minimum-norm least-squares solution (numerical rank {sinfo['rank']}) was taken"
    else:
        done = "it was solved as it is"
    if how == "cholesky+jitter" or not cond < ILL_CONDITIONED:
        warnings.warn(
            f"ODEEmbedding.fit: the design is ill-conditioned (condition number {cond:.3g}, "
            f"ridge={ridge:g}); {done}. Pass ridge > 0 to choose the regularisation yourself.",
            RuntimeWarning,
            stacklevel=3,
        )


def _as_points(name: str, value: Any, last: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """Flatten ``(n,)``, ``(n, last)`` or ``(batch, time, last)`` to ``(n_points, last)``."""
    arr = check_array(name, value).astype(float, copy=False)
    if arr.ndim == 1 and last == 1:
        arr = arr[:, None]
    if arr.ndim not in (2, 3) or arr.shape[-1] != last:
        raise ValueError(
            f"{name}: expected shape (n_points, {last}) or (batch, time, {last}), got {arr.shape}"
        )
    lead = arr.shape[:-1]
    return arr.reshape(-1, last), lead


class ODEEmbedding(Storable):
    """Embed ``dz/dt = g(z)`` (or ``g(z, v)``) in a rank-r RNN by least squares (eq 9–11).

    scikit-learn style: hyper-parameters here, :meth:`fit` returns ``self``, learned attributes
    end in ``_``.

    Parameters
    ----------
    rank : int
        Latent dimension r = rank of ``J = M N^T``.
    n_neurons : int
        Number of neurons (basis functions).
    basis : {'gaussian', 'uniform', 'grid'} or (M, I)
        How M and I are sampled (see :func:`sample_basis`), or given arrays
        ``M (n_neurons, rank)`` and ``I (n_neurons, d_in)`` (``None`` for no inputs), used as is.
    inputs : {'none', 'bias', 'decaying', 'external'}
        Input mode (module docstring). ``'bias'`` and ``'decaying'`` have one input channel;
        ``'external'`` has ``n_inputs``.
    ridge : float
        Ridge penalty on N (0: plain least squares, eq 9).
    phi : {'tanh', 'relu'}
    m_std, i_std : float or 'auto'
        Spread of the entries of M and I. ``'auto'``: ``m_std = 2 / max|z|`` over the fitting
        points (so the basis functions bend inside the region being fitted; 1 for points in
        [-2, 2]), and ``i_std = 1 / max|v|`` over the fitting points' inputs (1 for bias); for
        ``inputs='decaying'``, ``'auto'`` draws log-uniform offsets instead
        (:func:`decaying_offsets`), not orthogonalised to M (the latent is then read by
        :meth:`latent`, the least-squares projection on ``[M, I]``, eq 4).
    v0 : float
        Initial value of the decaying input (``inputs='decaying'``): ``v(t) = v0 exp(-t)``.
    n_inputs : int
        Number of input channels for ``inputs='external'``.
    orthogonalize : bool
        Sampled bases only: make I orthogonal to M (I ⟂ M, Sec 3).
    solver : {'auto', 'cholesky', 'eigh', 'lstsq'}
        See :func:`solve_least_squares`.
    random_state : Generator, int or None

    Attributes
    ----------
    M_ : ndarray, shape (n_neurons, rank)
    I_ : ndarray, shape (n_neurons, d_in) or None
    N_ : ndarray, shape (n_neurons, rank)
    network_ : LowRankRNN
        ``J = M N^T`` (``scale = 1``, ``tau = 1``), input loadings ``I_``; its latent is
        :meth:`latent` of its state.
    info_ : dict
        ``train_mse`` (mean squared error of the fitted vector field, over points and
        dimensions, unweighted), ``condition_number`` (see :func:`solve_least_squares`),
        ``seconds`` (wall time of the fit), ``solver``, ``jitter``, ``n_points``, ``m_std``,
        ``i_std``.
    d_in_ : int
        Number of input channels.

    Examples
    --------
    >>> est = ODEEmbedding(rank=1, n_neurons=200, inputs="bias", random_state=0)
    >>> est = est.fit(lambda z: z - z**3, box=(-1.5, 1.5), n_points=400)
    >>> est.info_["train_mse"] < 1e-6
    True
    """

    def __init__(
        self,
        rank: int = 1,
        n_neurons: int = 100,
        *,
        basis: str | tuple[np.ndarray, np.ndarray | None] = "gaussian",
        inputs: str = "bias",
        ridge: float = 0.0,
        phi: str = "tanh",
        m_std: float | str = "auto",
        i_std: float | str = "auto",
        v0: float = 1.0,
        n_inputs: int = 1,
        orthogonalize: bool = True,
        solver: str = "auto",
        random_state: RngLike = None,
    ) -> None:
        self.rank = rank
        self.n_neurons = n_neurons
        self.basis = basis
        self.inputs = inputs
        self.ridge = ridge
        self.phi = phi
        self.m_std = m_std
        self.i_std = i_std
        self.v0 = v0
        self.n_inputs = n_inputs
        self.orthogonalize = orthogonalize
        self.solver = solver
        self.random_state = random_state

    # -------------------------------------------------------------------------- validation
    def _validate_params(self) -> None:
        check_int("rank", self.rank, minimum=1)
        check_int("n_neurons", self.n_neurons, minimum=1)
        check_choice("inputs", self.inputs, INPUT_MODES)
        check_real("ridge", self.ridge, minimum=0.0)
        check_choice("phi", self.phi, _PHIS)
        check_spreads(self)
        check_real("v0", self.v0, minimum=0.0, min_inclusive=False)
        check_int("n_inputs", self.n_inputs, minimum=1)
        check_choice("solver", self.solver, SOLVERS)
        as_rng(self.random_state, "random_state")
        if isinstance(self.basis, str):
            check_choice("basis", self.basis, BASES)
        else:
            if not isinstance(self.basis, (tuple, list)) or len(self.basis) != 2:
                raise ValueError(
                    f"basis={type(self.basis).__name__}: expected one of {BASES} or a pair (M, I)"
                )
            M = check_array("basis M", self.basis[0], shape=(self.n_neurons, self.rank))
            if self.basis[1] is None:
                if self.inputs != "none":
                    raise ValueError(f"basis: I is None but inputs={self.inputs!r} needs I")
            else:
                I = check_array("basis I", self.basis[1])
                I = I[:, None] if I.ndim == 1 else I
                if I.shape != (M.shape[0], self._d_in()):
                    raise ValueError(
                        f"basis I: expected shape ({M.shape[0]}, {self._d_in()}) for "
                        f"inputs={self.inputs!r}, got {I.shape}"
                    )

    def _d_in(self) -> int:
        return {"none": 0, "bias": 1, "decaying": 1}.get(self.inputs, int(self.n_inputs))

    @property
    def _needs_v(self) -> bool:
        return self.inputs in ("decaying", "external")

    # -------------------------------------------------------------------------- fitting
    def fit(
        self,
        g: Callable[..., np.ndarray] | None = None,
        points: np.ndarray | None = None,
        *,
        v: np.ndarray | None = None,
        targets: np.ndarray | None = None,
        weights: np.ndarray | None = None,
        box: Any = None,
        n_points: int | None = None,
    ) -> ODEEmbedding:
        """Sample the basis and solve eq 9/11 for N.

        Parameters
        ----------
        g : callable, optional
            The target vector field, vectorised over points: ``g(Z) -> (n_points, rank)`` for
            ``inputs`` in {'none', 'bias'}, ``g(Z, V)`` for {'decaying', 'external'}
            (``V`` of shape ``(n_points, d_in)``). Give ``g`` or ``targets``.
        points : ndarray, shape (n_points, rank) or (batch, time, rank), optional
            Fitting points: scattered points, or points along trajectories. Default: a regular
            grid over ``box`` with about ``n_points`` points.
        v : ndarray, shape (n_points, d_in) or (batch, time, d_in), optional
            Filtered inputs at each point; required for 'decaying' and 'external' (for
            'decaying', ``v = v0 exp(-t)`` along a trajectory), ignored (set to 1 / 0) otherwise.
        targets : ndarray, shape like ``points``, optional
            The values of dz/dt at the points, instead of ``g``.
        weights : ndarray, shape (n_points,) or (batch, time), optional
            Non-negative weights (weighted least squares).
        box : (lo, hi) or per-dimension pairs, optional
            Box of the default grid.
        n_points : int, optional
            Size of the default grid (default ``max(20 ** rank, 2 n_neurons)``, at most 10^4
            for rank <= 2).

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        self._validate_params()
        r = int(self.rank)
        n = int(self.n_neurons)
        d_in = self._d_in()
        if (g is None) == (targets is None):
            raise ValueError("g/targets: give exactly one of the vector field g or its targets")
        if g is not None and not callable(g):
            raise ValueError(f"g={g!r}: expected a callable g(Z) returning (n_points, rank)")
        # --- points
        if points is None:
            if box is None:
                raise ValueError("points: give fitting points, or a box for the default grid")
            if n_points is None:
                n_points = max(min(20**r, 10_000), 2 * n)
            Z = grid_points(box, n_points, r)
            lead: tuple[int, ...] = (Z.shape[0],)
        else:
            if box is not None or n_points is not None:
                raise ValueError("box/n_points: only used for the default grid (points=None)")
            Z, lead = _as_points("points", points, r)
        n_pts = Z.shape[0]
        # --- inputs at the points
        if self._needs_v:
            if v is None:
                raise ValueError(
                    f"v: inputs={self.inputs!r} needs the filtered inputs v at every point"
                )
            V, vlead = _as_points("v", v, d_in)
            if vlead != lead:
                raise ValueError(f"v: shape {np.shape(v)} does not match points {lead}")
        else:
            if v is not None:
                raise ValueError(f"v: not used with inputs={self.inputs!r} (v is 0 or 1 there)")
            V = np.ones((n_pts, d_in)) if d_in else None
        # --- weights
        w = None
        if weights is not None:
            w = check_array("weights", weights).astype(float, copy=False).reshape(-1)
            if w.size != n_pts:
                raise ValueError(f"weights: expected {n_pts} values (one per point), got {w.size}")
            if np.any(w < 0) or not np.any(w > 0):
                raise ValueError("weights: must be >= 0 with at least one > 0")
        ridge = float(self.ridge)
        n_eff = n_pts if w is None else int(np.count_nonzero(w))
        if ridge == 0.0 and n_eff < n:
            raise ValueError(
                f"points: {n_eff} fitting points for n_neurons={n} basis functions leaves the "
                "regression underdetermined; give at least as many points or a ridge > 0"
            )
        if ridge == 0.0:
            used = Z if w is None else Z[w > 0]
            if V is not None:
                used = np.hstack([used, V if w is None else V[w > 0]])
            n_distinct = int(np.unique(used, axis=0).shape[0])
            if n_distinct < n:
                raise ValueError(
                    f"points: only {n_distinct} distinct fitting points (of {n_eff}) for "
                    f"n_neurons={n} basis functions leaves the regression underdetermined; "
                    "give more distinct points or a ridge > 0"
                )
        # --- targets
        if g is not None:
            G = g(Z, V) if self._needs_v else g(Z)
            if np.iscomplexobj(G):
                raise ValueError("g: returned complex values; the vector field must be real")
            G = np.asarray(G, dtype=float) if np.ndim(G) else np.asarray(G)
            if G.ndim == 1 and r == 1 and G.shape[0] == n_pts:
                G = G[:, None]
            if G.shape != (n_pts, r):
                raise ValueError(
                    f"g: returned shape {np.shape(G)}, expected (n_points, rank) = ({n_pts}, {r})"
                )
            if not np.all(np.isfinite(G)):
                raise ValueError("g: returned non-finite values at some fitting points")
        else:
            G, tlead = _as_points("targets", targets, r)
            if tlead != lead:
                raise ValueError(f"targets: shape {np.shape(targets)} does not match points")
        # --- basis
        rng = as_rng(self.random_state, "random_state")
        m_std = self.m_std
        if m_std == "auto":
            m_std = 2.0 / max(float(np.max(np.abs(Z))), 1e-12)
        i_std = self.i_std
        if i_std == "auto":
            i_std = 1.0 / max(float(np.max(np.abs(V))), 1e-12) if d_in else 1.0
        if isinstance(self.basis, str):
            timing = self.inputs == "decaying" and self.i_std == "auto"
            M, I = sample_basis(
                n, r, d_in, basis=self.basis, m_std=float(m_std), i_std=float(i_std),
                orthogonalize=self.orthogonalize and not timing, rng=rng,
            )
            if timing:
                vmax = float(np.max(np.abs(V)))
                vmin = max(float(np.min(np.abs(V))), vmax * 1e-12)
                I = decaying_offsets(n, vmax, vmin, rng=rng)
                i_std = float(np.std(I))
        else:
            M = np.array(self.basis[0], dtype=float)
            I = None if self.basis[1] is None else np.array(self.basis[1], dtype=float)
            if I is not None and I.ndim == 1:
                I = I[:, None]
        # --- regression (eq 9 / 11)
        Y = G + Z
        if self.solver == "lstsq":
            Phi = design_matrix(Z, M, I, V, self.phi)
            N, sinfo = solve_least_squares(Phi, Y, weights=w, ridge=ridge, solver="lstsq")
        else:
            Phi, Gram, rhs = _design_and_gram(Z, M, I, V, self.phi, Y, w)
            N, sinfo = _solve_normal(Gram, rhs, ridge, self.solver)
        _warn_ill_conditioned(sinfo, ridge, n)
        resid = Phi @ N - Y
        info = {
            "train_mse": float(np.mean(resid**2)),
            "condition_number": sinfo["condition_number"],
            "solver": sinfo["solver"],
            "jitter": sinfo["jitter"],
            "n_points": int(n_pts),
            "m_std": float(m_std),
            "i_std": float(i_std),
        }
        if w is not None:
            info["weighted_mse"] = float(np.sum(w[:, None] * resid**2) / (w.sum() * r))
        self.M_, self.I_, self.N_ = M, I, N
        self.d_in_ = d_in
        self.network_ = LowRankRNN(M=M, N=N, I=I, scale=1.0, tau=1.0, phi=self.phi)
        info["seconds"] = time.perf_counter() - t0
        self.info_ = info
        return self

    # -------------------------------------------------------------------------- using the fit
    def _check_fitted(self) -> None:
        if not hasattr(self, "N_"):
            raise ValueError("this ODEEmbedding is not fitted yet; call fit() first")

    def predict(self, Z: np.ndarray, v: np.ndarray | None = None) -> np.ndarray:
        """The embedded vector field ``-z + N^T phi(M z + I v)`` (eq 7, 10).

        Parameters
        ----------
        Z : ndarray, shape (n_points, rank)
        v : ndarray, shape (n_points, d_in), optional
            Needed for 'decaying' and 'external'; 1 for 'bias'.

        Returns
        -------
        ndarray, shape (n_points, rank)
        """
        self._check_fitted()
        Z, _ = _as_points("Z", Z, self.M_.shape[1])
        V = self._v_at(Z.shape[0], v)
        return design_matrix(Z, self.M_, self.I_, V, self.phi) @ self.N_ - Z

    def _v_at(self, n_pts: int, v: np.ndarray | None) -> np.ndarray | None:
        if self.d_in_ == 0:
            return None
        if self._needs_v:
            if v is None:
                raise ValueError(f"v: inputs={self.inputs!r} needs the filtered inputs v")
            V, _ = _as_points("v", v, self.d_in_)
            if V.shape[0] != n_pts:
                V = np.broadcast_to(V, (n_pts, self.d_in_))
            return V
        return np.ones((n_pts, self.d_in_))

    def initial_state(self, z0: np.ndarray, v0: np.ndarray | float | None = None) -> np.ndarray:
        """Network states ``x0 = M z0 + I v0`` (eq 4, 6) for latent starts ``z0``.

        Parameters
        ----------
        z0 : ndarray, shape (batch, rank) or (rank,)
        v0 : float or ndarray, shape (batch, d_in), optional
            Filtered input at t = 0 (default: 1 for 'bias', ``v0`` for 'decaying', 0 for
            'external').

        Returns
        -------
        ndarray, shape (batch, n_neurons)
        """
        self._check_fitted()
        z0 = np.atleast_2d(check_array("z0", z0).astype(float))
        if z0.shape[1] != self.M_.shape[1]:
            raise ValueError(f"z0: expected shape (batch, {self.M_.shape[1]}), got {z0.shape}")
        x0 = z0 @ self.M_.T
        if self.d_in_:
            x0 = x0 + self._start_v(z0.shape[0], v0) @ self.I_.T
        return x0

    def _start_v(self, batch: int, v0: np.ndarray | float | None) -> np.ndarray:
        if v0 is None:
            v0 = {"bias": 1.0, "decaying": float(self.v0)}.get(self.inputs, 0.0)
        return np.broadcast_to(np.asarray(v0, dtype=float), (batch, self.d_in_)).copy()

    def input_signal(self, batch: int, n_steps: int) -> np.ndarray | None:
        """The input u(t) the embedding assumes: ones ('bias'), zeros ('decaying').

        Returns
        -------
        ndarray, shape (batch, n_steps, d_in), or None without inputs. For 'external' inputs
        the caller supplies u(t) itself (None is returned).
        """
        self._check_fitted()
        if self.d_in_ == 0 or self.inputs == "external":
            return None
        fill = 1.0 if self.inputs == "bias" else 0.0
        return np.full((batch, n_steps, self.d_in_), fill)

    def latent(self, x: np.ndarray, v: np.ndarray | None = None) -> np.ndarray:
        """Latent coordinates z of network states ``x = M z + I v`` (eq 4).

        See :func:`latent_coordinates`: with the filtered inputs ``v`` given,
        ``z = (M^T M)^{-1} M^T (x - I v)``; otherwise least squares on ``[M, I]`` (with I ⟂ M:
        ``z = (M^T M)^{-1} M^T x``).

        Parameters
        ----------
        x : ndarray, shape (..., n_neurons)
        v : ndarray, shape (..., d_in), optional

        Returns
        -------
        ndarray, shape (..., rank)
        """
        self._check_fitted()
        return latent_coordinates(x, self.M_, self.I_, v)

    def simulate_latent(
        self,
        z0: np.ndarray,
        *,
        t_span: float,
        dt: float = 0.01,
        v0: np.ndarray | float | None = None,
        inputs: np.ndarray | None = None,
        save_every: int = 1,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Simulate the full N-neuron network and return its latent trajectory.

        Uses :func:`lowrank_rnn.simulate.simulate` (Euler) on ``network_`` from
        ``x0 = M z0 + I v0``; the filtered inputs v are stepped alongside
        (``dv/dt = -v + u``, same Euler steps) and z is read by :meth:`latent` with them.

        Parameters
        ----------
        z0 : ndarray, shape (batch, rank)
        t_span : float
        dt : float
        v0 : float or ndarray, optional
            See :meth:`initial_state`.
        inputs : ndarray, shape (batch, time, d_in), optional
            u(t); default :meth:`input_signal`.
        save_every : int

        Returns
        -------
        t : ndarray, shape (time,)
        z : ndarray, shape (batch, time, rank)
        """
        from lowrank_rnn.simulate import simulate

        x0 = self.initial_state(z0, v0)
        n_steps = int(round(check_real("t_span", t_span, minimum=0.0, min_inclusive=False) / dt))
        if inputs is None:
            inputs = self.input_signal(x0.shape[0], n_steps)
        traj = simulate(self.network_, inputs, x0, dt=dt, n_steps=n_steps, save_every=save_every)
        if not self.d_in_:
            return traj.t, self.latent(traj.x)
        # the filtered inputs, stepped like the network: v_{k+1} = v_k + dt (u_k - v_k)
        b = x0.shape[0]
        v = np.empty((b, n_steps + 1, self.d_in_))
        v[:, 0] = self._start_v(b, v0)
        u = np.zeros((b, n_steps, self.d_in_)) if inputs is None else np.asarray(inputs, float)
        for k in range(n_steps):
            v[:, k + 1] = v[:, k] + dt * (u[:, k] - v[:, k])
        keep = np.arange(0, n_steps + 1, int(save_every))[: traj.x.shape[1]]
        return traj.t, self.latent(traj.x, v[:, keep])


register_estimator(ODEEmbedding)
