"""Fixed points in latent space and in the full network, with their stability."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq

from lowrank_rnn.connectivity import low_rank_network
from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.reproduce.beiran2021 import (
    fixed_point_tolerance,
    symmetric_mixture,
    two_population_mixture,
)
from lowrank_rnn.simulate import latent_projection, simulate
from lowrank_rnn.theory.fixedpoints import (
    classify,
    find_latent_fixed_points,
    network_fixed_point,
    network_jacobian_eigenvalues,
    reduced_matrix,
)
from lowrank_rnn.theory.meanfield import GaussianMixture


def gain(variance: float) -> float:
    """<tanh'>(0, variance) by adaptive quadrature."""
    s = np.sqrt(variance)
    return quad(lambda xi: (1 - np.tanh(s * xi) ** 2) * np.exp(-xi * xi / 2), -12, 12,
                points=[0.0], epsabs=1e-14, limit=300)[0] / np.sqrt(2 * np.pi)


def gain3(variance: float) -> float:
    """Gaussian average of the third derivative of tanh, -2 (1 - tanh^2)(1 - 3 tanh^2)."""
    s = np.sqrt(variance)

    def f(xi):
        t = np.tanh(s * xi)
        return -2 * (1 - t * t) * (1 - 3 * t * t) * np.exp(-xi * xi / 2)

    return quad(f, -12, 12, points=[0.0], epsabs=1e-14, limit=300)[0] / np.sqrt(2 * np.pi)


def test_classify():
    assert classify([-1.0, -2.0]) == "stable node"
    assert classify([-1 + 1j, -1 - 1j]) == "stable focus"
    assert classify([1.0, -2.0]) == "saddle"
    assert classify([0.5, 0.1]) == "unstable node"
    assert classify([0.5 + 2j, 0.5 - 2j]) == "unstable focus"
    assert classify([0.0, -1.0]) == "marginal"
    assert classify([-0.3]) == "stable" and classify([0.3]) == "unstable"


def test_two_populations_nine_fixed_points_at_closed_form_positions():
    """Decoupled circuit: kappa_p = 1.2 <tanh'>(0, kappa_p^2) kappa_p, so fixed points at
    {0, ±c}^2; corners stable, edges saddles, origin unstable."""
    mix = two_population_mixture(2.4)
    fps = find_latent_fixed_points(mix, (-2, 2), n_starts=80, rng=0)
    c = brentq(lambda k: 1.2 * gain(k * k) - 1.0, 1e-3, 5.0, xtol=1e-13)
    expected = {(a, b) for a in (-c, 0.0, c) for b in (-c, 0.0, c)}
    assert len(fps) == 9
    for f in fps:
        nearest = min(expected, key=lambda e, f=f: np.max(np.abs(np.array(e) - f.kappa)))
        assert np.max(np.abs(np.array(nearest) - f.kappa)) < 1e-7
        n_zero = sum(abs(v) < 1e-9 for v in nearest)
        want = {0: "stable node", 1: "saddle", 2: "unstable node"}[n_zero]
        assert f.kind == want
        assert f.residual < 1e-10
        # Jacobian in closed form: diagonal, entry -1 + 1.2 d/dk[k g(k^2)] = -1 + 1.2 g(k^2)
        # + 1.2 k^2 g3(k^2) (heat equation: dg/dv = g3 / 2); 0.2 at k = 0
        lam = [1.2 * gain(k * k) - 1.0 + 1.2 * k * k * gain3(k * k) for k in nearest]
        np.testing.assert_allclose(f.jacobian, np.diag(lam), atol=1e-7)


def test_single_population_has_at_most_two_stable_fixed_points():
    for l1, l2 in ((1.6, 1.2), (1.3, 1.25), (2.0, 0.5)):
        fps = find_latent_fixed_points(symmetric_mixture(l1, l2), (-3, 3), n_starts=60, rng=1)
        assert sum(f.stable for f in fps) == 2
        for f in fps:
            if f.stable:  # on the leading eigenvector, radius from l1 <phi'>(0, r^2) = 1
                r = brentq(lambda k, l1=l1: l1 * gain(k * k) - 1.0, 1e-3, 10.0, xtol=1e-13)
                assert abs(f.kappa[1]) < 1e-9 and abs(abs(f.kappa[0]) - r) < 1e-7


def test_reduced_matrix_gives_the_nontrivial_dense_eigenvalues():
    rng = np.random.default_rng(0)
    n, R = 100, 2
    net = low_rank_network(rng.normal(size=(n, R)) * 1.5, rng.normal(size=(n, R)) * 1.5)
    x = rng.normal(size=n)
    ev, red = network_jacobian_eigenvalues(net, x)
    d = 1 - np.tanh(x) ** 2
    dense = np.linalg.eigvals(net.to_dense() * d[None, :] - np.eye(n))
    nontrivial = dense[np.abs(dense + 1) > 1e-8]
    assert nontrivial.size == R
    np.testing.assert_allclose(np.sort_complex(ev), np.sort_complex(nontrivial), atol=1e-10)
    np.testing.assert_allclose(red, net.scale * net.N.T @ (d[:, None] * net.M), atol=1e-14)


