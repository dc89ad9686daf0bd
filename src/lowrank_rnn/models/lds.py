"""Latent linear dynamical systems (LDS) and discrete-time linear low-rank RNNs.

What is implemented (Valente, Pillow & Ostojic 2022, "Probing the relationship between latent
linear dynamical systems and low-rank linear recurrent neural network models", Neural
Computation 34(9); arXiv 2110.09804):

**Latent LDS** (their eq 1–2)::

    z_{t+1} = A z_t + B u_t + w_t,      w_t ~ N(0, Q)        z_t: (K,)
    y_t     = C z_t + d + v_t,          v_t ~ N(0, R)        y_t: (N,)
    z_0 ~ N(m0, P0)   (m0 = 0, P0 = stationary latent covariance when not given)

**Linear low-rank RNN** (their eq 3)::

    x_{t+1} = M N^T x_t + B u_t + h + eps_t,   eps_t ~ N(0, Sigma)   x_t: (N,), M, N: (N, R)
    x_0 ~ N(m0, P0)   (stationary mean and covariance when not given)

**RNN -> LDS** (exact, their section 3). Split the noise into a part that the next step reads
out and a part it does not: with ``a_t = Sigma N (N^T Sigma N)^+ N^T eps_t`` and
``v_{t+1} = eps_t - a_t`` (independent Gaussians, ``N^T v = 0``), the signal
``s_{t+1} = x_{t+1} - v_{t+1}`` obeys ``s_{t+1} = M N^T s_t + B u_t + a_t`` because
``N^T x_t = N^T s_t``. ``s`` lives in ``span(M, Sigma N, B)``; with an orthonormal basis U of
that span, ``z_t = U^T s_t`` is an LDS with ``A = (U^T M)(N^T U)``, ``C = U``,
``Q = U^T Sigma_a U``, ``R = Sigma - Sigma_a``. For isotropic noise (``Sigma = sigma^2 I``, the
paper's setting) the span is ``span(M, N)``: latent dimension ``rank([M, N]) <= 2R``.

**LDS -> RNN** (their section 4). The observations of an LDS are not Markov in general
(their eq 13–16), so no RNN reproduces them exactly. Implemented:

- :func:`lds_to_rnn`: the conversion ``J = C A C^+`` that is exact when the observation noise
  vanishes (``R -> 0``) and C has full column rank;
- :func:`best_rnn_approximation`: the RNN whose one-step regression matches the LDS output's
  lag-0 and lag-1 covariances (population reduced-rank regression; the large-data limit of
  :func:`lowrank_rnn.fit.lds.fit_rnn_rrr`);
- :func:`rnn_mismatch`: relative output-covariance mismatch at lags 1..L between an LDS and
  (by default) its best RNN approximation; it vanishes in the two limit cases (``R -> 0``; many
  observed units with a fixed latent dimension), and :func:`markov_violation` is a
  model-free certificate that *no* linear RNN of N units matches (``Gamma_2 != Gamma_1
  Gamma_0^{-1} Gamma_1``), and :func:`loglik_gap_rate` the expected per-step log-likelihood
  advantage of the LDS over an RNN on the LDS's own data.

Covariances are exact (discrete Lyapunov equations); log-likelihoods are the exact Gaussian
ones (Kalman filter for the LDS, batched over sequences: the covariance recursion does not depend
on the data, so it runs once for the whole batch).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg as sla

from lowrank_rnn._validate import RngLike, as_rng, check_array, check_int, check_psd, check_real
from lowrank_rnn.io import register_dataclass

__all__ = [
    "LatentLDS",
    "LinearLowRankRNN",
    "KalmanResult",
    "sample_lds",
    "sample_rnn",
    "latent_stationary_covariance",
    "stationary_covariance",
    "stationary_mean",
    "output_autocovariance",
    "kalman_filter",
    "lds_log_likelihood",
    "rnn_log_likelihood",
    "latent_basis",
    "rnn_to_lds",
    "lds_to_rnn",
    "best_rnn_approximation",
    "rnn_mismatch",
    "markov_violation",
    "steady_state_innovation",
    "loglik_gap_rate",
]

_LOG2PI = float(np.log(2 * np.pi))


# ----------------------------------------------------------------------------------- helpers
def _spectral_radius(a: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(a)))) if a.size else 0.0


def _require_stable(name: str, a: np.ndarray, what: str) -> None:
    rho = _spectral_radius(a)
    if not rho < 1.0 - 1e-12:
        raise ValueError(
            f"{name}: spectral radius {rho:.6g} >= 1; {what} requires a stable system "
            "(all eigenvalues strictly inside the unit circle)"
        )


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    """A factor F with ``F F^T = s`` for a symmetric PSD ``s`` (works when s is singular)."""
    if s.size == 0:
        return s.copy()
    w, v = np.linalg.eigh((s + s.T) / 2)
    return v * np.sqrt(np.clip(w, 0.0, None))


def _sym(s: np.ndarray) -> np.ndarray:
    return (s + s.T) / 2


def _matrix(name: str, value: Any, shape: tuple[int | None, ...]) -> np.ndarray:
    return np.asarray(check_array(name, value, shape=shape), dtype=float)


def _cov(name: str, value: Any, n: int) -> np.ndarray:
    mat = check_psd(name, value)
    if mat.shape != (n, n):
        raise ValueError(f"{name}: expected shape ({n}, {n}), got {mat.shape}")
    return _sym(mat)


def _vector(name: str, value: Any, n: int) -> np.ndarray:
    return np.asarray(check_array(name, value, shape=(n,)), dtype=float)


def _data(name: str, value: Any, n: int) -> np.ndarray:
    arr = check_array(name, value)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[2] != n:
        raise ValueError(f"{name}: expected shape (batch, time, {n}), got {np.shape(value)}")
    if arr.shape[1] < 1:
        raise ValueError(f"{name}: needs at least one time step, got shape {arr.shape}")
    return np.asarray(arr, dtype=float)


def _inputs(inputs: Any, B: np.ndarray | None, batch: int, n_steps: int) -> np.ndarray | None:
    """Validate ``inputs`` (batch, time, d_in) against the input matrix B; None when unused."""
    if inputs is None:
        return None
    if B is None:
        raise ValueError("inputs: the model has no input matrix B; pass inputs=None")
    arr = check_array("inputs", inputs)
    if arr.ndim == 2:
        arr = arr[None]
    want = (batch, n_steps, B.shape[1])
    if arr.ndim != 3 or arr.shape[1:] != want[1:] or arr.shape[0] not in (1, batch):
        raise ValueError(f"inputs: expected shape {want} (or batch 1), got {np.shape(inputs)}")
    return np.broadcast_to(np.asarray(arr, dtype=float), want)


# ------------------------------------------------------------------------------------ models
@dataclass(frozen=True, eq=False)
class LatentLDS:
    """A latent linear dynamical system (Valente et al. 2022, eq 1–2).

    Parameters
    ----------
    A : ndarray, shape (K, K)
        Latent dynamics matrix.
    C : ndarray, shape (N, K)
        Observation (loading) matrix.
    Q : ndarray, shape (K, K)
        Latent noise covariance (symmetric PSD).
    R : ndarray, shape (N, N)
        Observation noise covariance (symmetric PSD; may be singular).
    B : ndarray, shape (K, d_in), optional
        Input matrix (``u_t`` drives ``z_{t+1}``).
    d : ndarray, shape (N,), optional
        Observation offset (zero by default).
    m0 : ndarray, shape (K,), optional
        Mean of ``z_0`` (zero by default).
    P0 : ndarray, shape (K, K), optional
        Covariance of ``z_0``; None means the stationary covariance (requires a stable A).
    """

    A: np.ndarray
    C: np.ndarray
    Q: np.ndarray
    R: np.ndarray
    B: np.ndarray | None = None
    d: np.ndarray | None = None
    m0: np.ndarray | None = None
    P0: np.ndarray | None = None

    def __post_init__(self) -> None:
        A = _matrix("A", self.A, (None, None))
        k = A.shape[0]
        if A.shape != (k, k):
            raise ValueError(f"A: expected a square (K, K) matrix, got shape {A.shape}")
        C = _matrix("C", self.C, (None, k))
        n = C.shape[0]
        fields = {"A": A, "C": C, "Q": _cov("Q", self.Q, k), "R": _cov("R", self.R, n)}
        if self.B is not None:
            b = check_array("B", self.B)
            fields["B"] = _matrix("B", b[:, None] if b.ndim == 1 else b, (k, None))
        if self.d is not None:
            fields["d"] = _vector("d", self.d, n)
        if self.m0 is not None:
            fields["m0"] = _vector("m0", self.m0, k)
        if self.P0 is not None:
            fields["P0"] = _cov("P0", self.P0, k)
        for key, val in fields.items():
            object.__setattr__(self, key, val)

    @property
    def n_latent(self) -> int:
        """Latent dimension K."""
        return int(self.A.shape[0])

    @property
    def n_obs(self) -> int:
        """Number of observed units N."""
        return int(self.C.shape[0])

    @property
    def d_in(self) -> int:
        """Input dimension (0 without B)."""
        return 0 if self.B is None else int(self.B.shape[1])

    @property
    def offset(self) -> np.ndarray:
        """``d`` (zeros when not given), shape (N,)."""
        return np.zeros(self.n_obs) if self.d is None else self.d

    def initial(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean (K,) and covariance (K, K) of ``z_0`` (stationary ones when not given)."""
        m0 = np.zeros(self.n_latent) if self.m0 is None else self.m0
        P0 = latent_stationary_covariance(self) if self.P0 is None else self.P0
        return m0, P0

    def replace(self, **changes: Any) -> LatentLDS:
        """A copy with some fields replaced (validated again)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, eq=False)
class LinearLowRankRNN:
    """A discrete-time linear low-rank RNN (Valente et al. 2022, eq 3).

    ``x_{t+1} = M N^T x_t + B u_t + h + eps_t``, ``eps_t ~ N(0, Sigma)``.

    Parameters
    ----------
    M, N : ndarray, shape (n_units, rank)
        Connectivity factors, ``J = M N^T``.
    Sigma : ndarray, shape (n_units, n_units)
        Noise covariance (symmetric PSD).
    B : ndarray, shape (n_units, d_in), optional
        Input matrix.
    h : ndarray, shape (n_units,), optional
        Constant drive (zero by default).
    m0 : ndarray, shape (n_units,), optional
        Mean of ``x_0`` (the stationary mean ``(1 - J)^{-1} h`` by default).
    P0 : ndarray, shape (n_units, n_units), optional
        Covariance of ``x_0`` (the stationary covariance by default; requires a stable J).
    """

    M: np.ndarray
    N: np.ndarray
    Sigma: np.ndarray
    B: np.ndarray | None = None
    h: np.ndarray | None = None
    m0: np.ndarray | None = None
    P0: np.ndarray | None = None

    def __post_init__(self) -> None:
        m = check_array("M", self.M)
        M = _matrix("M", m[:, None] if m.ndim == 1 else m, (None, None))
        n = M.shape[0]
        nn = check_array("N", self.N)
        N = _matrix("N", nn[:, None] if nn.ndim == 1 else nn, (n, M.shape[1]))
        fields = {"M": M, "N": N, "Sigma": _cov("Sigma", self.Sigma, n)}
        if self.B is not None:
            b = check_array("B", self.B)
            fields["B"] = _matrix("B", b[:, None] if b.ndim == 1 else b, (n, None))
        if self.h is not None:
            fields["h"] = _vector("h", self.h, n)
        if self.m0 is not None:
            fields["m0"] = _vector("m0", self.m0, n)
        if self.P0 is not None:
            fields["P0"] = _cov("P0", self.P0, n)
        for key, val in fields.items():
            object.__setattr__(self, key, val)

    @property
    def n_units(self) -> int:
        """Number of units N."""
        return int(self.M.shape[0])

    @property
    def rank(self) -> int:
        """Number of factor columns R (the rank of J is at most R)."""
        return int(self.M.shape[1])

    @property
    def d_in(self) -> int:
        """Input dimension (0 without B)."""
        return 0 if self.B is None else int(self.B.shape[1])

    @property
    def J(self) -> np.ndarray:
        """The dense connectivity ``M N^T``, shape (N, N)."""
        return self.M @ self.N.T

    def initial(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean (N,) and covariance (N, N) of ``x_0`` (stationary ones when not given)."""
        m0 = stationary_mean(self) if self.m0 is None else self.m0
        P0 = stationary_covariance(self) if self.P0 is None else self.P0
        return m0, P0

    def replace(self, **changes: Any) -> LinearLowRankRNN:
        """A copy with some fields replaced (validated again)."""
        return dataclasses.replace(self, **changes)


