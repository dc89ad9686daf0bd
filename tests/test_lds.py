"""Tests of lowrank_rnn.models.lds against independent answers (dense references, closed forms)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from lowrank_rnn.models.lds import (
    LatentLDS,
    LinearLowRankRNN,
    best_rnn_approximation,
    latent_stationary_covariance,
    lds_log_likelihood,
    lds_to_rnn,
    loglik_gap_rate,
    markov_violation,
    output_autocovariance,
    rnn_log_likelihood,
    rnn_mismatch,
    rnn_to_lds,
    sample_lds,
    sample_rnn,
)


def _rnn(seed: int, n: int = 12, r: int = 2, general: bool = False) -> LinearLowRankRNN:
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, r)) / np.sqrt(n)
    N = rng.standard_normal((n, r)) / np.sqrt(n)
    N *= 0.8 / np.max(np.abs(np.linalg.eigvals(N.T @ M)))
    if not general:
        return LinearLowRankRNN(M=M, N=N, Sigma=0.7 * np.eye(n))
    S = rng.standard_normal((n, n))
    return LinearLowRankRNN(
        M=M, N=N, Sigma=S @ S.T / n + 0.1 * np.eye(n), B=rng.standard_normal((n, 2)),
        h=rng.standard_normal(n),
    )


def _dense_rnn_autocov(rnn: LinearLowRankRNN, n_lags: int) -> np.ndarray:
    """Reference: vec(P) = (1 - J kron J)^{-1} vec(Sigma); Gamma_k = J^k P."""
    J = rnn.J
    n = J.shape[0]
    P = np.linalg.solve(np.eye(n * n) - np.kron(J, J), rnn.Sigma.reshape(-1)).reshape(n, n)
    return np.array([np.linalg.matrix_power(J, k) @ P for k in range(n_lags + 1)])


def _stacked_lds(lds: LatentLDS, T: int, u: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Reference: mean and covariance of (y_0..y_{T-1}) built from the model equations."""
    k, n = lds.n_latent, lds.n_obs
    m0, P0 = lds.initial()
    means = [m0]
    covs = {(0, 0): P0}
    for t in range(1, T):
        drive = 0 if u is None else lds.B @ u[t - 1]
        means.append(lds.A @ means[-1] + drive)
        covs[(t, t)] = lds.A @ covs[(t - 1, t - 1)] @ lds.A.T + lds.Q
    big = np.zeros((T * n, T * n))
    for s in range(T):
        for t in range(s, T):
            zz = np.linalg.matrix_power(lds.A, t - s) @ covs[(s, s)]  # Cov(z_t, z_s)
            block = lds.C @ zz @ lds.C.T + (lds.R if s == t else 0)
            big[t * n:(t + 1) * n, s * n:(s + 1) * n] = block
            big[s * n:(s + 1) * n, t * n:(t + 1) * n] = block.T
    mean = np.concatenate([lds.C @ m + lds.offset for m in means])
    assert k == len(means[0])
    return mean, big


def _stacked_rnn(rnn: LinearLowRankRNN, T: int) -> tuple[np.ndarray, np.ndarray]:
    m0, P0 = rnn.initial()
    J, n = rnn.J, rnn.n_units
    h = np.zeros(n) if rnn.h is None else rnn.h
    means, covs = [m0], [P0]
    for _ in range(1, T):
        means.append(J @ means[-1] + h)
        covs.append(J @ covs[-1] @ J.T + rnn.Sigma)
    big = np.zeros((T * n, T * n))
    for s in range(T):
        for t in range(s, T):
            block = np.linalg.matrix_power(J, t - s) @ covs[s]
            big[t * n:(t + 1) * n, s * n:(s + 1) * n] = block
            big[s * n:(s + 1) * n, t * n:(t + 1) * n] = block.T
    return np.concatenate(means), big


# ------------------------------------------------------------------------------ RNN -> LDS
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("general", [False, True])
def test_rnn_to_lds_autocovariances_match_dense_reference(seed: int, general: bool) -> None:
    rnn = _rnn(seed, general=general)
    lds = rnn_to_lds(rnn)
    ref = _dense_rnn_autocov(rnn, 20)
    got = output_autocovariance(lds, 20)
    assert np.abs(got - ref).max() <= 1e-8 * np.abs(ref).max()


