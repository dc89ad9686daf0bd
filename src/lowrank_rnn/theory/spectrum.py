"""Eigenspectra of connectivity matrices and their theory (Herbert & Ostojic 2022, Figs 1–3).

Measurement: dense eigenvalues for small N (:func:`eigenvalues`), outliers of large sparse or
low-rank matrices by ARPACK (:func:`outliers`, ``scipy.sparse.linalg.eigs`` on a LinearOperator,
never densifying), and the bulk radius (:func:`bulk_radius`).

Theory: one function per row of the table of REFERENCE §A, each naming its equation.
All theory functions take the *density* of non-zeros ``p`` through either ``sparsity`` (p = 1 - s)
or ``c`` and ``n_neurons`` (p = C / N).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackNoConvergence, eigs

from lowrank_rnn._validate import RngLike, as_rng, check_choice, check_int, check_real
from lowrank_rnn.large import FixedDegreeRankOne
from lowrank_rnn.network import LowRankRNN

#: What the measurement functions accept as a network.
NetworkLike = LowRankRNN | FixedDegreeRankOne

__all__ = [
    "SpectrumResult",
    "eigenvalues",
    "outliers",
    "bulk_radius",
    "bulk_radius_real_part",
    "measure_spectrum",
    "density",
    "theory_gaussian_radius",
    "theory_outlier",
    "theory_bulk_radius",
    "theory_outlier_sd",
    "theory_total_radius",
    "theory_bulk_radius_profile",
    "edge_bias",
    "edge_sd",
    "spectral_regime",
]

#: Above this many neurons :func:`measure_spectrum` switches from dense eigvals to ARPACK.
DENSE_SPECTRUM_LIMIT = 3000


# --------------------------------------------------------------------------- theory
def density(
    *, sparsity: float | None = None, c: int | None = None, n_neurons: int | None = None
) -> float:
    """Fraction of non-zero entries p: ``1 - s`` (Bernoulli) or ``C / N`` (fixed C); 1 if dense."""
    if sparsity is not None and c is not None:
        raise ValueError("give either sparsity or c, not both")
    if sparsity is not None:
        return 1.0 - check_real("sparsity", sparsity, minimum=0.0, maximum=1.0, max_inclusive=False)
    if c is not None:
        if n_neurons is None:
            raise ValueError("c: the density C/N also needs n_neurons")
        n = check_int("n_neurons", n_neurons, minimum=1)
        return check_int("c", c, minimum=1, maximum=n) / n
    return 1.0


def theory_gaussian_radius(
    g: float, *, sparsity: float | None = None, c: int | None = None, n_neurons: int | None = None
) -> float:
    """Bulk radius of a (sparsified) Gaussian matrix, ``R = g sqrt(p)``.

    Herbert & Ostojic eq 6 (``g sqrt(1-s)``) and its fixed-C form ``g sqrt(C/N)`` (Fig 1D).
    """
    g = check_real("g", g, minimum=0.0)
    return g * np.sqrt(density(sparsity=sparsity, c=c, n_neurons=n_neurons))


def theory_outlier(
    sigma_mn: float,
    *,
    n_neurons: int | None = None,
    sparsity: float | None = None,
    c: int | None = None,
    rescaled: bool = False,
) -> float:
    """Outlier of a sparsified rank-one matrix, ``lambda_1 = a N p sigma_mn``.

    ``a = 1/N`` for ``P = X ⊙ m n^T / N``: ``(1-s) sigma_mn`` (eq 7, 28) or ``C sigma_mn / N``
    (eq 10); ``a = 1`` for the rescaled ``P = X ⊙ m n^T``: ``C sigma_mn`` (eq 13).
    Dense: ``sigma_mn`` (eq 5).
    """
    sigma_mn = check_real("sigma_mn", sigma_mn)
    p = density(sparsity=sparsity, c=c, n_neurons=n_neurons)
    if not rescaled:
        return p * sigma_mn
    if n_neurons is None:
        raise ValueError("rescaled=True: the outlier C sigma_mn = N p sigma_mn needs n_neurons")
    return check_int("n_neurons", n_neurons, minimum=1) * p * sigma_mn


def theory_bulk_radius(
    sigma2: float,
    *,
    n_neurons: int,
    sparsity: float | None = None,
    c: int | None = None,
    rescaled: bool = False,
) -> float:
    """Bulk radius of a sparsified rank-one matrix, ``R = a sigma^2 sqrt(N p (1 - p))``.

    ``a = 1/N``: ``sigma^2 sqrt(s (1-s) / N)`` (eq 9) or ``sqrt(C) sigma^2 sqrt(N-C) / N^{3/2}``
    (eq 11); ``a = 1`` (rescaled): ``sqrt(C) sigma^2 sqrt(N-C) / sqrt(N)`` (eq 14), which tends
    to ``sqrt(C) sigma^2`` for N >> C. Obtained from the circular law applied to
    ``P* = P~ - p P`` (the matrix without its outlier).
    """
    sigma2 = check_real("sigma2", sigma2, minimum=0.0)
    n = check_int("n_neurons", n_neurons, minimum=1)
    p = density(sparsity=sparsity, c=c, n_neurons=n)
    a = 1.0 if rescaled else 1.0 / n
    return a * sigma2 * np.sqrt(n * p * (1.0 - p))


def theory_bulk_radius_profile(
    sigma2: float,
    sigma_mn: float,
    *,
    n_neurons: int,
    sparsity: float | None = None,
    c: int | None = None,
    rescaled: bool = False,
) -> float:
    """Bulk radius from the variance profile, ``a sqrt(N p (1-p) (sigma^4 + 2 sigma_mn^2))``.

    A refinement derived for this library (not in the paper): conditionally on m and n the entries
    of ``P* = a (X - p) ⊙ m n^T`` are independent with variance profile
    ``V_ij = a^2 p (1-p) m_i^2 n_j^2``, and the spectral radius of a matrix with a variance profile
    is ``sqrt(rho(V))`` (Cook, Hachem, Najim & Renfrew 2018). ``rho(V) = a^2 p (1-p) sum_i m_i^2
    n_i^2``, whose mean is ``a^2 p (1-p) N (sigma^4 + 2 sigma_mn^2)`` for Gaussian m, n. It reduces
    to eq 9/11/14 when ``sigma_mn = 0``.
    """
    base = theory_bulk_radius(sigma2, n_neurons=n_neurons, sparsity=sparsity, c=c,
                              rescaled=rescaled)
    sigma_mn = check_real("sigma_mn", sigma_mn)
    if sigma2 == 0:
        return 0.0
    return base * float(np.sqrt(1.0 + 2.0 * sigma_mn**2 / sigma2**2))


def _gamma(n: int) -> float:
    return max(1.0, float(np.log(n / (2 * np.pi)) - 2 * np.log(np.log(n))))


def edge_bias(n_neurons: int) -> float:
    """Relative finite-N bias of the largest modulus of an i.i.d. N x N matrix (circular law).

    For the real Ginibre ensemble the spectral radius is ``1 + sqrt(gamma_N / 4N) + G /
    sqrt(4 N gamma_N)`` with G Gumbel-distributed and ``gamma_N = log(N / 2 pi) - 2 log log N``
    (Rider 2003); this returns the mean excess ``sqrt(gamma_N / 4N) + 0.5772 / sqrt(4 N gamma_N)``.
    """
    n = check_int("n_neurons", n_neurons, minimum=2)
    g = _gamma(n)
    return float(np.sqrt(g / (4 * n)) + 0.5772 / np.sqrt(4 * n * g))


def edge_sd(n_neurons: int) -> float:
    """Relative standard deviation of the largest modulus (Gumbel sd ``pi/sqrt(6)`` scaled)."""
    n = check_int("n_neurons", n_neurons, minimum=2)
    return float(np.pi / np.sqrt(6) / np.sqrt(4 * n * _gamma(n)))


def theory_total_radius(bulk_lowrank: float, bulk_random: float) -> float:
    """Radius of the sum of two independent zero-mean bulks: ``sqrt(R_1^2 + R_2^2)``.

    The circular law depends only on the entry variance, and variances of independent parts add.
    """
    return float(np.hypot(bulk_lowrank, bulk_random))


def theory_outlier_sd(
    sigma2: float,
    sigma_mn: float,
    *,
    n_neurons: int,
    sparsity: float | None = None,
    c: int | None = None,
    rescaled: bool = False,
    exact: bool = False,
) -> float:
    """Finite-N standard deviation of the outlier (derived for this library, not in the paper).

    First-order perturbation of the outlier ``a N p m.n/N`` by ``P* = a (X - p) ⊙ m n^T`` with left
    and right eigenvectors n and m gives ``delta = n^T P* m / (n^T m)``, whose variance is
    ``a^2 p (1-p) (sigma^4 + 2 sigma_mn^2)^2 / sigma_mn^2``; the sampling error of ``m.n/N``
    adds ``(a N p)^2 (sigma^4 + sigma_mn^2) / N`` unless the overlaps are exact.
    """
    sigma2 = check_real("sigma2", sigma2, minimum=0.0)
    sigma_mn = check_real("sigma_mn", sigma_mn)
    n = check_int("n_neurons", n_neurons, minimum=1)
    p = density(sparsity=sparsity, c=c, n_neurons=n)
    a = 1.0 if rescaled else 1.0 / n
    e4 = sigma2**2 + 2 * sigma_mn**2
    var = 0.0 if sigma_mn == 0 else a**2 * p * (1 - p) * e4**2 / sigma_mn**2
    if not exact:
        var += (a * n * p) ** 2 * (sigma2**2 + sigma_mn**2) / n
    return float(np.sqrt(var))


def spectral_regime(outlier: float, radius: float) -> str:
    """Dynamical regime predicted from the spectrum (Herbert & Ostojic Fig 5).

    ``'decaying'`` (outlier < 1 and R < 1), ``'structured'`` (outlier > 1 and outlier > R) or
    ``'chaotic'`` (R > 1 and R >= outlier).
    """
    outlier = check_real("outlier", outlier)
    radius = check_real("radius", radius, minimum=0.0)
    if outlier < 1 and radius < 1:
        return "decaying"
    if outlier > radius:
        return "structured"
    return "chaotic"


# --------------------------------------------------------------------------- measurement
def _as_matrix(obj: NetworkLike | np.ndarray | sp.spmatrix | sp.sparray) -> np.ndarray:
    if isinstance(obj, LowRankRNN):
        return obj.to_dense()
    if isinstance(obj, FixedDegreeRankOne):
        return obj.to_csr().toarray()
    if sp.issparse(obj):
        return obj.toarray()
    arr = np.asarray(obj, dtype=float)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"matrix: expected a square 2-d array, got shape {arr.shape}")
    return arr


def eigenvalues(obj: NetworkLike | np.ndarray | sp.spmatrix | sp.sparray, *,
                dtype: str = "float64") -> np.ndarray:
    """All eigenvalues of J (dense LAPACK ``geev`` without eigenvectors; for small N).

    Parameters
    ----------
    obj : network or square matrix, shape (N, N)
    dtype : {'float64', 'float32'}
        Precision of the eigenvalue problem. ``'float32'`` (LAPACK ``sgeev``) takes about half
        the time at N = 1000-2000; its eigenvalues differ from the double-precision ones by a few
        units of ``1e-7 * ||J||`` times the eigenvalue's condition number (measured for the
        circular-law edge of N = 1000-2000 Gaussian matrices: relative change of the spectral
        radius < 1e-5, see ``benchmarks/bench_full_figures.py``), far below the finite-N
        fluctuations the reproduce checks allow for.

    Returns
    -------
    ndarray of complex128, shape (N,), sorted by decreasing real part.
    """
    import scipy.linalg

    check_choice("dtype", dtype, ("float64", "float32"))
    a = np.asarray(_as_matrix(obj), dtype=dtype)
    ev = scipy.linalg.eigvals(a, check_finite=False).astype(complex)
    return ev[np.argsort(-ev.real, kind="stable")]


def outliers(
    net: NetworkLike,
    k: int | None = None,
    *,
    which: str = "LR",
    v0: np.ndarray | None = None,
    tol: float = 1e-10,
    maxiter: int | None = None,
    rng: RngLike = None,
) -> np.ndarray:
    """The ``k`` eigenvalues of J with largest real part (or magnitude) by ARPACK.

    J is applied as a LinearOperator through its factors or its CSR matrix, never densified.
    ``v0`` defaults to ``sum_r m_r`` plus a small random vector (m is close to the right
    eigenvector of the outlier, Herbert & Ostojic Methods), which speeds up convergence.

    Parameters
    ----------
    net : LowRankRNN or FixedDegreeRankOne
        A FixedDegreeRankOne is applied through its own gather/scatter products.
    k : int, optional
        Number of eigenvalues (default: the rank).
    which : {'LR', 'LM'}
        Largest real part or largest magnitude.
    v0 : ndarray, shape (N,), optional
    tol : float
    maxiter : int, optional
    rng : Generator, int or None
        For the random part of the default ``v0``.

    Returns
    -------
    ndarray of complex, shape (k,), sorted by decreasing real part ('LR') or magnitude ('LM').
    """
    n = net.n_neurons
    k = net.rank if k is None else check_int("k", k, minimum=1)
    if k >= n - 1:
        raise ValueError(f"k={k}: ARPACK needs k < n_neurons - 1 = {n - 1}; use eigenvalues()")
    check_choice("which", which, ("LR", "LM"))
    large = isinstance(net, FixedDegreeRankOne)
    if v0 is None:
        gen = as_rng(rng)
        m = net.m if large else net.M.sum(axis=1)
        v0 = m / (np.linalg.norm(m) or 1.0) + 1e-3 * gen.standard_normal(n) / np.sqrt(n)
    op = net.operator() if large else net.connectivity_operator()
    ncv = min(n, max(2 * k + 1, 20))
    try:
        vals = eigs(op, k=k, which=which, v0=v0, tol=tol, ncv=ncv, maxiter=maxiter,
                    return_eigenvectors=False)
    except ArpackNoConvergence as err:  # pragma: no cover - depends on the matrix
        vals = err.eigenvalues
        if vals.size == 0:
            raise
    key = -vals.real if which == "LR" else -np.abs(vals)
    return vals[np.argsort(key, kind="stable")]


def bulk_radius(eigs_: np.ndarray, n_outliers: int = 1) -> float:
    """Radius of the bulk: the largest modulus once the ``n_outliers`` largest are removed.

    Parameters
    ----------
    eigs_ : ndarray of complex, shape (K,)
        Eigenvalues (all of them, or the largest-magnitude ones from ARPACK).
    n_outliers : int
        Number of outliers to discard (the rank, for a rank-R matrix with visible outliers).
    """
    n_outliers = check_int("n_outliers", n_outliers, minimum=0)
    mod = np.sort(np.abs(np.asarray(eigs_)))[::-1]
    if mod.size <= n_outliers:
        raise ValueError(f"n_outliers={n_outliers}: only {mod.size} eigenvalues given")
    return float(mod[n_outliers])


def bulk_radius_real_part(eigs_: np.ndarray, n_outliers: int = 1, n_mean: int = 2) -> float:
    """Bulk radius by the authors' rule: mean ``|lambda|`` of the eigenvalues that follow the
    outliers when ordered by decreasing real part.

    Herbert & Ostojic's public code orders the eigenvalues by real part and averages the moduli
    of the 2nd and 3rd (``n_outliers=1, n_mean=2``). These sit at the right-hand edge of the
    bulk, so the rule reads lower than :func:`bulk_radius` (the largest modulus after the
    outliers) on the same eigenvalues; both estimate the radius of the bulk disc.

    Parameters
    ----------
    eigs_ : ndarray of complex, shape (K,)
        All eigenvalues, or at least the ``n_outliers + n_mean`` with the largest real part.
    n_outliers : int
    n_mean : int
        Number of eigenvalues averaged after the outliers (>= 1).
    """
    n_outliers = check_int("n_outliers", n_outliers, minimum=0)
    n_mean = check_int("n_mean", n_mean, minimum=1)
    ev = np.asarray(eigs_)
    if ev.size < n_outliers + n_mean:
        raise ValueError(f"eigs_: {ev.size} eigenvalues given, the rule needs "
                         f"n_outliers + n_mean = {n_outliers + n_mean}")
    order = np.argsort(-ev.real, kind="stable")
    return float(np.mean(np.abs(ev[order[n_outliers:n_outliers + n_mean]])))


@dataclass(frozen=True)
class SpectrumResult:
    """What :func:`measure_spectrum` measured.

    Attributes
    ----------
    outlier : float
        Real part of the eigenvalue with the largest real part.
    bulk_radius : float
        Largest modulus after removing ``rank`` outliers.
    bulk_radius_real_part : float
        The authors' rule on the same spectrum (:func:`bulk_radius_real_part`).
    eigenvalues : ndarray of complex
        All eigenvalues (dense method) or the ARPACK ones.
    method : str
        ``'dense'`` or ``'arpack'``.
    seconds : float
    """

    outlier: float
    bulk_radius: float
    eigenvalues: np.ndarray
    method: str
    seconds: float
    bulk_radius_real_part: float = float("nan")


def measure_spectrum(
    net: NetworkLike, *, method: str = "auto", n_bulk: int = 12, dtype: str = "float64",
    rng: RngLike = None,
) -> SpectrumResult:
    """Measure outlier and bulk radius of a network's connectivity.

    ``method='dense'`` computes all eigenvalues (in ``dtype``, see :func:`eigenvalues`);
    ``'arpack'`` finds the ``rank + n_bulk`` largest-magnitude eigenvalues and the ``rank + 2``
    largest-real-part ones by ARPACK; ``'auto'`` picks dense up to
    :data:`DENSE_SPECTRUM_LIMIT` neurons. ``net`` may be a
    :class:`~lowrank_rnn.large.FixedDegreeRankOne` (ARPACK then runs on its own products).
    Both bulk rules are returned: the largest modulus after the outliers and the authors'
    real-part rule (:func:`bulk_radius_real_part`).
    """
    check_choice("method", method, ("auto", "dense", "arpack"))
    n_bulk = check_int("n_bulk", n_bulk, minimum=1)
    check_choice("dtype", dtype, ("float64", "float32"))
    t0 = time.perf_counter()
    if method == "auto":
        method = "dense" if net.n_neurons <= DENSE_SPECTRUM_LIMIT else "arpack"
    if method == "dense":
        ev = eigenvalues(net, dtype=dtype)
        out = float(ev[0].real)
        by_real = ev
    else:
        by_real = outliers(net, k=net.rank + 2, which="LR", tol=1e-8, rng=rng)
        lm = outliers(net, k=net.rank + n_bulk, which="LM", tol=1e-4, rng=rng)
        out = float(by_real[0].real)
        ev = lm
    radius = bulk_radius(ev, net.rank)
    return SpectrumResult(out, radius, ev, method, time.perf_counter() - t0,
                          bulk_radius_real_part(by_real, net.rank))
