"""Online RLS embedding and FORCE: RLS against batch ridge and a direct RLS reference."""

from __future__ import annotations

import numpy as np
import pytest

from lowrank_rnn.fit.online import FORCETrainer, OnlineEmbedding, rls_update
from lowrank_rnn.fit.regression import ODEEmbedding, grid_points
from lowrank_rnn.fit.targets import bistable, get_ode, limit_cycle


def _states(n_pts: int = 300) -> np.ndarray:
    ode = get_ode("limit-cycle")
    return ode.solve(ode.starts[:2], np.linspace(0, 8, n_pts // 2))


def test_one_pass_without_forgetting_equals_batch_ridge() -> None:
    Z = _states()
    alpha = 0.05
    est = OnlineEmbedding(2, 40, alpha=alpha, random_state=1).fit(limit_cycle, Z)
    F = np.tanh(Z.reshape(-1, 2) @ est.M_.T + est.I_[:, 0])
    Y = limit_cycle(Z.reshape(-1, 2)) + Z.reshape(-1, 2)
    ref = np.linalg.solve(F.T @ F + alpha * np.eye(40), F.T @ Y)
    np.testing.assert_allclose(est.N_, ref, rtol=1e-7, atol=1e-9)
    # and the same as ODEEmbedding's closed form on the same basis with ridge = alpha
    batch = ODEEmbedding(2, 40, inputs="bias", ridge=alpha, basis=(est.M_, est.I_))
    batch.fit(targets=limit_cycle(Z.reshape(-1, 2)), points=Z.reshape(-1, 2))
    np.testing.assert_allclose(est.N_, batch.N_, rtol=1e-6, atol=1e-8)


def test_forgetting_gives_exponentially_weighted_ridge() -> None:
    # P_T^-1 = lam^T alpha 1 + sum_t lam^(T-t) phi_t phi_t^T and N_T = P_T sum lam^(T-t) phi_t y_t
    Z = _states(200).reshape(-1, 2)
    lam, alpha = 0.99, 0.1
    est = OnlineEmbedding(2, 20, alpha=alpha, forgetting=lam, random_state=2).fit(limit_cycle, Z)
    F = np.tanh(Z @ est.M_.T + est.I_[:, 0])
    Y = limit_cycle(Z) + Z
    T = Z.shape[0]
    w = lam ** (T - 1 - np.arange(T))
    A = lam**T * alpha * np.eye(20) + (F * w[:, None]).T @ F
    ref = np.linalg.solve(A, (F * w[:, None]).T @ Y)
    np.testing.assert_allclose(est.N_, ref, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(np.linalg.inv(est.P_), A, rtol=1e-6, atol=1e-8)


def test_network_drive_learns_the_bistable_field() -> None:
    est = OnlineEmbedding(1, 30, drive="network", dt=0.01, m_std=1.25, alpha=1e-3,
                          random_state=0)
    est.fit(bistable, np.array([[-1.6], [-0.3], [0.3], [1.6]]), t_span=8.0)
    Z = np.linspace(-1.2, 1.2, 50)[:, None]
    # the trajectories cover [-1.6, -1] U ... U [1, 1.6] and the approach to +-1 from 0.3
    assert np.max(np.abs(est.predict(Z) - bistable(Z))) < 0.05
    z = est.generate(500, start=np.array([0.5]))
    assert abs(z[-1, 0] - 1.0) < 0.05


def test_force_rls_matches_ridge_and_a_direct_rls_reference() -> None:
    dt = 0.1
    t = np.arange(600) * dt
    f = np.column_stack([np.sin(t / 3), np.cos(t / 5)])
    est = FORCETrainer(120, alpha=0.5, dt=dt, random_state=3).fit(f, keep_rates=True)
    R = est.rates_
    targets = f[::2]
    assert R.shape == (300, 120) and targets.shape[0] == 300
    # batch solution of the same data: (R^T R + alpha 1)^-1 R^T F
    ref = np.linalg.solve(R.T @ R + 0.5 * np.eye(120), R.T @ targets)
    np.testing.assert_allclose(est.w_, ref, rtol=1e-6, atol=1e-8)
    # textbook RLS (Sussillo & Abbott eqs 4-5), written out independently
    P = np.eye(120) / 0.5
    w = np.zeros((120, 2))
    for r, y in zip(R, targets, strict=True):
        e_minus = r @ w - y
        Pr = P @ r
        P = P - np.outer(Pr, Pr) / (1 + r @ Pr)
        w = w - np.outer(P @ r, e_minus)
    np.testing.assert_allclose(est.w_, w, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(est.P_, P, rtol=1e-6, atol=1e-9)


def test_rls_update_in_place_matches_the_sherman_morrison_inverse() -> None:
    rng = np.random.default_rng()
    n = 15
    P = np.eye(n) * 2.0
    W = np.zeros((n, 1))
    X = rng.standard_normal((40, n))
    for x in X:
        rls_update(P, W, x, np.array([1.0]))
    np.testing.assert_allclose(P, np.linalg.inv(np.eye(n) / 2.0 + X.T @ X), atol=1e-10)


def test_same_seed_same_result_and_bad_arguments() -> None:
    Z = grid_points((-1.6, 1.6), 50, 1)
    a = OnlineEmbedding(1, 10, random_state=4).fit(bistable, Z)
    b = OnlineEmbedding(1, 10, random_state=4).fit(bistable, Z)
    np.testing.assert_array_equal(a.N_, b.N_)
    with pytest.raises(ValueError, match="forgetting"):
        OnlineEmbedding(1, 10, forgetting=1.5).fit(bistable, Z)
    with pytest.raises(ValueError, match="drive"):
        OnlineEmbedding(1, 10, drive="teacher").fit(bistable, Z)
    with pytest.raises(ValueError, match="t_span"):
        OnlineEmbedding(1, 10, drive="network").fit(bistable, Z[:2])
    with pytest.raises(ValueError, match="g="):
        OnlineEmbedding(1, 10).fit("bistable", Z)
    with pytest.raises(ValueError, match="p="):
        FORCETrainer(10, p=0.0).fit(np.zeros(5))
    with pytest.raises(ValueError, match="not fitted"):
        FORCETrainer(10).generate(5)


def test_save_and_load_round_trip(tmp_path) -> None:  # noqa: ANN001
    from lowrank_rnn.io import load

    Z = grid_points((-1.6, 1.6), 40, 1)
    est = OnlineEmbedding(1, 12, random_state=0).fit(bistable, Z)
    est.save(tmp_path / "online.lrnn")
    np.testing.assert_array_equal(load(tmp_path / "online.lrnn").predict(Z), est.predict(Z))
    force = FORCETrainer(40, random_state=0).fit(np.sin(np.arange(200) * 0.1))
    force.save(tmp_path / "force.lrnn")
    np.testing.assert_array_equal(load(tmp_path / "force.lrnn").generate(20), force.generate(20))


@pytest.mark.parametrize(("phi", "forgetting"), [("tanh", 1.0), ("relu", 0.999)])
def test_network_drive_equals_a_direct_loop_of_rls_updates(phi: str, forgetting: float) -> None:
    # reference: the textbook loop, features at the current latent, rls_update, then an Euler
    # step with the updated N (the fitted loop reuses its products instead)
    est = OnlineEmbedding(2, 12, drive="network", dt=0.02, m_std=1.0, phi=phi, alpha=1e-2,
                          forgetting=forgetting, random_state=3)
    est.fit(limit_cycle, np.array([[1.0, 0.0], [0.2, -0.5]]), t_span=4.0)
    M, b = est.M_, est.I_[:, 0]
    P = np.eye(12) / 1e-2
    N = np.zeros((12, 2))
    act = np.tanh if phi == "tanh" else (lambda a: np.maximum(a, 0.0))
    for z0 in ([1.0, 0.0], [0.2, -0.5]):
        z = np.array(z0)
        for _ in range(200):
            f = act(M @ z + b)
            rls_update(P, N, f, limit_cycle(z[None, :])[0] + z, forgetting)
            z = z + 0.02 * (-z + f @ N)
    np.testing.assert_allclose(est.N_, N, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(est.P_, P, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(est.last_state_, z, rtol=1e-9, atol=1e-12)