@pytest.mark.parametrize("general", [False, True])
def test_rnn_to_lds_same_loglik_and_direct_mvn(general: bool) -> None:
    rnn = _rnn(3, n=6, general=general)
    lds = rnn_to_lds(rnn)
    rng = np.random.default_rng(5)
    T = 5
    u = rng.standard_normal((4, T, 2)) if general else None
    x = sample_rnn(rnn, 4, T, inputs=u, rng=rng)
    ll_rnn = rnn_log_likelihood(rnn, x, inputs=u)
    ll_lds = lds_log_likelihood(lds, x, inputs=u)
    np.testing.assert_allclose(ll_lds, ll_rnn, rtol=1e-10)
    if not general:  # independent: the stacked Gaussian
        mean, cov = _stacked_rnn(rnn, T)
        ref = [multivariate_normal(mean, cov).logpdf(xi.reshape(-1)) for xi in x]
        np.testing.assert_allclose(ll_rnn, ref, rtol=1e-9)


@pytest.mark.parametrize("r", [1, 2, 3])
def test_latent_dimension_equals_rank_of_M_N(r: int) -> None:
    rng = np.random.default_rng(r)
    n = 15
    M = rng.standard_normal((n, r))
    for N in (rng.standard_normal((n, r)), M @ rng.standard_normal((r, r)),
              np.hstack([M[:, :1], rng.standard_normal((n, r - 1))])):
        rnn = LinearLowRankRNN(M=0.1 * M, N=0.1 * N, Sigma=np.eye(n))
        lds = rnn_to_lds(rnn)
        assert lds.n_latent == np.linalg.matrix_rank(np.hstack([M, N]))
        assert lds.n_latent <= 2 * r


def test_rnn_to_lds_explicit_initial_state() -> None:
    rnn = _rnn(4, n=6)
    lds = rnn_to_lds(rnn)
    P = output_autocovariance(rnn, 0)[0]
    lds2 = rnn_to_lds(rnn.replace(P0=P, m0=np.zeros(6)))
    x = sample_rnn(rnn, 3, 10, rng=1)
    np.testing.assert_allclose(lds_log_likelihood(lds2, x), lds_log_likelihood(lds, x), rtol=1e-9)
    with pytest.raises(ValueError, match="P0"):
        rnn_to_lds(rnn.replace(P0=0.01 * np.eye(6)))


