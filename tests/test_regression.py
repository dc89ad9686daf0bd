"""Closed-form embedding by regression ("A new look at low-rank RNNs", eqs 7–11).

Independent answers: a target built from a known network is recovered exactly; solvers agree
with numpy's lstsq on the augmented system; weights equal duplicated points; odd symmetry and the
ReLU restriction follow from parity / piecewise-linear projections computed directly; the fitted
network, simulated neuron by neuron, follows scipy's solve_ivp solution of the target.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from lowrank_rnn.fit.regression import (
    ODEEmbedding,
    design_matrix,
    grid_points,
    sample_basis,
    solve_least_squares,
)


def bistable(z: np.ndarray) -> np.ndarray:
    return z - z**3


def limit_cycle(z: np.ndarray) -> np.ndarray:
    x, y = z[:, 0], z[:, 1]
    r2 = x * x + y * y
    return np.stack([x * (1 - r2) - y, y * (1 - r2) + x], axis=1)


# ------------------------------------------------------------------------------ solvers
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_solvers_agree_with_numpy_lstsq_on_augmented_system(seed: int) -> None:
    rng = np.random.default_rng(seed)
    Phi = np.tanh(rng.normal(size=(300, 40)))
    Y = rng.normal(size=(300, 3))
    w = rng.uniform(0.5, 2.0, 300)
    ridge = 0.3
    A = np.vstack([Phi * np.sqrt(w)[:, None], np.sqrt(ridge) * np.eye(40)])
    B = np.vstack([Y * np.sqrt(w)[:, None], np.zeros((40, 3))])
    ref = np.linalg.lstsq(A, B, rcond=None)[0]
    for solver in ("auto", "cholesky", "eigh", "lstsq"):
        N, info = solve_least_squares(Phi, Y, weights=w, ridge=ridge, solver=solver)
        np.testing.assert_allclose(N, ref, rtol=1e-8, atol=1e-10)
        assert info["condition_number"] >= 1.0


@pytest.mark.parametrize("shape", [(60, 150), (150, 60)])
def test_lstsq_ridge_is_exact_for_a_tiny_ridge_on_an_ill_conditioned_basis(shape) -> None:
    # near-linear tanh units: singular values fall by decades, the normal equations (cond^2)
    # cannot resolve a ridge of 1e-14; the SVD path must equal gelsd on the augmented system
    n_pts, n_feat = shape
    rng = np.random.default_rng(7)
    z = np.linspace(-1, 1, n_pts)[:, None]
    Phi = np.tanh(z * rng.normal(0, 0.1, n_feat) + rng.normal(0, 1.5, n_feat))
    Y = np.column_stack([z[:, 0] - z[:, 0] ** 3, np.cos(z[:, 0])])
    ridge = 1e-14
    A = np.vstack([Phi, np.sqrt(ridge) * np.eye(n_feat)])
    B = np.vstack([Y, np.zeros((n_feat, 2))])
    ref = np.linalg.lstsq(A, B, rcond=None)[0]
    N, info = solve_least_squares(Phi, Y, ridge=ridge, solver="lstsq")
    np.testing.assert_allclose(Phi @ N, Phi @ ref, atol=1e-9)
    s = np.linalg.svd(A, compute_uv=False)
    assert info["condition_number"] == pytest.approx(s[0] / s[-1], rel=1e-6)
    assert info["rank"] == n_feat


def test_condition_number_matches_singular_values() -> None:
    rng = np.random.default_rng(3)
    Phi = rng.normal(size=(200, 20)) @ np.diag(np.logspace(0, 3, 20))
    s = np.linalg.svd(Phi, compute_uv=False)
    exact = s[0] / s[-1]
    for solver in ("eigh", "lstsq"):
        _, info = solve_least_squares(Phi, np.ones((200, 1)), solver=solver)
        assert info["condition_number"] == pytest.approx(exact, rel=1e-6)
    _, info = solve_least_squares(Phi, np.ones((200, 1)), solver="cholesky")
    # LAPACK's 1-norm estimate of cond(G) is within a factor n of the 2-norm value
    assert exact / 1.01 <= info["condition_number"] <= exact * np.sqrt(20) * 1.01


def test_integer_weights_equal_duplicated_points() -> None:
    rng = np.random.default_rng(4)
    Z = rng.uniform(-1.5, 1.5, (80, 1))
    w = rng.integers(1, 4, 80).astype(float)
    basis = sample_basis(30, 1, 1, rng=5)
    # a small ridge makes the solution unique (the random basis is numerically rank-deficient)
    est = ODEEmbedding(1, 30, basis=basis, inputs="bias", ridge=1e-2)
    a = est.fit(bistable, Z, weights=w).N_
    b = est.fit(bistable, np.repeat(Z, w.astype(int), 0)).N_
    np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


# ------------------------------------------------------------------------------ exact recovery
@pytest.mark.parametrize("phi", ["tanh", "relu"])
def test_recovers_the_weights_of_a_representable_target(phi: str) -> None:
    """g(z) = -z + N*^T phi(M z + I) with the same basis: regression returns N* (eq 10)."""
    rng = np.random.default_rng(6)
    M, I = sample_basis(25, 2, 1, rng=rng)
    N_true = rng.normal(size=(25, 2))

    def g(z: np.ndarray) -> np.ndarray:
        return -z + design_matrix(z, M, I, np.ones((len(z), 1)), phi) @ N_true

    est = ODEEmbedding(2, 25, basis=(M, I), inputs="bias", phi=phi)
    est.fit(g, box=(-2, 2), n_points=900)
    np.testing.assert_allclose(est.N_, N_true, rtol=1e-6, atol=1e-6)
    assert est.info_["train_mse"] < 1e-14
    assert est.network_.scale == 1.0
    np.testing.assert_allclose(est.network_.to_dense(), M @ N_true.T)


def test_fit_on_trajectories_with_external_inputs_recovers_weights() -> None:
    """Task-style fitting: points along trajectories driven by given inputs v (eq 4, 7)."""
    rng = np.random.default_rng(7)
    M, I = sample_basis(12, 1, 2, rng=rng)
    N_true = rng.normal(size=(12, 1))

    def g(z: np.ndarray, v: np.ndarray) -> np.ndarray:
        return -z + design_matrix(z, M, I, v, "tanh") @ N_true

    pts = rng.uniform(-2, 2, (5, 40, 1))
    vs = rng.uniform(-1, 1, (5, 40, 2))
    est = ODEEmbedding(1, 12, basis=(M, I), inputs="external", n_inputs=2).fit(g, pts, v=vs)
    np.testing.assert_allclose(est.N_, N_true, rtol=1e-7, atol=1e-8)
    # targets given as arrays give the same answer
    tg = g(pts.reshape(-1, 1), vs.reshape(-1, 2)).reshape(5, 40, 1)
    est2 = ODEEmbedding(1, 12, basis=(M, I), inputs="external", n_inputs=2).fit(
        targets=tg, points=pts, v=vs
    )
    np.testing.assert_allclose(est2.N_, est.N_, rtol=1e-10, atol=1e-12)


def test_external_input_network_follows_driven_ode() -> None:
    """Simulate the N-neuron network with a pulse input u(t); compare z with solve_ivp of
    dz/dt = g(z, v), dv/dt = -v + u (eq 4, 7)."""
    rng = np.random.default_rng(8)
    n = 300

    def g(z: np.ndarray, v: np.ndarray) -> np.ndarray:  # a bistable switch pushed by v
        return z - z**3 + 2.0 * v

    zs = rng.uniform(-1.6, 1.6, 3000)[:, None]
    vs = rng.uniform(-1.0, 1.0, 3000)[:, None]
    est = ODEEmbedding(1, n, inputs="external", n_inputs=1, random_state=9).fit(g, zs, v=vs)
    assert est.info_["train_mse"] < 1e-6
    dt, T = 0.005, 12.0
    n_steps = int(round(T / dt))
    t = np.arange(n_steps) * dt
    u = np.where((t > 2) & (t < 3), 1.5, 0.0) - np.where((t > 7) & (t < 8), 1.5, 0.0)
    ts, z = est.simulate_latent(np.array([[-1.0]]), t_span=T, dt=dt, inputs=u[None, :, None])

    def rhs(tt: float, y: np.ndarray) -> np.ndarray:
        uu = 1.5 if 2 < tt < 3 else (-1.5 if 7 < tt < 8 else 0.0)
        return np.array([g(y[:1, None], y[1:, None])[0, 0], -y[1] + uu])

    ref = solve_ivp(rhs, (0, T), [-1.0, 0.0], t_eval=ts, rtol=1e-9, atol=1e-11, max_step=0.01)
    # Euler with dt = 0.005 against the exact solution: the error is O(dt) (< 0.05 here)
    assert np.max(np.abs(z[0, :, 0] - ref.y[0])) < 0.05
    assert z[0, int(6 / dt), 0] > 0.9 and z[0, -1, 0] < -0.9  # the pulses flipped the switch


# ------------------------------------------------------------------------------ symmetry
@pytest.mark.parametrize("seed", [0, 1])
def test_without_inputs_only_the_odd_part_is_fitted(seed: int) -> None:
    """Sec 3: with v = 0 and odd phi the residual is the even part of g (symmetric grid)."""

    def g(z: np.ndarray) -> np.ndarray:
        return z - z**3 + 0.3 + 0.2 * z**2

    Z = grid_points((-1.5, 1.5), 401, 1)
    none = ODEEmbedding(1, 150, inputs="none", random_state=seed).fit(g, Z)
    even = 0.3 + 0.2 * Z**2
    resid = g(Z) - none.predict(Z)
    # the even part is orthogonal to every odd basis function on a symmetric grid, so the
    # residual is the even part plus the (small) error of fitting the odd part alone
    odd_only = ODEEmbedding(1, 150, inputs="none", random_state=seed).fit(bistable, Z)
    odd_err = bistable(Z) - odd_only.predict(Z)
    np.testing.assert_allclose(resid - odd_err, even, atol=1e-7)
    assert np.max(np.abs(odd_err)) < 1e-3
    bias = ODEEmbedding(1, 150, inputs="bias", random_state=seed).fit(g, Z)
    assert np.max(np.abs(g(Z) - bias.predict(Z))) < 1e-4


def test_relu_without_inputs_fits_the_best_piecewise_linear_function_broken_at_zero() -> None:
    def g(z: np.ndarray) -> np.ndarray:
        return np.sin(2 * z) + 0.5 * z**2

    Z = grid_points((-2, 2), 400, 1)
    est = ODEEmbedding(1, 60, inputs="none", phi="relu", random_state=0).fit(g, Z)
    # independent answer: least squares on the two functions max(z, 0) and min(z, 0)
    X = np.hstack([np.maximum(Z, 0), np.minimum(Z, 0)])
    coef = np.linalg.lstsq(X, g(Z), rcond=None)[0]
    np.testing.assert_allclose(est.predict(Z), X @ coef, atol=1e-8)


# ------------------------------------------------------------------------------ as a network
def test_bistable_network_settles_on_the_target_fixed_points() -> None:
    est = ODEEmbedding(1, 100, inputs="bias", random_state=0).fit(bistable, box=(-1.6, 1.6))
    z0 = np.array([[-1.5], [-0.3], [0.3], [1.5]])
    _, z = est.simulate_latent(z0, t_span=10.0, dt=0.01)
    np.testing.assert_allclose(z[:, -1, 0], [-1, -1, 1, 1], atol=1e-3)


def test_limit_cycle_network_radius_and_period() -> None:
    """Fig 2: simulate the full rank-2 network; radius 1 and period 2 pi within 2%."""
    est = ODEEmbedding(2, 200, inputs="bias", ridge=1e-4, random_state=1)
    est.fit(limit_cycle, box=(-1.6, 1.6), n_points=1600)
    z0 = np.array([[0.2, 0.0], [1.4, 0.3], [-0.5, -1.2]])
    dt = 0.01
    t, z = est.simulate_latent(z0, t_span=25.0, dt=dt)
    late = t > 12
    radius = np.linalg.norm(z[:, late], axis=-1)
    assert np.all(np.abs(radius - 1) < 0.02)
    phase = np.unwrap(np.arctan2(z[:, late, 1], z[:, late, 0]), axis=1)
    omega = np.polyfit(t[late], phase.T, 1)[0]
    np.testing.assert_allclose(2 * np.pi / omega, 2 * np.pi, rtol=0.02)


# ------------------------------------------------------------------------------ bad input
def test_bad_inputs_raise_clear_errors() -> None:
    est = ODEEmbedding(1, 50, inputs="bias", random_state=0)
    with pytest.raises(ValueError, match="g: returned shape"):
        est.fit(lambda z: np.zeros((len(z), 2)), box=(-1, 1))
    with pytest.raises(ValueError, match="non-finite"):
        est.fit(lambda z: np.where(z > 0, np.inf, z), box=(-1, 1))
    with pytest.raises(ValueError, match="underdetermined"):
        est.fit(bistable, np.linspace(-1, 1, 20))
    ODEEmbedding(1, 50, ridge=0.1, random_state=0).fit(bistable, np.linspace(-1, 1, 20))
    with pytest.raises(ValueError, match="inputs='sideways'"):
        ODEEmbedding(1, 50, inputs="sideways").fit(bistable, box=(-1, 1))
    with pytest.raises(ValueError, match="n_neurons"):
        ODEEmbedding(1, 0).fit(bistable, box=(-1, 1))
    with pytest.raises(ValueError, match="v: inputs='decaying'"):
        ODEEmbedding(1, 10, inputs="decaying").fit(lambda z, v: z, box=(-1, 1))
    with pytest.raises(ValueError, match="box"):
        ODEEmbedding(1, 10).fit(bistable, box=(1, -1))
    with pytest.raises(ValueError, match="not fitted"):
        ODEEmbedding(1, 10).predict(np.zeros((3, 1)))


def test_same_seed_same_fit() -> None:
    a = ODEEmbedding(2, 60, random_state=11).fit(limit_cycle, box=(-1.5, 1.5), n_points=400)
    b = ODEEmbedding(2, 60, random_state=11).fit(limit_cycle, box=(-1.5, 1.5), n_points=400)
    np.testing.assert_array_equal(a.M_, b.M_)
    np.testing.assert_array_equal(a.N_, b.N_)


def test_orthogonalized_inputs_make_projection_the_latent() -> None:
    M, I = sample_basis(200, 2, 1, rng=3)
    assert np.max(np.abs(M.T @ I)) < 1e-10
    est = ODEEmbedding(2, 200, random_state=3).fit(limit_cycle, box=(-1.5, 1.5), n_points=900)
    z0 = np.array([[0.3, -0.7]])
    x0 = est.initial_state(z0)
    np.testing.assert_allclose(np.linalg.solve(est.M_.T @ est.M_, est.M_.T @ x0[0]), z0[0])
    np.testing.assert_allclose(est.latent(x0), z0)


def test_blocked_normal_equations_match_lstsq_on_the_full_design_matrix() -> None:
    """fit() forms Phi^T W Phi block by block; compare with gelsd on the whole weighted matrix."""
    rng = np.random.default_rng(12)
    Z = rng.uniform(-1.5, 1.5, (1300, 2))  # not a multiple of the block size
    w = rng.uniform(0.2, 3.0, 1300)
    kw = dict(inputs="bias", ridge=0.5, random_state=4)
    fast = ODEEmbedding(2, 120, **kw).fit(limit_cycle, Z, weights=w)
    slow = ODEEmbedding(2, 120, solver="lstsq", **kw).fit(limit_cycle, Z, weights=w)
    assert fast.info_["solver"] == "cholesky" and slow.info_["solver"] == "lstsq"
    np.testing.assert_allclose(fast.N_, slow.N_, rtol=1e-8, atol=1e-10)
    assert fast.info_["train_mse"] == pytest.approx(slow.info_["train_mse"], rel=1e-6)


def test_three_neuron_rank_three_network_with_three_inputs() -> None:
    """A network too small for I ⟂ M (flip-flop size): fit on trajectory points with given v,
    then read z = (M^T M)^{-1} M^T (x - I v) from the simulation and compare with solve_ivp."""
    rng = np.random.default_rng(13)
    M = np.eye(3) + 0.1 * rng.normal(size=(3, 3))
    I = 0.5 * np.eye(3)
    N_true = 2.0 * np.eye(3) + 0.1 * rng.normal(size=(3, 3))

    def g(z: np.ndarray, v: np.ndarray) -> np.ndarray:
        return -z + np.tanh(z @ M.T + v @ I.T) @ N_true

    pts, vs = rng.uniform(-1.5, 1.5, (4, 50, 3)), rng.uniform(-2, 2, (4, 50, 3))
    est = ODEEmbedding(3, 3, basis=(M, I), inputs="external", n_inputs=3).fit(g, pts, v=vs)
    np.testing.assert_allclose(est.N_, N_true, rtol=1e-9, atol=1e-10)
    dt, T = 0.002, 6.0
    n_steps = int(round(T / dt))
    u = np.zeros((1, n_steps, 3))
    u[0, int(1 / dt) : int(1.5 / dt), 1] = 12.0  # a pulse on channel 2
    t, z = est.simulate_latent(np.array([[-1.0, -1.0, 1.0]]), t_span=T, dt=dt, inputs=u)

    def rhs(tt: float, y: np.ndarray) -> np.ndarray:
        uu = np.array([0.0, 12.0 if 1 <= tt < 1.5 else 0.0, 0.0])
        return np.concatenate([g(y[None, :3], y[None, 3:])[0], uu - y[3:]])

    ref = solve_ivp(rhs, (0, T), [-1.0, -1.0, 1.0, 0, 0, 0], t_eval=t, max_step=0.01,
                    rtol=1e-9, atol=1e-11)
    assert np.max(np.abs(z[0] - ref.y[:3].T)) < 0.05  # Euler, dt = 0.002
    assert z[0, -1, 1] > 0.5  # the pulse flipped the second register