@pytest.mark.parametrize("seed", [0, 1])
def test_network_fixed_points_match_latent_ones_and_stability(seed):
    mix = two_population_mixture(2.4)
    fps = find_latent_fixed_points(mix, (-2, 2), n_starts=60, rng=seed)
    n = 10000  # at N = 4000 the 5-sd shift of a corner exceeds half the gap to its neighbours
    net, labels = mix.sample(n, rng=seed + 100)
    for f in fps:
        # this point's own 5-sd finite-N shift (its own Jacobian), well inside its basin
        tol = fixed_point_tolerance(mix, f.kappa, f.jacobian, n, rng=seed + 200)
        gap = min(np.linalg.norm(f.kappa - g.kappa) for g in fps if g is not f)
        assert tol < 0.5 * gap, (tol, gap)
        nfp = network_fixed_point(net, net.M @ f.kappa)
        assert nfp.converged and nfp.residual < 1e-10
        assert np.linalg.norm(nfp.kappa - f.kappa) < tol
        nearest = min(fps, key=lambda g, x=nfp.kappa: np.linalg.norm(x - g.kappa))
        assert nearest is f
        assert nfp.stable == f.stable
        # the reduced matrix at x = M kappa is a sample mean of n_r m_s phi'(m . kappa), whose
        # mixture average is I + the latent Jacobian: agree within 5 sampling sd per entry
        x = net.M @ f.kappa
        terms = net.N[:, :, None] * net.M[:, None, :] * (1 - np.tanh(x) ** 2)[:, None, None]
        var = sum(a * np.var(terms[labels == p], axis=0, ddof=1)
                  for p, a in enumerate(mix.fractions))
        red = reduced_matrix(net, x) - np.eye(2)
        assert np.all(np.abs(red - f.jacobian) < 5 * np.sqrt(var / n) + 1e-12)


def test_perturbation_of_simulated_network_follows_predicted_stability():
    mix = two_population_mixture(2.4)
    fps = find_latent_fixed_points(mix, (-2, 2), n_starts=40, rng=2)
    net = mix.network(3000, rng=7)
    rng = np.random.default_rng(3)
    for f in fps:
        nfp = network_fixed_point(net, net.M @ f.kappa)
        w, vec = np.linalg.eig(f.jacobian)
        dk = np.real(vec[:, np.argmax(w.real)]) + 0.3 * rng.normal(size=2)
        dk *= 0.02 / np.linalg.norm(dk)
        tr = simulate(net, x0=nfp.x + net.M @ dk, dt=0.1, n_steps=200)
        ratio = np.linalg.norm(latent_projection(tr.x[0, -1] - nfp.x, net.M)) / 0.02
        if f.stable:
            assert ratio < 0.5
        else:
            assert ratio > 2.0


def test_newton_with_dense_random_part_and_input():
    rng = np.random.default_rng(4)
    n = 80
    J = rng.normal(size=(n, n)) * 0.8 / np.sqrt(n)
    b = rng.normal(size=n)
    net = LowRankRNN(M=rng.normal(size=(n, 1)), N=rng.normal(size=(n, 1)), I=b[:, None],
                     random=J, scale=1.0 / n)
    fp = network_fixed_point(net, np.zeros(n), np.ones(1))
    full = net.to_dense()
    resid = -fp.x + full @ np.tanh(fp.x) + b
    assert fp.converged and np.max(np.abs(resid)) < 1e-10
    dense_ev = np.linalg.eigvals(full * (1 - np.tanh(fp.x) ** 2)[None, :] - np.eye(n))
    np.testing.assert_allclose(np.sort(fp.eigenvalues.real), np.sort(dense_ev.real), atol=1e-10)


def test_fixed_points_with_input_shift():
    """One population, rank 1, mean on I: the fixed point moves with v as the mean field says."""
    cov = np.diag([1.0, 1.0, 0.0])
    cov[0, 1] = cov[1, 0] = 0.5
    mix = GaussianMixture.single(cov, rank=1, mean=np.array([0.0, 0.8, 1.0]))
    fps = find_latent_fixed_points(mix, (-4, 4), v=[0.5], n_starts=30, rng=0)
    assert len(fps) >= 1
    for f in fps:  # kappa = 0.8 <tanh>(0.5, kappa^2) + 0.5 kappa <tanh'>(0.5, kappa^2)
        k = f.kappa[0]
        s = abs(k)
        avg = quad(lambda xi, s=s: np.tanh(0.5 + s * xi) * np.exp(-xi * xi / 2), -12, 12)[0]
        avg1 = quad(lambda xi, s=s: (1 - np.tanh(0.5 + s * xi) ** 2) * np.exp(-xi * xi / 2),
                    -12, 12)[0]
        rhs = (0.8 * avg + 0.5 * k * avg1) / np.sqrt(2 * np.pi)
        assert abs(rhs - k) < 1e-8


def test_bad_input():
    mix = two_population_mixture()
    with pytest.raises(ValueError, match="box"):
        find_latent_fixed_points(mix, (1.0, -1.0))
    with pytest.raises(ValueError, match="box"):
        find_latent_fixed_points(mix, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="mix"):
        find_latent_fixed_points("not a mixture")
    with pytest.raises(ValueError, match="n_starts"):
        find_latent_fixed_points(mix, n_starts=0)
    net = mix.network(50, rng=0)
    with pytest.raises(ValueError, match="x0"):
        network_fixed_point(net, np.zeros(49))
    with pytest.raises(ValueError, match="u"):
        network_fixed_point(net, np.zeros(50), u=np.ones(2))
    dense = net.replace(random=np.zeros((50, 50)))
    with pytest.raises(ValueError, match="low-rank"):
        reduced_matrix(dense, np.zeros(50))
