"""Latent flow fields, fixed points and slow points of a user's finite network."""

from __future__ import annotations

import numpy as np
import pytest

from lowrank_rnn.connectivity import bernoulli_mask
from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.reproduce.beiran2021 import two_population_mixture
from lowrank_rnn.simulate import latent_projection, simulate
from lowrank_rnn.theory.fixedpoints import (
    find_latent_fixed_points,
    find_slow_points,
    network_fixed_point,
    network_flow_field,
    network_latent_field,
    network_latent_jacobian,
)
from lowrank_rnn.transfer import get_phi


def random_net(n: int = 300, rank: int = 2, seed: int = 0, phi: str = "tanh") -> LowRankRNN:
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(n, rank))
    N = 2.0 * M @ rng.normal(size=(rank, rank)) + rng.normal(size=(n, rank))
    return LowRankRNN(M=M, N=N, I=rng.normal(size=(n, 2)), W=rng.normal(size=(n, 1)) / n,
                      scale=1.0 / n, tau=0.7, phi=phi)


@pytest.mark.parametrize("phi", ["tanh", "relu"])
def test_flow_field_equals_time_derivative_of_a_simulation_started_on_the_grid(phi):
    """One Euler step from x = M kappa + I u is exact in the latent coordinates, and a short
    run with a small step gives the derivative to O(dt)."""
    net = random_net(phi=phi)
    u = np.array([0.3, -0.5])
    k1, k2, F = network_flow_field(net, (-1.5, 1.5), (-1, 1), n=6, u=u)
    grid = np.stack(np.meshgrid(k1, k2), -1).reshape(-1, 2)
    x0 = grid @ net.M.T + net.I @ u
    basis = np.hstack([net.M, net.I])
    for dt, tol in ((0.1, 1e-10), (1e-4, None)):
        inputs = np.broadcast_to(u, (len(grid), 1, 2))
        tr = simulate(net, inputs, x0=x0, dt=dt)
        lat = latent_projection(tr.x, basis)  # (batch, time, R + K)
        deriv = (lat[:, 1, :2] - lat[:, 0, :2]) / dt
        np.testing.assert_allclose(lat[:, 1, 2:], np.broadcast_to(u, (len(grid), 2)),
                                   atol=1e-10)
        np.testing.assert_allclose(deriv, F.reshape(-1, 2), atol=tol or 1e-12, rtol=1e-9)
    # central difference over a long run: derivative at an intermediate time
    dt = 1e-3
    tr = simulate(net, np.broadcast_to(u, (1, 200, 2)), x0=x0[0], dt=dt)
    lat = latent_projection(tr.x[0], basis)[:, :2]
    mid = 100
    fd = (lat[mid + 1] - lat[mid - 1]) / (2 * dt)
    F_mid = network_latent_field(net, lat[mid], u)
    np.testing.assert_allclose(fd, F_mid, atol=5e-3 * np.abs(F_mid).max() + 1e-8)


def test_latent_jacobian_matches_finite_differences():
    net = random_net(rank=3, seed=2)
    u = np.array([0.2, 0.1])
    k = np.array([0.4, -0.2, 0.9])
    J = network_latent_jacobian(net, k, u)
    eps = 1e-6
    fd = np.stack([(network_latent_field(net, k + eps * e, u)
                    - network_latent_field(net, k - eps * e, u)) / (2 * eps)
                   for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(J, fd, atol=1e-7)


def test_fixed_points_agree_with_newton_and_the_full_jacobian():
    """Every latent fixed point of the finite network is a fixed point of the full network
    (Newton from it does not move), and its latent eigenvalues are the non-trivial eigenvalues
    of the dense N x N Jacobian (-1 + J D) / tau; the other N - R equal -1/tau."""
    mix = two_population_mixture(2.4)
    net = mix.network(250, rng=3).replace(tau=2.0)
    fps = find_latent_fixed_points(net, (-1.5, 1.5), n_starts=60, rng=0)
    kinds = {f.kind for f in fps}
    assert len(fps) >= 3 and {"stable node", "saddle"} <= kinds
    dphi = get_phi(net.phi)[1]
    J = net.to_dense()
    for f in fps:
        x = net.M @ f.kappa
        nfp = network_fixed_point(net, x)
        assert nfp.converged and nfp.n_iter <= 1
        np.testing.assert_allclose(nfp.kappa, f.kappa, atol=1e-9)
        full = np.linalg.eigvals((J * dphi(x)[None, :] - np.eye(net.n_neurons)) / net.tau)
        full = full[np.argsort(-full.real)]
        np.testing.assert_allclose(np.sort_complex(full[:2]), np.sort_complex(f.eigenvalues),
                                   atol=1e-9)
        np.testing.assert_allclose(full[2:], -1.0 / net.tau, atol=1e-9)
        assert f.stable == nfp.stable


def test_slow_points_find_a_saddle_node_ghost():
    """F(kappa) = -kappa + 2 tanh(kappa) + c exactly (two deterministic populations); for c
    slightly below the saddle-node value -(2 sqrt(1/2) - arccosh sqrt 2) the fixed-point pair
    near kappa* = arccosh(sqrt 2) is gone and leaves a slow point of speed |F(kappa*)|."""
    n = 200
    kstar = np.arccosh(np.sqrt(2.0))
    c = -(2 * np.tanh(kstar) - kstar) - 0.02
    m = np.r_[np.ones(n // 2), np.zeros(n // 2)][:, None]
    nn = np.r_[np.full(n // 2, 4.0), np.full(n // 2, 2 * c / np.tanh(1.0))][:, None]
    I = np.r_[np.zeros(n // 2), np.ones(n // 2)][:, None]
    net = LowRankRNN(M=m, N=nn, I=I, scale=1.0 / n)
    u = np.array([1.0])
    k = np.linspace(-3, 3, 7)[:, None]
    np.testing.assert_allclose(network_latent_field(net, k, u)[:, 0],
                               -k[:, 0] + 2 * np.tanh(k[:, 0]) + c, atol=1e-12)
    pts = find_slow_points(net, (-3.5, 3.5), u, n_starts=30, max_speed=0.05, rng=0)
    fixed = [p for p in pts if p.fixed]
    slow = [p for p in pts if not p.fixed]
    assert len(fixed) == 1 and fixed[0].kind == "stable"
    fps = find_latent_fixed_points(net, (-3.5, 3.5), u, n_starts=30, rng=0)
    assert len(fps) == 1
    np.testing.assert_allclose(fixed[0].kappa, fps[0].kappa, atol=1e-7)
    assert len(slow) == 1
    np.testing.assert_allclose(slow[0].kappa, [kstar], atol=1e-4)
    assert slow[0].speed == pytest.approx(0.02, rel=1e-3)


def test_bad_networks_and_shapes_are_named():
    net = random_net()
    with pytest.raises(ValueError, match="structure"):
        network_latent_field(net.replace(mask=bernoulli_mask(300, 0.5, rng=0)), np.zeros(2))
    with pytest.raises(ValueError, match="kappa"):
        network_latent_field(net, np.zeros(3))
    with pytest.raises(ValueError, match="u"):
        network_latent_field(net, np.zeros(2), u=np.zeros(3))
    with pytest.raises(ValueError, match="rank 2"):
        network_flow_field(random_net(rank=3))
    with pytest.raises(ValueError, match="mix"):
        find_slow_points(np.eye(2))
