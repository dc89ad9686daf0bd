"""GPODE: closed-form kernels vs Monte Carlo and quadrature, likelihood gradients, finite nets."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import erf
from scipy.stats import multivariate_normal

from lowrank_rnn.fit.gp import GPODE, TANH_ERF_MIXTURE, kernel_matrix
from lowrank_rnn.fit.targets import bistable, limit_cycle

PHIS = {"erf": erf, "relu": lambda a: np.maximum(a, 0.0), "tanh": np.tanh}
#: |k_tanh - k_mixture| <= 2 max|tanh - mixture| + max|.|^2 (|tanh| <= 1)
TANH_BOUND = 2e-4


@pytest.mark.parametrize("kernel", ["erf", "relu", "tanh"])
def test_kernel_matches_monte_carlo_over_the_basis_distribution(kernel: str) -> None:
    rng = np.random.default_rng()
    Z = rng.uniform(-1.5, 1.5, (3, 2))
    m_std, i_std = 0.8, 1.2
    S = 200_000
    m = rng.standard_normal((S, 2)) * m_std
    b = rng.standard_normal(S) * i_std
    A = PHIS[kernel](Z @ m.T + b)
    prod = A[:, None, :] * A[None, :, :]
    mc = prod.mean(-1)
    se = prod.std(-1) / np.sqrt(S)
    k = kernel_matrix(Z, kernel=kernel, m_std=m_std, i_std=i_std)
    extra = TANH_BOUND if kernel == "tanh" else 0.0
    # 5 standard errors per entry: any seed fails with probability < 1e-5 over the 9 entries
    assert np.all(np.abs(k - mc) <= 5 * se + extra)


def test_tanh_erf_mixture_error_is_below_its_stated_bound() -> None:
    a = np.linspace(-30, 30, 600_001)
    c, lam = TANH_ERF_MIXTURE
    mix = erf(np.outer(a, lam)) @ c
    assert np.max(np.abs(mix - np.tanh(a))) < 1e-4


def test_tanh_kernel_matches_gauss_hermite_quadrature() -> None:
    # independent: E[tanh(a) tanh(a')] for (a, a') ~ N(0, Sigma) by a 2-D Gauss-Hermite rule
    x, w = np.polynomial.hermite_e.hermegauss(120)
    w = w / w.sum()
    Z = np.array([[0.4, -1.1], [1.3, 0.7], [-0.2, 0.1]])
    m_std, i_std = 1.1, 0.9
    X = np.hstack([np.ones((3, 1)), Z])
    Sig = X @ np.diag([i_std**2, m_std**2, m_std**2]) @ X.T
    k = kernel_matrix(Z, kernel="tanh", m_std=m_std, i_std=i_std)
    for i in range(3):
        for j in range(3):
            C = np.array([[Sig[i, i], Sig[i, j]], [Sig[i, j], Sig[j, j]]])
            L = np.linalg.cholesky(C + 1e-14 * np.eye(2))
            u, v = np.meshgrid(x, x, indexing="ij")
            a = L[0, 0] * u
            ap = L[1, 0] * u + L[1, 1] * v
            quad = float(np.sum(np.outer(w, w) * np.tanh(a) * np.tanh(ap)))
            assert abs(k[i, j] - quad) < TANH_BOUND


@pytest.mark.parametrize("kernel", ["erf", "relu", "tanh"])
def test_kernel_gradients_match_finite_differences(kernel: str) -> None:
    Z = np.random.default_rng(3).uniform(-2, 2, (6, 2))
    m, i = 0.7, 1.4
    _, dm, di = kernel_matrix(Z, kernel=kernel, m_std=m, i_std=i, return_grad=True)
    h = 1e-6

    def k(mm: float, ii: float) -> np.ndarray:
        return kernel_matrix(Z, kernel=kernel, m_std=mm, i_std=ii)

    fdm = (k(m * np.exp(h), i) - k(m * np.exp(-h), i)) / (2 * h)
    fdi = (k(m, i * np.exp(h)) - k(m, i * np.exp(-h))) / (2 * h)
    np.testing.assert_allclose(dm, fdm, atol=1e-7)
    np.testing.assert_allclose(di, fdi, atol=1e-7)


def test_relu_kernel_is_half_the_variance_on_the_diagonal() -> None:
    Z = np.random.default_rng(0).standard_normal((5, 3))
    k = kernel_matrix(Z, kernel="relu", m_std=0.6, i_std=0.8)
    # E[relu(a)^2] = Var(a) / 2 for a ~ N(0, Var)
    np.testing.assert_allclose(np.diag(k), 0.5 * (0.64 + 0.36 * np.sum(Z**2, 1)), rtol=1e-12)


@pytest.mark.parametrize("kernel", ["erf", "relu", "tanh"])
def test_log_marginal_likelihood_value_and_gradient(kernel: str) -> None:
    Z = np.random.default_rng(1).uniform(-1.6, 1.6, (40, 2))
    gp = GPODE(2, kernel=kernel, noise=0.05).fit(limit_cycle, Z)
    lml, grad = gp.log_marginal_likelihood(eval_gradient=True)
    p = gp.params_
    C = p["amplitude"] ** 2 * kernel_matrix(Z, kernel=kernel, m_std=p["m_std"],
                                            i_std=p["i_std"]) + p["noise"] ** 2 * np.eye(40)
    Y = limit_cycle(Z) + Z
    ref = sum(multivariate_normal(np.zeros(40), C).logpdf(Y[:, d]) for d in range(2))
    assert lml == pytest.approx(ref, rel=1e-9)
    h = 1e-5
    for name, g in grad.items():
        up, dn = dict(p), dict(p)
        up[name] *= np.exp(h)
        dn[name] *= np.exp(-h)
        fd = (gp.log_marginal_likelihood(up) - gp.log_marginal_likelihood(dn)) / (2 * h)
        assert g == pytest.approx(fd, rel=1e-5, abs=1e-5)


def test_predict_mean_and_std_match_the_posterior_formulas() -> None:
    rng = np.random.default_rng(2)
    Z = rng.uniform(-1.6, 1.6, (30, 1))
    gp = GPODE(1, kernel="erf", noise=0.01).fit(bistable, Z)
    Zs = np.linspace(-2, 2, 17)[:, None]
    p = gp.params_
    kw = {"kernel": "erf", "m_std": p["m_std"], "i_std": p["i_std"]}
    a2 = p["amplitude"] ** 2
    C = a2 * kernel_matrix(Z, **kw) + p["noise"] ** 2 * np.eye(30)
    Ks = a2 * kernel_matrix(Zs, Z, **kw)
    mean = Ks @ np.linalg.solve(C, bistable(Z) + Z) - Zs
    var = a2 * np.diag(kernel_matrix(Zs, **kw)) - np.einsum("ij,ji->i", Ks, np.linalg.solve(C,
                                                                                            Ks.T))
    mu, sd = gp.predict(Zs, return_std=True)
    np.testing.assert_allclose(mu, mean, atol=1e-8)
    np.testing.assert_allclose(sd, np.sqrt(np.maximum(var, 0)), atol=1e-6)


@pytest.mark.parametrize("kernel", ["tanh", "relu"])
def test_sampled_network_is_the_finite_basis_posterior_mean(kernel: str) -> None:
    # ridge noise^2 K / amplitude^2 on K features = GP regression with the empirical kernel
    # (amplitude^2 / K) Phi Phi^T: an exact identity (push-through), checked at new points
    Z = np.random.default_rng(4).uniform(-1.6, 1.6, (50, 1))
    gp = GPODE(1, kernel=kernel, noise=0.02).fit(bistable, Z)
    K = 30
    est = gp.sample_embedding(K, rng=5)
    net = gp.sample_network(K, rng=5)
    np.testing.assert_array_equal(net.M, est.M_)
    phi = np.tanh if kernel == "tanh" else (lambda a: np.maximum(a, 0))
    F = phi(Z @ est.M_.T + est.I_[:, 0])
    Zs = np.linspace(-1.6, 1.6, 11)[:, None]
    Fs = phi(Zs @ est.M_.T + est.I_[:, 0])
    p = gp.params_
    Kemp = p["amplitude"] ** 2 / K * F @ F.T
    ref = (p["amplitude"] ** 2 / K * Fs @ F.T) @ np.linalg.solve(
        Kemp + p["noise"] ** 2 * np.eye(50), bistable(Z) + Z) - Zs
    np.testing.assert_allclose(est.predict(Zs), ref, atol=1e-7)


def test_optimize_raises_the_marginal_likelihood_and_is_reproducible() -> None:
    Z = np.random.default_rng(6).uniform(-1.6, 1.6, (60, 1))
    a = GPODE(1, kernel="erf", tune=True, n_restarts=1, random_state=3).fit(bistable, Z)
    b = GPODE(1, kernel="erf", tune=True, n_restarts=1, random_state=3).fit(bistable, Z)
    assert a.info_["lml_tuned"] >= a.info_["lml_default"]
    assert a.log_marginal_likelihood_ == a.info_["lml_tuned"]
    assert a.params_ == b.params_


def test_ml2_recovers_the_noise_of_data_drawn_from_the_prior() -> None:
    # independent answer: data sampled from the GP prior with known amplitude and noise. The
    # smooth erf kernel leaves few effective degrees of freedom in the signal, so the noise is
    # estimated from about n residual degrees of freedom: SE(log noise) ~ sqrt(1 / (2 n)) and
    # 5 sqrt(2 / n) is a loose bound. (One draw says little about the amplitude.)
    rng = np.random.default_rng()
    n = 200
    Z = rng.uniform(-2, 2, (n, 1))
    amp, noise = 2.0, 0.3
    C = amp**2 * kernel_matrix(Z, kernel="erf", m_std=1.0, i_std=1.0) + noise**2 * np.eye(n)
    y = np.linalg.cholesky(C) @ rng.standard_normal(n)
    gp = GPODE(1, kernel="erf", m_std=1.0, i_std=1.0, amplitude=1.0, noise=1.0, tune=True,
               tune_params=("amplitude", "noise")).fit(targets=y[:, None] - Z, points=Z)
    assert abs(np.log(gp.params_["noise"] / noise)) < 5 * np.sqrt(2 / n)
    assert gp.info_["lml_tuned"] >= gp.info_["lml_default"]


def test_relu_keeps_the_redundant_offset_spread_fixed() -> None:
    Z = np.random.default_rng(7).uniform(-1.6, 1.6, (40, 1))
    gp = GPODE(1, kernel="relu", tune=True).fit(bistable, Z)
    assert gp.params_["i_std"] == 1.0
    # homogeneity: k(c m, c b) = c^2 k
    k1 = kernel_matrix(Z, kernel="relu", m_std=0.5, i_std=1.0)
    k2 = kernel_matrix(Z, kernel="relu", m_std=1.5, i_std=3.0)
    np.testing.assert_allclose(k2, 9 * k1, rtol=1e-12)


def test_bad_arguments_name_the_parameter() -> None:
    Z = np.linspace(-1, 1, 10)[:, None]
    with pytest.raises(ValueError, match="kernel"):
        GPODE(1, kernel="sigmoid").fit(bistable, Z)
    with pytest.raises(ValueError, match="tune_params"):
        GPODE(1, tune_params=("slope",)).fit(bistable, Z)
    with pytest.raises(ValueError, match="noise"):
        GPODE(1, noise=-1.0).fit(bistable, Z)
    with pytest.raises(ValueError, match="g/targets"):
        GPODE(1).fit(points=Z)
    gp = GPODE(1, kernel="erf").fit(bistable, Z)
    with pytest.raises(ValueError, match="kernel='erf'"):
        gp.sample_network(10)
    with pytest.raises(ValueError, match="not fitted"):
        GPODE(1).predict(Z)


def test_save_and_load_round_trip(tmp_path) -> None:  # noqa: ANN001
    from lowrank_rnn.io import load

    Z = np.linspace(-1.6, 1.6, 30)[:, None]
    gp = GPODE(1, kernel="tanh", noise=0.01).fit(bistable, Z)
    gp.save(tmp_path / "gp.lrnn")
    back = load(tmp_path / "gp.lrnn")
    Zs = np.linspace(-2, 2, 9)[:, None]
    for a, b in zip(gp.predict(Zs, return_std=True), back.predict(Zs, return_std=True),
                    strict=True):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- finite nets at tuned values
@pytest.fixture(scope="module")
def tuned_bistable() -> GPODE:
    # ML-II on a noise-free cubic drives the slopes small (units in their linear range) and the
    # noise to its floor: designs with condition numbers ~1e17 and ridges ~1e-13
    Z = np.linspace(-1.6, 1.6, 50)[:, None]
    return GPODE(1, kernel="tanh", tune=True, random_state=0).fit(bistable, Z)


def test_sampled_basis_has_the_kernel_of_the_tuned_distribution(tuned_bistable) -> None:  # noqa: ANN001
    gp = tuned_bistable
    p = gp.params_
    K = 20_000
    est = gp.sample_embedding(K, rng=np.random.default_rng())
    Z = np.array([[-1.5], [-0.4], [0.9], [1.6]])
    A = np.tanh(Z @ est.M_.T + est.I_[:, 0])
    prod = A[:, None, :] * A[None, :, :]
    se = prod.std(-1) / np.sqrt(K)
    k = kernel_matrix(Z, kernel="tanh", m_std=p["m_std"], i_std=p["i_std"])
    # 5 standard errors of the Monte Carlo mean per entry, plus the tanh approximation bound
    assert np.all(np.abs(prod.mean(-1) - k) <= 5 * se + TANH_BOUND)


def test_sampled_network_is_the_exact_ridge_at_tuned_hyper_parameters(tuned_bistable) -> None:  # noqa: ANN001
    # independent reference: gelsd on the ridge-augmented system [Phi; sqrt(lambda) 1]. The
    # normal equations with a jitter of 1e-12 max diag(Phi^T Phi) missed it by ~1e-3 of g
    gp = tuned_bistable
    Z, Y = gp.Z_, gp.G_ + gp.Z_
    Zs = np.linspace(-1.6, 1.6, 23)[:, None]
    for K in (20, 100):
        est = gp.sample_embedding(K, rng=np.random.default_rng())
        lam = gp.ridge_for(K)
        assert lam < 1e-10
        F = np.tanh(Z @ est.M_.T + est.I_[:, 0])
        A = np.vstack([F, np.sqrt(lam) * np.eye(K)])
        N = np.linalg.lstsq(A, np.vstack([Y, np.zeros((K, 1))]), rcond=None)[0]
        ref = np.tanh(Zs @ est.M_.T + est.I_[:, 0]) @ N - Zs
        scale = np.sqrt(np.mean(bistable(Zs) ** 2))
        assert np.max(np.abs(est.predict(Zs) - ref)) <= 1e-7 * scale


def test_finite_networks_converge_to_the_gp_mean_at_tuned_hyper_parameters(tuned_bistable) -> None:  # noqa: ANN001
    # RMS(f_K - GP mean) ~ K^-1/2 predicts a 10-fold drop from K = 30 to 3000; require 3-fold
    gp = tuned_bistable
    Zs = np.linspace(-1.6, 1.6, 101)[:, None]
    mu = gp.predict(Zs)
    rng = np.random.default_rng()
    err = {K: np.mean([np.sqrt(np.mean((gp.sample_embedding(K, rng=rng).predict(Zs) - mu) ** 2))
                       for _ in range(5)]) for K in (30, 3000)}
    assert err[3000] < err[30] / 3
    assert err[3000] < 1e-3 * np.sqrt(np.mean(bistable(Zs) ** 2))
