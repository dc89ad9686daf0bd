"""The smallest RNN for a dynamical system by orthogonal matching pursuit.

"A new look at low-rank RNNs", Section 4, eq 12 and Algorithm 1:

1. select a grid of points z;
2. build a global basis ``B`` of candidate neurons ``phi(m_i . z + I_i)`` from (m, I) sampled on a
   uniform grid;
3. initialise with the decay term only: ``n0 = -(z^T z)^{-1} z^T g(z)``;
4. residual ``r0 = g(z) - n0 (-z)``;
5. repeat: pick the candidate most aligned with the residual, ``argmax_i |B_i^T r|`` (by
   default with the columns normalised to unit length, as in standard OMP; ``scoring='raw'``
   scores the unnormalised columns, as Algorithm 1 is printed), add it, refit all weights on
   the chosen set by least squares (eq 9/12), update the residual; stop at a size or an error
   threshold.

The fit is ``g(z) ≈ -n0 z + N'^T phi(M' z + I')`` (eq 12). A rate network has its own leak
``-z``; with ``decay='fit'`` (Algorithm 1) the fitted ``n0 > 0`` is absorbed into the time
constant: ``tau = 1/n0`` and ``N = N'/n0`` give ``tau dz/dt = -z + N^T phi(M z + I)``, the same
vector field. With ``decay='fixed'`` the leak is kept at 1 (fit ``g + z``), as in eq 9.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from lowrank_rnn._validate import RngLike, as_rng, check_choice, check_int, check_real
from lowrank_rnn.fit.regression import (
    apply_phi,
    check_spreads,
    grid_points,
    latent_coordinates,
    sample_basis,
)
from lowrank_rnn.io import Storable, register_estimator
from lowrank_rnn.network import LowRankRNN

__all__ = ["SCORINGS", "SmallestRNN", "omp_select"]

SCORINGS = ("normalized", "raw")


def _refit(
    Z: np.ndarray, G: np.ndarray, B: np.ndarray, fit_decay: bool
) -> tuple[float, np.ndarray]:
    """Least squares for ``g ≈ -n0 z + B N'`` (n0 shared by all dimensions; eq 12).

    Z, G : (n_points, rank); B : (n_points, k). Returns n0 and N' of shape (k, rank).
    """
    n_pts, r = Z.shape
    k = B.shape[1]
    if not fit_decay:
        target = G + Z
        if k == 0:
            return 1.0, np.zeros((0, r))
        coef = np.linalg.lstsq(B, target, rcond=None)[0]
        return 1.0, coef
    # stacked system over dimensions: unknowns [n0, vec(N')] (N' column d for dimension d)
    A = np.zeros((n_pts * r, 1 + k * r))
    for d in range(r):
        rows = slice(d * n_pts, (d + 1) * n_pts)
        A[rows, 0] = -Z[:, d]
        A[rows, 1 + d * k : 1 + (d + 1) * k] = B
    theta = np.linalg.lstsq(A, G.T.reshape(-1), rcond=None)[0]
    return float(theta[0]), theta[1:].reshape(r, k).T


def omp_select(
    Z: np.ndarray,
    G: np.ndarray,
    B: np.ndarray,
    *,
    max_neurons: int,
    tol: float | None = None,
    fit_decay: bool = True,
    scoring: str = "normalized",
) -> dict[str, Any]:
    """Greedy selection of Algorithm 1 on a precomputed candidate matrix.

    Parameters
    ----------
    Z : ndarray, shape (n_points, rank)
        Grid points.
    G : ndarray, shape (n_points, rank)
        Target values g(Z).
    B : ndarray, shape (n_points, n_candidates)
        Candidate basis functions evaluated on the grid.
    max_neurons : int
        Stop after this many neurons.
    tol : float, optional
        Stop as soon as the mean squared error is <= tol.
    fit_decay : bool
        Fit n0 (Algorithm 1) or keep it at 1.
    scoring : {'normalized', 'raw'}
        Score candidates by ``|B_i^T r| / |B_i|`` (standard OMP) or by the raw ``|B_i^T r|``
        (Algorithm 1 as printed; favours candidates of large norm).

    Returns
    -------
    dict
        ``selected`` (indices into the candidates, in order), ``n0``, ``weights``
        (shape (k, rank)), ``mse`` (shape (k + 1,): after 0, 1, ..., k neurons), ``n0_path`` and
        ``weights_path`` (the refit after each step).
    """
    check_choice("scoring", scoring, SCORINGS)
    n_pts, r = Z.shape
    norms = np.linalg.norm(B, axis=0)
    usable = norms > 1e-12 * max(float(norms.max(initial=0.0)), 1e-300)
    Bn = np.where(usable, B / np.where(usable, norms, 1.0), 0.0) if scoring == "normalized" else B
    n0, W = _refit(Z, G, B[:, :0], fit_decay)
    resid = G - (-n0 * Z)
    mse = [float(np.mean(resid**2))]
    selected: list[int] = []
    n0_path, w_path = [n0], [W]
    available = usable.copy()
    while len(selected) < max_neurons and (tol is None or mse[-1] > tol) and available.any():
        score = np.linalg.norm(Bn.T @ resid, axis=1)
        score[~available] = -np.inf
        i = int(np.argmax(score))
        selected.append(i)
        available[i] = False
        Bs = B[:, selected]
        n0, W = _refit(Z, G, Bs, fit_decay)
        resid = G - (-n0 * Z + Bs @ W)
        mse.append(float(np.mean(resid**2)))
        n0_path.append(n0)
        w_path.append(W)
    return {
        "selected": np.array(selected, dtype=int),
        "n0": n0,
        "weights": W,
        "mse": np.array(mse),
        "n0_path": np.array(n0_path),
        "weights_path": w_path,
    }


class SmallestRNN(Storable):
    """Find a small RNN implementing ``dz/dt = g(z)`` by OMP (Algorithm 1).

    scikit-learn style: hyper-parameters here, :meth:`fit` returns ``self``.

    Parameters
    ----------
    rank : int
        Dimension of z (the paper uses 1).
    n_candidates : int
        Size of the global basis (candidate neurons).
    max_neurons : int
        Largest network (stopping size d').
    tol : float, optional
        Stop when the mean squared error of the fitted vector field is <= tol.
    basis : {'grid', 'uniform', 'gaussian'}
        How the candidates (m, I) are drawn (Algorithm 1: a uniform grid).
    phi : {'tanh', 'relu'}
    decay : {'fit', 'fixed'}
        ``'fit'``: n0 is a fitted weight (Algorithm 1, eq 12), absorbed in ``tau = 1/n0``.
        ``'fixed'``: the leak is 1 (``g + z`` is fitted, eq 9).
    m_std, i_std : float or 'auto'
        Spread of the candidates' slopes and offsets (``'auto'``: ``m_std = 0.8 / max|z|``,
        ``i_std = 0.5``: gently bending candidates, which OMP combines into accurate small
        fits); grid and uniform candidates cover ``±sqrt(3)`` times these. To draw the
        dictionary from a tuned basis distribution (Arora & Pillow 2025's extension of OMP),
        use ``basis='gaussian'`` with ``**GPODE(...).fit(...).optimize().basis_distribution()``.
    scoring : {'normalized', 'raw'}
        How candidates are scored against the residual: ``'normalized'`` (default, standard
        OMP: ``|B_i^T r| / |B_i|``) or ``'raw'`` (``|B_i^T r|``, Algorithm 1 as printed).
    random_state : Generator, int or None

    Attributes
    ----------
    candidates_ : tuple (M, I)
        The global basis, shapes (n_candidates, rank) and (n_candidates, 1).
    selected_ : ndarray of int, shape (k,)
        Indices of the chosen candidates, in the order OMP added them.
    M_, I_ : ndarray, shapes (k, rank), (k, 1)
        The chosen neurons' slopes and offsets.
    weights_ : ndarray, shape (k, rank)
        ``N'`` of eq 12.
    n0_ : float
        Fitted decay weight (1 with ``decay='fixed'``).
    mse_curve_ : ndarray, shape (k + 1,)
        Mean squared error of the fitted vector field after 0 (decay term only), 1, ..., k neurons.
    network_ : LowRankRNN or None
        The k-neuron network (``J = M N^T`` with ``N = N'/n0``, ``tau = 1/n0``, bias input
        ``u = 1`` through ``I``); None when the fitted ``n0 <= 0`` cannot be a time constant.
    info_ : dict
        ``n_neurons``, ``train_mse``, ``seconds``, ``n_points``.
    """

    def __init__(
        self,
        rank: int = 1,
        *,
        n_candidates: int = 2000,
        max_neurons: int = 10,
        tol: float | None = None,
        basis: str = "grid",
        phi: str = "tanh",
        decay: str = "fit",
        m_std: float | str = "auto",
        i_std: float | str = "auto",
        scoring: str = "normalized",
        random_state: RngLike = None,
    ) -> None:
        self.rank = rank
        self.n_candidates = n_candidates
        self.max_neurons = max_neurons
        self.tol = tol
        self.basis = basis
        self.phi = phi
        self.decay = decay
        self.m_std = m_std
        self.i_std = i_std
        self.scoring = scoring
        self.random_state = random_state

    def _validate_params(self) -> None:
        check_int("rank", self.rank, minimum=1)
        check_int("n_candidates", self.n_candidates, minimum=1)
        check_int("max_neurons", self.max_neurons, minimum=1)
        if self.max_neurons > self.n_candidates:
            raise ValueError(
                f"max_neurons={self.max_neurons}: cannot exceed n_candidates={self.n_candidates}"
            )
        if self.tol is not None:
            check_real("tol", self.tol, minimum=0.0)
        check_choice("basis", self.basis, ("grid", "uniform", "gaussian"))
        check_choice("phi", self.phi, ("tanh", "relu"))
        check_choice("decay", self.decay, ("fit", "fixed"))
        check_spreads(self)
        check_choice("scoring", self.scoring, SCORINGS)
        as_rng(self.random_state, "random_state")

    def fit(
        self,
        g: Callable[[np.ndarray], np.ndarray],
        points: np.ndarray | None = None,
        *,
        box: Any = None,
        n_points: int = 200,
    ) -> SmallestRNN:
        """Run Algorithm 1 on a grid over ``box`` (or on given points).

        Parameters
        ----------
        g : callable
            ``g(Z) -> (n_points, rank)``, vectorised.
        points : ndarray, shape (n_points, rank), optional
            The grid z of step 1 (default: a regular grid over ``box``).
        box : (lo, hi) or per-dimension pairs
        n_points : int
            Size of the default grid.

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        self._validate_params()
        r = int(self.rank)
        if points is None:
            if box is None:
                raise ValueError("points: give grid points, or a box for the default grid")
            Z = grid_points(box, n_points, r)
        else:
            Z = np.asarray(points, dtype=float)
            Z = Z[:, None] if Z.ndim == 1 else Z
            if Z.ndim != 2 or Z.shape[1] != r or not np.all(np.isfinite(Z)):
                raise ValueError(f"points: expected finite (n_points, {r}), got {np.shape(points)}")
        if not callable(g):
            raise ValueError(f"g={g!r}: expected a callable g(Z) returning (n_points, rank)")
        G = np.asarray(g(Z), dtype=float)
        if G.ndim == 1 and r == 1 and G.shape[0] == Z.shape[0]:
            G = G[:, None]
        if G.shape != Z.shape:
            raise ValueError(f"g: returned shape {G.shape}, expected {Z.shape}")
        if not np.all(np.isfinite(G)):
            raise ValueError("g: returned non-finite values at some grid points")
        if not np.any(Z):
            raise ValueError("points: all zero; the decay term -n0 z is undetermined")
        m_std = 0.8 / float(np.max(np.abs(Z))) if self.m_std == "auto" else float(self.m_std)
        i_std = 0.5 if self.i_std == "auto" else float(self.i_std)
        M, I = sample_basis(
            int(self.n_candidates), r, 1, basis=self.basis, m_std=m_std, i_std=i_std,
            orthogonalize=False, rng=as_rng(self.random_state, "random_state"),
        )
        B = apply_phi(self.phi, Z @ M.T + I.T)
        res = omp_select(
            Z, G, B, max_neurons=int(self.max_neurons), tol=self.tol,
            fit_decay=self.decay == "fit", scoring=self.scoring,
        )
        sel = res["selected"]
        self.candidates_ = (M, I)
        self.selected_ = sel
        self.M_, self.I_ = M[sel], I[sel]
        self.weights_ = res["weights"]
        self.n0_ = float(res["n0"])
        self.mse_curve_ = res["mse"]
        self.n0_path_ = res["n0_path"]
        self.weights_path_ = res["weights_path"]
        self.network_ = None
        if self.n0_ > 0 and sel.size:
            self.network_ = LowRankRNN(
                M=self.M_, N=self.weights_ / self.n0_, I=self.I_, scale=1.0,
                tau=1.0 / self.n0_, phi=self.phi,
            )
        self.info_ = {
            "n_neurons": int(sel.size),
            "train_mse": float(res["mse"][-1]),
            "n_points": int(Z.shape[0]),
            "m_std": m_std,
            "i_std": i_std,
            "scoring": self.scoring,
            "seconds": time.perf_counter() - t0,
        }
        return self

    def predict(self, Z: np.ndarray, n_neurons: int | None = None) -> np.ndarray:
        """The fitted field ``-n0 z + N'^T phi(M z + I)`` (eq 12) with the first k neurons.

        Parameters
        ----------
        Z : ndarray, shape (n_points, rank)
        n_neurons : int, optional
            Use the refit after this many OMP steps (default: all).

        Returns
        -------
        ndarray, shape (n_points, rank)
        """
        if not hasattr(self, "selected_"):
            raise ValueError("this SmallestRNN is not fitted yet; call fit() first")
        k = self.selected_.size if n_neurons is None else check_int(
            "n_neurons", n_neurons, minimum=0, maximum=self.selected_.size
        )
        Z = np.asarray(Z, dtype=float)
        Z = Z[:, None] if Z.ndim == 1 else Z
        M, I = self.candidates_
        idx = self.selected_[:k]
        B = apply_phi(self.phi, Z @ M[idx].T + I[idx].T)
        return -self.n0_path_[k] * Z + B @ self.weights_path_[k]

    def simulate_latent(
        self, z0: np.ndarray, *, t_span: float, dt: float = 0.01, save_every: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """Simulate the k-neuron network (bias input u = 1) and return its latent z (eq 4).

        Parameters
        ----------
        z0 : ndarray, shape (batch, rank)
        t_span, dt : float
        save_every : int
            Keep every ``save_every``-th state (and the initial one).

        Returns
        -------
        t : ndarray, shape (time,)
        z : ndarray, shape (batch, time, rank)
        """
        from lowrank_rnn.simulate import simulate

        if getattr(self, "network_", None) is None:
            raise ValueError(
                "network_: no network (not fitted, or the fitted decay n0 <= 0 is no time "
                "constant); use decay='fixed'"
            )
        z0 = np.atleast_2d(np.asarray(z0, dtype=float))
        if z0.shape[1] != self.M_.shape[1]:
            raise ValueError(f"z0: expected shape (batch, {self.M_.shape[1]}), got {z0.shape}")
        x0 = z0 @ self.M_.T + self.I_[:, 0][None, :]
        n_steps = int(round(check_real("t_span", t_span, minimum=0.0, min_inclusive=False) / dt))
        u = np.ones((z0.shape[0], n_steps, 1))
        traj = simulate(self.network_, u, x0, dt=dt, n_steps=n_steps, save_every=save_every)
        # bias input: u = 1 from v(0) = 1 keeps v = 1
        return traj.t, latent_coordinates(traj.x, self.M_, self.I_, np.ones(traj.x.shape[:2]))


register_estimator(SmallestRNN)