Model = LatentLDS | LinearLowRankRNN


def _check_model(model: Any) -> None:
    if not isinstance(model, (LatentLDS, LinearLowRankRNN)):
        raise ValueError(
            f"model: expected a LatentLDS or a LinearLowRankRNN, got {type(model).__name__}"
        )


# ------------------------------------------------------------------------------- covariances
def latent_stationary_covariance(lds: LatentLDS) -> np.ndarray:
    """Stationary latent covariance P solving ``P = A P A^T + Q`` (discrete Lyapunov).

    Returns
    -------
    ndarray, shape (K, K)
    """
    _require_stable("A", lds.A, "a stationary covariance")
    return _sym(sla.solve_discrete_lyapunov(lds.A, lds.Q))


def stationary_mean(model: Model) -> np.ndarray:
    """Stationary mean of the observed activity without input, shape (N,).

    LDS: ``d``. RNN: ``(1 - M N^T)^{-1} h`` (zero without h).
    """
    _check_model(model)
    if isinstance(model, LatentLDS):
        return model.offset.copy()
    if model.h is None:
        return np.zeros(model.n_units)
    _require_stable("M N^T", model.J, "a stationary mean")
    return np.linalg.solve(np.eye(model.n_units) - model.J, model.h)


def stationary_covariance(model: Model) -> np.ndarray:
    """Stationary covariance of the observed activity, shape (N, N).

    LDS: ``C P C^T + R`` with P from :func:`latent_stationary_covariance`.
    RNN: P solving ``P = J P J^T + Sigma`` (discrete Lyapunov).
    """
    return output_autocovariance(model, 0)[0]


