"""Analyses against closed-form answers on constructed activity."""

import numpy as np
import pytest

from lowrank_rnn.analysis import (
    kappa_I,
    kappa_r,
    kappa_rec,
    participation_ratio,
    pca,
    phase_diagram,
    predicted_regime,
    psychometric_curve,
    simulated_regime,
)


def _orth(n, k, seed=0):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, k)))
    return q.T * np.sqrt(n)


def test_kappa_projections_recover_coordinates_eq_33_35():
    m, I = _orth(500, 2)
    a = np.linspace(-1, 2, 7)
    b = np.cos(a)
    x = a[:, None] * m + b[:, None] * I
    np.testing.assert_allclose(kappa_r(x, m), a, atol=1e-12)
    np.testing.assert_allclose(kappa_I(x, I), b, atol=1e-12)


def test_kappa_rec_is_eq_37():
    rng = np.random.default_rng(1)
    x, n = rng.standard_normal((3, 50)), rng.standard_normal(50)
    np.testing.assert_allclose(kappa_rec(x, n), np.tanh(x) @ n / 50)
    np.testing.assert_allclose(kappa_rec(x, n, scale=2.0, phi="linear"), 2 * x @ n)


def _pr_sampling_tolerance(lam, n):
    """5 standard errors plus a bias bound for the PR of ``n`` Gaussian samples of
    N(0, diag(lam)).

    PR = a^2 / b with a = tr S = sum d_i, b = tr S^2, S the sample covariance, d_i = S_ii.
    Delta method on the independent d_i (Var d_i = 2 lam_i^2 / n): dPR/dd_i =
    (2a/b)(1 - a d_i / b). Bias, to order 1/n: the second-order terms of a^2/b in
    Var a = 2 sum lam^2 / n, Cov(a, b) = 4 sum lam^3 / n, Var b = 8 sum lam^4 / n, and the shift
    E b - sum lam^2 = ((sum lam)^2 + sum lam^2) / n from the sampling variance of the diagonal
    and off-diagonal entries; their absolute values are summed (a bound).
    """
    a, b = lam.sum(), (lam**2).sum()
    grad = 2 * a / b * (1 - a * lam / b)
    sd = np.sqrt(np.sum(grad**2 * 2 * lam**2 / n))
    var_a, cov_ab, var_b = 2 * b / n, 4 * (lam**3).sum() / n, 8 * (lam**4).sum() / n
    bias = (var_a / b + 2 * a / b**2 * cov_ab + a**2 / b**3 * var_b
            + a**2 / b**2 * (a**2 + b) / n)
    return 5 * sd + bias


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_participation_ratio_of_gaussian_data(seed):
    """Samples from N(0, diag(lam)): PR -> (sum lam)^2 / sum lam^2, within the sampling error of
    the number of samples used (delta method, :func:`_pr_sampling_tolerance`)."""
    rng = np.random.default_rng(seed)
    n = 5000
    lam = np.array([4.0, 2.0, 1.0, 1.0] + [0.0] * 16)
    x = rng.standard_normal((n, 20)) * np.sqrt(lam)
    expect = lam.sum() ** 2 / (lam**2).sum()
    assert abs(participation_ratio(x) - expect) < _pr_sampling_tolerance(lam, n)
    assert abs(participation_ratio(x[:, :1]) - 1.0) < 1e-12


def test_pca_alignment_and_variance_explained():
    m, I = _orth(300, 2, seed=3)
    t = np.linspace(0, 10, 400)
    a, b = 3 * np.sin(t), np.cos(t)
    x = a[:, None] * m + b[:, None] * I
    res = pca(x[None], n_components=3, vectors={"m": m, "I": I})
    va, vb = a.var(), b.var()
    np.testing.assert_allclose(res.explained[:2], [va / (va + vb), vb / (va + vb)], atol=0.02)
    assert res.alignment["m"][0] > 0.99 and res.alignment["I"][1] > 0.99
    assert res.explained[2] < 1e-10
    assert abs(res.participation_ratio - participation_ratio(x)) < 1e-8


def test_simulated_regime_on_constructed_activity():
    rng = np.random.default_rng(4)
    m = rng.standard_normal(200)
    assert simulated_regime(1e-4 * rng.standard_normal((50, 200)), m).regime == "decaying"
    fixed = np.tile(2 * m, (50, 1)) + 1e-3 * rng.standard_normal((50, 200))
    r = simulated_regime(fixed, m)
    assert r.regime == "structured" and r.m_fraction > 0.99
    assert simulated_regime(rng.standard_normal((50, 200)), m).regime == "chaotic"


def test_predicted_regime_uses_eq_13_14():
    # outlier C sigma_mn = 2, bulk sqrt(C) sigma2 sqrt(1 - C/N) = 10 * 0.05 * sqrt(0.9) < 1
    assert predicted_regime(0.05, 0.02, n_neurons=1000, c=100) == "structured"
    assert predicted_regime(0.05, 0.005, n_neurons=1000, c=100) == "decaying"
    assert predicted_regime(0.3, 0.01, n_neurons=1000, c=100) == "chaotic"


def test_phase_diagram_small_grid_agrees_far_from_boundaries():
    # far from the boundaries (R, outlier): decaying (0.42, 0.3), structured (0.42, 3),
    # chaotic (3, 0.3); sigma_mn <= sigma2 keeps every point realisable (eq 17-18)
    n, c = 300, 60
    r = np.sqrt(c * (1 - c / n))
    pd = phase_diagram([0.06, 3.0 / r], [0.3 / c, 3.0 / c], n_neurons=n, c=c, t_total=60.0,
                       rng=0)
    assert pd["predicted"][0, 0] == "decaying" and pd["simulated"][0, 0] == "decaying"
    assert pd["predicted"][0, 1] == "structured" and pd["simulated"][0, 1] == "structured"
    assert pd["predicted"][1, 0] == "chaotic" and pd["simulated"][1, 0] == "chaotic"


def test_psychometric_curve_counts():
    z = np.zeros((6, 10))
    z[[1, 4, 5], -3:] = 1.0
    z[0, -3:] = -1.0
    z[2, -1] = 5.0  # mean over the last 3 is positive
    out = psychometric_curve(z, np.array([0.1, 0.1, 0.1, 0.5, 0.5, 0.5]), window_steps=3)
    np.testing.assert_allclose(out["strengths"], [0.1, 0.5])
    np.testing.assert_allclose(out["p_positive"], [2 / 3, 2 / 3])
    np.testing.assert_array_equal(out["n_trials"], [3, 3])


def test_bad_input():
    with pytest.raises(ValueError, match="m"):
        kappa_r(np.ones((2, 5)), np.zeros(5))
    with pytest.raises(ValueError, match="strengths"):
        psychometric_curve(np.zeros((3, 4)), np.zeros(2), window_steps=1)
    with pytest.raises(ValueError, match="window_steps"):
        psychometric_curve(np.zeros((3, 4)), np.zeros(3), window_steps=9)
    with pytest.raises(ValueError, match="x"):
        participation_ratio(np.ones(5))