# ---------------------------------------------------------------------------- Kalman filter
@pytest.mark.parametrize("seed", [0, 1])
def test_kalman_loglik_vs_direct_multivariate_normal(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k, n, T = 3, 4, 6
    A = 0.5 * rng.standard_normal((k, k))
    Q = np.cov(rng.standard_normal((k, 10))) + 0.1 * np.eye(k)
    R = np.cov(rng.standard_normal((n, 10))) + 0.1 * np.eye(n)
    lds = LatentLDS(A=A, C=rng.standard_normal((n, k)), Q=Q, R=R, B=rng.standard_normal((k, 1)),
                    d=rng.standard_normal(n), m0=rng.standard_normal(k), P0=np.eye(k))
    u = rng.standard_normal((1, T, 1))
    _, y = sample_lds(lds, 3, T, inputs=np.repeat(u, 3, axis=0), rng=rng)
    mean, cov = _stacked_lds(lds, T, u[0])
    ref = [multivariate_normal(mean, cov).logpdf(yi.reshape(-1)) for yi in y]
    got = lds_log_likelihood(lds, y, inputs=u)
    np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_lds_sample_covariance_matches_theory() -> None:
    """Lag-0 and lag-1 covariances of samples within 5 standard errors of the Lyapunov answer."""
    lds = LatentLDS(A=[[0.7, 0.2], [0.0, 0.5]], C=[[1.0, 0.0], [0.5, 1.0], [0.0, 1.0]],
                    Q=np.eye(2), R=0.5 * np.eye(3))
    G = output_autocovariance(lds, 1)
    n_seq = 4000
    _, y = sample_lds(lds, n_seq, 2, rng=11)
    e0 = y[:, 0].T @ y[:, 0] / n_seq
    e1 = y[:, 1].T @ y[:, 0] / n_seq
    var = np.diag(G[0])
    se0 = np.sqrt((np.outer(var, var) + G[0] ** 2) / n_seq)
    se1 = np.sqrt((np.outer(var, var) + G[1] ** 2) / n_seq)
    assert np.all(np.abs(e0 - G[0]) < 5 * se0)
    assert np.all(np.abs(e1 - G[1]) < 5 * se1)


# ------------------------------------------------------------------------------ LDS -> RNN
def test_scalar_lds_markov_violation_and_gap_closed_forms() -> None:
    a, q, r = 0.8, 1.0, 1.5
    lds = LatentLDS(A=[[a]], C=[[1.0]], Q=[[q]], R=[[r]])
    P = q / (1 - a * a)
    assert markov_violation(lds) == pytest.approx(r / (P + r), rel=1e-12)
    rnn = best_rnn_approximation(lds)
    assert markov_violation(rnn) < 1e-12
    # steady-state Riccati root: p^2 + p (r - a^2 r - q) - q r = 0
    bb = r - a * a * r - q
    p = (-bb + np.sqrt(bb * bb + 4 * q * r)) / 2
    J = a * P / (P + r)
    sigma = (P + r) * (1 - J * J)
    assert loglik_gap_rate(lds) == pytest.approx(0.5 * (np.log(sigma) - np.log(p + r)), rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_mismatch_decreases_as_observation_noise_vanishes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k, n = 2, 6
    q, _ = np.linalg.qr(rng.standard_normal((k, k)))
    A, C = 0.9 * q, rng.standard_normal((n, k))
    noise = np.logspace(1, -4, 8)
    mis = [rnn_mismatch(LatentLDS(A=A, C=C, Q=np.eye(k), R=s * np.eye(n))) for s in noise]
    assert np.all(np.diff(mis) < 0)
    assert mis[-1] < 1e-3
    exact = LatentLDS(A=A, C=C, Q=np.eye(k), R=np.zeros((n, n)))
    assert rnn_mismatch(exact, lds_to_rnn(exact)) < 1e-10
    zero_lim = [rnn_mismatch(LatentLDS(A=A, C=C, Q=np.eye(k), R=s * np.eye(n)),
                             lds_to_rnn(LatentLDS(A=A, C=C, Q=np.eye(k), R=s * np.eye(n))))
                for s in noise]
    assert np.all(np.diff(zero_lim) < 0)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_mismatch_decreases_as_units_grow(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = 2
    q, _ = np.linalg.qr(rng.standard_normal((k, k)))
    A = 0.9 * q
    Cbig = rng.standard_normal((256, k))
    units = [8, 32, 128]  # factor 4: the 1/N decrease beats the finite-N spread of C^T C / N
    mis = [rnn_mismatch(LatentLDS(A=A, C=Cbig[:m], Q=np.eye(k), R=np.eye(m))) for m in units]
    assert np.all(np.diff(mis) < 0)


def test_best_rnn_matches_lag0_lag1() -> None:
    rng = np.random.default_rng(2)
    lds = LatentLDS(A=[[0.9, 0.1], [0.0, 0.7]], C=rng.standard_normal((5, 2)), Q=np.eye(2),
                    R=0.3 * np.eye(5))
    G = output_autocovariance(lds, 1)
    H = output_autocovariance(best_rnn_approximation(lds), 1)
    np.testing.assert_allclose(H, G, atol=1e-10 * np.abs(G).max())


# ------------------------------------------------------------------------------- bad input
def test_bad_input_raises_value_error_naming_it() -> None:
    unstable = LatentLDS(A=[[1.1]], C=[[1.0]], Q=[[1.0]], R=[[1.0]])
    with pytest.raises(ValueError, match="A: spectral radius"):
        latent_stationary_covariance(unstable)
    with pytest.raises(ValueError, match="A: spectral radius"):
        sample_lds(unstable, 1, 5)
    with pytest.raises(ValueError, match="Q: not positive semi-definite"):
        LatentLDS(A=[[0.5]], C=[[1.0]], Q=[[-1.0]], R=[[1.0]])
    with pytest.raises(ValueError, match="R: a covariance must be symmetric"):
        LatentLDS(A=np.eye(2) * 0.5, C=np.eye(2), Q=np.eye(2), R=[[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="Sigma: not positive semi-definite"):
        LinearLowRankRNN(M=np.ones((3, 1)), N=np.ones((3, 1)), Sigma=-np.eye(3))
    with pytest.raises(ValueError, match="C: expected shape"):
        LatentLDS(A=np.eye(2) * 0.5, C=np.ones((3, 3)), Q=np.eye(2), R=np.eye(3))
    with pytest.raises(ValueError, match="N: expected shape"):
        LinearLowRankRNN(M=np.ones((3, 1)), N=np.ones((4, 1)), Sigma=np.eye(3))
    lds = LatentLDS(A=[[0.5]], C=[[1.0], [1.0]], Q=[[1.0]], R=np.eye(2))
    with pytest.raises(ValueError, match="y: expected shape"):
        lds_log_likelihood(lds, np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="inputs: the model has no input matrix"):
        lds_log_likelihood(lds, np.zeros((2, 5, 2)), inputs=np.zeros((2, 5, 1)))
    rnn = LinearLowRankRNN(M=[[2.0], [0.0]], N=[[1.0], [0.0]], Sigma=np.eye(2))
    with pytest.raises(ValueError, match="M N\\^T: spectral radius"):
        output_autocovariance(rnn, 3)
    with pytest.raises(ValueError, match="n_lags"):
        output_autocovariance(lds, -1)
