"""Linearisation in activations vs activities (arXiv 2309.04030)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla

from lowrank_rnn.reproduce.linearization import random_fixed_point
from lowrank_rnn.theory.linearize import (
    activation_field,
    activity_field,
    context_example,
    jacobians,
    linearize,
    map_eigenvectors,
    relation_residuals,
)
from lowrank_rnn.transfer import get_phi


def fd_jacobian(f, x, h):
    cols = []
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = h
        cols.append((f(x + e) - f(x - e)) / (2 * h))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("phi", ["tanh", "relu"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_jacobians_match_finite_differences(phi, seed):
    rng = np.random.default_rng(seed)
    J, b, x = random_fixed_point(40, 0.9, phi, rng)
    assert np.max(np.abs(activation_field(J, x, b, phi=phi))) < 1e-10  # it is a fixed point
    A_x, A_r, d = jacobians(J, x, phi=phi)
    h = 1e-5 if phi == "tanh" else min(1e-5, 0.5 * np.min(np.abs(x)))
    r = get_phi(phi)[0](x)
    Fx = fd_jacobian(lambda y: activation_field(J, y, b, phi=phi), x, h)
    Fr = fd_jacobian(lambda y: activity_field(J, y, b, phi=phi), r, h)
    # central differences: O(h^2 |f'''|) + O(eps / h)
    assert np.max(np.abs(Fx - A_x)) < 1e-7
    assert np.max(np.abs(Fr - A_r)) < 1e-7


@pytest.mark.parametrize("phi", ["tanh", "relu"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equal_spectra_and_eigenvector_relations(phi, seed):
    rng = np.random.default_rng(10 + seed)
    J, b, x = random_fixed_point(60, 0.9, phi, rng)
    res = relation_residuals(J, x, phi=phi)
    assert res["n_pairs"] > 20
    assert res["spectrum"] < 1e-10
    assert res["right"] < 1e-10 and res["left"] < 1e-10
    if phi == "tanh":
        assert res["n_silent"] == 0 and res["left_inverse"] < 1e-10
    else:
        assert res["n_silent"] > 0 and np.isnan(res["left_inverse"])


@pytest.mark.parametrize("phi", ["tanh", "relu"])
def test_mapped_activity_eigenvectors_are_eigenvectors_of_A_r(phi):
    """v_r = D v_x and l_r = J^T l_x / (1 + lambda) hold even with zeros in D."""
    rng = np.random.default_rng(5)
    J, b, x = random_fixed_point(50, 0.9, phi, rng)
    lin = linearize(J, x, phi=phi)
    ev = lin.eigenvalues
    ok_r = np.linalg.norm(lin.V_r, axis=0) > 0
    resid_r = lin.A_r @ lin.V_r[:, ok_r] - lin.V_r[:, ok_r] * ev[ok_r]
    assert np.max(np.abs(resid_r)) < 1e-10
    ok_l = np.linalg.norm(lin.L_r, axis=0) > 0
    L = lin.L_r[:, ok_l]
    resid_l = L.conj().T @ lin.A_r - ev[ok_l][:, None] * L.conj().T
    assert np.max(np.abs(resid_l)) < 1e-10
    # a silent unit's activity relaxes at rate -1 whatever J is
    if lin.silent.any():
        i = int(np.flatnonzero(lin.silent)[0])
        np.testing.assert_array_equal(lin.A_r[i], -np.eye(J.shape[0])[i])
        np.testing.assert_array_equal(lin.A_x[:, i], -np.eye(J.shape[0])[:, i])


def test_similarity_when_D_is_invertible():
    rng = np.random.default_rng(8)
    J, b, x = random_fixed_point(30, 0.9, "tanh", rng)
    A_x, A_r, d = jacobians(J, x, phi="tanh")
    np.testing.assert_allclose(A_r, (d[:, None] * A_x) / d[None, :], atol=1e-12)


def test_map_eigenvectors_matches_inverse_D_formula():
    rng = np.random.default_rng(9)
    J, b, x = random_fixed_point(30, 0.9, "tanh", rng)
    A_x, A_r, d = jacobians(J, x, phi="tanh")
    ev, L, V = sla.eig(A_x, left=True, right=True)
    _, L_r = map_eigenvectors(J, d, ev, V, L)
    alt = L / d[:, None]
    alt /= np.linalg.norm(alt, axis=0)
    overlap = np.abs(np.sum(alt.conj() * L_r, axis=0))
    np.testing.assert_allclose(overlap, 1.0, atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1])
def test_context_example_tanh(seed):
    ex = context_example(100, overlap=0.6, phi="tanh", rng=seed)
    assert abs(ex.cos["v_x"] - 1) < 1e-10 and abs(ex.cos["l_r"] - 1) < 1e-10
    # activity right eigenvector D m: cos between contexts ~ 2ab/(a^2+b^2) (a = 1, b =
    # tanh'(2.5)); gains shift by O(N^-1/2) through kappa*, hence 15%
    assert abs(ex.cos["v_r"] - ex.cos_theory) < 0.15 * ex.cos_theory
    assert abs(ex.cos["l_x"] - ex.cos_theory) < 0.15 * ex.cos_theory
    assert ex.readout[1, 0] > 10 * ex.readout[1, 1]
    assert abs(ex.readout[0, 0] - ex.readout[0, 1]) < 1e-10 * ex.readout[0, 0]


def test_context_example_relu_zeros():
    ex = context_example(100, overlap=0.6, phi="relu", rng=0)
    assert ex.relation["n_silent"] == 50
    assert ex.cos["v_r"] == 0.0
    assert np.all(ex.v_r[0][50:] == 0) and np.all(ex.v_r[1][:50] == 0)
    assert ex.relation["right"] < 1e-10 and ex.relation["left"] < 1e-10


def test_bad_input():
    J = np.eye(3)
    with pytest.raises(ValueError, match="J"):
        jacobians(np.ones((3, 4)), np.zeros(3))
    with pytest.raises(ValueError, match="x_star"):
        jacobians(J, np.zeros(4))
    with pytest.raises(ValueError, match="phi"):
        jacobians(J, np.zeros(3), phi="sigmoid")
    with pytest.raises(ValueError, match="J"):
        linearize(np.full((3, 3), np.nan), np.zeros(3))
    with pytest.raises(ValueError, match="n_neurons"):
        context_example(21)
    with pytest.raises(ValueError, match="overlap"):
        context_example(40, overlap=1.5)
