"""Fitting linear low-rank RNNs and latent LDS models to data, and comparing them held out.

What is implemented (the fitting side of Valente, Pillow & Ostojic 2022, arXiv 2110.09804):

- **Linear low-rank RNN by reduced-rank regression** (closed form; Izenman 1975, Reinsel & Velu
  1998): minimise ``sum_t ||x_{t+1} - J x_t - B u_t - h||^2`` over rank-R J. Input and bias
  coefficients are partialled out first (Frisch–Waugh); then ``J = Pi J_ols`` with Pi the
  projection on the top-R eigenvectors of ``J_ols S_00 J_ols^T`` (identity weight; the
  Gaussian maximum-likelihood estimator for isotropic noise), or the Sigma^{-1}-weighted version
  (``weight='mle'``: the maximum-likelihood estimator for an unknown full noise covariance).
- **Latent LDS by EM** (Shumway & Stoffer 1982; Ghahramani & Hinton 1996): E-step = Kalman filter
  + Rauch–Tung–Striebel smoother (batched over sequences: covariances are shared), M-step = closed
  form updates of A, B, C, d, Q, R (full or diagonal), m0, P0. The log-likelihood of the
  parameters entering each iteration is recorded; EM guarantees it never decreases.
- **Held-out comparison** of both fits (and an i.i.d. Gaussian baseline) in log-likelihood per
  observed time step.
- **Data from a nonlinear low-rank network** simulated with :func:`lowrank_rnn.simulate.simulate`
  and sampled every ``every`` integration steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from lowrank_rnn._validate import (
    RngLike,
    as_rng,
    check_array,
    check_choice,
    check_int,
    check_real,
)
from lowrank_rnn.io import Storable, register_estimator
from lowrank_rnn.models.lds import (
    LatentLDS,
    LinearLowRankRNN,
    kalman_filter,
    lds_log_likelihood,
    rnn_log_likelihood,
)

__all__ = [
    "SmootherResult",
    "rts_smoother",
    "fit_rnn_rrr",
    "fit_lds_em",
    "ReducedRankRNN",
    "LDSEM",
    "gaussian_log_likelihood",
    "compare_heldout",
    "sample_nonlinear_network",
]


def _sym(s: np.ndarray) -> np.ndarray:
    return (s + s.T) / 2


def _data(name: str, value: Any, min_steps: int = 2) -> np.ndarray:
    arr = check_array(name, value)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"{name}: expected shape (batch, time, N), got {np.shape(value)}")
    if arr.shape[1] < min_steps:
        raise ValueError(f"{name}: needs at least {min_steps} time steps, got shape {arr.shape}")
    return np.asarray(arr, dtype=float)


def _inputs(inputs: Any, batch: int, n_steps: int) -> np.ndarray | None:
    if inputs is None:
        return None
    arr = check_array("inputs", inputs)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1] != n_steps or arr.shape[0] not in (1, batch):
        raise ValueError(
            f"inputs: expected shape ({batch}, {n_steps}, d_in), got {np.shape(inputs)}"
        )
    return np.broadcast_to(np.asarray(arr, dtype=float), (batch, n_steps, arr.shape[2]))


# ------------------------------------------------------------------------------ RTS smoother
@dataclass
class SmootherResult:
    """Output of :func:`rts_smoother`.

    Attributes
    ----------
    m_smooth : ndarray, shape (batch, time, K)
        ``E[z_t | y_0..y_{T-1}]``.
    P_smooth : ndarray, shape (time, K, K)
        ``Cov[z_t | y]`` (shared by all sequences).
    P_cross : ndarray, shape (time - 1, K, K)
        ``Cov[z_{t+1}, z_t | y]``.
    log_likelihood : ndarray, shape (batch,)
    """

    m_smooth: np.ndarray
    P_smooth: np.ndarray
    P_cross: np.ndarray
    log_likelihood: np.ndarray


def rts_smoother(
    lds: LatentLDS, y: np.ndarray, *, inputs: np.ndarray | None = None
) -> SmootherResult:
    """Rauch–Tung–Striebel smoother, batched over sequences.

    Backward pass: ``G_t = P_{t|t} A^T P_{t+1|t}^{-1}``,
    ``m_{t|T} = m_{t|t} + G_t (m_{t+1|T} - m_{t+1|t})``,
    ``P_{t|T} = P_{t|t} + G_t (P_{t+1|T} - P_{t+1|t}) G_t^T``,
    ``Cov(z_{t+1}, z_t | y) = P_{t+1|T} G_t^T``.

    Parameters
    ----------
    lds : LatentLDS
    y : ndarray, shape (batch, time, N)
    inputs : ndarray, shape (batch, time, d_in), optional

    Returns
    -------
    SmootherResult
    """
    kf = kalman_filter(lds, y, inputs=inputs)
    b, T, k = kf.m_filt.shape
    ms = np.empty_like(kf.m_filt)
    Ps = np.empty_like(kf.P_filt)
    Pc = np.empty((max(T - 1, 0), k, k))
    ms[:, -1], Ps[-1] = kf.m_filt[:, -1], kf.P_filt[-1]
    A = lds.A
    G_cache: dict[tuple[bytes, bytes], np.ndarray] = {}
    for t in range(T - 2, -1, -1):
        Pf, Pp = kf.P_filt[t], kf.P_pred[t + 1]
        key = (Pf.tobytes(), Pp.tobytes())  # the steady-state filter repeats the same pair
        G = G_cache.get(key)
        if G is None:
            try:
                G = (np.linalg.inv(Pp) @ (A @ Pf)).T  # Pf A^T Pp^{-1} (Pp symmetric)
            except np.linalg.LinAlgError:
                G = (np.linalg.pinv(Pp, hermitian=True) @ A @ Pf).T
            G_cache = {key: G}
        ms[:, t] = kf.m_filt[:, t] + (ms[:, t + 1] - kf.m_pred[:, t + 1]) @ G.T
        Ps[t] = _sym(Pf + G @ (Ps[t + 1] - Pp) @ G.T)
        Pc[t] = Ps[t + 1] @ G.T
    return SmootherResult(ms, Ps, Pc, kf.log_likelihood)


# ------------------------------------------------------------------- reduced-rank regression
def fit_rnn_rrr(
    x: np.ndarray,
    rank: int,
    *,
    inputs: np.ndarray | None = None,
    fit_bias: bool = True,
    weight: str = "identity",
) -> tuple[LinearLowRankRNN, dict[str, Any]]:
    """Fit a linear low-rank RNN ``x_{t+1} = M N^T x_t + B u_t + h + eps`` by reduced-rank
    regression (closed form).

    Parameters
    ----------
    x : ndarray, shape (batch, time, N)
        Observed activity (``time >= 2``).
    rank : int
        Rank R of ``J = M N^T`` (``1 <= R <= N``).
    inputs : ndarray, shape (batch, time, d_in), optional
        ``u_t`` (drives ``x_{t+1}``).
    fit_bias : bool
        Fit a constant drive h.
    weight : {'identity', 'mle'}
        Least squares (identity weight) or the noise-whitened (maximum-likelihood) criterion.

    Returns
    -------
    rnn : LinearLowRankRNN
        ``M`` has orthonormal columns (identity weight); ``Sigma`` is the residual covariance
        (maximum-likelihood normalisation); stationary initial state.
    info : dict
        ``eigenvalues`` of the reduced-rank criterion (descending), ``residual_variance``,
        ``condition_number`` of the regressor covariance, ``n_transitions``, ``seconds``.
    """
    t0 = time.perf_counter()
    x = _data("x", x)
    b, T, n = x.shape
    rank = check_int("rank", rank, minimum=1, maximum=n)
    check_choice("weight", weight, ("identity", "mle"))
    u = _inputs(inputs, b, T)
    X0 = x[:, :-1].reshape(-1, n)
    X1 = x[:, 1:].reshape(-1, n)
    n_tr = X0.shape[0]
    nuis = []
    if u is not None:
        nuis.append(u[:, :-1].reshape(n_tr, -1))
    if fit_bias:
        nuis.append(np.ones((n_tr, 1)))
    Z = np.hstack(nuis) if nuis else np.zeros((n_tr, 0))
    if n_tr <= n + Z.shape[1]:
        raise ValueError(
            f"x: {n_tr} transitions are too few to fit {n} units (need more than "
            f"{n + Z.shape[1]})"
        )
    if Z.shape[1]:
        Zp = np.linalg.pinv(Z)
        X0r, X1r = X0 - Z @ (Zp @ X0), X1 - Z @ (Zp @ X1)
    else:
        X0r, X1r = X0, X1
    S00 = X0r.T @ X0r
    Jols = np.linalg.lstsq(X0r, X1r, rcond=None)[0].T
    if weight == "identity":
        H = _sym(Jols @ S00 @ Jols.T)
        w, V = np.linalg.eigh(H)
        order = np.argsort(w)[::-1]
        V = V[:, order[:rank]]
        M, Nm = V, Jols.T @ V
    else:
        E = X1r - X0r @ Jols.T
        G = _sym(E.T @ E / n_tr)
        gw, gv = np.linalg.eigh(G)
        if gw.min() <= 0:
            raise ValueError(
                "x: the full-rank residual covariance is singular; use weight='identity'"
            )
        Gh, Gih = (gv * np.sqrt(gw)) @ gv.T, (gv / np.sqrt(gw)) @ gv.T
        H = _sym(Gih @ Jols @ S00 @ Jols.T @ Gih)
        w, V = np.linalg.eigh(H)
        order = np.argsort(w)[::-1]
        V = V[:, order[:rank]]
        M, Nm = Gh @ V, Jols.T @ Gih @ V
    resid = X1 - (X0 @ Nm) @ M.T
    B = h = None
    if Z.shape[1]:
        coef = np.linalg.lstsq(Z, resid, rcond=None)[0]  # (d_nuis, n)
        resid = resid - Z @ coef
        if u is not None:
            B = coef[: u.shape[2]].T
        if fit_bias:
            h = coef[-1]
    Sigma = _sym(resid.T @ resid / n_tr)
    rnn = LinearLowRankRNN(M=M, N=Nm, Sigma=Sigma, B=B, h=h)
    info = {
        "eigenvalues": w[order],
        "residual_variance": float(np.trace(Sigma) / n),
        "condition_number": float(np.linalg.cond(S00)),
        "n_transitions": int(n_tr),
        "seconds": time.perf_counter() - t0,
    }
    return rnn, info


# ------------------------------------------------------------------------------------- EM
def _init_lds(y: np.ndarray, k: int, u: np.ndarray | None, diag: bool) -> LatentLDS:
    """Probabilistic-PCA initialisation: C from the top-K principal components, A by regression."""
    b, T, n = y.shape
    Y = y.reshape(-1, n)
    d = Y.mean(axis=0)
    cov = _sym(np.cov(Y.T, bias=True)) if n > 1 else np.atleast_2d(np.var(Y))
    w, V = np.linalg.eigh(cov)
    w, V = w[::-1], V[:, ::-1]
    s2 = float(np.mean(w[k:])) if k < n else 1e-3 * float(np.mean(w))
    s2 = max(s2, 1e-6 * float(np.mean(w)) + 1e-12)
    C = V[:, :k] * np.sqrt(np.clip(w[:k] - s2, 1e-6 * w[0] + 1e-12, None))
    z = (y - d) @ np.linalg.solve(C.T @ C + s2 * np.eye(k), C.T).T  # (b, T, k)
    Z0, Z1 = z[:, :-1].reshape(-1, k), z[:, 1:].reshape(-1, k)
    X = Z0 if u is None else np.hstack([Z0, u[:, :-1].reshape(Z0.shape[0], -1)])
    coef = np.linalg.lstsq(X, Z1, rcond=None)[0].T
    A = coef[:, :k]
    rho = np.max(np.abs(np.linalg.eigvals(A)))
    if rho >= 0.99:
        A = A * (0.99 / rho)
    B = None if u is None else coef[:, k:]
    res = Z1 - X @ coef.T
    Q = _sym(res.T @ res / res.shape[0]) + 1e-6 * np.eye(k)
    resid_obs = Y - d - z.reshape(-1, k) @ C.T
    R = _sym(resid_obs.T @ resid_obs / Y.shape[0]) + s2 * 1e-3 * np.eye(n)
    if diag:
        R = np.diag(np.diag(R))
    P0 = _sym(np.cov(z[:, 0].T, bias=True)) if b > 1 else np.eye(k)
    P0 = np.atleast_2d(P0) + 1e-6 * np.eye(k)
    return LatentLDS(A=A, C=C, Q=Q, R=R, B=B, d=d, m0=z[:, 0].mean(axis=0), P0=P0)


def _m_step(
    y: np.ndarray,
    u: np.ndarray | None,
    sm: SmootherResult,
    diag: bool,
    yy: tuple[np.ndarray, np.ndarray],
) -> LatentLDS:
    """Closed-form M-step; ``yy = (sum_t y_t y_t^T, sum_t y_t)`` (computed once)."""
    b, T, n = y.shape
    ms = sm.m_smooth
    k = ms.shape[2]
    Y = y.reshape(-1, n)
    Z = ms.reshape(-1, k)
    # observation model: y_t = C z_t + d
    Szz = b * sm.P_smooth.sum(axis=0) + Z.T @ Z
    Sz = Z.sum(axis=0)
    XX = np.block([[Szz, Sz[:, None]], [Sz[None, :], np.array([[b * T]])]])
    YX = np.hstack([Y.T @ Z, yy[1][:, None]])
    Cd = np.linalg.solve(XX, YX.T).T
    C, d = Cd[:, :k], Cd[:, k]
    R = _sym((yy[0] - Cd @ YX.T) / (b * T))
    if diag:
        R = np.diag(np.diag(R))
    floor = 1e-12 * max(float(np.trace(R)) / n, 1e-300)
    wmin = np.linalg.eigvalsh(R).min()
    if wmin < floor:
        R = R + (floor - wmin) * np.eye(n)
    # dynamics: z_{t+1} = A z_t + B u_t
    Z0, Z1 = ms[:, :-1].reshape(-1, k), ms[:, 1:].reshape(-1, k)
    S00 = b * sm.P_smooth[:-1].sum(axis=0) + Z0.T @ Z0
    S11 = b * sm.P_smooth[1:].sum(axis=0) + Z1.T @ Z1
    S10 = b * sm.P_cross.sum(axis=0) + Z1.T @ Z0
    if u is None:
        A = np.linalg.solve(S00.T, S10.T).T
        B = None
        Q = _sym((S11 - A @ S10.T) / Z0.shape[0])
    else:
        U0 = u[:, :-1].reshape(Z0.shape[0], -1)
        XXd = np.block([[S00, Z0.T @ U0], [U0.T @ Z0, U0.T @ U0]])
        ZX = np.hstack([S10, Z1.T @ U0])
        AB = np.linalg.solve(XXd, ZX.T).T
        A, B = AB[:, :k], AB[:, k:]
        Q = _sym((S11 - AB @ ZX.T) / Z0.shape[0])
    m0 = ms[:, 0].mean(axis=0)
    dm = ms[:, 0] - m0
    P0 = _sym(sm.P_smooth[0] + dm.T @ dm / b)
    return LatentLDS(A=A, C=C, Q=Q, R=R, B=B, d=d, m0=m0, P0=P0)


def fit_lds_em(
    y: np.ndarray,
    n_latent: int,
    *,
    inputs: np.ndarray | None = None,
    n_iter: int = 100,
    tol: float = 1e-6,
    obs_cov: str = "full",
    init: LatentLDS | None = None,
) -> tuple[LatentLDS, dict[str, Any]]:
    """Fit a latent LDS by expectation–maximisation (Kalman filter + RTS smoother).

    Parameters
    ----------
    y : ndarray, shape (batch, time, N)
        Observations (``time >= 2``).
    n_latent : int
        Latent dimension K (``1 <= K <= N``).
    inputs : ndarray, shape (batch, time, d_in), optional
    n_iter : int
        Maximum number of EM iterations.
    tol : float
        Stop when the log-likelihood gain per observed time step falls below ``tol``.
    obs_cov : {'full', 'diag'}
        Structure of the observation covariance R.
    init : LatentLDS, optional
        Starting parameters (default: probabilistic PCA + regression).

    Returns
    -------
    lds : LatentLDS
        The fitted model (with fitted ``m0`` and ``P0``).
    info : dict
        ``log_likelihood`` (ndarray, the total log-likelihood of the parameters entering each
        iteration, then of the returned parameters), ``n_iter``, ``converged``, ``seconds``,
        ``seconds_per_iter``.
    """
    t0 = time.perf_counter()
    y = _data("y", y)
    b, T, n = y.shape
    k = check_int("n_latent", n_latent, minimum=1, maximum=n)
    n_iter = check_int("n_iter", n_iter, minimum=0)
    tol = check_real("tol", tol, minimum=0.0)
    check_choice("obs_cov", obs_cov, ("full", "diag"))
    u = _inputs(inputs, b, T)
    diag = obs_cov == "diag"
    if init is None:
        lds = _init_lds(y, k, u, diag)
    else:
        if not isinstance(init, LatentLDS) or init.n_obs != n or init.n_latent != k:
            raise ValueError(f"init: expected a LatentLDS with N={n} and K={k}")
        if (init.B is None) != (u is None):
            raise ValueError("init: its input matrix B must be present exactly when inputs are")
        lds = init
    Yf = y.reshape(-1, n)
    yy = (_sym(Yf.T @ Yf), Yf.sum(axis=0))
    lls: list[float] = []
    converged = False
    it = 0
    for it in range(1, n_iter + 1):  # noqa: B007 - it is reported
        sm = rts_smoother(lds, y, inputs=u)
        lls.append(float(sm.log_likelihood.sum()))
        if len(lls) > 1 and (lls[-1] - lls[-2]) < tol * b * T:
            converged = True
            break
        lds = _m_step(y, u, sm, diag, yy)
    else:
        lls.append(float(lds_log_likelihood(lds, y, inputs=u).sum()))
    seconds = time.perf_counter() - t0
    info = {
        "log_likelihood": np.asarray(lls),
        "n_iter": it,
        "converged": converged,
        "seconds": seconds,
        "seconds_per_iter": seconds / max(it, 1),
    }
    return lds, info


# ------------------------------------------------------------------------------- estimators
class ReducedRankRNN(Storable):
    """Estimator wrapper of :func:`fit_rnn_rrr` (scikit-learn contract: ``fit`` returns self).

    Attributes (after fit): ``rnn_``, ``info_``.
    """

    def __init__(self, rank: int, *, fit_bias: bool = True, weight: str = "identity") -> None:
        self.rank, self.fit_bias, self.weight = rank, fit_bias, weight

    def fit(self, x: np.ndarray, inputs: np.ndarray | None = None) -> ReducedRankRNN:
        """Fit on ``x`` (batch, time, N)."""
        self.rnn_, self.info_ = fit_rnn_rrr(
            x, self.rank, inputs=inputs, fit_bias=self.fit_bias, weight=self.weight
        )
        return self

    def score(self, x: np.ndarray, inputs: np.ndarray | None = None) -> float:
        """Log-likelihood per observed time step of ``x`` (batch, time, N)."""
        x = _data("x", x, 1)
        return float(rnn_log_likelihood(self.rnn_, x, inputs=inputs).sum() / x[..., 0].size)


class LDSEM(Storable):
    """Estimator wrapper of :func:`fit_lds_em`.

    Attributes (after fit): ``lds_``, ``log_likelihood_`` (per iteration), ``n_iter_``,
    ``converged_``, ``info_``.
    """

    def __init__(
        self, n_latent: int, *, n_iter: int = 100, tol: float = 1e-6, obs_cov: str = "full"
    ) -> None:
        self.n_latent, self.n_iter, self.tol, self.obs_cov = n_latent, n_iter, tol, obs_cov

    def fit(self, y: np.ndarray, inputs: np.ndarray | None = None) -> LDSEM:
        """Fit on ``y`` (batch, time, N)."""
        self.lds_, self.info_ = fit_lds_em(
            y, self.n_latent, inputs=inputs, n_iter=self.n_iter, tol=self.tol,
            obs_cov=self.obs_cov,
        )
        self.log_likelihood_ = self.info_["log_likelihood"]
        self.n_iter_ = self.info_["n_iter"]
        self.converged_ = self.info_["converged"]
        return self

    def score(self, y: np.ndarray, inputs: np.ndarray | None = None) -> float:
        """Log-likelihood per observed time step of ``y`` (batch, time, N)."""
        y = _data("y", y, 1)
        return float(lds_log_likelihood(self.lds_, y, inputs=inputs).sum() / y[..., 0].size)


# ------------------------------------------------------------------------- held-out scores
def gaussian_log_likelihood(train: np.ndarray, test: np.ndarray) -> float:
    """Baseline: i.i.d. Gaussian (mean and covariance of ``train``); log-likelihood per step of
    ``test``. Both ``(batch, time, N)``."""
    train, test = _data("train", train, 1), _data("test", test, 1)
    n = train.shape[2]
    if test.shape[2] != n:
        raise ValueError(f"test: expected {n} units like train, got shape {test.shape}")
    X = train.reshape(-1, n)
    mu, cov = X.mean(axis=0), _sym(np.cov(X.T, bias=True).reshape(n, n))
    L = np.linalg.cholesky(cov)
    e = np.linalg.inv(L) @ (test.reshape(-1, n) - mu).T
    per = -0.5 * (np.sum(e**2, axis=0) + n * np.log(2 * np.pi)) - np.log(np.diag(L)).sum()
    return float(per.mean())


def _stationary_or_fitted(lds: LatentLDS) -> LatentLDS:
    if np.max(np.abs(np.linalg.eigvals(lds.A))) < 1 - 1e-9:
        return lds.replace(m0=None, P0=None)
    return lds


def compare_heldout(
    train: np.ndarray,
    test: np.ndarray,
    *,
    rank: int,
    n_latent: int,
    em_iter: int = 50,
    obs_cov: str = "full",
    true_model: LatentLDS | LinearLowRankRNN | None = None,
) -> dict[str, Any]:
    """Fit an RNN (reduced-rank regression) and an LDS (EM) on ``train``; score on ``test``.

    Scores are held-out log-likelihoods per observed time step (nats). Both fitted models are
    scored with their stationary initial distributions (fitted LDS: when A is stable), so that
    neither is favoured by how it treats the first step.

    Parameters
    ----------
    train, test : ndarray, shape (batch, time, N)
    rank : int
        RNN rank.
    n_latent : int
        LDS latent dimension.
    em_iter : int
        EM iterations.
    obs_cov : {'full', 'diag'}
    true_model : LatentLDS or LinearLowRankRNN, optional
        Also scored (``'true'``) when given.

    Returns
    -------
    dict
        ``'rnn'``, ``'lds'``, ``'gaussian'`` (and ``'true'``) scores; ``'rnn_model'``,
        ``'lds_model'``, ``'em_info'``, ``'rrr_info'``.
    """
    train, test = _data("train", train), _data("test", test, 1)
    if test.shape[2] != train.shape[2]:
        raise ValueError(f"test: expected {train.shape[2]} units like train, got {test.shape}")
    n_obs = test[..., 0].size
    rnn, rrr_info = fit_rnn_rrr(train, rank)
    lds, em_info = fit_lds_em(train, n_latent, n_iter=em_iter, obs_cov=obs_cov)
    out: dict[str, Any] = {
        "rnn": float(rnn_log_likelihood(rnn, test).sum() / n_obs),
        "lds": float(lds_log_likelihood(_stationary_or_fitted(lds), test).sum() / n_obs),
        "gaussian": gaussian_log_likelihood(train, test),
        "rnn_model": rnn,
        "lds_model": lds,
        "rrr_info": rrr_info,
        "em_info": em_info,
    }
    if true_model is not None:
        if isinstance(true_model, LatentLDS):
            out["true"] = float(lds_log_likelihood(true_model, test).sum() / n_obs)
        elif isinstance(true_model, LinearLowRankRNN):
            out["true"] = float(rnn_log_likelihood(true_model, test).sum() / n_obs)
        else:
            raise ValueError("true_model: expected a LatentLDS or a LinearLowRankRNN")
    return out


def sample_nonlinear_network(
    net: Any,
    n_seq: int,
    n_steps: int,
    *,
    dt: float = 0.1,
    every: int = 5,
    noise: float = 0.5,
    burn_in: int = 50,
    rng: RngLike = None,
) -> np.ndarray:
    """Activity of a nonlinear low-rank network, sampled at discrete steps.

    Integrates ``net`` with :func:`lowrank_rnn.simulate.simulate` (Euler–Maruyama, white noise of
    amplitude ``noise``) from random initial states and keeps every ``every``-th state after
    ``burn_in`` samples.

    Parameters
    ----------
    net : LowRankRNN
    n_seq, n_steps : int
        Number of sequences and of kept samples per sequence.
    dt : float
        Integration step.
    every : int
        Integration steps between kept samples.
    noise : float
        Noise amplitude.
    burn_in : int
        Samples discarded at the start.
    rng : Generator, int or None

    Returns
    -------
    ndarray, shape (n_seq, n_steps, N)
    """
    from lowrank_rnn.simulate import simulate

    n_seq = check_int("n_seq", n_seq, minimum=1)
    n_steps = check_int("n_steps", n_steps, minimum=1)
    every = check_int("every", every, minimum=1)
    burn_in = check_int("burn_in", burn_in, minimum=0)
    dt = check_real("dt", dt, minimum=0.0, min_inclusive=False)
    noise = check_real("noise", noise, minimum=0.0)
    rng = as_rng(rng)
    x0 = rng.standard_normal((n_seq, net.n_neurons))
    traj = simulate(
        net, None, x0, dt=dt, n_steps=(n_steps + burn_in) * every, noise=noise, rng=rng,
        save_every=every, batch=n_seq,
    )
    return np.asarray(traj.x[:, burn_in + 1 :], dtype=float)


register_estimator(ReducedRankRNN)
register_estimator(LDSEM)