def output_autocovariance(model: Model, n_lags: int) -> np.ndarray:
    """Stationary output autocovariances ``Gamma_k = Cov(y_{t+k}, y_t)``, k = 0..n_lags.

    LDS (Valente et al. 2022, eq 13): ``Gamma_0 = C P C^T + R``, ``Gamma_k = C A^k P C^T``.
    RNN: ``Gamma_k = J^k P`` (Markov), P the stationary covariance.

    Returns
    -------
    ndarray, shape (n_lags + 1, N, N)
    """
    _check_model(model)
    n_lags = check_int("n_lags", n_lags, minimum=0)
    if isinstance(model, LatentLDS):
        P = latent_stationary_covariance(model)
        out = np.empty((n_lags + 1, model.n_obs, model.n_obs))
        out[0] = _sym(model.C @ P @ model.C.T + model.R)
        X = P @ model.C.T
        for k in range(1, n_lags + 1):
            X = model.A @ X
            out[k] = model.C @ X
        return out
    J = model.J
    _require_stable("M N^T", J, "a stationary covariance")
    P = _sym(sla.solve_discrete_lyapunov(J, model.Sigma))
    out = np.empty((n_lags + 1, model.n_units, model.n_units))
    out[0] = P
    for k in range(1, n_lags + 1):
        out[k] = model.M @ (model.N.T @ out[k - 1])
    return out


