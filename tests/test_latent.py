"""Rank-one latent ODE (eq 36–37, Gaussian closure) against quadrature and network simulations."""

import numpy as np
import pytest
from scipy.integrate import quad

from lowrank_rnn.connectivity import rank_one_network
from lowrank_rnn.simulate import simulate
from lowrank_rnn.theory.latent import (
    integrate_rank_one_latent,
    mean_phi_prime,
    rank_one_fixed_points,
    rank_one_kappa_rec,
    rank_one_latent_rhs,
)
from lowrank_rnn.theory.meanfield import gaussian_averages


def _quad_mean(f, delta):
    s = np.sqrt(delta)
    g = lambda z: f(s * z) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi)  # noqa: E731
    return quad(g, -np.inf, np.inf, epsabs=1e-12)[0]


@pytest.mark.parametrize("delta", [0.0, 0.3, 2.0, 8.9, 25.0, 400.0])
def test_closure_gain_matches_adaptive_quadrature(delta):
    fp = lambda x: 1 - np.tanh(x) ** 2  # noqa: E731
    assert abs(mean_phi_prime(delta) - _quad_mean(fp, delta)) < 1e-6
    assert abs(gaussian_averages("tanh", 0.0, delta, orders=(0,))[0]) < 1e-12  # odd function


@pytest.mark.parametrize("delta", [0.01, 0.3, 2.0, 25.0])
def test_relu_gain_matches_adaptive_quadrature(delta):
    # ReLU' is a step: E[step(sqrt(Delta) xi)] = 1/2 for every Delta > 0 (quadrature of the step
    # on its two halves, the discontinuity at a break point)
    s = np.sqrt(delta)
    half = quad(lambda z: float(s * z > 0) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi), 0, np.inf,
                epsabs=1e-13)[0]
    assert abs(mean_phi_prime(delta, "relu") - half) < 1e-9


def test_linear_phi_closure_is_exact():
    k = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(rank_one_kappa_rec(k, 2.0, 0.7, phi="linear"), 0.7 * k)
    np.testing.assert_allclose(
        rank_one_kappa_rec(k, 2.0, 0.7, v=0.5, sigma_nI=0.3, sigma_I2=1.0, phi="linear"),
        0.7 * k + 0.3 * 0.5,
    )
    np.testing.assert_allclose(rank_one_latent_rhs(k, 2.0, 0.7, phi="linear", tau=2.0),
                               (0.7 * k - k) / 2.0)


def test_fixed_points_bistable_above_one():
    assert np.allclose(rank_one_fixed_points(1.0, 0.8), [0.0])
    fps = rank_one_fixed_points(4.0, 2.0)
    assert fps.size == 3 and abs(fps[1]) < 1e-8 and np.isclose(fps[0], -fps[2])
    k = fps[2]
    # independent check: k = sigma_mn k <phi'(sqrt(sigma^2 k^2) xi)> by adaptive quadrature
    assert abs(2.0 * k * _quad_mean(lambda x: 1 - np.tanh(x) ** 2, 4.0 * k * k) - k) < 1e-6


def test_latent_ode_euler_matches_closed_form_linear_decay():
    sol = integrate_rank_one_latent(1.0, 1.0, 0.5, dt=0.01, n_steps=200, phi="linear",
                                    substeps=10)
    np.testing.assert_allclose(sol.kappa[0], np.exp(-0.5 * sol.t), rtol=1e-3)


def _sim_error(n, seed):
    sigma2, sigma_mn = 4.0, 2.0
    net = rank_one_network(n, sigma2, sigma_mn, exact=True, rng=seed)
    m = net.M[:, 0]
    x0 = 0.3 * m
    dt, steps = 0.1, 100
    tr = simulate(net, None, x0, dt=dt, n_steps=steps)
    mf = integrate_rank_one_latent(0.3, sigma2, sigma_mn, dt=dt, n_steps=steps)
    return np.abs(tr.kappa[0, :, 0] - mf.kappa[0]).max(), mf.kappa[0, -1]


def test_network_kappa_follows_latent_ode_with_error_shrinking_with_n():
    """Finite-N error of kappa_rec is a CLT fluctuation ~ sd(n phi(x)) / sqrt(N); the error of
    kappa is that times the relaxation factor 1 / (1 - d kappa_rec / d kappa); it must shrink
    with N (theory: as 1/sqrt(N))."""
    errs = {}
    for n in (400, 6400):
        vals = [_sim_error(n, seed) for seed in range(3)]
        errs[n] = np.mean([e for e, _ in vals])
        kstar = vals[0][1]
        # sd of one summand n_j phi(x_j) is at most sd(n) = 2; relaxation amplification
        # 1 / (1 - slope of kappa_rec at the fixed point); 5 standard deviations
        eps = 1e-4
        slope = (rank_one_kappa_rec(kstar + eps, 4.0, 2.0)
                 - rank_one_kappa_rec(kstar - eps, 4.0, 2.0)) / (2 * eps)
        bound = 5 * 2.0 / np.sqrt(n) / (1 - slope)
        assert errs[n] < bound, (n, errs[n], bound)
    assert errs[6400] < errs[400] / 2  # theory: factor 4


def test_bad_input():
    with pytest.raises(ValueError, match="sigma_mn"):
        rank_one_kappa_rec(1.0, 1.0, 2.0)
    with pytest.raises(ValueError, match="dt"):
        integrate_rank_one_latent(0.1, 1.0, 0.5, dt=0.0, n_steps=3)
    with pytest.raises(ValueError, match="inputs"):
        integrate_rank_one_latent(0.1, 1.0, 0.5, dt=0.1, n_steps=3, inputs=np.zeros(2))
    with pytest.raises(ValueError, match="delta"):
        mean_phi_prime(-1.0)
