"""Connectivity builders: Gaussian bulk, low-rank loadings, Gaussian mixtures, sparsity masks.

Every function here is pure and takes ``rng`` (a :class:`numpy.random.Generator`, an int seed or
None). Arguments are validated before any random number is drawn.

References
----------
Herbert E., Ostojic S. (2022) The impact of sparsity in low-rank recurrent neural networks.
PLoS Comput Biol 18(8): e1010426. Eq 2 (Gaussian), eq 3–4 and 17–18 (rank one), eq 12 (rescaled).
Beiran M., Dubreuil A., Valente A., Mastrogiuseppe F., Ostojic S. (2021) Shaping dynamics with
multiple populations in low-rank recurrent networks. Neural Computation 33(6) (Gaussian mixtures).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from lowrank_rnn._validate import (
    RngLike,
    as_rng,
    check_array,
    check_int,
    check_psd,
    check_real,
)
from lowrank_rnn.network import LowRankRNN

__all__ = [
    "gaussian_matrix",
    "loadings",
    "rank_one_loadings",
    "mixture_loadings",
    "bernoulli_mask",
    "fixed_degree_indices",
    "fixed_degree_mask",
    "sparsify",
    "add_random",
    "rank_one_network",
    "low_rank_network",
]


# --------------------------------------------------------------------------- helpers
def _cov_factor(cov: np.ndarray) -> np.ndarray:
    """A factor ``L`` with ``L @ L.T == cov`` for a PSD (possibly singular) matrix."""
    w, v = np.linalg.eigh(cov)
    w = np.clip(w, 0.0, None)
    return v * np.sqrt(w)


def _orthonormal_columns(z: np.ndarray) -> np.ndarray:
    """Gram–Schmidt (via QR) of the centred columns of ``z``; scaled so that ``q.T q / N = 1``."""
    n = z.shape[0]
    zc = z - z.mean(axis=0, keepdims=True)
    q, r = np.linalg.qr(zc)
    q = q * np.sign(np.diag(r))  # keep the orientation of the original draws
    return q * np.sqrt(n)


def _gram_schmidt_columns(z: np.ndarray) -> np.ndarray:
    """Classical Gram–Schmidt of the columns of ``z`` in order, *without* normalisation.

    Column j becomes ``z_j`` minus its projections on the earlier (already orthogonalised)
    columns; its length stays random (``|u_j|^2 / N`` fluctuates around 1). Through QR this is
    ``q_j r_jj``. No centring, as in the authors' code of Herbert & Ostojic 2022.
    """
    q, r = np.linalg.qr(z)
    return q * np.diag(r)


def _check_sparsity_args(
    n: int, sparsity: float | None, c: int | None
) -> tuple[float | None, int | None]:
    if sparsity is not None and c is not None:
        raise ValueError(
            f"sparsity={sparsity!r} and c={c!r}: give either a sparsity fraction or a number "
            "of connections per column, not both"
        )
    if sparsity is not None:
        sparsity = check_real("sparsity", sparsity, minimum=0.0, maximum=1.0, max_inclusive=False)
    if c is not None:
        c = check_int("c", c, minimum=1, maximum=n)
    return sparsity, c


# --------------------------------------------------------------------------- random bulk
def gaussian_matrix(
    n_neurons: int,
    g: float,
    *,
    sparsity: float | None = None,
    c: int | None = None,
    rng: RngLike = None,
) -> np.ndarray | sp.csr_array:
    """Full-rank Gaussian connectivity ``J_ij ~ N(0, g^2 / N)`` (Herbert & Ostojic eq 2).

    Parameters
    ----------
    n_neurons : int
        N >= 1.
    g : float
        Coupling strength (>= 0). The dense bulk radius is g.
    sparsity : float in [0, 1), optional
        Keep each entry with probability ``1 - sparsity`` (radius ``g sqrt(1-s)``, eq 6).
    c : int in [1, N], optional
        Keep exactly ``c`` entries per column (radius ``g sqrt(C/N)``).
    rng : Generator, int or None

    Returns
    -------
    ndarray, shape (N, N), or scipy.sparse.csr_array when sparsified.
    """
    n = check_int("n_neurons", n_neurons, minimum=1)
    g = check_real("g", g, minimum=0.0)
    sparsity, c = _check_sparsity_args(n, sparsity, c)
    rng = as_rng(rng)
    if sparsity is None and c is None:
        return rng.standard_normal((n, n)) * (g / np.sqrt(n))
    mask = bernoulli_mask(n, sparsity, rng=rng) if c is None else fixed_degree_mask(n, c, rng=rng)
    vals = rng.standard_normal(mask.nnz) * (g / np.sqrt(n))
    return sp.csr_array((vals, mask.indices, mask.indptr), shape=(n, n))


# --------------------------------------------------------------------------- loadings
def loadings(
    n_neurons: int,
    cov: np.ndarray,
    *,
    mean: np.ndarray | None = None,
    exact: bool = False,
    rng: RngLike = None,
) -> np.ndarray:
    """Draw ``D`` loading vectors whose entries are i.i.d. over neurons, ``N(mean, cov)``.

    Generalises the rank-one construction of Herbert & Ostojic eq 17–18 to any number of vectors
    (m_1..m_R, n_1..n_R, I_1..I_K stacked as columns).

    Parameters
    ----------
    n_neurons : int
    cov : ndarray, shape (D, D)
        Positive semi-definite covariance between the loading vectors.
    mean : ndarray, shape (D,), optional
    exact : bool
        If True, Gram–Schmidt-orthonormalise the underlying standard normal vectors so that the
        sample covariance ``(X - mean)^T (X - mean) / N`` equals ``cov`` exactly (as in the
        authors' code); needs ``n_neurons > D``.
    rng : Generator, int or None

    Returns
    -------
    ndarray, shape (N, D)
    """
    n = check_int("n_neurons", n_neurons, minimum=1)
    cov = check_psd("cov", np.atleast_2d(np.asarray(cov, dtype=float)))
    d = cov.shape[0]
    if mean is None:
        mean = np.zeros(d)
    mean = check_array("mean", mean, shape=(d,)).astype(float)
    if exact and n <= d:
        raise ValueError(f"exact=True: needs n_neurons > {d} (number of vectors), got {n}")
    rng = as_rng(rng)
    z = rng.standard_normal((n, d))
    if exact:
        z = _orthonormal_columns(z)
    return z @ _cov_factor(cov).T + mean


def rank_one_loadings(
    n_neurons: int,
    sigma2: float,
    sigma_mn: float,
    *,
    exact: bool = False,
    gram_schmidt: bool = False,
    rng: RngLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Connectivity vectors m, n with variance ``sigma2`` and covariance ``sigma_mn`` (eq 4).

    For ``0 <= sigma_mn <= sigma2`` uses the construction of Herbert & Ostojic eq 17–18:
    ``m = sqrt(sigma2 - sigma_mn) x + sqrt(sigma_mn) z``,
    ``n = sqrt(sigma2 - sigma_mn) y + sqrt(sigma_mn) z`` with x, y, z standard normal; a negative
    covariance uses ``z`` and ``-z``. ``exact=True`` orthonormalises x, y, z first, so that
    ``m.n / N == sigma_mn`` and ``|m|^2/N == |n|^2/N == sigma2`` exactly.
    ``gram_schmidt=True`` is the authors' construction (their public code for the paper):
    x, y, z made mutually orthogonal by Gram–Schmidt *without* normalisation or centring, so
    ``m.n / N = sigma_mn |z|^2 / N`` (no cross terms; relative spread ``sqrt(2/N)``) while the
    variances still fluctuate with ``|x|^2, |y|^2``.

    Returns
    -------
    m, n : ndarray, shape (N,)
    """
    n = check_int("n_neurons", n_neurons, minimum=1)
    sigma2 = check_real("sigma2", sigma2, minimum=0.0)
    sigma_mn = check_real("sigma_mn", sigma_mn)
    if abs(sigma_mn) > sigma2:
        raise ValueError(
            f"sigma_mn={sigma_mn}: the covariance [[sigma2, sigma_mn], [sigma_mn, sigma2]] is not "
            f"positive semi-definite; need |sigma_mn| <= sigma2 = {sigma2}"
        )
    if exact and gram_schmidt:
        raise ValueError("exact=True and gram_schmidt=True: choose one construction")
    if (exact or gram_schmidt) and n <= 3:
        name = "exact" if exact else "gram_schmidt"
        raise ValueError(f"{name}=True: needs n_neurons > 3, got {n}")
    rng = as_rng(rng)
    xyz = rng.standard_normal((n, 3))
    if exact:
        xyz = _orthonormal_columns(xyz)
    elif gram_schmidt:
        xyz = _gram_schmidt_columns(xyz)
    x, y, z = xyz.T
    a, b = np.sqrt(sigma2 - abs(sigma_mn)), np.sqrt(abs(sigma_mn))
    m = a * x + b * z
    nn = a * y + np.sign(sigma_mn) * b * z if sigma_mn != 0 else a * y
    return m, nn


def mixture_loadings(
    n_neurons: int,
    fractions: Sequence[float],
    means: np.ndarray,
    covs: np.ndarray,
    *,
    exact: bool = False,
    rng: RngLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Loadings drawn from a mixture of P Gaussian populations (Beiran et al. 2021).

    Population p holds ``round(alpha_p N)`` neurons (largest-remainder rounding, so the counts
    sum to N); their D loadings are ``N(means[p], covs[p])``.

    Parameters
    ----------
    n_neurons : int
    fractions : sequence of P floats
        Population fractions alpha_p >= 0 summing to 1.
    means : ndarray, shape (P, D)
    covs : ndarray, shape (P, D, D)
        Each positive semi-definite.
    exact : bool
        Exact sample statistics within each population (see :func:`loadings`).
    rng : Generator, int or None

    Returns
    -------
    X : ndarray, shape (N, D)
    labels : ndarray of int, shape (N,)
        Population index of each neuron (neurons are ordered by population).
    """
    n = check_int("n_neurons", n_neurons, minimum=1)
    alpha = check_array("fractions", np.asarray(fractions, dtype=float), ndim=1)
    p = alpha.size
    if p < 1 or np.any(alpha < 0) or not np.isclose(alpha.sum(), 1.0, atol=1e-9):
        raise ValueError(
            f"fractions={alpha.tolist()}: population fractions must be >= 0 and sum to 1 "
            f"(sum is {alpha.sum():.6g})"
        )
    means = check_array("means", np.asarray(means, dtype=float), ndim=2)
    if means.shape[0] != p:
        raise ValueError(
            f"means: expected shape ({p}, D), one row per population, got {means.shape}"
        )
    d = means.shape[1]
    covs = check_array("covs", np.asarray(covs, dtype=float), shape=(p, d, d))
    for k in range(p):
        check_psd(f"covs[{k}]", covs[k])
    rng = as_rng(rng)
    raw = alpha * n
    counts = np.floor(raw).astype(int)
    counts[np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]] += 1
    blocks = []
    for k in range(p):
        if counts[k] == 0:
            continue
        ex = exact and counts[k] > d
        blocks.append(loadings(counts[k], covs[k], mean=means[k], exact=ex, rng=rng))
    labels = np.repeat(np.arange(p), counts)
    return np.vstack(blocks), labels


# --------------------------------------------------------------------------- masks
def bernoulli_mask(n_neurons: int, sparsity: float, *, rng: RngLike = None) -> sp.csr_array:
    """Binary mask with entries ``X_ij ~ Bernoulli(1 - sparsity)`` (Herbert & Ostojic, Fig 1A).

    Returns
    -------
    scipy.sparse.csr_array of bool, shape (N, N)
    """
    n = check_int("n_neurons", n_neurons, minimum=1)
    s = check_real("sparsity", sparsity, minimum=0.0, maximum=1.0, max_inclusive=False)
    rng = as_rng(rng)
    keep = 1.0 - s
    indptr = np.zeros(n + 1, dtype=np.int64)
    cols = []
    rows_per_chunk = max(1, (1 << 24) // n)
    for a in range(0, n, rows_per_chunk):
        b = min(n, a + rows_per_chunk)
        block = rng.random((b - a, n)) < keep
        r, c = np.nonzero(block)
        cols.append(c.astype(np.int32))
        indptr[a + 1 : b + 1] = indptr[a] + np.cumsum(block.sum(axis=1))
    indices = np.concatenate(cols) if cols else np.zeros(0, np.int32)
    data = np.ones(indices.size, dtype=bool)
    return sp.csr_array((data, indices, indptr), shape=(n, n))


def fixed_degree_indices(n_neurons: int, c: int, *, rng: RngLike = None) -> np.ndarray:
    """Row indices of exactly ``c`` distinct non-zeros in each of the N columns.

    Column j's non-zeros are the sorted rows ``out[j]``: the outgoing connections of neuron j
    (Herbert & Ostojic: "a fixed number of outgoing connections C per unit").
    Memory is ``4 N C`` bytes (int32); the rows are drawn with replacement and duplicates
    redrawn, which is exact sampling without replacement.

    Returns
    -------
    ndarray of int32, shape (N, C)
    """
    n = check_int("n_neurons", n_neurons, minimum=1)
    c = check_int("c", c, minimum=1, maximum=n)
    if n > np.iinfo(np.int32).max:
        raise ValueError(f"n_neurons={n}: at most {np.iinfo(np.int32).max} neurons are supported")
    rng = as_rng(rng)
    if c > n // 4:
        out = np.empty((n, c), dtype=np.int32)
        chunk = max(1, (1 << 23) // n)
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            keys = rng.random((b - a, n))
            out[a:b] = np.sort(np.argpartition(keys, c - 1, axis=1)[:, :c], axis=1)
        return out
    out = rng.integers(0, n, size=(n, c), dtype=np.int32)
    out.sort(axis=1)
    while True:
        dup = np.zeros(out.shape, dtype=bool)
        dup[:, 1:] = out[:, 1:] == out[:, :-1]
        bad_rows = np.flatnonzero(dup.any(axis=1))
        if bad_rows.size == 0:
            return out
        sub = out[bad_rows]
        d = dup[bad_rows]
        sub[d] = rng.integers(0, n, size=int(d.sum()), dtype=np.int32)
        sub.sort(axis=1)
        out[bad_rows] = sub


def fixed_degree_mask(n_neurons: int, c: int, *, rng: RngLike = None) -> sp.csr_array:
    """Binary mask with exactly ``c`` non-zeros in every column (Herbert & Ostojic, Fig 1D).

    Returns
    -------
    scipy.sparse.csr_array of bool, shape (N, N)
    """
    idx = fixed_degree_indices(n_neurons, c, rng=rng)
    n, c = idx.shape
    indptr = np.arange(0, n * c + 1, c, dtype=np.int64)
    data = np.ones(n * c, dtype=bool)
    csc = sp.csc_array((data, idx.ravel(), indptr), shape=(n, n))
    return sp.csr_array(csc)


# --------------------------------------------------------------------------- networks
def sparsify(
    net: LowRankRNN,
    *,
    sparsity: float | None = None,
    c: int | None = None,
    rescaled: bool = False,
    rng: RngLike = None,
) -> LowRankRNN:
    """Apply a sparsity mask X to a network's low-rank part (and to its random part).

    ``rescaled=False`` keeps the scale (``P = X ⊙ m n^T / N``, eq 7–11); ``rescaled=True`` sets
    the scale to 1 (``P = X ⊙ m n^T``, eq 12), which keeps outlier and bulk finite as N grows at
    fixed C. A dense random part is masked with the same X.

    Parameters
    ----------
    net : LowRankRNN
        A network without a mask.
    sparsity : float in [0, 1), optional
        Bernoulli fraction of zeros.
    c : int in [1, N], optional
        Exactly c non-zeros per column.
    rescaled : bool
    rng : Generator, int or None
    """
    if net.mask is not None:
        raise ValueError("net: already has a sparsity mask; sparsify the unmasked network")
    n = net.n_neurons
    sparsity, c = _check_sparsity_args(n, sparsity, c)
    if sparsity is None and c is None:
        raise ValueError("sparsify: give sparsity (a fraction in [0, 1)) or c (an int in [1, N])")
    rng = as_rng(rng)
    mask = bernoulli_mask(n, sparsity, rng=rng) if c is None else fixed_degree_mask(n, c, rng=rng)
    random = net.random
    if random is not None:
        if sp.issparse(random):
            random = sp.csr_array(random).multiply(mask)
        else:
            rows = np.repeat(np.arange(n), np.diff(mask.indptr))
            random = sp.csr_array((random[rows, mask.indices], mask.indices, mask.indptr), (n, n))
    return net.replace(mask=mask, random=random, scale=1.0 if rescaled else net.scale)


def add_random(
    net: LowRankRNN,
    g: float,
    *,
    rng: RngLike = None,
) -> LowRankRNN:
    """Low rank plus a dense Gaussian random part ``g chi``, ``chi_ij ~ N(0, 1/N)`` (eq 2)."""
    g = check_real("g", g, minimum=0.0)
    if net.random is not None:
        raise ValueError("net: already has a random part")
    if g == 0.0:
        return net
    return net.replace(random=gaussian_matrix(net.n_neurons, g, rng=rng))


def low_rank_network(
    M: np.ndarray,
    N: np.ndarray,
    *,
    I: np.ndarray | None = None,
    W: np.ndarray | None = None,
    scale: float | None = None,
    readout_scale: float = 1.0,
    tau: float = 1.0,
    phi: str = "tanh",
) -> LowRankRNN:
    """A pure low-rank network ``J = scale * M N^T`` (default scale ``1/N``, eq 3)."""
    n = np.shape(M)[0] if np.ndim(M) else 0
    return LowRankRNN(
        M=M, N=N, I=I, W=W, scale=(1.0 / max(n, 1)) if scale is None else scale,
        readout_scale=readout_scale, tau=tau, phi=phi,
    )


def rank_one_network(
    n_neurons: int,
    sigma2: float,
    sigma_mn: float,
    *,
    sparsity: float | None = None,
    c: int | None = None,
    rescaled: bool = False,
    g: float = 0.0,
    exact: bool = False,
    gram_schmidt: bool = False,
    tau: float = 1.0,
    phi: str = "tanh",
    rng: RngLike = None,
) -> LowRankRNN:
    """The rank-one network of Herbert & Ostojic 2022 in one call.

    ``J = X ⊙ m n^T / N`` (eq 3, 7–11), or ``X ⊙ m n^T`` with ``rescaled=True`` (eq 12), plus an
    optional Gaussian part of strength ``g`` (eq 2; masked with the same X when sparse).
    m, n come from :func:`rank_one_loadings` (eq 17–18).

    Parameters
    ----------
    n_neurons : int
    sigma2, sigma_mn : float
        Variance of m and n, and their covariance (eq 4); ``|sigma_mn| <= sigma2``.
    sparsity : float in [0, 1), optional
    c : int in [1, N], optional
    rescaled : bool
        Requires ``sparsity`` or ``c``.
    g : float
        Strength of the Gaussian random part (>= 0).
    exact : bool
        Exact overlaps (Gram–Schmidt with normalisation).
    gram_schmidt : bool
        The authors' loadings: Gram–Schmidt without normalisation (see
        :func:`rank_one_loadings`).
    tau : float
    phi : {'tanh', 'relu', 'linear'}
    rng : Generator, int or None
    """
    n = check_int("n_neurons", n_neurons, minimum=1)
    sparsity, c = _check_sparsity_args(n, sparsity, c)
    g = check_real("g", g, minimum=0.0)
    if rescaled and sparsity is None and c is None:
        raise ValueError("rescaled=True: needs sparsity or c (eq 12 is the sparse rescaled form)")
    rng = as_rng(rng)
    m, nn = rank_one_loadings(n, sigma2, sigma_mn, exact=exact, gram_schmidt=gram_schmidt,
                              rng=rng)
    net = low_rank_network(m[:, None], nn[:, None], tau=tau, phi=phi)
    if g > 0:
        net = add_random(net, g, rng=rng)
    if sparsity is not None or c is not None:
        net = sparsify(net, sparsity=sparsity, c=c, rescaled=rescaled, rng=rng)
    return net