# ---------------------------------------------------------------------------------- sampling
def sample_lds(
    lds: LatentLDS,
    n_seq: int,
    n_steps: int,
    *,
    inputs: np.ndarray | None = None,
    rng: RngLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample sequences from a latent LDS (eq 1–2).

    Parameters
    ----------
    lds : LatentLDS
    n_seq, n_steps : int
        Number of sequences (batch) and time steps.
    inputs : ndarray, shape (batch, n_steps, d_in), optional
        ``u_t`` (drives ``z_{t+1}``; the last step's input is unused).
    rng : Generator, int or None

    Returns
    -------
    z : ndarray, shape (batch, n_steps, K)
    y : ndarray, shape (batch, n_steps, N)
    """
    n_seq = check_int("n_seq", n_seq, minimum=1)
    n_steps = check_int("n_steps", n_steps, minimum=1)
    u = _inputs(inputs, lds.B, n_seq, n_steps)
    m0, P0 = lds.initial()
    rng = as_rng(rng)
    k = lds.n_latent
    z = np.empty((n_seq, n_steps, k))
    z[:, 0] = m0 + rng.standard_normal((n_seq, k)) @ _psd_sqrt(P0).T
    w = rng.standard_normal((n_seq, n_steps, k)) @ _psd_sqrt(lds.Q).T
    for t in range(n_steps - 1):
        z[:, t + 1] = z[:, t] @ lds.A.T + w[:, t]
        if u is not None:
            z[:, t + 1] += u[:, t] @ lds.B.T
    v = rng.standard_normal((n_seq, n_steps, lds.n_obs)) @ _psd_sqrt(lds.R).T
    return z, z @ lds.C.T + lds.offset + v


def sample_rnn(
    rnn: LinearLowRankRNN,
    n_seq: int,
    n_steps: int,
    *,
    inputs: np.ndarray | None = None,
    rng: RngLike = None,
) -> np.ndarray:
    """Sample sequences from a linear low-rank RNN (eq 3), applying J through its factors.

    Returns
    -------
    x : ndarray, shape (batch, n_steps, N)
    """
    n_seq = check_int("n_seq", n_seq, minimum=1)
    n_steps = check_int("n_steps", n_steps, minimum=1)
    u = _inputs(inputs, rnn.B, n_seq, n_steps)
    m0, P0 = rnn.initial()
    rng = as_rng(rng)
    n = rnn.n_units
    x = np.empty((n_seq, n_steps, n))
    x[:, 0] = m0 + rng.standard_normal((n_seq, n)) @ _psd_sqrt(P0).T
    eps = rng.standard_normal((n_seq, n_steps, n)) @ _psd_sqrt(rnn.Sigma).T
    if rnn.h is not None:
        eps += rnn.h
    for t in range(n_steps - 1):
        x[:, t + 1] = (x[:, t] @ rnn.N) @ rnn.M.T + eps[:, t]
        if u is not None:
            x[:, t + 1] += u[:, t] @ rnn.B.T
    return x


# ---------------------------------------------------------------------------- log-likelihood
@dataclass
class KalmanResult:
    """Output of :func:`kalman_filter`.

    Attributes
    ----------
    log_likelihood : ndarray, shape (batch,)
        ``log p(y_0..y_{T-1})`` of each sequence.
    m_pred, m_filt : ndarray, shape (batch, time, K)
        ``E[z_t | y_<t]`` and ``E[z_t | y_<=t]``.
    P_pred, P_filt : ndarray, shape (time, K, K)
        The matching covariances (identical for all sequences).
    """

    log_likelihood: np.ndarray
    m_pred: np.ndarray
    m_filt: np.ndarray
    P_pred: np.ndarray
    P_filt: np.ndarray


def _filter_covariances(lds: LatentLDS, n_steps: int, P: np.ndarray) -> dict[str, Any]:
    """The data-independent part of the Kalman filter (Riccati recursion).

    Once the predicted covariance reaches its fixed point (relative change <= 1e-14), the later
    steps reuse it, so the cost is that of the transient, not of ``n_steps``.

    Returns a dict with ``P_pred``, ``P_filt`` (n_steps, K, K), and per distinct step
    ``gain`` (n_d, K, N), ``Linv`` (n_d, N, N; ``L^{-1}`` with ``L L^T = S``), ``logdet``
    (n_d,), where step t uses entry ``min(t, n_d - 1)``.
    """
    A, C, Q, R = lds.A, lds.C, lds.Q, lds.R
    k = lds.n_latent
    P_pred = np.empty((n_steps, k, k))
    P_filt = np.empty((n_steps, k, k))
    gains, linvs, logdets = [], [], []
    t = 0
    while t < n_steps:
        P_pred[t] = P
        PCt = P @ C.T
        S = _sym(C @ PCt + R)
        try:
            L = np.linalg.cholesky(S)
        except np.linalg.LinAlgError:
            raise ValueError(
                f"lds: innovation covariance C P C^T + R is singular at step {t}; the data "
                "have no density under this model (R or P0 too degenerate)"
            ) from None
        Linv = np.linalg.inv(L)  # triangular; cheaper than per-step solves for small N
        gain = (PCt @ Linv.T) @ Linv
        Pf = _sym(P - gain @ PCt.T)
        P_filt[t] = Pf
        gains.append(gain)
        linvs.append(Linv)
        logdets.append(2.0 * np.log(np.diag(L)).sum())
        P_next = _sym(A @ Pf @ A.T + Q)
        t += 1
        if np.abs(P_next - P).max() <= 1e-14 * max(np.abs(P).max(), 1e-300):
            P_pred[t:] = P_next
            P_filt[t:] = Pf
            break
        P = P_next
    return {
        "P_pred": P_pred,
        "P_filt": P_filt,
        "gain": np.asarray(gains),
        "Linv": np.asarray(linvs),
        "logdet": np.asarray(logdets),
    }


def kalman_filter(
    lds: LatentLDS, y: np.ndarray, *, inputs: np.ndarray | None = None
) -> KalmanResult:
    """Kalman filter, batched over sequences (exact Gaussian log-likelihood of an LDS).

    The covariance recursion (predicted covariance, gain, innovation covariance
    ``S_t = C P_t C^T + R``) does not depend on the data, so it runs once for the whole batch and
    stops at its fixed point (steady-state filter); the means of all sequences are then updated
    together, and the quadratic terms ``e_t^T S_t^{-1} e_t`` are evaluated in one batched product.
    ``log p(y) = sum_t log N(y_t; C m_{t|t-1} + d, S_t)``.

    Parameters
    ----------
    lds : LatentLDS
    y : ndarray, shape (batch, time, N)
    inputs : ndarray, shape (batch, time, d_in), optional

    Returns
    -------
    KalmanResult
    """
    if not isinstance(lds, LatentLDS):
        raise ValueError(f"lds: expected a LatentLDS, got {type(lds).__name__}")
    y = _data("y", y, lds.n_obs)
    b, T, n = y.shape
    u = _inputs(inputs, lds.B, b, T)
    m, P = lds.initial()
    cov = _filter_covariances(lds, T, P)
    n_d = cov["gain"].shape[0]
    A_T, C_T = lds.A.T, lds.C.T
    k = lds.n_latent
    m = np.broadcast_to(m, (b, k)).copy()
    resid = y - lds.offset
    if u is not None:
        drive = u @ lds.B.T
    m_pred = np.empty((b, T, k))
    m_filt = np.empty((b, T, k))
    E = np.empty((b, T, n))
    gain_T = np.transpose(cov["gain"], (0, 2, 1))
    for t in range(T):
        m_pred[:, t] = m
        e = resid[:, t] - m @ C_T
        E[:, t] = e
        m = m + e @ gain_T[min(t, n_d - 1)]
        m_filt[:, t] = m
        m = m @ A_T
        if u is not None:
            m += drive[:, t]
    Linv = cov["Linv"]
    head = min(n_d - 1, T)
    quad = np.einsum("tij,btj->bti", Linv[:head], E[:, :head]) ** 2
    tail = E[:, head:] @ Linv[-1].T
    qsum = quad.sum(axis=(1, 2)) + np.einsum("bti,bti->b", tail, tail)
    logdet = cov["logdet"][:head].sum() + (T - head) * cov["logdet"][-1]
    ll = -0.5 * (qsum + logdet + T * n * _LOG2PI)
    return KalmanResult(ll, m_pred, m_filt, cov["P_pred"], cov["P_filt"])


def lds_log_likelihood(
    lds: LatentLDS, y: np.ndarray, *, inputs: np.ndarray | None = None
) -> np.ndarray:
    """Exact log-likelihood of each sequence under an LDS (Kalman filter), shape (batch,)."""
    return kalman_filter(lds, y, inputs=inputs).log_likelihood


def _gauss_logpdf(e: np.ndarray, cov: np.ndarray, name: str) -> np.ndarray:
    """Sum over all but the first axis of ``log N(e; 0, cov)``; ``e``: (batch, ..., n)."""
    try:
        L = np.linalg.cholesky(_sym(cov))
    except np.linalg.LinAlgError:
        raise ValueError(
            f"{name}: covariance is singular (not positive definite); the Gaussian has no "
            "density, so the log-likelihood is undefined"
        ) from None
    b, n = e.shape[0], e.shape[-1]
    flat = e.reshape(-1, n)
    white = np.linalg.inv(L) @ flat.T
    quad = np.einsum("ij,ij->j", white, white).reshape(b, -1).sum(axis=1)
    count = flat.shape[0] // b
    return -0.5 * quad - count * (np.log(np.diag(L)).sum() + 0.5 * n * _LOG2PI)


def rnn_log_likelihood(
    rnn: LinearLowRankRNN, x: np.ndarray, *, inputs: np.ndarray | None = None
) -> np.ndarray:
    """Exact log-likelihood of each sequence under a linear RNN (Gaussian Markov chain).

    ``log p(x_0) + sum_t log N(x_{t+1}; J x_t + B u_t + h, Sigma)``.

    Parameters
    ----------
    rnn : LinearLowRankRNN
    x : ndarray, shape (batch, time, N)
    inputs : ndarray, shape (batch, time, d_in), optional

    Returns
    -------
    ndarray, shape (batch,)
    """
    if not isinstance(rnn, LinearLowRankRNN):
        raise ValueError(f"rnn: expected a LinearLowRankRNN, got {type(rnn).__name__}")
    x = _data("x", x, rnn.n_units)
    b, T, _ = x.shape
    u = _inputs(inputs, rnn.B, b, T)
    m0, P0 = rnn.initial()
    ll = _gauss_logpdf((x[:, 0] - m0)[:, None], P0, "P0")
    if T > 1:
        e = x[:, 1:] - (x[:, :-1] @ rnn.N) @ rnn.M.T
        if u is not None:
            e = e - u[:, :-1] @ rnn.B.T
        if rnn.h is not None:
            e = e - rnn.h
        ll = ll + _gauss_logpdf(e, rnn.Sigma, "Sigma")
    return ll


# ------------------------------------------------------------------------------- conversions
def _orth(mat: np.ndarray, rtol: float) -> np.ndarray:
    """Orthonormal basis of the column space of ``mat`` (SVD, relative rank tolerance)."""
    if mat.size == 0:
        return np.zeros((mat.shape[0], 0))
    u, s, _ = np.linalg.svd(mat, full_matrices=False)
    if s.size == 0 or s[0] == 0:
        return np.zeros((mat.shape[0], 0))
    return u[:, s > rtol * s[0]]


def _noise_split(rnn: LinearLowRankRNN) -> tuple[np.ndarray, np.ndarray]:
    """``Sigma_a = Sigma N (N^T Sigma N)^+ N^T Sigma`` and ``Sigma_v = Sigma - Sigma_a``."""
    SN = rnn.Sigma @ rnn.N
    Sa = _sym(SN @ np.linalg.pinv(rnn.N.T @ SN, rcond=1e-12, hermitian=True) @ SN.T)
    return Sa, _sym(rnn.Sigma - Sa)


def latent_basis(rnn: LinearLowRankRNN, *, rtol: float = 1e-10) -> np.ndarray:
    """Orthonormal basis U of ``span(M, Sigma N, B)`` (``span(M, N)`` for isotropic noise).

    Returns
    -------
    ndarray, shape (N, K) with ``K <= 2 R + d_in``.
    """
    if not isinstance(rnn, LinearLowRankRNN):
        raise ValueError(f"rnn: expected a LinearLowRankRNN, got {type(rnn).__name__}")
    rtol = check_real("rtol", rtol, minimum=0.0, min_inclusive=False)
    cols = [rnn.M, rnn.Sigma @ rnn.N] + ([] if rnn.B is None else [rnn.B])
    return _orth(np.hstack(cols), rtol)


def rnn_to_lds(rnn: LinearLowRankRNN, *, rtol: float = 1e-10) -> LatentLDS:
    """Exact conversion of a linear low-rank RNN into a latent LDS (Valente et al. 2022, sec 3).

    See the module docstring for the construction. The LDS has the same output distribution
    (all means, covariances at all lags, and log-likelihoods) as the RNN; its latent dimension
    is ``rank([M, Sigma N, B])`` (``rank([M, N]) <= 2R`` for isotropic noise without input).

    Parameters
    ----------
    rnn : LinearLowRankRNN
        With a constant drive h, ``1 - J`` must be invertible (d = stationary mean).
    rtol : float
        Relative singular-value tolerance for the rank of the span.

    Returns
    -------
    LatentLDS
        ``A = (U^T M)(N^T U)``, ``B = U^T B``, ``C = U``, ``Q = U^T Sigma_a U``,
        ``R = Sigma - Sigma_a``, ``d = (1 - J)^{-1} h``.

    Raises
    ------
    ValueError
        If the RNN's explicit initial distribution ``(m0, P0)`` cannot be written as
        ``d + U z_0 + v_0`` (``P0 - R`` must be PSD and lie in span(U), ``m0 - d`` in span(U)).
    """
    U = latent_basis(rnn, rtol=rtol)
    Sa, Sv = _noise_split(rnn)
    d = None
    if rnn.h is not None:
        J = rnn.J
        if abs(np.linalg.det(np.eye(rnn.n_units) - J)) < 1e-12:
            raise ValueError("rnn: 1 - M N^T is singular; a constant drive h has no LDS offset")
        d = np.linalg.solve(np.eye(rnn.n_units) - J, rnn.h)
    m0 = P0 = None
    if rnn.m0 is not None:
        dm = rnn.m0 - (0.0 if d is None else d)
        m0 = U.T @ dm
        if np.linalg.norm(dm - U @ m0) > 1e-8 * max(1.0, np.linalg.norm(dm)):
            raise ValueError("rnn.m0: the initial mean minus the offset is not in span(U)")
    if rnn.P0 is not None:
        D = rnn.P0 - Sv
        P0 = _sym(U.T @ D @ U)
        scale = max(1.0, float(np.abs(rnn.P0).max()))
        if np.abs(D - U @ P0 @ U.T).max() > 1e-8 * scale or (
            P0.size and np.linalg.eigvalsh(P0).min() < -1e-8 * scale
        ):
            raise ValueError(
                "rnn.P0: the initial covariance is not of the form U S0 U^T + R with S0 PSD; "
                "only such initial states (e.g. the stationary one, P0=None) convert exactly"
            )
    return LatentLDS(
        A=(U.T @ rnn.M) @ (rnn.N.T @ U),
        C=U,
        Q=_sym(U.T @ Sa @ U),
        R=Sv,
        B=None if rnn.B is None else U.T @ rnn.B,
        d=d,
        m0=m0,
        P0=P0,
    )


def lds_to_rnn(lds: LatentLDS) -> LinearLowRankRNN:
    """LDS -> RNN conversion exact in the vanishing-observation-noise limit (sec 4).

    When ``R = 0`` and C has full column rank, ``z_t = C^+ (y_t - d)`` and
    ``y_{t+1} = C A C^+ y_t + C B u_t + (1 - C A C^+) d + C w_t`` — an RNN of rank ``K`` with
    ``M = C A``, ``N = (C^+)^T``. With ``R != 0`` the noise term
    ``C w_t + v_{t+1} - C A C^+ v_t`` is correlated across steps (the LDS output is not Markov);
    this function keeps its one-step covariance ``Sigma = C Q C^T + R + J R J^T`` and drops the
    lag-1 correlation, so it is an approximation that becomes exact as ``R -> 0``.

    Returns
    -------
    LinearLowRankRNN
        Rank K, stationary initial state.
    """
    if not isinstance(lds, LatentLDS):
        raise ValueError(f"lds: expected a LatentLDS, got {type(lds).__name__}")
    C = lds.C
    if np.linalg.matrix_rank(C) < lds.n_latent:
        raise ValueError(
            f"lds.C: rank {np.linalg.matrix_rank(C)} < latent dimension {lds.n_latent}; the "
            "zero-noise conversion needs C with full column rank"
        )
    Cp = np.linalg.pinv(C)
    M, Nm = C @ lds.A, Cp.T
    J = M @ Nm.T
    Sigma = _sym(C @ lds.Q @ C.T + lds.R + J @ lds.R @ J.T)
    h = None if lds.d is None else lds.d - J @ lds.d
    B = None if lds.B is None else C @ lds.B
    return LinearLowRankRNN(M=M, N=Nm, Sigma=Sigma, B=B, h=h)


def best_rnn_approximation(lds: LatentLDS, rank: int | None = None) -> LinearLowRankRNN:
    """The rank-``rank`` linear RNN that best predicts an LDS's output one step ahead.

    Population reduced-rank regression of ``y_{t+1}`` on ``y_t`` (least squares, identity
    weight): with ``Gamma_k`` the LDS output autocovariances, ``J_full = Gamma_1 Gamma_0^+``,
    ``J = Pi J_full`` where Pi projects on the top ``rank`` eigenvectors of
    ``Gamma_1 Gamma_0^+ Gamma_1^T``; ``Sigma = Gamma_0 - J Gamma_0 J^T`` (the residual
    covariance). Because Pi commutes with ``G = Gamma_1 Gamma_0^+ Gamma_1^T``,
    ``J Gamma_1^T = J Gamma_0 J^T = Pi G Pi``, so ``Gamma_0`` solves the RNN's Lyapunov equation
    ``P = J P J^T + Sigma``: the RNN's stationary covariance is ``Gamma_0`` and its lag-1
    covariance ``J Gamma_0 = Pi Gamma_1`` (``= Gamma_1`` for ``rank >= rank(Gamma_1)``). It is the
    infinite-data limit of fitting an RNN to LDS data by reduced-rank regression.

    Parameters
    ----------
    lds : LatentLDS
        Stable (stationary statistics are used).
    rank : int, optional
        RNN rank (default: the latent dimension K).

    Returns
    -------
    LinearLowRankRNN
        ``B = C B_lds`` (exact in the zero-noise limit), ``h = (1 - J) d``.
    """
    if not isinstance(lds, LatentLDS):
        raise ValueError(f"lds: expected a LatentLDS, got {type(lds).__name__}")
    rank = lds.n_latent if rank is None else check_int(
        "rank", rank, minimum=1, maximum=lds.n_obs
    )
    G0, G1 = output_autocovariance(lds, 1)
    Jfull = G1 @ np.linalg.pinv(G0, rcond=1e-12, hermitian=True)
    H = _sym(Jfull @ G1.T)
    w, V = np.linalg.eigh(H)
    V = V[:, np.argsort(w)[::-1][:rank]]
    M, Nm = V, Jfull.T @ V
    J = M @ Nm.T
    Sigma = _sym(G0 - J @ G0 @ J.T)
    w_min = np.linalg.eigvalsh(Sigma).min()
    if w_min < 0:  # rounding only: Sigma is a residual covariance
        Sigma = Sigma + (-w_min) * np.eye(lds.n_obs)
    h = None if lds.d is None else lds.d - J @ lds.d
    B = None if lds.B is None else lds.C @ lds.B
    return LinearLowRankRNN(M=M, N=Nm, Sigma=Sigma, B=B, h=h)


def rnn_mismatch(
    lds: LatentLDS,
    rnn: LinearLowRankRNN | None = None,
    *,
    n_lags: int = 10,
    rank: int | None = None,
) -> float:
    """Relative output-covariance mismatch between an LDS and an RNN at lags 1..L.

    ``sqrt( sum_{k=1..L} ||Gamma_k^RNN - Gamma_k^LDS||_F^2 / sum_{k=1..L} ||Gamma_k^LDS||_F^2 )``.
    With ``rnn=None`` the RNN is :func:`best_rnn_approximation` (rank ``rank``), whose lag-0 and
    lag-1 covariances match by construction, so the mismatch measures the non-Markov part of the
    LDS output (Valente et al. 2022, sec 4). It is 0 when the LDS output is Markov (e.g.
    ``R = 0``) and, to first order, proportional to the observation-noise variance relative to
    the latent signal (``R -> 0``) or to ``1/N`` for ``N`` observed units with fixed ``R``.

    Returns
    -------
    float
    """
    if not isinstance(lds, LatentLDS):
        raise ValueError(f"lds: expected a LatentLDS, got {type(lds).__name__}")
    n_lags = check_int("n_lags", n_lags, minimum=1)
    best = rnn is None
    if best:
        rnn = best_rnn_approximation(lds, rank)
    elif not isinstance(rnn, LinearLowRankRNN) or rnn.n_units != lds.n_obs:
        raise ValueError("rnn: expected a LinearLowRankRNN with as many units as lds.n_obs")
    G = output_autocovariance(lds, n_lags)
    if best:  # its stationary covariance is Gamma_0 (see best_rnn_approximation): skip Lyapunov
        H = np.empty_like(G)
        H[0] = G[0]
        for k in range(1, n_lags + 1):
            H[k] = rnn.M @ (rnn.N.T @ H[k - 1])
    else:
        H = output_autocovariance(rnn, n_lags)
    G, H = G[1:], H[1:]
    return float(np.sqrt(np.sum((H - G) ** 2) / np.sum(G**2)))


def markov_violation(model: Model) -> float:
    """``||Gamma_2 - Gamma_1 Gamma_0^{-1} Gamma_1||_F / ||Gamma_2||_F`` of the stationary output.

    Every stationary linear RNN (any connectivity and noise, any rank) has Markov output, so
    ``Gamma_2 = J^2 Gamma_0 = Gamma_1 Gamma_0^{-1} Gamma_1`` and this is 0; a positive value
    certifies that *no* RNN with the same number of units reproduces the output covariances
    (Valente et al. 2022, eq 13–16: the LDS output is not Markov when R != 0).
    """
    G0, G1, G2 = output_autocovariance(model, 2)
    pred = G1 @ np.linalg.solve(G0, G1)
    return float(np.linalg.norm(G2 - pred) / np.linalg.norm(G2))


def steady_state_innovation(
    lds: LatentLDS, *, tol: float = 1e-13, max_iter: int = 100_000
) -> tuple[np.ndarray, np.ndarray]:
    """Steady-state Kalman filter: predicted covariance P and innovation covariance S.

    Iterates the Riccati recursion ``P <- A (P - P C^T S^{-1} C P) A^T + Q`` from the stationary
    covariance until the relative change is below ``tol``.

    Returns
    -------
    P : ndarray, shape (K, K)
    S : ndarray, shape (N, N)
        ``C P C^T + R``: the covariance of the one-step prediction error of the optimal
        (Kalman) predictor of ``y_{t+1}`` from the whole past.
    """
    P = latent_stationary_covariance(lds)
    C, A, k = lds.C, lds.A, lds.n_latent
    try:  # information form: P_filt = P (1 + C^T R^{-1} C P)^{-1}, K x K work per iteration
        W = C.T @ sla.cho_solve(sla.cho_factor(lds.R, lower=True), C)
    except np.linalg.LinAlgError:
        W = None
    for _ in range(max_iter):
        if W is not None:
            Pf = np.linalg.solve((np.eye(k) + W @ P).T, P.T).T
        else:
            PCt = P @ C.T
            Pf = P - PCt @ np.linalg.solve(_sym(C @ PCt + lds.R), PCt.T)
        P_new = _sym(A @ Pf @ A.T + lds.Q)
        done = np.abs(P_new - P).max() <= tol * max(1e-300, np.abs(P).max())
        P = P_new
        if done:
            break
    return P, _sym(C @ P @ C.T + lds.R)


def loglik_gap_rate(lds: LatentLDS, rnn: LinearLowRankRNN | None = None) -> float:
    """Expected per-step log-likelihood advantage of an LDS over an RNN on the LDS's data.

    On stationary LDS data, the per-step expected log-likelihood is
    ``-(N log 2 pi + log det S + N) / 2`` (S from :func:`steady_state_innovation`) for the LDS and
    ``-(N log 2 pi + log det Sigma + tr(Sigma^{-1} E)) / 2`` for the RNN, with
    ``E = Gamma_0 - J Gamma_1^T - Gamma_1 J^T + J Gamma_0 J^T`` the covariance of the RNN's
    prediction error. Returns the difference (nats per step, >= 0; 0 iff the RNN is the
    optimal predictor). ``rnn=None``: the best RNN approximation of rank K.
    """
    if not isinstance(lds, LatentLDS):
        raise ValueError(f"lds: expected a LatentLDS, got {type(lds).__name__}")
    if rnn is None:
        rnn = best_rnn_approximation(lds)
    G0, G1 = output_autocovariance(lds, 1)
    J = rnn.J
    E = G0 - J @ G1.T - G1 @ J.T + J @ G0 @ J.T
    _, S = steady_state_innovation(lds)
    n = lds.n_obs
    ld_sigma = np.linalg.slogdet(rnn.Sigma)[1]
    ld_s = np.linalg.slogdet(S)[1]
    return float(0.5 * (ld_sigma + np.trace(np.linalg.solve(rnn.Sigma, E)) - ld_s - n))


register_dataclass(LatentLDS)
register_dataclass(LinearLowRankRNN)
