"""Tests of lowrank_rnn.fit.lds: reduced-rank regression, RTS smoother, EM."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import subspace_angles

from lowrank_rnn.fit.lds import (
    LDSEM,
    ReducedRankRNN,
    fit_lds_em,
    fit_rnn_rrr,
    rts_smoother,
)
from lowrank_rnn.models.lds import (
    LatentLDS,
    LinearLowRankRNN,
    lds_log_likelihood,
    sample_lds,
    sample_rnn,
)


def _rnn(seed: int, n: int = 10, r: int = 2) -> LinearLowRankRNN:
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, r)) / np.sqrt(n)
    N = rng.standard_normal((n, r)) / np.sqrt(n)
    # make N^T M diagonal-dominant so that J has rank r with well-separated singular values
    N = N @ np.linalg.inv(N.T @ M).T @ np.diag([0.8, -0.6][:r])  # N^T M = diag(0.8, -0.6)
    return LinearLowRankRNN(M=M, N=N, Sigma=np.eye(n))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rrr_recovers_subspaces_as_data_grow(seed: int) -> None:
    rnn = _rnn(seed)
    angles = []
    for n_steps in (100, 1600, 25600):
        x = sample_rnn(rnn, 4, n_steps, rng=seed * 10 + n_steps)
        fit, _ = fit_rnn_rrr(x, 2, fit_bias=False)
        angles.append(max(subspace_angles(fit.M, rnn.M).max(),
                          subspace_angles(fit.N, rnn.N).max()))
    # consistency: angles shrink ~ 1/sqrt(T): x16 data -> /4; require at least /2 per step
    assert angles[1] < angles[0] / 2
    assert angles[2] < angles[1] / 2


def test_rrr_closed_form_identities() -> None:
    """Full rank equals OLS; rank-r RSS = OLS RSS + discarded eigenvalues (Eckart-Young)."""
    rnn = _rnn(3, n=6)
    x = sample_rnn(rnn, 3, 400, rng=4)
    X0, X1 = x[:, :-1].reshape(-1, 6), x[:, 1:].reshape(-1, 6)
    ols = np.linalg.lstsq(X0, X1, rcond=None)[0].T
    full, _ = fit_rnn_rrr(x, 6, fit_bias=False)
    np.testing.assert_allclose(full.J, ols, atol=1e-10)
    rss_ols = np.sum((X1 - X0 @ ols.T) ** 2)
    for r in (1, 2, 4):
        fit, info = fit_rnn_rrr(x, r, fit_bias=False)
        rss = np.sum((X1 - X0 @ fit.J.T) ** 2)
        assert rss == pytest.approx(rss_ols + info["eigenvalues"][r:].sum(), rel=1e-9)
        np.testing.assert_allclose(fit.Sigma * X0.shape[0],
                                   (X1 - X0 @ fit.J.T).T @ (X1 - X0 @ fit.J.T), rtol=1e-9)


def test_rrr_with_inputs_and_bias_recovers_them() -> None:
    rng = np.random.default_rng(5)
    rnn = _rnn(5, n=6).replace(B=rng.standard_normal((6, 1)), h=rng.standard_normal(6))
    u = rng.standard_normal((4, 5000, 1))
    x = sample_rnn(rnn, 4, 5000, inputs=u, rng=6)
    fit, _ = fit_rnn_rrr(x, 2, inputs=u)
    # standard error of regression coefficients ~ sigma / sqrt(n * var(u)) ~ 0.007
    assert np.abs(fit.B - rnn.B).max() < 0.05
    assert np.abs(fit.J - rnn.J).max() < 0.05


def _stacked_posterior(lds: LatentLDS, y: np.ndarray):
    """Reference smoother: condition the joint Gaussian of (z_0..z_{T-1}, y) on y."""
    T, n = y.shape
    k = lds.n_latent
    m0, P0 = lds.initial()
    covz = np.zeros((T * k, T * k))
    marg = [P0]
    for _ in range(1, T):
        marg.append(lds.A @ marg[-1] @ lds.A.T + lds.Q)
    for s in range(T):
        for t in range(s, T):
            blk = np.linalg.matrix_power(lds.A, t - s) @ marg[s]
            covz[t * k:(t + 1) * k, s * k:(s + 1) * k] = blk
            covz[s * k:(s + 1) * k, t * k:(t + 1) * k] = blk.T
    mz = np.concatenate([np.linalg.matrix_power(lds.A, t) @ m0 for t in range(T)])
    Cb = np.kron(np.eye(T), lds.C)
    Syy = Cb @ covz @ Cb.T + np.kron(np.eye(T), lds.R)
    gain = covz @ Cb.T @ np.linalg.inv(Syy)
    mean = mz + gain @ (y.reshape(-1) - Cb @ mz - np.tile(lds.offset, T))
    cov = covz - gain @ Cb @ covz
    return mean.reshape(T, k), cov


def test_rts_smoother_vs_dense_gaussian_conditioning() -> None:
    rng = np.random.default_rng(0)
    lds = LatentLDS(A=[[0.8, 0.3], [-0.2, 0.7]], C=rng.standard_normal((3, 2)), Q=np.eye(2),
                    R=0.5 * np.eye(3), d=rng.standard_normal(3), m0=[1.0, -1.0], P0=np.eye(2))
    _, y = sample_lds(lds, 2, 7, rng=1)
    sm = rts_smoother(lds, y)
    for b in range(2):
        mean, cov = _stacked_posterior(lds, y[b])
        np.testing.assert_allclose(sm.m_smooth[b], mean, atol=1e-10)
    for t in range(7):
        np.testing.assert_allclose(sm.P_smooth[t], cov[2 * t:2 * t + 2, 2 * t:2 * t + 2],
                                   atol=1e-10)
    for t in range(6):  # Cov(z_{t+1}, z_t | y)
        np.testing.assert_allclose(sm.P_cross[t], cov[2 * t + 2:2 * t + 4, 2 * t:2 * t + 2],
                                   atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("obs_cov", ["full", "diag"])
def test_em_loglik_never_decreases(seed: int, obs_cov: str) -> None:
    rng = np.random.default_rng(seed)
    lds = LatentLDS(A=[[0.9, 0.2], [-0.2, 0.8]], C=rng.standard_normal((5, 2)), Q=np.eye(2),
                    R=np.eye(5), B=rng.standard_normal((2, 1)))
    u = rng.standard_normal((6, 80, 1))
    _, y = sample_lds(lds, 6, 80, inputs=u, rng=rng)
    _, info = fit_lds_em(y, 2, inputs=u, n_iter=25, tol=0.0, obs_cov=obs_cov)
    ll = info["log_likelihood"]
    assert len(ll) == 26
    assert np.all(np.diff(ll) >= -1e-9 * np.abs(ll[-1]))
    assert ll[-1] > ll[0]


def test_em_reaches_the_true_models_likelihood() -> None:
    """EM on a correctly specified model ends at or above the true parameters' training
    log-likelihood (the maximum likelihood exceeds it, by ~chi2_p / 2 by Wilks' theorem)."""
    rng = np.random.default_rng(7)
    lds = LatentLDS(A=[[0.95]], C=rng.standard_normal((4, 1)), Q=[[0.1]], R=np.eye(4))
    _, y = sample_lds(lds, 20, 200, rng=8)
    est = LDSEM(1, n_iter=300, tol=1e-8, obs_cov="diag").fit(y)

    ll_true = lds_log_likelihood(lds, y).sum()
    assert est.log_likelihood_[-1] > ll_true - 1e-6
    assert est.converged_


def test_estimator_wrappers_follow_fit_returns_self() -> None:
    rnn = _rnn(1, n=5)
    x = sample_rnn(rnn, 3, 200, rng=2)
    est = ReducedRankRNN(2)
    assert est.fit(x) is est
    assert isinstance(est.rnn_, LinearLowRankRNN)
    assert np.isfinite(est.score(x))


def test_bad_fit_input() -> None:
    x = np.zeros((2, 10, 3))
    with pytest.raises(ValueError, match="rank"):
        fit_rnn_rrr(x, 4)
    with pytest.raises(ValueError, match="weight"):
        fit_rnn_rrr(x, 1, weight="ridge")
    with pytest.raises(ValueError, match="too few"):
        fit_rnn_rrr(np.ones((1, 3, 3)), 1)
    with pytest.raises(ValueError, match="x: needs at least 2 time steps"):
        fit_rnn_rrr(np.ones((1, 1, 3)), 1)
    with pytest.raises(ValueError, match="obs_cov"):
        fit_lds_em(np.random.default_rng(0).standard_normal((2, 10, 3)), 1, obs_cov="banded")
    with pytest.raises(ValueError, match="n_latent"):
        fit_lds_em(np.random.default_rng(0).standard_normal((2, 10, 3)), 4)
    with pytest.raises(ValueError, match="inputs: expected shape"):
        fit_rnn_rrr(np.random.default_rng(0).standard_normal((2, 10, 3)), 1,
                    inputs=np.zeros((2, 9, 1)))
