"""Very large sparse rank-one networks with a fixed number of connections per column.

The rescaled sparse rank-one matrix of Herbert & Ostojic (2022), eq 12,

    P = X ⊙ m n^T,    X_ij in {0, 1},  exactly C non-zeros in every column of X,

is held here as the loadings ``m``, ``n`` (shape ``(N,)``) and ONE ``(N, C)`` int32 array ``idx``
with the row indices of column j's non-zeros in ``idx[j]`` — ``4 N C`` bytes, no data array, no
second copy for another sparse format. Its outlier is ``C sigma_mn`` (eq 13) and its bulk radius
``sqrt(C) sigma^2`` for N >> C (eq 14).

Products with P never form P:

* ``P^T v = n ⊙ (X^T (m ⊙ v))``, and the rows of ``X^T`` are exactly the lists ``idx[j]``, so
  ``X^T u`` is a gather plus a fixed-width row sum, ``u[idx].sum(axis=1)``. It is evaluated in
  row blocks by scipy's compiled CSR kernel on block matrices whose ``indices`` are views into
  ``idx`` and whose ``data`` is one shared block of ones; the kernel releases the GIL, so the
  blocks are spread over a thread pool. Options: the gather in float32 (half the memory
  traffic), and a segmented layout that keeps the slice of ``u`` being read in cache.
* ``P v = m ⊙ (X (n ⊙ v))`` is a scatter-add (used for checks, not by :meth:`outlier`).

``P`` and ``P^T`` have the same eigenvalues, and the left eigenvector of the outlier of P is close
to ``n`` (P ≈ (C/N) m n^T), so :meth:`FixedDegreeRankOne.outlier` runs ARPACK on ``P^T``
started from ``v0 = n`` and needs few products.

References
----------
Herbert E., Ostojic S. (2022) The impact of sparsity in low-rank recurrent neural networks.
PLoS Comput Biol 18(8): e1010426. Eq 12 (rescaled sparse rank one), eq 13–14 (outlier, radius).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigs

from lowrank_rnn._validate import (
    RngLike,
    as_rng,
    check_array,
    check_choice,
    check_int,
    check_real,
)
from lowrank_rnn.connectivity import fixed_degree_indices, rank_one_loadings
from lowrank_rnn.io import Storable, register_format
from lowrank_rnn.network import LowRankRNN

__all__ = [
    "FixedDegreeRankOne",
    "OutlierResult",
    "fixed_degree_indices_parallel",
    "default_threads",
]

#: Rows per block when drawing indices: the draw depends only on (rng, N, C), not on threads.
DRAW_BLOCK_ROWS = 1 << 15
#: Rows per block of the CSR product (the shared block of ones is ``8 * C * rows`` bytes).
PRODUCT_BLOCK_ROWS = 4096
#: Rows per block in the segmented layout (each slice of ``u`` is reused across the block).
SEGMENT_BLOCK_ROWS = 1 << 16
#: Fewest non-zeros per (column, segment) on average worth a segment of its own.
MIN_PER_SEGMENT = 8


def default_threads() -> int:
    """Number of threads used by default: the CPUs this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _check_threads(n_threads: int | None) -> int:
    if n_threads is None:
        return default_threads()
    return check_int("n_threads", n_threads, minimum=1)


def _run_blocks(fn: Callable[[int, int], None], n_items: int, block: int, n_threads: int) -> None:
    """Call ``fn(a, b)`` on consecutive ``[a, b)`` blocks of ``range(n_items)``, threaded."""
    bounds = [(a, min(n_items, a + block)) for a in range(0, n_items, block)]
    if n_threads == 1 or len(bounds) == 1:
        for a, b in bounds:
            fn(a, b)
        return
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        for fut in [pool.submit(fn, a, b) for a, b in bounds]:
            fut.result()


