"""Evidence-accumulation task: trial structure, statistics of the noise, the network's vectors."""

import numpy as np
import pytest

from lowrank_rnn.tasks.evidence import evidence_network, evidence_trials


def test_trials_shapes_and_structure():
    tb = evidence_trials([0.0, 0.5, 1.0], repeats=4, t_total=10.0, dt=0.5, window=2.0, rng=1)
    assert tb.inputs.shape == (12, 20, 2) and tb.targets.shape == (12, 20, 1)
    start = tb.info["onset_step"]
    assert start == 4
    assert np.all(tb.inputs[:, :start] == 0)
    np.testing.assert_allclose(tb.inputs[:, start:, 1], tb.info["strength"][:, None] * np.ones(16))
    # window of 2 tau = 4 steps, targets = sign relative to the mid threshold 0.5
    assert tb.mask[:, -4:].all() and not tb.mask[:, :-4].any()
    np.testing.assert_array_equal(tb.targets[:, -1, 0], np.where(tb.info["strength"] > 0.5, 1, -1))


def test_noise_has_the_white_noise_scaling():
    """Channel 0 minus the mean is noise_sd / sqrt(dt) times standard normals."""
    dt, sd = 0.2, 0.4
    tb = evidence_trials([0.3], repeats=400, t_total=40.0, dt=dt, noise_sd=sd, rng=3)
    start = tb.info["onset_step"]
    xi = (tb.inputs[:, start:, 0] - 0.3) * np.sqrt(dt) / sd
    n = xi.size
    assert abs(xi.mean()) < 5 / np.sqrt(n)
    assert abs(xi.var() - 1) < 5 * np.sqrt(2 / n)


def test_same_seed_same_trials():
    a = evidence_trials([0.1, 0.9], repeats=3, rng=7)
    b = evidence_trials([0.1, 0.9], repeats=3, rng=7)
    c = evidence_trials([0.1, 0.9], repeats=3, rng=8)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    assert not np.array_equal(a.inputs, c.inputs)


def test_network_vectors_follow_eq_17_18():
    en = evidence_network(4000, 0.1, 0.06, c=100, rng=0)
    n = 4000
    # w, I orthogonal by construction; overlaps as in eq 17-18 (finite-N sampling of y.y/N)
    assert abs(en.w @ en.inp) < 1e-8 * n
    tol = 5 * np.sqrt(2 / n)
    assert abs(en.m @ en.m / n - 0.1) < 0.1 * tol * 3
    assert abs(en.m @ en.n / n - 0.06) < 0.06 * tol * 3
    assert abs(en.n @ en.inp / n - np.sqrt(0.04)) < 0.2 * tol * 3
    assert en.net.structure == "sparse" and en.net.mask.nnz == 100 * n
    assert abs(en.outlier - 6.0) < 6.0 * tol * 3
    np.testing.assert_array_equal(en.x0, -en.m)
    dense = evidence_network(500, 0.1, 0.06, c=100, dense=True, g=0.5, rng=0)
    assert dense.net.structure == "dense" and np.isclose(dense.net.scale, 100 / 500)


@pytest.mark.parametrize(
    "kw, name",
    [
        ({"strengths": []}, "strengths"),
        ({"strengths": [0.1], "repeats": 0}, "repeats"),
        ({"strengths": [0.1], "dt": 0.0}, "dt"),
        ({"strengths": [0.1], "noise_sd": -1.0}, "noise_sd"),
        ({"strengths": [np.nan]}, "strengths"),
    ],
)
def test_bad_trial_arguments(kw, name):
    with pytest.raises(ValueError, match=name):
        evidence_trials(**kw)


def test_bad_network_arguments():
    with pytest.raises(ValueError, match="sigma_mn"):
        evidence_network(100, 0.1, 0.2)
    with pytest.raises(ValueError, match="c"):
        evidence_network(100, 0.1, 0.05, c=500)
