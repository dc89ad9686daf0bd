"""OMP for the smallest RNN (Algorithm 1, eq 12): steps against a direct re-implementation, the
monotone MSE curve of nested least squares, and the Fig 3 claim checked on the simulated network.
"""

from __future__ import annotations

import numpy as np
import pytest

from lowrank_rnn.fit.omp import SmallestRNN, omp_select
from lowrank_rnn.fit.targets import bistable


def _reference_omp(Z, G, B, k, raw=False):
    """Algorithm 1 written out step by step (1-D, decay fitted), as a slow reference."""
    z, g = Z[:, 0], G[:, 0]
    n0 = -(z @ g) / (z @ z)  # step 3
    r = g - n0 * (-z)  # step 4
    chosen, mses = [], [np.mean(r**2)]
    Bn = B if raw else B / np.linalg.norm(B, axis=0)
    for _ in range(k):
        scores = np.abs(Bn.T @ r)
        scores[chosen] = -1
        chosen.append(int(np.argmax(scores)))
        X = np.column_stack([-z, B[:, chosen]])
        coef = np.linalg.lstsq(X, g, rcond=None)[0]
        r = g - X @ coef
        mses.append(np.mean(r**2))
    return chosen, coef, np.array(mses)


@pytest.mark.parametrize("seed", [0, 1])
def test_steps_match_a_direct_implementation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    Z = np.linspace(-1.5, 1.5, 90)[:, None]
    B = np.tanh(Z @ rng.normal(size=(1, 200)) + rng.normal(size=(1, 200)))
    G = bistable(Z)
    res = omp_select(Z, G, B, max_neurons=6)
    chosen, coef, mses = _reference_omp(Z, G, B, 6)
    assert list(res["selected"]) == chosen
    assert res["n0"] == pytest.approx(coef[0], rel=1e-8)
    np.testing.assert_allclose(res["weights"][:, 0], coef[1:], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(res["mse"], mses, rtol=1e-7, atol=1e-15)


def test_raw_scoring_matches_algorithm_1_as_printed() -> None:
    rng = np.random.default_rng(5)
    Z = np.linspace(-1.5, 1.5, 90)[:, None]
    # candidates of very different norms, where the two scores choose differently
    B = np.tanh(Z @ rng.normal(size=(1, 200)) + rng.normal(size=(1, 200))) * rng.uniform(
        0.1, 3.0, 200)
    G = bistable(Z)
    raw = omp_select(Z, G, B, max_neurons=6, scoring="raw")
    chosen, _, mses = _reference_omp(Z, G, B, 6, raw=True)
    assert list(raw["selected"]) == chosen
    np.testing.assert_allclose(raw["mse"], mses, rtol=1e-7, atol=1e-15)
    norm = omp_select(Z, G, B, max_neurons=6)
    assert list(norm["selected"]) == _reference_omp(Z, G, B, 6)[0]
    with pytest.raises(ValueError, match="scoring"):
        SmallestRNN(scoring="max").fit(bistable, box=(-1, 1))


@pytest.mark.parametrize("basis, seed", [("grid", 0), ("uniform", 1), ("uniform", 2)])
def test_mse_curve_decreases_and_tol_stops(basis: str, seed: int) -> None:
    est = SmallestRNN(n_candidates=900, max_neurons=12, basis=basis, random_state=seed)
    est.fit(bistable, box=(-1.6, 1.6))
    # nested least squares: adding a column never increases the residual
    assert np.all(np.diff(est.mse_curve_) <= 1e-14)
    tol = est.mse_curve_[4] * 1.0001
    short = SmallestRNN(n_candidates=900, max_neurons=12, basis=basis, tol=tol,
                        random_state=seed).fit(bistable, box=(-1.6, 1.6))
    assert short.selected_.size == 4


@pytest.mark.parametrize("basis, seed", [("grid", 0), ("uniform", 3), ("uniform", 4)])
def test_five_neurons_reproduce_the_bistable_ode_as_a_network(basis: str, seed: int) -> None:
    """Fig 3: with 5 neurons the RMS error is < 3% of the RMS of g, so the fixed points of the
    simulated 5-neuron network move by < 0.02 (shift ~ error / |g'(z*)|, |g'(±1)| = 2)."""
    est = SmallestRNN(n_candidates=2500, max_neurons=5, basis=basis, random_state=seed)
    est.fit(bistable, box=(-1.6, 1.6))
    assert est.selected_.size == 5
    g_ms = np.mean(bistable(np.linspace(-1.6, 1.6, 200)) ** 2)
    assert est.mse_curve_[5] < 1e-3 * g_ms
    assert est.network_.n_neurons == 5
    assert est.network_.tau == pytest.approx(1 / est.n0_)
    _, z = est.simulate_latent(np.array([[-1.5], [-0.15], [0.15], [1.5]]), t_span=8.0, dt=0.002)
    np.testing.assert_allclose(z[:, -1, 0], [-1, -1, 1, 1], atol=0.02)


def test_fixed_decay_network_has_unit_time_constant() -> None:
    est = SmallestRNN(n_candidates=400, max_neurons=8, decay="fixed", random_state=0)
    est.fit(bistable, box=(-1.6, 1.6))
    assert est.n0_ == 1.0 and est.network_.tau == 1.0
    Z = np.linspace(-1.6, 1.6, 50)[:, None]
    # the network's latent field -z + N^T phi(M z + I) equals the OMP fit
    field = -Z + np.tanh(Z @ est.M_.T + est.I_.T) @ est.network_.N
    np.testing.assert_allclose(field, est.predict(Z), atol=1e-12)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="max_neurons"):
        SmallestRNN(n_candidates=5, max_neurons=6)._validate_params()
    with pytest.raises(ValueError, match="g: returned shape"):
        SmallestRNN(n_candidates=50, max_neurons=3).fit(lambda z: z[:5], box=(-1, 1))
    with pytest.raises(ValueError, match="decay='slow'"):
        SmallestRNN(decay="slow").fit(bistable, box=(-1, 1))
    with pytest.raises(ValueError, match="not fitted"):
        SmallestRNN().predict(np.zeros((2, 1)))