# --------------------------------------------------------------------------- index draw
def _distinct_rows(out: np.ndarray, n: int, gen: np.random.Generator) -> None:
    """Draw ``out`` (shape (B, C), int32) in place: sorted rows of C distinct ints in [0, n).

    Draw with replacement, then redraw the repeated entries of the rows that have some, until
    every row is distinct. The procedure commutes with every relabelling of ``0..n-1``, so each
    row is a uniformly random C-subset (exact sampling without replacement).
    """
    out[...] = gen.integers(0, n, size=out.shape, dtype=np.int32)
    out.sort(axis=1)
    bad = np.flatnonzero((out[:, 1:] == out[:, :-1]).any(axis=1))
    while bad.size:
        sub = out[bad]
        rep = np.zeros(sub.shape, dtype=bool)
        rep[:, 1:] = sub[:, 1:] == sub[:, :-1]
        sub[rep] = gen.integers(0, n, size=int(rep.sum()), dtype=np.int32)
        sub.sort(axis=1)
        out[bad] = sub
        bad = bad[(sub[:, 1:] == sub[:, :-1]).any(axis=1)]


def fixed_degree_indices_parallel(
    n_neurons: int, c: int, *, rng: RngLike = None, n_threads: int | None = None
) -> np.ndarray:
    """Row indices of exactly ``c`` distinct non-zeros in each of the N columns, drawn in parallel.

    Same contract as :func:`lowrank_rnn.connectivity.fixed_degree_indices` (Herbert & Ostojic:
    "a fixed number of outgoing connections C per unit"): row ``j`` of the result holds the sorted,
    distinct rows of column j's non-zeros, each a uniformly random C-subset of ``0..N-1``,
    independently over columns. Blocks of :data:`DRAW_BLOCK_ROWS` columns get their own
    generator spawned from ``rng``, so the result depends on ``rng``, N and C only — not on
    ``n_threads``. Memory: the ``4 N C`` bytes of the result plus a few blocks.

    For ``c > N / 4`` it falls back to :func:`lowrank_rnn.connectivity.fixed_degree_indices`
    (a different draw, equally exact).

    Parameters
    ----------
    n_neurons : int
        N >= 1 (at most 2^31 - 1).
    c : int in [1, N]
    rng : Generator, int or None
    n_threads : int, optional
        Default: :func:`default_threads`.

    Returns
    -------
    ndarray of int32, shape (N, C)
    """
    n = check_int("n_neurons", n_neurons, minimum=1, maximum=int(np.iinfo(np.int32).max))
    c = check_int("c", c, minimum=1, maximum=n)
    threads = _check_threads(n_threads)
    rng = as_rng(rng)
    if c > n // 4:
        return fixed_degree_indices(n, c, rng=rng)
    n_blocks = -(-n // DRAW_BLOCK_ROWS)
    seeds = np.random.SeedSequence(rng.integers(0, 2**63, size=4).tolist()).spawn(n_blocks)
    out = np.empty((n, c), dtype=np.int32)

    def draw(a: int, b: int) -> None:
        gen = np.random.Generator(np.random.PCG64(seeds[a // DRAW_BLOCK_ROWS]))
        _distinct_rows(out[a:b], n, gen)

    _run_blocks(draw, n, DRAW_BLOCK_ROWS, threads)
    return out


def _index_range(idx: np.ndarray, n_threads: int) -> tuple[int, int]:
    """Smallest and largest entry of a 2-d integer array, in row blocks on threads."""
    parts: list[tuple[int, int]] = []

    def scan(a: int, b: int) -> None:
        parts.append((int(idx[a:b].min()), int(idx[a:b].max())))

    _run_blocks(scan, idx.shape[0], max(1, (1 << 24) // idx.shape[1]), n_threads)
    return min(p[0] for p in parts), max(p[1] for p in parts)


# --------------------------------------------------------------------------- the matrix
@dataclass(frozen=True)
class OutlierResult:
    """The outlier found by :meth:`FixedDegreeRankOne.outlier`.

    Attributes
    ----------
    value : complex
        The eigenvalue (largest real part for ``which='LR'``, largest modulus for ``'LM'``).
    n_products : int
        Matrix-vector products ARPACK needed.
    """

    value: complex
    n_products: int


class FixedDegreeRankOne(Storable):
    """``P = scale * X ⊙ m n^T`` with exactly C non-zeros per column of X (eq 12; eq 10 scaled).

    Parameters
    ----------
    m, n : ndarray, shape (N,)
        Connectivity vectors (finite).
    idx : ndarray of int, shape (N, C)
        ``idx[j]`` are the rows of the non-zeros of column j, each in ``[0, N)`` (checked) and
        distinct within a row (not checked: that would cost a sort; the draw functions guarantee
        it). Kept without a copy when it is a C-contiguous int32 array, as returned by
        :func:`fixed_degree_indices_parallel` or
        :func:`lowrank_rnn.connectivity.fixed_degree_indices`.
    scale : float
        1 for the rescaled matrix of eq 12 (outlier ``C sigma_mn``, eq 13); ``1/N`` for
        ``X ⊙ m n^T / N`` (outlier ``C sigma_mn / N``, eq 10).
    n_threads : int, optional
        Threads for the products. Default: :func:`default_threads`.
    dtype : {'float64', 'float32'}
        Floating type of the gather ``X^T u`` inside :meth:`rmatvec` (results are float64).
        ``float32`` halves the memory traffic of the products; each sum of C terms then carries
        a relative rounding error of order ``sqrt(C) 6e-8``, which moves eigenvalues by about
        ``1e-7`` relative (use an ARPACK ``tol`` of 1e-6 or looser).
    segment_bytes : int, optional
        Opt-in *segmented layout* for long runs of products: when ``u`` (``N`` x itemsize
        bytes) is larger than ``segment_bytes`` (about the L2 cache, e.g. ``2**20``), the
        entries of each block of :data:`SEGMENT_BLOCK_ROWS` columns are reordered in place so
        that those pointing into the same slice of ``u`` are contiguous, and the block is
        summed one slice at a time, the slice staying in cache (at most ``C /
        MIN_PER_SEGMENT`` slices). Measured with u of 40 MB: about 1.8x faster products, for
        a one-off reordering that costs about as much as three plain products — worth it for
        many products (several eigenvalues, the bulk), not for one outlier. Default: plain.
    copy : bool
        The segmented layout reorders ``idx``; with ``copy=False`` it reorders the caller's
        array in place (no second ``4 N C`` bytes), with ``copy=True`` a copy.

    Attributes
    ----------
    idx : ndarray of int32, shape (N, C)
        The index storage. In the plain layout ``idx[j]`` are column j's rows; in the segmented
        layout the entries of each block are stored slice by slice (see :meth:`column_rows`).
    n_segments : int
        1 for the plain layout.

    Notes
    -----
    Memory: ``4 N C`` bytes for ``idx``, ``16 N`` for m and n, ``N n_segments`` bytes of
    counts in the segmented layout, one shared block of ones, plus O(N) per product.
    """

    def __init__(
        self,
        m: np.ndarray,
        n: np.ndarray,
        idx: np.ndarray,
        *,
        scale: float = 1.0,
        n_threads: int | None = None,
        dtype: str | type = "float64",
        segment_bytes: int | None = None,
        copy: bool = True,
    ) -> None:
        try:
            dtype_name = np.dtype(dtype).name
        except TypeError as err:
            raise ValueError(f"dtype={dtype!r}: must be 'float64' or 'float32'") from err
        check_choice("dtype", dtype_name, ("float64", "float32"))
        scale = check_real("scale", scale)
        threads = _check_threads(n_threads)
        m = check_array("m", m, ndim=1).astype(float, copy=False)
        size = m.shape[0]
        if size < 1:
            raise ValueError("m: expected at least one neuron, got an empty array")
        if size > np.iinfo(np.int32).max:
            raise ValueError(f"m: at most {np.iinfo(np.int32).max} neurons are supported")
        n = check_array("n", n, shape=(size,)).astype(float, copy=False)
        idx = np.asarray(idx)
        if idx.ndim != 2 or idx.shape[0] != size or not 1 <= idx.shape[1] <= size:
            raise ValueError(
                f"idx: expected shape ({size}, C) with 1 <= C <= {size} (row indices of each "
                f"column's non-zeros), got {idx.shape}"
            )
        if not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"idx: expected an integer array, got dtype {idx.dtype}")
        lo, hi = _index_range(idx, threads)
        if lo < 0 or hi >= size:
            raise ValueError(f"idx: row indices must lie in [0, {size - 1}], got [{lo}, {hi}]")
        if segment_bytes is not None:
            segment_bytes = check_int("segment_bytes", segment_bytes, minimum=1)
        self.m = m
        self.n = n
        self.scale = scale
        self.n_threads = threads
        self.dtype = np.dtype(dtype_name)
        c = idx.shape[1]
        n_seg = 1
        if segment_bytes is not None:
            n_seg = min(-(-size * self.dtype.itemsize // segment_bytes), c // MIN_PER_SEGMENT, 255)
        self.n_segments = max(1, int(n_seg))
        self.segment_length = -(-size // self.n_segments)
        if self.n_segments == 1:
            self.idx = np.ascontiguousarray(idx, dtype=np.int32)
            self._counts: np.ndarray | None = None
        else:
            if copy or idx.dtype != np.int32 or not idx.flags.c_contiguous:
                idx = np.array(idx, dtype=np.int32, order="C")
            self.idx = idx
            self._counts = self._segment_in_place()
        self._blocks: list[tuple[int, int, sp.csr_array]] | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def random(
        cls,
        n_neurons: int,
        c: int,
        sigma2: float,
        sigma_mn: float,
        *,
        rescaled: bool = True,
        exact: bool = False,
        rng: RngLike = None,
        n_threads: int | None = None,
        dtype: str | type = "float64",
    ) -> FixedDegreeRankOne:
        """Draw the sparse rank-one matrix of Herbert & Ostojic eq 12 (or eq 10).

        m, n from :func:`lowrank_rnn.connectivity.rank_one_loadings` (eq 17–18: variances
        ``sigma2``, covariance ``sigma_mn``), then X from :func:`fixed_degree_indices_parallel`.

        Parameters
        ----------
        n_neurons : int
        c : int in [1, N]
            Non-zeros per column.
        sigma2, sigma_mn : float
            ``|sigma_mn| <= sigma2``.
        rescaled : bool
            True: ``P = X ⊙ m n^T`` (eq 12); False: ``P = X ⊙ m n^T / N``.
        exact : bool
            Exact overlaps ``m.n/N = sigma_mn`` (Gram–Schmidt).
        rng : Generator, int or None
        n_threads : int, optional
        dtype : {'float64', 'float32'}
            Floating type of the gather in the products (see the class docstring).
        """
        size = check_int("n_neurons", n_neurons, minimum=1, maximum=int(np.iinfo(np.int32).max))
        c = check_int("c", c, minimum=1, maximum=size)
        sigma2 = check_real("sigma2", sigma2, minimum=0.0)
        sigma_mn = check_real("sigma_mn", sigma_mn)
        if abs(sigma_mn) > sigma2:
            raise ValueError(
                f"sigma_mn={sigma_mn}: need |sigma_mn| <= sigma2 = {sigma2} (positive "
                "semi-definite covariance of m and n)"
            )
        threads = _check_threads(n_threads)
        rng = as_rng(rng)
        m, n = rank_one_loadings(size, sigma2, sigma_mn, exact=exact, rng=rng)
        idx = fixed_degree_indices_parallel(size, c, rng=rng, n_threads=threads)
        return cls(m, n, idx, scale=1.0 if rescaled else 1.0 / size, n_threads=threads,
                   dtype=dtype, copy=False)

    # ------------------------------------------------------------------ properties
    @property
    def n_neurons(self) -> int:
        """N."""
        return int(self.m.shape[0])

    @property
    def c(self) -> int:
        """Non-zeros per column."""
        return int(self.idx.shape[1])

    @property
    def rank(self) -> int:
        """Rank of the low-rank factor ``m n^T`` (1)."""
        return 1

    @property
    def shape(self) -> tuple[int, int]:
        """``(N, N)``."""
        return (self.n_neurons, self.n_neurons)

    @property
    def nnz(self) -> int:
        """``N C``."""
        return int(self.idx.size)

    def _segment_in_place(self) -> np.ndarray:
        """Reorder each block of ``idx`` slice by slice (stable); return (N, S) counts."""
        size, c = self.idx.shape
        n_seg, seg_len = self.n_segments, self.segment_length
        count_type = np.uint8 if c <= 255 else np.uint16 if c <= 65535 else np.int32
        counts = np.empty((size, n_seg), dtype=count_type)

        def reorder(a: int, b: int) -> None:
            blk = self.idx[a:b]
            if not np.all(blk[:, 1:] >= blk[:, :-1]):
                blk.sort(axis=1)  # the same column lists; sorted rows make segments contiguous
            k = b - a
            key = blk // np.int32(seg_len)  # slice of each entry; key = row * S + slice
            key += (np.arange(k, dtype=np.int32) * n_seg)[:, None]  # sorted: rows are sorted
            edges = np.searchsorted(key.reshape(-1), np.arange(k * n_seg + 1, dtype=np.int32))
            cnt = np.diff(edges).reshape(k, n_seg)
            del key, edges
            counts[a:b] = cnt
            # Row r's slice-s entries are one run; runs move from (row, slice) order in the
            # rows to (slice, row) order in storage. src = dest + shift of the run.
            dest_start = np.zeros((n_seg, k), dtype=np.int64)
            np.cumsum(cnt.T.reshape(-1)[:-1], out=dest_start.reshape(-1)[1:])
            src_start = np.zeros((k, n_seg), dtype=np.int64)
            np.cumsum(cnt.reshape(-1)[:-1], out=src_start.reshape(-1)[1:])
            shift = np.repeat((src_start.T - dest_start).reshape(-1), cnt.T.reshape(-1))
            shift += np.arange(k * c, dtype=np.int64)
            flat = blk.reshape(-1)
            flat[:] = flat[shift]

        _run_blocks(reorder, size, SEGMENT_BLOCK_ROWS, self.n_threads)
        return counts

    def _storage_columns(self, a: int, b: int) -> np.ndarray:
        """The column j of each entry of ``idx[a:b]`` in storage order, shape ((b - a) C,)."""
        c = self.c
        cols = np.arange(a, b)
        if self._counts is None:
            return np.repeat(cols, c)
        out = []
        for start in range(a, b, SEGMENT_BLOCK_ROWS):
            stop = min(b, start + SEGMENT_BLOCK_ROWS)
            cnt = self._counts[start:stop]
            out += [np.repeat(np.arange(start, stop), cnt[:, s]) for s in range(self.n_segments)]
        return np.concatenate(out)

    def column_rows(self, j: int) -> np.ndarray:
        """Rows of the non-zeros of column j (the list ``idx[j]`` of the input), shape (C,)."""
        j = check_int("j", j, minimum=0, maximum=self.n_neurons - 1)
        if self._counts is None:
            return self.idx[j].copy()
        a = (j // SEGMENT_BLOCK_ROWS) * SEGMENT_BLOCK_ROWS
        b = min(self.n_neurons, a + SEGMENT_BLOCK_ROWS)
        flat = self.idx[a:b].reshape(-1)
        return flat[self._storage_columns(a, b) == j]

    def _block_matrices(self) -> list[tuple[int, int, sp.csr_array]]:
        """Plain layout: ``X^T[a:b]`` as CSR blocks sharing ``idx`` and one block of ones."""
        if self._blocks is None:
            size, c = self.idx.shape
            rows = min(PRODUCT_BLOCK_ROWS, size)
            ones = np.ones(rows * c, dtype=self.dtype)
            indptr = np.arange(0, rows * c + 1, c, dtype=np.int32)
            blocks = []
            for a in range(0, size, rows):
                b = min(size, a + rows)
                k = b - a
                # The arrays are attached after construction: the constructor would copy views
                # of larger arrays (the point is that the blocks share idx and one block of ones).
                block = sp.csr_array((k, size), dtype=self.dtype)
                block.indptr = indptr[: k + 1]
                block.indices = self.idx[a:b].reshape(-1)
                block.data = ones[: k * c]
                blocks.append((a, b, block))
            self._blocks = blocks
        return self._blocks

    # ------------------------------------------------------------------ products
    def _check_vector(self, v: np.ndarray) -> np.ndarray:
        v = np.asarray(v)
        if v.shape not in ((self.n_neurons,), (self.n_neurons, 1)):
            raise ValueError(f"v: expected shape ({self.n_neurons},), got {v.shape}")
        return v.reshape(-1)

    def gather_sum(self, u: np.ndarray) -> np.ndarray:
        """``X^T u``: ``out[j] = sum_k u[idx[j, k]]`` (shape (N,) -> (N,), real or complex)."""
        u = self._check_vector(u)
        if np.iscomplexobj(u):
            return self.gather_sum(u.real) + 1j * self.gather_sum(u.imag)
        u = np.ascontiguousarray(u, dtype=self.dtype)
        if self._counts is not None:
            return self._gather_segmented(u)
        out = np.empty(self.n_neurons)
        blocks = self._block_matrices()

        def work(first: int, last: int) -> None:
            for a, b, block in blocks[first:last]:
                out[a:b] = block @ u

        per_task = max(1, -(-len(blocks) // (8 * self.n_threads)))
        _run_blocks(work, len(blocks), per_task, self.n_threads)
        return out

    def _gather_segmented(self, u: np.ndarray) -> np.ndarray:
        """``X^T u`` in the segmented layout: per block, one slice of ``u`` at a time."""
        size, c = self.idx.shape
        rows = min(SEGMENT_BLOCK_ROWS, size)
        ones = np.ones(rows * c, dtype=self.dtype)
        out = np.zeros(size)
        counts = self._counts

        def work(a: int, b: int) -> None:
            k = b - a
            flat = self.idx[a:b].reshape(-1)
            indptr = np.zeros(k + 1, dtype=np.int32)
            block = sp.csr_array((k, size), dtype=self.dtype)
            start = 0
            for s in range(self.n_segments):
                np.cumsum(counts[a:b, s], out=indptr[1:])
                nnz = int(indptr[-1])
                # attached after construction: the constructor would copy these views
                block.indptr = indptr
                block.indices = flat[start : start + nnz]
                block.data = ones[:nnz]
                out[a:b] += block @ u
                start += nnz

        _run_blocks(work, size, rows, self.n_threads)
        return out

    def scatter_sum(self, x: np.ndarray) -> np.ndarray:
        """``X x``: ``out[i] = sum_{(j, k): idx[j, k] = i} x[j]`` (shape (N,) -> (N,))."""
        x = self._check_vector(x)
        if np.iscomplexobj(x):
            return self.scatter_sum(x.real) + 1j * self.scatter_sum(x.imag)
        size, c = self.idx.shape
        block = max(1, (1 << 22) // c)
        parts: list[np.ndarray] = []

        if self._counts is not None:  # whole layout blocks
            block = -(-block // SEGMENT_BLOCK_ROWS) * SEGMENT_BLOCK_ROWS

        def work(a: int, b: int) -> None:
            parts.append(
                np.bincount(self.idx[a:b].reshape(-1), weights=x[self._storage_columns(a, b)],
                            minlength=size)
            )

        _run_blocks(work, size, block, self.n_threads)
        return np.sum(parts, axis=0)

    def matvec(self, v: np.ndarray) -> np.ndarray:
        """``P v = scale * m ⊙ (X (n ⊙ v))``; v of shape (N,) -> (N,)."""
        v = self._check_vector(v)
        return (self.scale * self.m) * self.scatter_sum(self.n * v)

    def rmatvec(self, v: np.ndarray) -> np.ndarray:
        """``P^T v = scale * n ⊙ (X^T (m ⊙ v))``; v of shape (N,) -> (N,)."""
        v = self._check_vector(v)
        if np.iscomplexobj(v):
            u = self.m * v
        else:  # formed directly in the gather's type: one N-vector less at float32
            u = np.multiply(self.m, v, dtype=self.dtype)
        out = self.gather_sum(u)
        out *= self.n
        if self.scale != 1.0:
            out *= self.scale
        return out

    def operator(self) -> LinearOperator:
        """P as a :class:`scipy.sparse.linalg.LinearOperator` (matvec and rmatvec)."""
        return LinearOperator(self.shape, matvec=self.matvec, rmatvec=self.rmatvec, dtype=float)

    def transpose_operator(self) -> LinearOperator:
        """``P^T`` as a LinearOperator: its matvec is the fast gather (used by :meth:`outlier`)."""
        return LinearOperator(self.shape, matvec=self.rmatvec, rmatvec=self.matvec, dtype=float)

    def to_csr(self) -> sp.csr_array:
        """P as a scipy CSR array (a reference for checks: ``12 N C`` bytes, for small N)."""
        size = self.n_neurons
        rows = self.idx.reshape(-1).astype(np.int64)
        cols = self._storage_columns(0, size)
        data = (self.scale * self.m[rows]) * self.n[cols]
        return sp.csr_array(sp.coo_array((data, (rows, cols)), shape=(size, size)))

    def to_network(self, *, tau: float = 1.0, phi: str = "tanh") -> LowRankRNN:
        """The same connectivity as a :class:`~lowrank_rnn.network.LowRankRNN` with a CSR mask.

        ``J = scale * X ⊙ m n^T`` with ``M = m[:, None]``, ``N = n[:, None]`` and X the 0/1
        mask of this matrix's non-zeros. The mask costs ``12 N C`` bytes (CSR of float64 ones
        with int32 indices) on top of the ``4 N C`` of ``idx``: what :func:`simulate` needs
        (its sparse kernels run on CSR), not what the ARPACK outlier at N = 10^7 needs.
        """
        size = self.n_neurons
        rows = self.idx.reshape(-1)
        cols = self._storage_columns(0, size)
        mask = sp.csr_array(sp.coo_array((np.ones(rows.size), (rows, cols)), shape=self.shape))
        return LowRankRNN(M=self.m[:, None], N=self.n[:, None], mask=mask, scale=self.scale,
                          tau=tau, phi=phi)

    # ------------------------------------------------------------------ spectrum
    def outlier(
        self,
        *,
        which: str = "LR",
        tol: float = 1e-8,
        ncv: int = 4,
        v0: np.ndarray | None = None,
        maxiter: int | None = None,
    ) -> OutlierResult:
        """The outlier of P by ARPACK on ``P^T`` (same eigenvalues), started from ``v0 = n``.

        Herbert & Ostojic eq 13 predicts ``C sigma_mn`` for the rescaled matrix; ``n`` is close
        to the left eigenvector of that outlier, so ARPACK converges in a few products when the
        outlier is well separated from the bulk (radius ``sqrt(C) sigma^2``, eq 14).

        Parameters
        ----------
        which : {'LR', 'LM'}
            Largest real part or largest modulus.
        tol : float
            ARPACK relative tolerance (> 0).
        ncv : int
            Arnoldi vectors kept (>= 3, < N); ARPACK stores ``8 N ncv`` bytes of them.
        v0 : ndarray, shape (N,), optional
            Starting vector (default ``n``).
        maxiter : int, optional
            Restarts allowed.

        Returns
        -------
        OutlierResult
        """
        size = self.n_neurons
        check_choice("which", which, ("LR", "LM"))
        tol = check_real("tol", tol, minimum=0.0, min_inclusive=False)
        ncv = check_int("ncv", ncv, minimum=3)
        if size < 4 or ncv >= size:
            raise ValueError(
                f"ncv={ncv}: ARPACK needs 3 <= ncv < N = {size} (and N >= 4); "
                "use numpy.linalg.eigvals on to_csr().toarray() for tiny matrices"
            )
        if maxiter is not None:
            maxiter = check_int("maxiter", maxiter, minimum=1)
        v0 = self.n.copy() if v0 is None else check_array("v0", v0, shape=(size,)).astype(float)
        if not np.any(v0):
            raise ValueError("v0: the starting vector must not be zero")
        count = [0]

        def product(v: np.ndarray) -> np.ndarray:
            count[0] += 1
            return self.rmatvec(v)

        op = LinearOperator(self.shape, matvec=product, dtype=float)
        try:
            vals = eigs(op, k=1, which=which, v0=v0, ncv=ncv, tol=tol, maxiter=maxiter,
                        return_eigenvectors=False)
        except ArpackNoConvergence as err:  # pragma: no cover - depends on the matrix
            if err.eigenvalues.size == 0:
                raise
            vals = err.eigenvalues
        return OutlierResult(complex(vals[0]), count[0])


# ------------------------------------------------------------------ storage (lowrank_rnn.io)
def _fixed_degree_state(obj: Any) -> dict[str, Any]:
    return {
        "m": obj.m, "n": obj.n, "idx": obj.idx, "counts": obj._counts, "scale": obj.scale,
        "n_threads": obj.n_threads, "dtype": obj.dtype.name, "n_segments": obj.n_segments,
        "segment_length": obj.segment_length,
    }


def _fixed_degree_from_state(state: dict[str, Any]) -> Any:
    common = {"scale": state["scale"], "n_threads": state["n_threads"], "dtype": state["dtype"]}
    if state["counts"] is None:
        return FixedDegreeRankOne(state["m"], state["n"], state["idx"], copy=False,
                                        **common)
    # segmented layout: idx is stored in its reordered form with the per-slice counts; check
    # what the constructor would, then attach the arrays as they are
    m, n, idx, counts = state["m"], state["n"], state["idx"], state["counts"]
    obj = FixedDegreeRankOne(m[:1], n[:1], np.zeros((1, 1), np.int32), **common)
    size = m.shape[0]
    n_seg = int(state["n_segments"])
    if (m.shape != (size,) or n.shape != (size,) or idx.dtype != np.int32 or idx.ndim != 2
            or idx.shape[0] != size or counts.shape != (size, n_seg)
            or not np.issubdtype(counts.dtype, np.integer)):
        raise ValueError("FixedDegreeRankOne: inconsistent shapes of m, n, idx and counts")
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(n))):
        raise ValueError("FixedDegreeRankOne: m and n must be finite")
    lo, hi = _index_range(idx, obj.n_threads)
    if lo < 0 or hi >= size:
        raise ValueError(f"idx: row indices must lie in [0, {size - 1}], got [{lo}, {hi}]")
    if np.any(counts.sum(axis=1, dtype=np.int64) != idx.shape[1]):
        raise ValueError("counts: every column's segment counts must add up to C")
    obj.m, obj.n, obj.idx, obj._counts = m.astype(float, copy=False), n.astype(float), idx, counts
    obj.n_segments = n_seg
    obj.segment_length = int(state["segment_length"])
    obj._blocks = None
    return obj


register_format(FixedDegreeRankOne, _fixed_degree_state, _fixed_degree_from_state)
