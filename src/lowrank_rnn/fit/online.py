"""Online closed-form training (recursive least squares in the random basis) and FORCE.

Arora & Pillow 2025 (NeurIPS), "Efficient training of minimal and maximal low-rank recurrent
neural networks": the regression of "A new look" (eq 9, ``Phi N ~ g(Z) + Z``) solved online,
one state at a time, while the network runs along target trajectories. Recursive least squares
(RLS) with forgetting factor ``lam`` and ``P_0 = 1 / alpha`` updates, for each feature row
``phi_t = phi(M z_t + I)`` and target ``y_t = g(z_t) + z_t``,

    k = P phi_t,   c = 1 / (lam + phi_t^T k),   N <- N + c k (y_t - N^T phi_t)^T,
    P <- (P - c k k^T) / lam,

so that with ``lam = 1`` after one pass ``N = (Phi^T Phi + alpha 1)^-1 Phi^T Y``: exactly the
batch ridge solution with ``ridge = alpha`` (and with ``lam < 1`` the exponentially weighted
one). :class:`OnlineEmbedding` does this either on given states (``drive='target'``, e.g.
points along solutions of the target) or on the network's own latent trajectory while it
runs (``drive='network'``: ``z_{k+1} = z_k + dt (-z_k + N^T phi(M z_k + I))`` with N updated at
every step — the closed-form analogue of FORCE).

:class:`FORCETrainer` is the baseline of Sussillo & Abbott 2009 (Neuron 63:544, "Generating
coherent patterns of activity from chaotic neural networks"): a sparse random network
``tau dx/dt = -x + g J r + w_f z``, ``r = tanh(x)``, ``z = w^T r``, with ``g = 1.5`` (chaotic),
connection probability p, ``J_ij ~ N(0, 1 / (p N))``, feedback weights ``w_f ~ U(-1, 1)``; its
readout w is trained by RLS (``P_0 = 1 / alpha``, an update every ``update_every`` steps, the
error taken before the update) while its output is fed back.

Both training loops are sequences of level-2 BLAS calls (matrix-vector products and rank-1
updates) on small matrices; they run with one BLAS thread (``threadpoolctl``), which is as fast
for memory-bound operations and avoids the large slow-downs of multithreaded BLAS on tiny
operations when the cores are shared.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from lowrank_rnn._validate import (
    RngLike,
    as_rng,
    check_array,
    check_choice,
    check_int,
    check_real,
)
from lowrank_rnn.fit.regression import apply_phi, latent_coordinates, sample_basis
from lowrank_rnn.io import Storable, register_estimator
from lowrank_rnn.network import LowRankRNN

__all__ = ["OnlineEmbedding", "FORCETrainer", "rls_update", "sparse_gaussian"]

_dger = sla.blas.get_blas_funcs("ger", (np.zeros(1),))


def sparse_gaussian(n: int, p: float, *, rng: RngLike = None) -> sp.csr_array:
    """Sparse random matrix: each entry present with probability p, ``N(0, 1 / (p n))``.

    Sussillo & Abbott 2009's J (spectral radius about 1 for large n). Row by row: the number of
    entries is Binomial(n, p), their columns drawn without replacement.

    Returns
    -------
    scipy.sparse.csr_array, shape (n, n)
    """
    n = check_int("n", n, minimum=1)
    p = check_real("p", p, minimum=0.0, maximum=1.0, min_inclusive=False)
    rng = as_rng(rng)
    counts = rng.binomial(n, p, n)
    cols = np.concatenate([np.sort(rng.choice(n, c, replace=False)) for c in counts])
    indptr = np.concatenate([[0], np.cumsum(counts)])
    data = rng.standard_normal(cols.size) / np.sqrt(p * n)
    return sp.csr_array((data, cols, indptr), shape=(n, n))


def rls_update(
    P: np.ndarray, W: np.ndarray, r: np.ndarray, y: np.ndarray, forgetting: float = 1.0
) -> None:
    """One recursive-least-squares step, in place: ``W`` towards ``W^T r = y``.

    Parameters
    ----------
    P : ndarray, shape (K, K)
        Inverse correlation matrix (``(sum r r^T + alpha)^-1``), updated in place.
    W : ndarray, shape (K, d)
        Weights, updated in place.
    r : ndarray, shape (K,)
        Features at this step.
    y : ndarray, shape (d,)
        Target at this step.
    forgetting : float
        Forgetting factor ``lam`` in (0, 1].
    """
    k = P @ r
    c = 1.0 / (forgetting + float(r @ k))
    err = y - r @ W
    W += np.outer(c * k, err)
    # P <- (P - c k k^T) / lam: an in-place rank-1 BLAS update (dger) on the Fortran view P^T,
    # which is P itself because k k^T is symmetric; no N x N temporary
    if P.flags.c_contiguous:
        _dger(-c, k, k, a=P.T, overwrite_a=1)
    else:
        P -= np.outer(c * k, k)
    if forgetting != 1.0:
        P /= forgetting


class OnlineEmbedding(Storable):
    """Closed-form embedding of ``dz/dt = g(z)`` learned online by RLS (Arora & Pillow 2025).

    scikit-learn style: hyper-parameters here, :meth:`fit` returns ``self``. The network is
    that of :class:`~lowrank_rnn.fit.regression.ODEEmbedding` with ``inputs='bias'`` (a
    constant input ``u = 1`` through I): ``dx/dt = -x + M N^T phi(x) + I``; N is learned
    online.

    Parameters
    ----------
    rank : int
        Dimension of z.
    n_neurons : int
    phi : {'tanh', 'relu'}
    m_std : float or 'auto'
        Spread of M (``'auto'``: ``2 / max|z|`` over the training states / starts' box).
    i_std : float
        Spread of the bias loadings I.
    alpha : float
        Regularisation: ``P_0 = 1 / alpha`` (the ridge of the equivalent batch problem).
    forgetting : float
        Forgetting factor in (0, 1] (1: every state weighs the same).
    drive : {'target', 'network'}
        ``'target'``: RLS over the given states in order. ``'network'``: the network's latent
        is stepped by Euler (step ``dt``) from given starts with the current N, and RLS is
        applied at each visited state (targets ``g(z) + z`` there).
    dt : float
        Euler step of the ``'network'`` drive and of :meth:`generate`.
    basis : (M, I) pair, optional
        Use this basis instead of sampling one (M: (n_neurons, rank), I: (n_neurons, 1)).
    random_state : Generator, int or None

    Attributes
    ----------
    M_, I_, N_ : ndarray, shapes (n_neurons, rank), (n_neurons, 1), (n_neurons, rank)
    P_ : ndarray, shape (n_neurons, n_neurons)
        RLS inverse correlation matrix after training (to continue training).
    network_ : LowRankRNN
    last_state_ : ndarray, shape (rank,)
        The latent state at the end of training (where :meth:`generate` continues).
    info_ : dict
        ``n_updates``, ``seconds``, ``steps_per_second``, ``train_mse`` (mean squared a-priori
        error over the last 10% of updates).
    """

    def __init__(
        self,
        rank: int,
        n_neurons: int,
        *,
        phi: str = "tanh",
        m_std: float | str = "auto",
        i_std: float = 1.0,
        alpha: float = 1e-3,
        forgetting: float = 1.0,
        drive: str = "target",
        dt: float = 0.05,
        basis: tuple[np.ndarray, np.ndarray] | None = None,
        random_state: RngLike = None,
    ) -> None:
        self.rank = rank
        self.n_neurons = n_neurons
        self.phi = phi
        self.m_std = m_std
        self.i_std = i_std
        self.alpha = alpha
        self.forgetting = forgetting
        self.drive = drive
        self.dt = dt
        self.basis = basis
        self.random_state = random_state

    def _validate_params(self) -> None:
        check_int("rank", self.rank, minimum=1)
        check_int("n_neurons", self.n_neurons, minimum=1)
        check_choice("phi", self.phi, ("tanh", "relu"))
        if isinstance(self.m_std, str):
            check_choice("m_std", self.m_std, ("auto",))
        else:
            check_real("m_std", self.m_std, minimum=0.0, min_inclusive=False)
        check_real("i_std", self.i_std, minimum=0.0, min_inclusive=False)
        check_real("alpha", self.alpha, minimum=0.0, min_inclusive=False)
        check_real("forgetting", self.forgetting, minimum=0.0, maximum=1.0, min_inclusive=False)
        check_choice("drive", self.drive, ("target", "network"))
        check_real("dt", self.dt, minimum=0.0, min_inclusive=False)
        as_rng(self.random_state, "random_state")
        if self.basis is not None:
            if not isinstance(self.basis, (tuple, list)) or len(self.basis) != 2:
                raise ValueError("basis: expected a pair (M, I)")
            check_array("basis M", self.basis[0], shape=(self.n_neurons, self.rank))
            check_array("basis I", self.basis[1], shape=(self.n_neurons, 1))

    def fit(
        self,
        g: Callable[[np.ndarray], np.ndarray],
        z: np.ndarray,
        *,
        t_span: float | None = None,
    ) -> OnlineEmbedding:
        """Learn N by one RLS pass.

        Parameters
        ----------
        g : callable
            ``g(Z) -> (n, rank)``, vectorised.
        z : ndarray
            ``drive='target'``: states, shape (batch, time, rank) or (n, rank), visited in
            that order (batch after batch). ``drive='network'``: starts, shape (batch, rank) or
            (rank,); each runs for ``t_span`` in turn, continuing the same RLS.
        t_span : float
            Duration of each ``'network'`` run (required there).

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        self._validate_params()
        if not callable(g):
            raise ValueError(f"g={g!r}: expected a callable g(Z) returning (n_points, rank)")
        r, n = int(self.rank), int(self.n_neurons)
        Z = check_array("z", z).astype(float)
        if self.drive == "target":
            if t_span is not None:
                raise ValueError("t_span: only used with drive='network'")
            if Z.ndim not in (2, 3) or Z.shape[-1] != r:
                raise ValueError(f"z: expected (batch, time, {r}) or (n, {r}), got {Z.shape}")
            Z = Z.reshape(-1, r)
        else:
            if t_span is None:
                raise ValueError("t_span: drive='network' needs the duration of each run")
            t_span = check_real("t_span", t_span, minimum=0.0, min_inclusive=False)
            Z = np.atleast_2d(Z)
            if Z.ndim != 2 or Z.shape[1] != r:
                raise ValueError(f"z: expected starts of shape (batch, {r}), got {Z.shape}")
        rng = as_rng(self.random_state, "random_state")
        if self.basis is None:
            m_std = self.m_std
            if m_std == "auto":
                m_std = 2.0 / max(float(np.max(np.abs(Z))), 1e-12)
            M, I = sample_basis(n, r, 1, m_std=float(m_std), i_std=float(self.i_std),
                                orthogonalize=False, rng=rng)
        else:
            M = np.array(self.basis[0], dtype=float)
            I = np.array(self.basis[1], dtype=float)
        lam = float(self.forgetting)
        P = np.eye(n) / float(self.alpha)
        N = np.zeros((n, r))
        errs: list[float] = []
        b = I[:, 0]
        with threadpool_limits(1, user_api="blas"):
            last = self._run(g, Z, M, b, N, P, lam, errs, t_span)
        secs = time.perf_counter() - t0
        self.M_, self.I_, self.N_, self.P_ = M, I, N, P
        self.last_state_ = np.asarray(last, dtype=float).copy()
        self.network_ = LowRankRNN(M=M, N=N, I=I, scale=1.0, tau=1.0, phi=self.phi)
        tail = errs[-max(1, len(errs) // 10):]
        self.info_ = {
            "n_updates": len(errs),
            "seconds": secs,
            "steps_per_second": len(errs) / secs if secs > 0 else float("inf"),
            "train_mse": float(np.mean(tail)),
        }
        return self

    def _run(self, g, Z, M, b, N, P, lam, errs, t_span):  # noqa: ANN001, ANN202
        """The RLS pass of :meth:`fit` (updates N, P and errs in place; returns the last z)."""
        r = int(self.rank)
        if self.drive == "target":
            F = apply_phi(self.phi, Z @ M.T + b)
            Y = g(Z) + Z
            Y = np.asarray(Y, dtype=float).reshape(-1, r)
            for t in range(Z.shape[0]):
                errs.append(float(np.mean((Y[t] - F[t] @ N) ** 2)))
                rls_update(P, N, F[t], Y[t], lam)
            last = Z[-1]
        else:
            n_steps = int(round(t_span / float(self.dt)))
            dt = float(self.dt)
            last = Z[0]
            # rls_update inlined with its intermediate products reused: after the update
            # f @ N_new = f @ N + c (f @ k) e, so the Euler step needs no second product; two
            # in-place rank-1 BLAS updates (N^T is Fortran-ordered, P symmetric); about half
            # the per-step time of the generic call at small N, where the step is overhead
            inplace = P.flags.c_contiguous and N.flags.c_contiguous
            relu = self.phi == "relu"
            for z0 in Z:
                zc = z0.copy()
                for _ in range(n_steps):
                    f = M @ zc
                    f += b
                    if relu:
                        np.maximum(f, 0.0, out=f)
                    else:
                        np.tanh(f, out=f)
                    y = np.asarray(g(zc[None, :]), dtype=float).reshape(r) + zc
                    k = P @ f
                    fk = float(f @ k)
                    pred = f @ N
                    e = y - pred
                    errs.append(float(e @ e) / r)
                    c = 1.0 / (lam + fk)
                    if inplace:
                        _dger(c, e, k, a=N.T, overwrite_a=1)
                        _dger(-c, k, k, a=P.T, overwrite_a=1)
                    else:
                        N += np.outer(c * k, e)
                        P -= np.outer(c * k, k)
                    if lam != 1.0:
                        P /= lam
                    pred += (c * fk) * e
                    pred -= zc
                    pred *= dt
                    zc = zc + pred
                    if not math.isfinite(float(zc @ zc)):
                        raise ValueError("drive='network': the latent diverged; use a smaller "
                                         "dt or alpha, or drive='target'")
                last = zc
        return last

    def _check_fitted(self) -> None:
        if not hasattr(self, "N_"):
            raise ValueError("this OnlineEmbedding is not fitted yet; call fit() first")

    def predict(self, Z: np.ndarray) -> np.ndarray:
        """The embedded field ``-z + N^T phi(M z + I)`` (eq 7, 10).

        Parameters
        ----------
        Z : ndarray, shape (n, rank)

        Returns
        -------
        ndarray, shape (n, rank)
        """
        self._check_fitted()
        Z = np.atleast_2d(check_array("Z", Z).astype(float))
        return apply_phi(self.phi, Z @ self.M_.T + self.I_[:, 0]) @ self.N_ - Z

    def simulate_latent(
        self, z0: np.ndarray, *, t_span: float, dt: float | None = None, save_every: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """Simulate the full N-neuron network (bias input u = 1) from ``x0 = M z0 + I``.

        Parameters
        ----------
        z0 : ndarray, shape (batch, rank)
        t_span : float
        dt : float, optional
            Euler step (default: the estimator's ``dt``).
        save_every : int

        Returns
        -------
        t : ndarray, shape (time,)
        z : ndarray, shape (batch, time, rank)
        """
        from lowrank_rnn.simulate import simulate

        self._check_fitted()
        dt = float(self.dt) if dt is None else check_real("dt", dt, minimum=0.0,
                                                          min_inclusive=False)
        z0 = np.atleast_2d(check_array("z0", z0).astype(float))
        if z0.shape[1] != self.M_.shape[1]:
            raise ValueError(f"z0: expected shape (batch, {self.M_.shape[1]}), got {z0.shape}")
        n_steps = int(round(check_real("t_span", t_span, minimum=0.0, min_inclusive=False) / dt))
        x0 = z0 @ self.M_.T + self.I_[:, 0]
        u = np.ones((z0.shape[0], n_steps, 1))
        traj = simulate(self.network_, u, x0, dt=dt, n_steps=n_steps, save_every=save_every)
        return traj.t, latent_coordinates(traj.x, self.M_, self.I_, np.ones(traj.x.shape[:2]))

    def generate(self, n_steps: int, start: np.ndarray | None = None) -> np.ndarray:
        """Run the trained network freely for ``n_steps`` Euler steps of ``dt``.

        Parameters
        ----------
        n_steps : int
        start : ndarray, shape (rank,), optional
            Latent start (default: :attr:`last_state_`, where training ended).

        Returns
        -------
        ndarray, shape (n_steps, rank)
            The latent z after each step (read from the simulated N-neuron network).
        """
        self._check_fitted()
        n_steps = check_int("n_steps", n_steps, minimum=1)
        z0 = self.last_state_ if start is None else check_array("start", start).astype(float)
        _, z = self.simulate_latent(z0[None, :], t_span=n_steps * float(self.dt))
        return z[0, 1:]


class FORCETrainer(Storable):
    """FORCE learning (Sussillo & Abbott 2009): RLS on the readout of a chaotic network.

    ``tau dx/dt = -x + g J r + w_f z``, ``r = tanh(x)``, ``z = w^T r``; J sparse with
    connection probability ``p`` and ``J_ij ~ N(0, 1/(p N))``, ``w_f ~ U(-1, 1)``. During
    :meth:`fit` the readout w is trained by RLS every ``update_every`` Euler steps
    (``P_0 = 1/alpha``, the a-priori error ``z - f``) while z is fed back.

    Parameters
    ----------
    n_neurons : int
        N (the paper: 1000).
    g : float
        Gain of the random connectivity (1.5: chaotic).
    p : float
        Connection probability of J (0.1).
    alpha : float
        ``P_0 = 1/alpha`` (1).
    dt, tau : float
        Euler step and time constant (0.1, 1: the paper's 1 ms step for tau = 10 ms).
    update_every : int
        RLS update every this many steps (2).
    random_state : Generator, int or None

    Attributes
    ----------
    J_ : scipy.sparse.csr_array, shape (N, N)
    w_ : ndarray, shape (N, d_out)
    w_feedback_ : ndarray, shape (N, d_out)
    P_ : ndarray, shape (N, N)
    state_ : ndarray, shape (N,)
        Network state at the end of the last :meth:`fit` or :meth:`generate`.
    rates_ : ndarray, shape (n_updates, N)
        Rates at each RLS update (only with ``fit(..., keep_rates=True)``).
    info_ : dict
        ``n_steps``, ``n_updates``, ``seconds``, ``steps_per_second``, ``train_rmse`` (over the
        last 10% of the training run).
    """

    def __init__(
        self,
        n_neurons: int = 1000,
        *,
        g: float = 1.5,
        p: float = 0.1,
        alpha: float = 1.0,
        dt: float = 0.1,
        tau: float = 1.0,
        update_every: int = 2,
        random_state: RngLike = None,
    ) -> None:
        self.n_neurons = n_neurons
        self.g = g
        self.p = p
        self.alpha = alpha
        self.dt = dt
        self.tau = tau
        self.update_every = update_every
        self.random_state = random_state

    def _validate_params(self) -> None:
        check_int("n_neurons", self.n_neurons, minimum=2)
        check_real("g", self.g, minimum=0.0)
        check_real("p", self.p, minimum=0.0, maximum=1.0, min_inclusive=False)
        check_real("alpha", self.alpha, minimum=0.0, min_inclusive=False)
        check_real("dt", self.dt, minimum=0.0, min_inclusive=False)
        check_real("tau", self.tau, minimum=0.0, min_inclusive=False)
        check_int("update_every", self.update_every, minimum=1)
        as_rng(self.random_state, "random_state")

    def _step(self, x: np.ndarray, r: np.ndarray, z: np.ndarray) -> np.ndarray:
        a = float(self.dt) / float(self.tau)
        return x + a * (-x + float(self.g) * (self.J_ @ r) + self.w_feedback_ @ z)

    def fit(self, target: np.ndarray, *, keep_rates: bool = False) -> FORCETrainer:
        """Train the readout on a target signal sampled every ``dt``.

        Parameters
        ----------
        target : ndarray, shape (time,) or (time, d_out)
            ``f(t_k)`` for step k.
        keep_rates : bool
            Keep the rates at each update in ``rates_`` (to check the RLS solution).

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        self._validate_params()
        F = check_array("target", target).astype(float)
        F = F[:, None] if F.ndim == 1 else F
        if F.ndim != 2 or F.shape[0] < 2:
            raise ValueError(f"target: expected shape (time, d_out), got {np.shape(target)}")
        n = int(self.n_neurons)
        d = F.shape[1]
        rng = as_rng(self.random_state, "random_state")
        self.J_ = sparse_gaussian(n, float(self.p), rng=rng)
        self.w_feedback_ = rng.uniform(-1.0, 1.0, (n, d))
        x = 0.5 * rng.standard_normal(n)
        w = np.zeros((n, d))
        P = np.eye(n) / float(self.alpha)
        r = np.tanh(x)
        z = r @ w
        rates = []
        err2 = []
        n_up = 0
        every = int(self.update_every)
        with threadpool_limits(1, user_api="blas"):
            for k in range(F.shape[0]):
                x = self._step(x, r, z)
                r = np.tanh(x)
                z = r @ w
                if k % every == 0:
                    if keep_rates:
                        rates.append(r.copy())
                    rls_update(P, w, r, F[k])
                    n_up += 1
                    z = r @ w
                err2.append(float(np.mean((z - F[k]) ** 2)))
        secs = time.perf_counter() - t0
        self.w_, self.P_, self.state_ = w, P, x
        if keep_rates:
            self.rates_ = np.array(rates)
        tail = err2[-max(1, len(err2) // 10):]
        self.info_ = {
            "n_steps": int(F.shape[0]),
            "n_updates": n_up,
            "seconds": secs,
            "steps_per_second": F.shape[0] / secs if secs > 0 else float("inf"),
            "train_rmse": float(np.sqrt(np.mean(tail))),
        }
        return self

    def generate(self, n_steps: int, start: np.ndarray | None = None) -> np.ndarray:
        """Run the trained network freely (output fed back, no learning).

        Parameters
        ----------
        n_steps : int
        start : ndarray, shape (N,), optional
            Network state to start from (default: where the last fit / generate ended).

        Returns
        -------
        ndarray, shape (n_steps, d_out)
            The output z after each step.
        """
        if not hasattr(self, "w_"):
            raise ValueError("this FORCETrainer is not fitted yet; call fit() first")
        n_steps = check_int("n_steps", n_steps, minimum=1)
        x = self.state_ if start is None else check_array(
            "start", start, shape=(int(self.n_neurons),)).astype(float)
        r = np.tanh(x)
        z = r @ self.w_
        out = np.empty((n_steps, self.w_.shape[1]))
        with threadpool_limits(1, user_api="blas"):
            for k in range(n_steps):
                x = self._step(x, r, z)
                r = np.tanh(x)
                z = r @ self.w_
                out[k] = z
        self.state_ = x
        return out


register_estimator(OnlineEmbedding)
register_estimator(FORCETrainer)
