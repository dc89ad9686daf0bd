"""The network structure: an immutable dataclass of arrays.

Model (Herbert & Ostojic 2022, eq 1; "A new look at low-rank RNNs", eq 1–3)::

    tau dx/dt = -x + J phi(x) + I u(t) + noise,        z = readout_scale * W^T phi(x)
    J = scale * (M N^T  [⊙ X])  +  random

``M`` and ``N`` are ``(n_neurons, rank)`` loadings (columns m_r and n_r), ``X`` an optional binary
sparsity mask (``scipy.sparse`` CSR, never densified), ``random`` an optional additive random part
(dense ``(n_neurons, n_neurons)`` array or CSR). With ``scale = 1/N`` and no mask this is the dense
low-rank network of eq 3; with a mask and ``scale = 1`` the rescaled sparse network of eq 12.

The structure decides the cost of applying ``J``: pure low rank is applied through its factors in
O(N R), sparse connectivity through CSR in O(nnz), a dense random part in O(N^2).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from lowrank_rnn._validate import check_array, check_choice, check_real
from lowrank_rnn.io import Storable, register_dataclass
from lowrank_rnn.transfer import PHI_NAMES

__all__ = ["LowRankRNN", "DENSE_LIMIT"]

#: Largest number of neurons for which :meth:`LowRankRNN.to_dense` works without ``force=True``.
DENSE_LIMIT = 20_000


def _read_only(arr: np.ndarray) -> np.ndarray:
    """A read-only view of ``arr``: the network caches products of its arrays, so writing into
    them (``net.M[:] = 0``) would leave those stale. Use :meth:`LowRankRNN.replace` instead."""
    view = arr.view()
    view.setflags(write=False)
    return view


def _as_2d(name: str, value: Any, n: int | None) -> np.ndarray:
    arr = check_array(name, value, allow_complex=False)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected shape (n_neurons, k), got {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name}: expected {n} rows (one per neuron), got shape {arr.shape}")
    return _read_only(np.asarray(arr, dtype=float))


@dataclass(frozen=True, eq=False)
class LowRankRNN(Storable):
    """A (possibly sparse, possibly noisy-connectivity) low-rank rate network.

    Parameters
    ----------
    M : ndarray, shape (n_neurons, rank)
        Left connectivity loadings; column r is m_r (the output direction of the rank-r term).
    N : ndarray, shape (n_neurons, rank)
        Right connectivity loadings; column r is n_r (the selection vector).
    I : ndarray, shape (n_neurons, d_in), optional
        Input loadings; column k receives input u_k(t).
    W : ndarray, shape (n_neurons, d_out), optional
        Readout weights: ``z = readout_scale * W^T phi(x)``.
    random : ndarray or scipy.sparse matrix, shape (n_neurons, n_neurons), optional
        Additive random connectivity (e.g. g * chi of Herbert & Ostojic eq 2), already masked if
        it is sparse.
    mask : scipy.sparse matrix, shape (n_neurons, n_neurons), optional
        Binary mask X applied to the low-rank part (Herbert & Ostojic eq 12). Stored as CSR,
        explicit zeros removed (a stored 0 is no connection); other values than 0 and 1 are
        refused.

    The arrays are stored read-only (products of them are cached); change a network with
    :meth:`replace`.
    scale : float
        Scale of the low-rank part: ``1/N`` for eq 3, ``1`` for the rescaled eq 12 and for
        "A new look" (where the scale sits in N).
    readout_scale : float
        Scale of the readout.
    tau : float
        Membrane time constant (> 0).
    phi : {'tanh', 'relu', 'linear'}
        Transfer function.
    """

    M: np.ndarray
    N: np.ndarray
    I: np.ndarray | None = None
    W: np.ndarray | None = None
    random: np.ndarray | sp.spmatrix | sp.sparray | None = None
    mask: sp.spmatrix | sp.sparray | None = None
    scale: float = 1.0
    readout_scale: float = 1.0
    tau: float = 1.0
    phi: str = "tanh"
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        M = _as_2d("M", self.M, None)
        n = M.shape[0]
        if n < 1:
            raise ValueError(f"M: needs at least one neuron (row), got shape {M.shape}")
        N = _as_2d("N", self.N, n)
        if N.shape[1] != M.shape[1]:
            raise ValueError(f"N: expected rank {M.shape[1]} columns like M, got shape {N.shape}")
        object.__setattr__(self, "M", M)
        object.__setattr__(self, "N", N)
        if self.I is not None:
            object.__setattr__(self, "I", _as_2d("I", self.I, n))
        if self.W is not None:
            object.__setattr__(self, "W", _as_2d("W", self.W, n))
        if self.random is not None:
            if sp.issparse(self.random):
                rnd = sp.csr_array(self.random)
                if np.iscomplexobj(rnd.data):
                    raise ValueError(f"random: expected a real matrix, got dtype {rnd.dtype}")
                if not np.all(np.isfinite(rnd.data)):
                    raise ValueError("random: contains non-finite values")
            else:
                rnd = _read_only(np.asarray(
                    check_array("random", self.random, ndim=2, allow_complex=False), dtype=float))
            if rnd.shape != (n, n):
                raise ValueError(f"random: expected shape ({n}, {n}), got {rnd.shape}")
            object.__setattr__(self, "random", rnd)
        if self.mask is not None:
            if not sp.issparse(self.mask):
                raise ValueError("mask: expected a scipy.sparse matrix (it is never densified)")
            mask = sp.csr_array(self.mask, copy=True)
            if mask.shape != (n, n):
                raise ValueError(f"mask: expected shape ({n}, {n}), got {mask.shape}")
            mask.eliminate_zeros()  # an explicit zero is no connection
            if mask.nnz and not np.all(mask.data == 1):
                raise ValueError(
                    "mask: must be binary (0 or 1); use random= for weighted connectivity"
                )
            object.__setattr__(self, "mask", mask)
        object.__setattr__(self, "scale", check_real("scale", self.scale))
        object.__setattr__(self, "readout_scale", check_real("readout_scale", self.readout_scale))
        object.__setattr__(
            self, "tau", check_real("tau", self.tau, minimum=0.0, min_inclusive=False)
        )
        check_choice("phi", self.phi, PHI_NAMES)

    # ------------------------------------------------------------------ description
    @property
    def n_neurons(self) -> int:
        """Number of neurons N."""
        return int(self.M.shape[0])

    @property
    def rank(self) -> int:
        """Rank R of the structured part."""
        return int(self.M.shape[1])

    @property
    def d_in(self) -> int:
        """Number of input channels (0 without I)."""
        return 0 if self.I is None else int(self.I.shape[1])

    @property
    def d_out(self) -> int:
        """Number of readout channels (0 without W)."""
        return 0 if self.W is None else int(self.W.shape[1])

    @property
    def structure(self) -> str:
        """``'lowrank'`` (factors only), ``'sparse'`` (CSR) or ``'dense'`` (a dense random part)."""
        if self.random is not None and not sp.issparse(self.random):
            return "dense"
        if self.mask is not None or self.random is not None:
            return "sparse"
        return "lowrank"

    def replace(self, **changes: Any) -> LowRankRNN:
        """Return a copy with some fields changed (the dataclass is frozen)."""
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ connectivity
    def sparse_connectivity(self) -> sp.csr_array:
        """The masked low-rank part plus any sparse random part, as CSR (needs a mask; cached).

        The low-rank values ``scale * m_i . n_j`` are evaluated only on the mask's non-zeros.
        A dense random part is not included (it is added separately where J is applied).
        """
        if "csr" in self._cache:
            return self._cache["csr"]
        if self.mask is None:
            raise ValueError(
                "sparse_connectivity: a sparse random part without a mask leaves the low-rank "
                "part dense; use apply_connectivity() or connectivity_operator() instead"
            )
        mask = self.mask
        cols = mask.indices
        vals = np.empty(cols.size)
        n_rows = np.diff(mask.indptr)
        chunk = max(1, (1 << 22) // max(1, int(n_rows.max(initial=1))))
        for a in range(0, self.n_neurons, chunk):  # row blocks: no N-sized row-index array
            b = min(self.n_neurons, a + chunk)
            lo, hi = mask.indptr[a], mask.indptr[b]
            r = np.repeat(np.arange(a, b), n_rows[a:b])
            vals[lo:hi] = np.einsum("ij,ij->i", self.M[r], self.N[cols[lo:hi]])
        vals *= self.scale
        # J shares the mask's (immutable) index arrays: no copy of the structure
        J = sp.csr_array((vals, mask.indices, mask.indptr), shape=mask.shape)
        if self.random is not None and sp.issparse(self.random):
            J = sp.csr_array(J + self.random)
        if not J.has_sorted_indices:
            J.sort_indices()
        self._cache["csr"] = J
        return J

    def apply_connectivity(self, r: np.ndarray) -> np.ndarray:
        """Compute ``J r`` for activities ``r`` of shape ``(..., n_neurons)`` without forming J.

        Low rank: ``scale * M (N^T r)`` in O(N R); sparse: CSR product in O(nnz); dense random
        part: one dense product.
        """
        r = np.asarray(r)
        flat = r.reshape(-1, self.n_neurons)
        if self.mask is not None:
            out = (self.sparse_connectivity() @ flat.T).T
            if self.structure == "dense":  # a dense random part is not folded into the CSR
                out = out + (self.random @ flat.T).T
        else:
            out = self.scale * ((flat @ self.N) @ self.M.T)
            if self.random is not None:
                out = out + (self.random @ flat.T).T
        return np.asarray(out).reshape(r.shape)

    def connectivity_operator(self, dtype: Any = float) -> LinearOperator:
        """J as a :class:`scipy.sparse.linalg.LinearOperator` (matvec, matmat and rmatvec).

        Used by ARPACK (``scipy.sparse.linalg.eigs``) to find outliers without densifying.
        """
        n = self.n_neurons
        M, N, s, rnd = self.M, self.N, self.scale, self.random
        if self.mask is not None:
            J = self.sparse_connectivity()
            extra = rnd if self.structure == "dense" else None

            def matvec(v: np.ndarray) -> np.ndarray:
                out = J @ v
                return out if extra is None else out + extra @ v

            def rmatvec(v: np.ndarray) -> np.ndarray:
                out = J.T @ v
                return out if extra is None else out + extra.T @ v

            return LinearOperator(
                (n, n), matvec=matvec, rmatvec=rmatvec, matmat=matvec, dtype=dtype
            )

        def matvec(v: np.ndarray) -> np.ndarray:
            out = s * (M @ (N.T @ v))
            return out if rnd is None else out + rnd @ v

        def rmatvec(v: np.ndarray) -> np.ndarray:
            out = s * (N @ (M.T @ v))
            return out if rnd is None else out + rnd.T @ v

        return LinearOperator((n, n), matvec=matvec, rmatvec=rmatvec, matmat=matvec, dtype=dtype)

    def to_dense(self, *, force: bool = False) -> np.ndarray:
        """The connectivity J as a dense ``(n_neurons, n_neurons)`` array.

        Refuses networks larger than :data:`DENSE_LIMIT` neurons unless ``force=True``.
        """
        n = self.n_neurons
        if n > DENSE_LIMIT and not force:
            raise ValueError(
                f"to_dense: n_neurons={n} exceeds {DENSE_LIMIT}; a dense matrix would need "
                f"{8 * n * n / 1e9:.1f} GB (pass force=True to insist)"
            )
        if self.mask is not None:
            J = self.sparse_connectivity().toarray()
            return J + self.random if self.structure == "dense" else J
        J = self.scale * (self.M @ self.N.T)
        if self.random is not None:
            rnd = self.random.toarray() if sp.issparse(self.random) else self.random
            J = J + rnd
        return J


register_dataclass(LowRankRNN)
